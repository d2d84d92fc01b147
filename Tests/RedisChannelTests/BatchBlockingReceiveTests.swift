import RedisUtil
import Testing

/// `brecv(as:max:timeout:)`: what is waiting in one `LPOP`, else a wait in one `BLMPOP`,
/// through both facades; bad arguments send nothing, and a cancelled or failed batch
/// loses no message.
@Suite(.timeLimit(.minutes(4))) struct BatchBlockingReceiveTests {
    @Test func takesWhatIsWaitingUpToMaxWithoutBlocking() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            try await c.send(contentsOf: 1...10)
            try await client.send("CONFIG", "RESETSTAT")
            #expect(try await s.brecv(as: Int.self, max: 4, timeout: .seconds(5)) == [1, 2, 3, 4])
            #expect(try await callback { s.brecv(as: Int.self, max: 100, timeout: .seconds(5), completion: $0) } == [5, 6, 7, 8, 9, 10])
            let stats = try await client.send("INFO", "commandstats").string ?? ""
            #expect(stats.contains("cmdstat_lpop:calls=2,"), "one LPOP per batch: \(stats)")
            #expect(!stats.contains("cmdstat_blmpop"), "no wait while messages are waiting: \(stats)")
            #expect(try await c.recv(as: Int.self) == nil, "a peer never reads its own list")
        }
    }

    @Test func waitsForTheFirstMessageAndTakesItsBatch() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            let waiting = Task { try await s.brecv(as: Int.self, max: 10, timeout: .seconds(60)) }
            while try await blockedClients(client) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            // The server serves a blocked pop after the push that woke it: all three at once.
            try await c.send(contentsOf: [1, 2, 3])
            #expect(try await waiting.value == [1, 2, 3])
            let stats = try await client.send("INFO", "commandstats").string ?? ""
            #expect(stats.contains("cmdstat_blmpop:calls=1,"), "an empty channel is waited on with BLMPOP: \(stats)")

            let viaCallback = Task { try await callback { s.brecv(as: Int.self, max: 2, timeout: .seconds(60), completion: $0) } }
            while try await blockedClients(client) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            try await c.send(contentsOf: [4, 5, 6])
            #expect(try await viaCallback.value == [4, 5])
            #expect(try await s.recv(as: Int.self, max: 10) == [6])
        }
    }

    @Test func timeoutGivesAnEmptyBatch() async throws {
        try await withRedis { _, client throws in
            let (_, s) = channelPair(client)
            #expect(try await s.brecv(as: Int.self, max: 5, timeout: .milliseconds(50)) == [])
            #expect(try await callback { s.brecv(as: Int.self, max: 5, timeout: .milliseconds(50), completion: $0) } == [])
        }
    }

    @Test func badArgumentsSendNothing() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            try await client.send("CONFIG", "RESETSTAT")
            await #expect(throws: RedisChannelError.self) { try await s.brecv(as: Int.self, max: -1, timeout: .seconds(1)) }
            await #expect(throws: RedisChannelError.self) { try await s.brecv(as: Int.self, max: 5, timeout: .seconds(-1)) }
            expectInvalidArgument(await callbackResult { s.brecv(as: Int.self, max: -1, timeout: .seconds(1), completion: $0) })
            expectInvalidArgument(await callbackResult { s.brecv(as: Int.self, max: 5, timeout: .milliseconds(-1), completion: $0) })
            // Zero messages asked for: none taken, and no wait.
            #expect(try await s.brecv(as: Int.self, max: 0) == [])
            #expect(try await callback { s.brecv(as: Int.self, max: 0, completion: $0) } == [])
            let bad = RedisChannel(client: client, "", peer: .server)
            await #expect(throws: RedisChannelError.self) { try await bad.brecv(as: Int.self, max: 0) }
            expectInvalidArgument(await callbackResult { bad.brecv(as: Int.self, max: 3, completion: $0) })
            let stats = try await client.send("INFO", "commandstats").string ?? ""
            #expect(!stats.contains("cmdstat_blmpop") && !stats.contains("cmdstat_lpop"), "nothing was sent: \(stats)")
        }
    }

    @Test func anUndecodableMessageHandsBackTheWholeBatch() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            try await client.send("RPUSH", "/test/jobs/client", "1", "{bad", "3")
            do {
                _ = try await s.brecv(as: Int.self, max: 5, timeout: .seconds(5))
                Issue.record("an undecodable batch must throw")
            } catch RedisChannelError.undecodableBatch(let raw, let list, let index, _, _) {
                #expect(raw == [Array("1".utf8), Array("{bad".utf8), Array("3".utf8)])
                #expect(index == 1)
                #expect(list == "/test/jobs/client")
            }
            try await client.send("RPUSH", "/test/jobs/client", "{bad")
            let batch = await callbackResult { s.brecv(as: Int.self, max: 5, timeout: .seconds(5), completion: $0) }
            guard case .failure(.undecodableBatch(let raw, _, _, _)) = batch else {
                Issue.record("the callback form must fail with .undecodableBatch, got \(batch)")
                return
            }
            #expect(raw == [Array("{bad".utf8)])
        }
    }

    @Test func aCancelledWaitTakesNothing() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            let waiting = Task { try await s.brecv(as: Int.self, max: 10, timeout: .seconds(60)) }
            while try await blockedClients(client) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            waiting.cancel()
            await #expect(throws: RedisError.cancelled) { try await waiting.value }
            while try await blockedClients(client) != 0 { try await Task.sleep(for: .milliseconds(10)) }
            try await c.send(7)
            #expect(try await s.recv(as: Int.self) == 7, "the cancelled BLMPOP popped nothing")
        }
    }

    @Test func aListOfAnotherTypeIsAServerError() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            try await client.send("SET", "/test/jobs/client", "not a list")
            await #expect(throws: RedisError.self) { try await s.brecv(as: Int.self, max: 5, timeout: .seconds(1)) }
            let result = await callbackResult { s.brecv(as: Int.self, max: 5, timeout: .seconds(1), completion: $0) }
            guard case .failure(.server(let message)) = result else {
                Issue.record("WRONGTYPE must fail with .server, got \(result)")
                return
            }
            #expect(message.hasPrefix("WRONGTYPE"))
        }
    }
}
