import RedisUtil
import Testing

/// Every operation through the completion-handler facade.
@Suite struct RedisChannelCallbackTests {
    @Test func everyOperation() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client, timeout: .seconds(30))
            try await callback { c.send(["k": "v"] as JSONValue, completion: $0) }
            try await callback { c.send(contentsOf: [1, 2, 3], completion: $0) }
            #expect(try await client.send("TTL", "/test/jobs/client").int ?? 0 > 0)

            #expect(try await callback { s.peek(as: JSONValue.self, completion: $0) } == ["k": "v"])
            #expect(try await callback { s.rpeek(as: Int.self, completion: $0) } == 3)
            #expect(try await callback { s.recv(as: JSONValue.self, completion: $0) } == ["k": "v"])
            #expect(try await callback { s.recv(as: Int.self, max: 2, completion: $0) } == [1, 2])
            #expect(try await callback { s.recvLast(as: Int.self, completion: $0) } == 3)
            #expect(try await callback { s.recv(as: Int.self, completion: $0) } == nil)

            #expect(try await callback { s.brecv(as: Int.self, timeout: .milliseconds(200), completion: $0) } == nil)
            try await c.send(5)
            #expect(try await callback { s.brecv(as: Int.self, timeout: .seconds(2), completion: $0) } == 5)

            #expect(try await callback { s.brecvLast(as: Int.self, timeout: .milliseconds(100), completion: $0) } == nil)
            try await c.send(contentsOf: [6, 7])
            #expect(try await callback { s.brecvLast(as: Int.self, timeout: .seconds(2), completion: $0) } == 7)

            try await c.send(8)
            #expect(try await callback { s.listChannels(prefix: "/test/", completion: $0) } == ["/test/jobs"])
            #expect(try await callback { s.listChannels(prefix: ["test"], completion: $0) } == ["/test/jobs"])
            await #expect(throws: RedisChannelError.self) {
                try await callback { s.listChannels(prefix: "/test", completion: $0) }
            }
        }
    }

    @Test func callbackDecodeFailureCarriesRawBytes() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            try await c.send("text")
            do {
                _ = try await callback { s.recv(as: Int.self, completion: $0) }
                Issue.record("decoding a string as Int must fail")
            } catch let error as RedisChannelError {
                #expect(error.rawMessage == Array(#""text""#.utf8))
            }
        }
    }
}
