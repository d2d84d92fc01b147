import Foundation
import LocalRedis
import RedisUtil
import RESP
import Synchronization
import Testing

/// A review of `performUntilAnswered` / `UnblockPoller` (96bd38f, d49d651), since
/// replaced by `BlockingCall` and its machine (`BlockingCallMachineTests` has the rules
/// without a server). Tests whose comment starts "Before the fix" failed on the code as
/// reviewed; they now guard the same promises end to end.
@Suite("Unblocking a cancelled blocking command: its CLIENT UNBLOCKs", .timeLimit(.minutes(4)))
struct UnblockPollerTimingTests {
    /// The id of the one connection blocked in BLPOP.
    static func blockedID(_ probe: ServerProbe) async throws -> Int? {
        try await probe.clientList().first { $0["cmd"] == "blpop" && ($0["flags"] ?? "").contains("b") }?["id"].flatMap { Int($0) }
    }

    /// The scenario both entry points share. `blpop` runs a BLPOP on one and the same
    /// connection each time (a pool of one, or a dedicated connection).
    ///
    /// The client (a 20 ms `commandTimeout` in the first two tests) has not used its one
    /// shared connection yet. While the server is paused (`CLIENT PAUSE 3000 ALL`: it
    /// accepts the connection but postpones its HELLO), the first BLPOP is cancelled: its
    /// `CLIENT UNBLOCK`s wait unsent behind the handshake. The reviewed poller sent them
    /// with the command timeout, counted one that timed out unsent as answered, and let
    /// the connection go back to the pool while its bytes were still queued: once the
    /// handshake completed they unblocked the second BLPOP, sent on the same connection.
    /// Three things now keep them off it, each enough here: `BlockingCall` sends its
    /// UNBLOCKs with no timeout and reuses the connection only once none of them is on its
    /// way (so the first call returns only after the pause, when one has been answered);
    /// a command that times out unwritten becomes a filler of its length
    /// (OutboundQueue.expire); and one given up before its socket's first write is taken
    /// out there (OutboundQueue.dropUnwanted: with the UNBLOCKs sent with the command
    /// timeout and no fillers, these tests still pass, 2026-12-07). The second BLPOP, never
    /// cancelled, must stay blocked until an element comes.
    static func staleUnblockScenario(
        _ probe: ServerProbe,
        blpop: @escaping @Sendable (String, Int) async throws -> RESPValue,
        ping: @escaping @Sendable () async throws -> Void
    ) async throws {
        // 5 s: room for the steps below on a loaded machine before the server times it out.
        let first = Task { try await blpop("first", 5) }
        #expect(try await probe.eventually(limit: .seconds(10)) { try await probe.infoClients("blocked_clients") == 1 })
        let firstID = try await blockedID(probe)
        try await probe.client.send("CLIENT", "PAUSE", 3000, "ALL")
        first.cancel()
        await #expect(throws: RedisError.cancelled) { try await first.value }

        // Nobody cancels this one; timeout 0 waits for an element.
        let second = Task { try await blpop("second", 0) }
        // The probe's PING waits out the pause.
        try await probe.client.send("PING")
        // Once a PING on the shared connection is answered, every byte queued on it before was processed.
        #expect(try await probe.eventually(limit: .seconds(10)) { (try? await ping()) != nil })
        let stillBlocked = try await probe.eventually(limit: .seconds(2)) { try await probe.infoClients("blocked_clients") == 1 }
        #expect(stillBlocked, "the second BLPOP was unblocked by a CLIENT UNBLOCK the first call counted as answered")
        if stillBlocked {
            #expect(try await blockedID(probe) == firstID, "the second BLPOP runs on the first one's connection")
        }
        try await probe.client.send("RPUSH", "second", "b")
        let reply = try await second.value
        #expect(reply.array?.last?.string == "b", "BLPOP second 0, never cancelled, returned \(reply)")
    }

