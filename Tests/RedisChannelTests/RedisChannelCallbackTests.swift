import RedisUtil
import Testing

/// Every operation through the completion-handler facade.
@Suite struct RedisChannelCallbackTests {
    @Test func everyOperation() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client, timeout: .seconds(3600))
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
            await #expect(throws: RedisError.self) {
                try await callback { s.listChannels(prefix: "/test", completion: $0) }
            }
        }
    }

    @Test func callbackDecodeFailureIsRedisErrorWithRawBytesAndList() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            try await c.send("text")
            let single = await callbackResult { s.recv(as: Int.self, completion: $0) }
            guard case .failure(.undecodable(let raw, let list, let reason)) = single else {
                Issue.record("decoding a string as Int must fail with .undecodable, got \(single)")
                return
            }
            #expect(raw == Array(#""text""#.utf8))
            #expect(list == "/test/jobs/client")
            #expect(reason.contains("Int"))

            try await client.send("RPUSH", "/test/jobs/client", "1", "{bad", "3")
            let batch = await callbackResult { s.recv(as: Int.self, max: 5, completion: $0) }
            guard case .failure(.undecodableBatch(let raw, let list, let index, _)) = batch else {
                Issue.record("an undecodable batch must fail with .undecodableBatch, got \(batch)")
                return
            }
            #expect(raw[index] == Array("{bad".utf8))
            #expect(list == "/test/jobs/client")
        }
    }

    @Test func channelFailuresAreInvalidArgument() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client, timeout: .zero)
            expectInvalidArgument(await callbackResult { c.send(1, completion: $0) })
            expectInvalidArgument(await callbackResult { s.recv(as: Int.self, max: -1, completion: $0) })
            expectInvalidArgument(await callbackResult { s.listChannels(prefix: "nope", completion: $0) })
            let keys = try await client.send("DBSIZE").int
            #expect(keys == 0, "nothing was sent")
        }
    }
}

/// Records an issue unless `result` is a ``RedisError/invalidArgument(_:)`` failure.
func expectInvalidArgument<T>(_ result: Result<T, RedisError>, sourceLocation: SourceLocation = #_sourceLocation) {
    guard case .failure(.invalidArgument) = result else {
        Issue.record("expected .invalidArgument, got \(result)", sourceLocation: sourceLocation)
        return
    }
}
