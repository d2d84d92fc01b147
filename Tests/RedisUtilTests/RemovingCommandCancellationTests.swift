import LocalRedis
import RedisUtil
import Testing

/// A task cancelled while a command that removes data (`LPOP`, `GETDEL` …) is on the
/// server gets that command's reply, the only copy of what it removed, instead of
/// ``RedisError/cancelled`` and a reply swallowed: on every async path. The server is
/// held in `DEBUG SLEEP` so that the command is certainly sent, and not yet answered,
/// when the task is cancelled.
@Suite("Cancelled removing commands lose nothing", .timeLimit(.minutes(4)))
struct RemovingCommandCancellationTests {
    /// Before the fix: every path answered `.cancelled` and the popped element was gone.
    @Test(arguments: ["send", "pipeline", "transaction", "dedicated"])
    func cancelledInFlight(_ path: String) async throws {
        try await withServer(.init(extraConfig: ["enable-debug-command yes"])) { server async throws in
            try await withClient(server, configuration: .init(connections: 1)) { client async throws in
                let sleeper = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 1))
                try await client.send("RPUSH", "list", "a")
                // A dedicated connection idle in the pool: leasing it needs no round trip.
                try await client.withDedicatedConnection { _ in }
                let asleep = Task { try await sleeper.send("DEBUG", "SLEEP", "2") }
                try await Task.sleep(for: .milliseconds(200))
                let popping = Task { () async throws -> String? in
                    switch path {
                    case "send": return try await client.send("LPOP", "list").string
                    case "pipeline": return try await client.pipeline { $0.send("LPOP", "list") }[0].get().string
                    case "transaction": return try await client.transaction { $0.send("LPOP", "list") }[0].get().string
                    default: return try await client.withDedicatedConnection { try await $0.send("LPOP", "list").string }
                    }
                }
                // Margins far beyond a task's start-up on a loaded machine: the pop is sent well
                // before the cancellation, and the server sleeps well past it.
                try await Task.sleep(for: .milliseconds(500))
                popping.cancel()
                _ = try await asleep.value
                let popped = await popping.result
                let left = try await client.send("LLEN", "list").int
                #expect((try? popped.get()) == "a", "\(path): got \(popped), \(left ?? -1) left in the list")
                await sleeper.close()
            }
        }
    }
}
