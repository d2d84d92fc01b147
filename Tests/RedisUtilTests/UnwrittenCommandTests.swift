import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Testing
import TestSupport

/// Commands whose callers stopped waiting before they were written (a cancelled task, a
/// timeout while no socket was up): the connection takes them out of its queue, and a
/// server that comes back never runs them. Before, they stayed queued, held their reply
/// slot until their timeout, and went out with the reconnect: an `INCR` its caller was
/// told had failed ran later, an `LPOP` popped into a slot that only swallowed it.
@Suite("Commands given up before they were written are never sent")
struct UnwrittenCommandTests {
    @Test("a task cancelled while its command waits for a socket: the command leaves the queue and never runs")
    func cancelledWhileDisconnected() async throws {
        try await whileDown(Self.onlyCancellationEnds) { client async throws in
            let cancelled = Task { try await client.send("INCR", "cancelled") }
            // On the connection (its reply slot taken) before the cancellation.
            try await expectPending(client, 1)
            cancelled.cancel()
            await #expect(throws: RedisError.cancelled) { try await cancelled.value }
            // Out of the queue at the connection's next failed attempt, with the
            // server still down; not held until its timeout ten minutes on.
            try await expectPending(client, 0, within: .seconds(60))
            #expect(client.gaugeSource.sample().unsentBytes == 0)
        } then: { client, _ async throws in
            // The same connection, back: the cancelled INCR was not written before this.
            #expect(try await client.send("GET", "cancelled").isNull)
            #expect(try await client.send("INCR", "kept").int == 1)
        }
    }

    @Test("a command sent beside a cancelled one while the server is down still runs, once")
    func keptBesideCancelled() async throws {
        var kept: [Task<RESPValue, any Error>] = []
        try await whileDown(Self.onlyCancellationEnds) { client async throws in
            kept.append(Task { try await client.send("INCR", "kept") })
            try await expectPending(client, 1)
            let cancelled = Task { try await client.send("INCR", "cancelled") }
            try await expectPending(client, 2)
            kept.append(Task { try await client.send("INCR", "kept") })
            try await expectPending(client, 3)
            cancelled.cancel()
            await #expect(throws: RedisError.cancelled) { try await cancelled.value }
            try await expectPending(client, 2, within: .seconds(60))
        } then: { client, _ async throws in
            // Both kept commands ran once, in order; the cancelled one, queued between
            // them, not at all.
            #expect(try await kept[0].value.int == 1)
            #expect(try await kept[1].value.int == 2)
            #expect(try await client.send("GET", "cancelled").isNull)
        }
    }

    @Test("a pipeline and a transaction cancelled while they wait for a socket never run")
    func cancelledPipelineWhileDisconnected() async throws {
        try await whileDown(Self.onlyCancellationEnds) { client async throws in
            let pipeline = Task {
                try await client.pipeline { pipeline in
                    pipeline.send("INCR", "cancelled")
                    pipeline.send("INCR", "cancelled")
                }
            }
            let transaction = Task {
                try await client.transaction { transaction in
                    transaction.send("INCR", "cancelled")
                }
            }
            // The pipeline's two and the transaction's MULTI, INCR and EXEC.
            try await expectPending(client, 5)
            pipeline.cancel()
            transaction.cancel()
            await #expect(throws: RedisError.cancelled) { try await pipeline.value }
            await #expect(throws: RedisError.cancelled) { try await transaction.value }
            try await expectPending(client, 0, within: .seconds(60))
        } then: { client, _ async throws in
            #expect(try await client.send("GET", "cancelled").isNull)
        }
    }

