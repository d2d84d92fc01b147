import LocalRedis
import RESP
import RedisUtil
import Testing
import TestSupport

/// What a channel does to Redis: sockets, expiry, atomicity, raw bytes on failure.
@Suite struct RedisChannelWireTests {
    @Test func creatingAChannelOpensNoSocket() async throws {
        let server = try await startServer()
        defer { stopInBackground(server) }
        // One connection, so the probe's own commands never open another socket.
        var single = RedisConfiguration()
        single.connections = 1
        let probe = try RedisClient(.tcp(host: server.host, port: server.port), configuration: single)
        let baseline = try await connectedClients(probe)
        #expect(baseline == 1)

        let idle = try RedisClient(.tcp(host: server.host, port: server.port))
        // A timeout makes the send a MULTI … EXEC; long, so that a stall of the parallel
        // test pass cannot expire the list before it is read.
        let onClient = RedisChannel(client: idle, "/x", peer: .client, timeout: .seconds(3600))
        let onEndpoint = RedisChannel(RedisEndpoint(integerLiteral: server.port), ["x"], peer: .server)
        #expect(try await connectedClients(probe) == baseline)
        #expect(try await probe.send("DBSIZE").int == 0, "creating a channel writes nothing")

        try await onClient.send(1)
        #expect(try await connectedClients(probe) > baseline)
        #expect(try await onEndpoint.recv(as: Int.self) == 1)
        await idle.close()
        await probe.close()
    }

    @Test func sendRefreshesExpiryOfTheSendingList() async throws {
        try await withRedis { _, client in
            // The parallel test pass can stall this task for seconds between two
            // commands (other suites saturate the two cores), so each TTL is checked
            // against the time that has passed since its send started.
            let clock = ContinuousClock()
            let (c, _) = channelPair(client, timeout: .seconds(100))
            func expectFreshExpiry(since start: ContinuousClock.Instant) async throws {
                let ttl = try await client.send("TTL", "/test/jobs/client").int ?? -9
                let elapsed = Int(((clock.now - start) / .seconds(1)).rounded(.up))
                #expect(ttl <= 100 && ttl >= 99 - elapsed, "TTL \(ttl) after \(elapsed) s")
            }
            var start = clock.now
            try await c.send(1)
            try await expectFreshExpiry(since: start)
            try await client.send("EXPIRE", "/test/jobs/client", 5)
            start = clock.now
            try await c.send(2)
            try await expectFreshExpiry(since: start) // each send refreshes
            #expect(try await client.send("TTL", "/test/jobs/server").int == -2, "the other list is untouched")

            let (noExpiry, _) = channelPair(client, "/test/forever")
            try await noExpiry.send(1)
            #expect(try await client.send("TTL", "/test/forever/client").int == -1)

            let (subSecond, _) = channelPair(client, "/test/short", timeout: .milliseconds(1500))
            // A loaded machine may take a while between the two commands: the expiry
            // must have been 1500 ms when set, less what has passed since.
            let sent = clock.now
            try await subSecond.send(1)
            let pttl = try await client.send("PTTL", "/test/short/client").int ?? -9
            let elapsed = (clock.now - sent) / .milliseconds(1)
            #expect(Double(pttl) >= 1500 - elapsed - 1 && pttl <= 1500, "PTTL \(pttl) after \(elapsed) ms")

            let (zero, _) = channelPair(client, "/test/zero", timeout: .zero)
            await #expect(throws: RedisChannelError.self) { try await zero.send(1) }
        }
    }

    @Test func decodeFailureHandsBackTheRawBytes() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            let garbage: [UInt8] = Array("{not json".utf8)
            try await client.send("RPUSH", "/test/jobs/client", garbage)
            do {
                _ = try await s.recv(as: JSONValue.self)
                Issue.record("invalid JSON must not decode")
            } catch let error as RedisChannelError {
                guard case .undecodable(let raw, let list, _, _) = error else { Issue.record("\(error)"); return }
                #expect(raw == garbage)
                #expect(list == "/test/jobs/client")
                #expect(error.list == "/test/jobs/client")
                #expect("\(error)".contains("/test/jobs/client"))
            }
            try await client.send("RPUSH", "/test/jobs/client", "1", "\"two\"", "3")
            do {
                _ = try await s.recv(as: Int.self, max: 10)
                Issue.record("a string is not an Int")
            } catch let error as RedisChannelError {
                guard case .undecodableBatch(let raw, let list, let index, _, _) = error else { Issue.record("\(error)"); return }
                #expect(raw.map { String(decoding: $0, as: UTF8.self) } == ["1", "\"two\"", "3"])
                #expect(index == 1)
                #expect(list == "/test/jobs/client")
                #expect(error.rawMessage == Array("\"two\"".utf8))
            }
        }
    }

    @Test func decodeFailuresOfEveryReceiveNameTheirList() async throws {
        try await withRedis { _, client in
            let (c, _) = channelPair(client)
            try await client.send("RPUSH", "/test/jobs/server", "{x")
            // peek, rpeek and recvLast read the client's receive list, /test/jobs/server.
            for attempt in [
                { () async throws in _ = try await c.peek(as: JSONValue.self) },
                { () async throws in _ = try await c.rpeek(as: JSONValue.self) },
                { () async throws in _ = try await c.brecv(as: JSONValue.self, timeout: .seconds(1)) },
            ] {
                do {
                    try await attempt()
                    Issue.record("invalid JSON must not decode")
                } catch let error as RedisChannelError {
                    #expect(error.list == "/test/jobs/server")
                    #expect(error.rawMessage == Array("{x".utf8))
                }
            }
        }
    }

    @Test func recvLastNeverRemovesAMessageItDidNotSee() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            let total = 2000
            async let sending: Void = {
                for chunk in stride(from: 0, to: total, by: 50) {
                    try await c.send(contentsOf: chunk..<(chunk + 50))
                }
            }()
            var seenLast = -1
            var received = 0
            // A message removed unseen would keep `seenLast` below the end for ever.
            // Only a guard against a hang: the parallel test pass can stall a task for
            // seconds at a time.
            let deadline = ContinuousClock.now + .seconds(120)
            while seenLast < total - 1, ContinuousClock.now < deadline {
                if let last = try await s.recvLast(as: Int.self) {
                    #expect(last > seenLast, "messages arrive in order")
                    seenLast = last
                    received += 1
                }
            }
            try await sending
            #expect(seenLast == total - 1)
            #expect(try await s.recv(as: Int.self) == nil)
            #expect(received > 0)
        }
    }
}
