import LocalRedis
import RedisUtil
import Testing
import TestSupport

/// Runs `operation` in a task that is cancelled while the command it sends is on the
/// server, unanswered: another client's `CLIENT PAUSE … WRITE` holds every write (the
/// commands the callers send are all writes) from before the task starts until after the
/// cancellation, when that client's `CLIENT UNPAUSE` (not a write) ends it. Returns how
/// the task ended.
///
/// Nothing in it hangs on timing: the pause is awaited before the task starts, the task is
/// cancelled once the server holds a client's write (`CLIENT LIST` shows it blocked), and
/// the pause ends only after the cancellation, however late a loaded machine runs this
/// code. (A `DEBUG SLEEP` of two seconds sent from a task, as this once used, let a
/// command be answered before a cancellation that a starved global pool ran late: CI at
/// `1d10a6d`; a fixed 500 ms margin for the send, after it, could still be outrun.)
func cancelledWhileOnTheServer<T: Sendable>(
    _ server: LocalRedisServer, _ operation: @escaping @Sendable () async throws -> T
) async throws -> Result<T, any Error> {
    let pauser = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 1))
    // The bound only matters if this function fails midway; the unpause ends it.
    try await pauser.send("CLIENT", "PAUSE", "60000", "WRITE")
    let running = Task { try await operation() }
    let held = try await waitUntil { try await holdsAWrite(pauser) }
    running.cancel()
    #expect(held, "no command reached the paused server within the hang guard")
    try await pauser.send("CLIENT", "UNPAUSE")
    let result = await running.result
    await pauser.close()
    return result
}

/// Whether the server holds a command of some client back (a write during `CLIENT PAUSE
/// … WRITE`: the client is flagged blocked), asked on `pauser`'s connection.
func holdsAWrite(_ pauser: RedisClient) async throws -> Bool {
    listsABlockedClient(try await pauser.send("CLIENT", "LIST").string ?? "")
}

/// A task cancelled while a command that removes data (`LPOP`, `GETDEL` …) is on the
/// server gets that command's reply, the only copy of what it removed, instead of
/// ``RedisError/cancelled`` and a reply swallowed: on every async path.
@Suite("Cancelled removing commands lose nothing", .timeLimit(.minutes(4)))
struct RemovingCommandCancellationTests {
    /// Before the fix: every path answered `.cancelled` and the popped element was gone.
    @Test(arguments: ["send", "pipeline", "transaction", "dedicated"])
    func cancelledInFlight(_ path: String) async throws {
        try await withServer(.init(extraConfig: ["enable-debug-command yes"])) { server async throws in
            try await withClient(server, configuration: .init(connections: 1)) { client async throws in
                try await client.send("RPUSH", "list", "a")
                // A dedicated connection idle in the pool: leasing it needs no round trip.
                try await client.withDedicatedConnection { _ in }
                let popped = try await cancelledWhileOnTheServer(server) { () async throws -> String? in
                    switch path {
                    case "send": return try await client.send("LPOP", "list").string
                    case "pipeline": return try await client.pipeline { $0.send("LPOP", "list") }[0].get().string
                    case "transaction": return try await client.transaction { $0.send("LPOP", "list") }[0].get().string
                    default: return try await client.withDedicatedConnection { try await $0.send("LPOP", "list").string }
                    }
                }
                let left = try await client.send("LLEN", "list").int
                #expect((try? popped.get()) == "a", "\(path): got \(popped), \(left ?? -1) left in the list")
            }
        }
    }
}

/// ``RedisConfiguration/CancellationPolicy/afterReply``: every async command already
/// sent returns its reply despite a cancellation; one not yet sent is not sent. The
/// default policy answers `.cancelled` at once (see `ConcurrencyTests`).
@Suite("Cancellation after the reply", .timeLimit(.minutes(4)))
struct AfterReplyCancellationTests {
    @Test(arguments: ["send", "pipeline", "dedicated"])
    func sentCommandsReturnTheirReply(_ path: String) async throws {
        try await withServer(.init(extraConfig: ["enable-debug-command yes"])) { server async throws in
            try await withClient(server, configuration: .init(connections: 1, cancellation: .afterReply)) { client async throws in
                try await client.withDedicatedConnection { _ in }
                let reply = try await cancelledWhileOnTheServer(server) { () async throws -> Int? in
                    switch path {
                    case "send": return try await client.send("INCR", "n").int
                    case "pipeline": return try await client.pipeline { $0.send("INCR", "n") }[0].get().int
                    default: return try await client.withDedicatedConnection { try await $0.send("INCR", "n").int }
                    }
                }
                #expect((try? reply.get()) == 1, "\(path): got \(reply)")
            }
        }
    }

    @Test func aCommandCancelledBeforeItIsSentIsNotSent() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(connections: 1, cancellation: .afterReply)) { client async throws in
                try await client.ping()
                let cancelled = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    return try await client.send("INCR", "n")
                }
                await #expect(throws: RedisError.cancelled) { try await cancelled.value }
                #expect(try await client.send("GET", "n").isNull, "the cancelled INCR was sent")
            }
        }
    }
}