    @Test("a command that timed out waiting for a socket is not run when the server comes back")
    func timedOutWhileDisconnected() async throws {
        // The probe client: its commands time out while the server is down.
        try await whileDown(RedisConfiguration(connectTimeout: .seconds(600), commandTimeout: .milliseconds(300), connections: 1)) { client async throws in
            await #expect(throws: RedisError.self) { try await client.send("INCR", "timed-out") }
            let failed = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Bool, any Error>) in
                client.send("INCR", "timed-out") { result in
                    if case .failure = result { continuation.resume(returning: true) } else { continuation.resume(returning: false) }
                }
            }
            #expect(failed)
            try await expectPending(client, 0, within: .seconds(60))
        } then: { client, server async throws in
            // The probe's connection up again (an ECHO answered after whatever it still
            // had queued), then the key read by a client of its own.
            #expect(try await answersEcho(client), "no ECHO answered after the restart")
            try await withClient(server) { reader async throws in
                #expect(try await reader.send("GET", "timed-out").isNull)
        }
        }
    }

    @Test("commands that timed out behind a full socket (a stalled server) do not run when it resumes",
          arguments: [false, true])
    func timedOutBehindFullSocket(tls: Bool) async throws {
        try await withServer(.init(tls: tls ? .init() : nil)) { server async throws in
            // No liveness timeout: a connection declared dead would take its
            // unwritten commands out on its own. Over TLS, what the last blocked write was
            // offered (at most 256 KB) stays; the rest goes as in plaintext.
            var configuration = RedisConfiguration(commandTimeout: .seconds(1), livenessTimeout: nil, connections: 1)
            if tls { configuration.tls = trusting(try #require(server.tlsFiles)) }
            try await withClient(server, configuration: configuration) { client async throws in
                try await client.ping()
                try server.pause()
                var resumed = false
                defer { if !resumed { try? server.resume() } }
                // More than the kernel's buffers between the two can hold (at most the
                // largest send and receive buffers this host allows, with half as much
                // again; 24 MB at least): the last commands stay in the client's queue,
                // unwritten. Of 800 KB each: longer than a filler's longest part, so each
                // filler is a name and arguments of `#`s.
                let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 800 << 10)
                let count = max(30, (Self.largestSocketBuffers() * 3 / 2) / payload.count + 1)
                let failed = Counter()
                for index in 0..<count {
                    client.send("SET", "big:\(index)", payload) { if case .failure = $0 { failed.add() } }
                }
                client.send("INCR", "marker") { if case .failure = $0 { failed.add() } }
                let allTimedOut = try await waitUntil(limit: .seconds(60)) { failed.value == count + 1 }
                #expect(allTimedOut)
                // The unwritten ones stay in the queue as fillers of their length (slots
                // and bytes kept: the stalled server still holds callers back).
                #expect(client.gaugeSource.sample().pending == count + 1)
                try server.resume()
                resumed = true
                try await expectOnlyTheWrittenRan(server, client, tls: configuration.tls, of: count)
            }
        }
    }

    @Test("commands whose tasks were cancelled behind a full socket (a stalled server) do not run when it resumes",
          arguments: [false, true])
    func cancelledBehindFullSocket(tls: Bool) async throws {
        try await withServer(.init(tls: tls ? .init() : nil)) { server async throws in
            // No command or liveness timeout: only the cancellation ends the commands' wait.
            // Room for all of them (a host with larger TCP buffers queues more than the
            // default 64 MB, past which async callers wait, unqueued).
            var configuration = RedisConfiguration(commandTimeout: nil, livenessTimeout: nil, connections: 1,
                                                   maxPendingCommands: 1 << 20, maxUnsentBytes: 1 << 30)
            if tls { configuration.tls = trusting(try #require(server.tlsFiles)) }
            try await withClient(server, configuration: configuration) { client async throws in
                try await client.ping()
                #expect(try await client.send("RPUSH", "jobs", "job").int == 1)
                let connection = client.pickConnection()
                try server.pause()
                var resumed = false
                defer { if !resumed { try? server.resume() } }
                // More than the kernel's buffers can hold, as in the test above.
                let payload = [UInt8](repeating: UInt8(ascii: "x"), count: 800 << 10)
                let count = max(30, (Self.largestSocketBuffers() * 3 / 2) / payload.count + 1)
                var tasks: [Task<RESPValue, any Error>] = []
                for index in 0..<count {
                    tasks.append(Task { try await client.send("SET", "big:\(index)", payload) })
                }
                try await expectPending(client, count)
                // Last in the queue, surely unwritten: a command and a pipeline.
                tasks.append(Task { try await client.send("INCR", "marker") })
                try await expectPending(client, count + 1)
                let pipeline = Task {
                    try await client.pipeline { pipeline in
                        pipeline.send("INCR", "piped")
                        pipeline.send("INCR", "piped")
                    }
                }
                try await expectPending(client, count + 3)
                // And an LPOP, whose reply is the only copy of what it removes: it stays and
                // runs despite the cancellation, and its task gets the element.
                let pop = Task { try await client.send("LPOP", "jobs") }
                try await expectPending(client, count + 4)
                for task in tasks { task.cancel() }
                pipeline.cancel()
                pop.cancel()
                for task in tasks {
                    await #expect(throws: RedisError.cancelled) { try await task.value }
                }
                await #expect(throws: RedisError.cancelled) { try await pipeline.value }
                // Each unwritten one made harmless where it lies, by the connection's sweep
                // while its socket is full (without it, they stay as they are).
                let swept = try await waitUntil(limit: .seconds(30)) {
                    await Self.onReactor(of: connection) { connection.abandonedUnwrittenCount } == 0
                }
                #expect(swept, "cancelled commands still queued as they were behind the full socket")
                #expect(client.gaugeSource.sample().pending == count + 4, "the slots stay, to swallow the replies")
                try server.resume()
                resumed = true
                #expect(try await pop.value.string == "job", "the LPOP's element, returned despite the cancellation")
                try await expectOnlyTheWrittenRan(server, client, tls: configuration.tls, of: count, never: ["marker", "piped", "jobs"])
            }
        }
    }

    /// Once a stalled `server` has resumed: waits until every slot of `client`'s is gone
    /// (the written commands' replies swallowed: nothing more of the client's is on its
    /// way to the server), then checks with a client of its own that the keys `never`
    /// were never written (the INCRs queued last did not run) and that of the `count`
    /// SETs only those the kernel took ran.
    private func expectOnlyTheWrittenRan(_ server: LocalRedisServer, _ client: RedisClient, tls: RedisTLSConfiguration?, of count: Int,
                                         never: [String] = ["marker"], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        try await expectPending(client, 0, within: .seconds(60), sourceLocation: sourceLocation)
        try await withClient(server, configuration: RedisConfiguration(tls: tls)) { reader async throws in
            for key in never {
                #expect(try await reader.send("GET", key).isNull, "\(key) was written", sourceLocation: sourceLocation)
            }
            let keys = try await reader.send("DBSIZE").int ?? -1
            #expect((1..<count).contains(keys), "\(keys) keys of \(count)", sourceLocation: sourceLocation)
        }
    }

    /// `read` run on `connection`'s reactor thread.
    private static func onReactor<T: Sendable>(of connection: RedisConnection, _ read: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            connection.reactor.execute { continuation.resume(returning: read()) }
        }
    }

    /// The largest send buffer plus the largest receive buffer a TCP socket may grow to on
    /// this host (the third field of `tcp_wmem` and `tcp_rmem`), or 16 MB where unreadable.
    private static func largestSocketBuffers() -> Int {
        let limits = ["/proc/sys/net/ipv4/tcp_wmem", "/proc/sys/net/ipv4/tcp_rmem"].compactMap { path in
            (try? String(contentsOfFile: path, encoding: .utf8))?.split(whereSeparator: \.isWhitespace).last.flatMap { Int($0) }
        }
        return limits.count == 2 ? limits.reduce(0, +) : 16 << 20
    }

    /// Waits (up to `limit`) until `client`'s reply slots number `count`; an issue where
    /// they never do.
    private func expectPending(_ client: RedisClient, _ count: Int, within limit: Duration = .seconds(30),
                               sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let reached = try await waitUntil(limit: limit) { client.gaugeSource.sample().pending == count }
        #expect(reached, "\(client.gaugeSource.sample().pending) reply slots, not \(count)", sourceLocation: sourceLocation)
    }

    /// One connection whose commands wait for a socket for ten minutes: only a
    /// cancellation ends their wait during a test.
    private static let onlyCancellationEnds = RedisConfiguration(connectTimeout: .seconds(600), commandTimeout: .seconds(600), connections: 1)

    /// A private server and a client of it (`configuration`); the server is restarted and
    /// held down while `body` runs: `body` starts once the client has seen its connection
    /// end and the port refuses connections, and the server comes back (empty: no
    /// persistence) only after it returns; then `after`.
    private func whileDown(_ configuration: RedisConfiguration, _ body: (RedisClient) async throws -> Void,
                           then after: (RedisClient, LocalRedisServer) async throws -> Void) async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: configuration) { client async throws in
                try await client.ping()
                try await holdingDown(server, client) { try await body(client) }
                try await after(client, server)
            }
        }
    }

    private func holdingDown(_ server: LocalRedisServer, _ client: RedisClient, _ body: () async throws -> Void) async throws {
        let released = Counter()
        let restarted = Counter()
        let failure = Locked<String?>(nil)
        Thread.detachNewThread {
            do { try server.restart(downtime: .milliseconds(100)) { released.value == 0 } }
            catch { failure.withLock { $0 = "\(error)" } }
            restarted.add()
        }
        var thrown: (any Error)?
        do {
            let sawLoss = try await waitUntil(limit: .seconds(30)) { client.gaugeSource.sample().open == 0 }
            #expect(sawLoss, "the client never saw its connection end")
            #expect(!server.ping(timeout: .milliseconds(50)), "the server must be down for this test to mean anything")
            try await body()
        } catch {
            thrown = error
        }
        released.add()
        let cameBack = try await waitUntil(limit: .seconds(60)) { restarted.value == 1 }
        #expect(cameBack, "the server did not come back")
        #expect(failure.withLock { $0 } == nil)
        if let thrown { throw thrown }
    }
}