    /// Before the fix: `UnblockPoller.answered` runs from the UNBLOCK's completion, which also runs when
    /// the UNBLOCK timed out locally (`commandTimeout`) without ever being written; its
    /// bytes go out later and unblock the connection's next command.
    /// Now regression coverage: UNBLOCKs carry no timeout (see the scenario), so the 20 ms
    /// command timeout no longer reaches them.
    @Test("a cancelled BLPOP's UNBLOCKs held behind a postponed handshake do not unblock the next BLPOP (RedisClient.send)")
    func timedOutUnsentUnblockOnClient() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                let configuration = RedisConfiguration(commandTimeout: .milliseconds(20), connections: 1, maxBlockingConnections: 1)
                try await withClient(server, configuration: configuration) { client async throws in
                    // No shared command before: the shared connection first opens for the UNBLOCK.
                    try await Self.staleUnblockScenario(probe,
                        blpop: { key, timeout in try await client.send("BLPOP", key, timeout) },
                        ping: { try await client.send("PING") })
                }
            }
        }
    }

    /// Before the fix: as above, through `RedisDedicatedConnection.send`.
    @Test("a cancelled BLPOP's UNBLOCKs held behind a postponed handshake do not unblock the next BLPOP (dedicated connection)")
    func timedOutUnsentUnblockOnDedicatedConnection() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                let configuration = RedisConfiguration(commandTimeout: .milliseconds(20), connections: 1)
                try await withClient(server, configuration: configuration) { client async throws in
                    try await client.withDedicatedConnection { connection async throws in
                        try await Self.staleUnblockScenario(probe,
                            blpop: { key, timeout in try await connection.send("BLPOP", key, timeout) },
                            ping: { try await client.send("PING") })
                    }
                }
            }
        }
    }
}

extension UnblockPollerTimingTests {
    /// Before the fix on the redis-server these tests run (7.0.15): a BLPOP sent while writes are
    /// paused (`CLIENT PAUSE … WRITE`, as FAILOVER and cluster failover do) is postponed,
    /// not blocked, and `CLIENT UNBLOCK <id>` (TIMEOUT) on a postponed client panics the
    /// server ("Unknown btype in replyToBlockedClientTimedOut()"; valkey fixed it in
    /// valkey-io/valkey#2117). Cancelling such a BLPOP, which the client unblocks
    /// every 50 ms, kills the server. `CLIENT UNBLOCK <id> ERROR` does not panic there.
    @Test("cancelling a BLPOP postponed by CLIENT PAUSE WRITE leaves the server running")
    func cancelWhilePausedKeepsServerAlive() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                try await withClient(server, configuration: .init(maxBlockingConnections: 1)) { client async throws in
                    try await client.ping()
                    #expect(try await client.send("BLPOP", "warm", "0.01").isNull)
                    try await probe.client.send("CLIENT", "PAUSE", 2000, "WRITE")
                    let blpop = Task { try await client.send("BLPOP", "paused", 0) }
                    #expect(try await probe.eventually(limit: .seconds(10)) { try await Self.blockedID(probe) != nil })
                    blpop.cancel()
                    // Past the first UNBLOCKs (not a timing assertion: the server must stay up whatever the delay).
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(server.ping(), "redis-server died after CLIENT UNBLOCK of a paused client")
                    if server.ping() {
                        await #expect(throws: RedisError.cancelled) { try await blpop.value }
                    } else {
                        _ = await blpop.result
                    }
                }
            }
        }
    }

    /// Coverage (passes): the same scenario without a `commandTimeout`. The UNBLOCKs stuck
    /// behind the postponed handshake stay in flight, so the first call returns only once
    /// they are answered after the pause, and the second BLPOP is left alone.
    @Test("UNBLOCKs stuck behind a postponed handshake are waited for")
    func unsentUnblocksAreWaitedFor() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                let configuration = RedisConfiguration(connections: 1, maxBlockingConnections: 1)
                try await withClient(server, configuration: configuration) { client async throws in
                    try await Self.staleUnblockScenario(probe,
                        blpop: { key, timeout in try await client.send("BLPOP", key, timeout) },
                        ping: { try await client.send("PING") })
                }
            }
        }
    }
}
