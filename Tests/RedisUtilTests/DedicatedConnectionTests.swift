import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Synchronization
import Testing

/// Adds `amount` to the integer at `key` with WATCH/GET/MULTI/EXEC, retrying when
/// another writer got in between. Returns how many attempts it took.
private func optimisticAdd(_ amount: Int, to key: String, on client: RedisClient) async throws -> Int {
    for attempt in 1...1000 {
        let committed: Bool = try await client.withDedicatedConnection { connection in
            try await connection.send("WATCH", key)
            let current = try await connection.send("GET", key).string.flatMap { Int($0) } ?? 0
            do {
                _ = try await connection.transaction { $0.send("SET", key, current + amount) }
                return true
            } catch RedisError.server(let message) where message.contains("WATCHed key changed") {
                return false
            }
        }
        if committed { return attempt }
    }
    throw RedisError.invalidArgument("no commit in 1000 attempts")
}

@Suite("withDedicatedConnection: WATCH, MULTI and EXEC one by one, and a clean hand-back")
struct DedicatedConnectionTests {
    @Test("WATCH catches a concurrent write: EXEC aborts, the retry commits")
    func watchAborts() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                try await withClient(server) { other async throws in
                    try await client.send("SET", "balance", 100)
                    await #expect(throws: RedisError.self) {
                        try await client.withDedicatedConnection { connection in
                            try await connection.send("WATCH", "balance")
                            let balance = try await connection.send("GET", "balance").string.flatMap { Int($0) } ?? 0
                            try await other.send("SET", "balance", 0)
                            _ = try await connection.transaction { $0.send("SET", "balance", balance + 10) }
                        }
                    }
                    #expect(try await client.send("GET", "balance").string == "0")
                    #expect(try await optimisticAdd(10, to: "balance", on: client) == 1)
                    #expect(try await client.send("GET", "balance").string == "10")
                }
            }
        }
    }

    @Test("many tasks incrementing through WATCH lose no update")
    func noLostUpdates() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(maxBlockingConnections: 4)) { client async throws in
                let tasks = 16, increments = 25
                let attempts = try await withThrowingTaskGroup(of: Int.self) { group in
                    for _ in 0..<tasks {
                        group.addTask {
                            var attempts = 0
                            for _ in 0..<increments { attempts += try await optimisticAdd(1, to: "counter", on: client) }
                            return attempts
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(try await client.send("GET", "counter").string == String(tasks * increments))
                // Every increment committed once, however many attempts contention cost.
                #expect(attempts >= tasks * increments)
            }
        }
    }

    @Test("the connection goes back with no key watched and no MULTI open")
    func cleanHandBack() async throws {
        try await withServer { server async throws in
            // One dedicated connection, so that each scope gets the same one back.
            try await withClient(server, configuration: .init(maxBlockingConnections: 1)) { client async throws in
                try await withClient(server) { other async throws in
                    let first = try await client.withDedicatedConnection { connection in
                        try await connection.send("WATCH", "k")
                        return try await connection.send("CLIENT", "ID").int
                    }
                    try await other.send("SET", "k", "changed")
                    // Had the WATCH survived, this EXEC would abort.
                    let second = try await client.withDedicatedConnection { connection in
                        let id = try await connection.send("CLIENT", "ID").int
                        _ = try await connection.transaction { $0.send("SET", "k", "mine") }
                        try await connection.send("MULTI")
                        #expect(try await connection.send("SET", "k", "never").string == "QUEUED")
                        return id
                    }
                    #expect(first == second)
                    // Had the MULTI stayed open, this would be QUEUED rather than the value.
                    let third = try await client.withDedicatedConnection { connection in
                        try await connection.send("GET", "k").string
                    }
                    #expect(third == "mine")
                    #expect(try await client.send("GET", "k").string == "mine")
                }
            }
        }
    }

    @Test("one by one MULTI … EXEC, a pipeline left in MULTI, and a blocking command on the connection")
    func commandsOneByOne() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                try await client.withDedicatedConnection { connection in
                    #expect(try await connection.send("MULTI").isOK)
                    #expect(try await connection.send("INCR", "n").string == "QUEUED")
                    #expect(try await connection.send("EXEC").array?.first?.int == 1)
                    let opened = try await connection.pipeline { p in
                        p.send("MULTI")
                        p.send("INCR", "n")
                    }
                    #expect(opened.count == 2)
                    #expect(try await connection.send("EXEC").array?.first?.int == 2)
                    #expect(try await connection.send("BLPOP", "empty", "0.05").isNull)
                    try await client.send("RPUSH", "queue", "job")
                    #expect(try await connection.execute(.blpop(["queue"], timeout: .seconds(1)))?.value == "job")
                    await #expect(throws: RedisError.self) { try await connection.send("SELECT", 1) }
                    await #expect(throws: RedisError.self) { try await connection.send("SUBSCRIBE", "c") }
                    await #expect(throws: RedisError.self) { try await connection.transaction { $0.send("WATCH", "n") } }
                }
            }
        }
    }

    @Test("a cancelled BLPOP ends the scope at once; the next scope gets a working connection")
    func cancellation() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(maxBlockingConnections: 1)) { client async throws in
                let scope = Task {
                    try await client.withDedicatedConnection { connection in
                        try await connection.send("BLPOP", "never", 0)
                    }
                }
                // Wait until the server reports the BLPOP blocked.
                while !(try await client.send("INFO", "clients").string ?? "").contains("blocked_clients:1") {
                    try await Task.sleep(for: .milliseconds(5))
                }
                scope.cancel()
                await #expect(throws: RedisError.cancelled) { try await scope.value }
                // The pool's only slot is free again, and what it gives is usable.
                let pong = try await client.withDedicatedConnection { try await $0.send("PING") }
                #expect(pong.string == "PONG")
                #expect(try await client.send("BLPOP", "never", "0.05").isNull)
            }
        }
    }

    @Test("using the connection after its scope fails; a closed client refuses new scopes")
    func afterTheScope() async throws {
        try await withServer { server async throws in
            let client = try RedisClient(.tcp(host: server.host, port: server.port))
            let escaped = try await client.withDedicatedConnection { $0 }
            await #expect(throws: RedisError.self) { try await escaped.send("PING") }
            await client.close()
            await #expect(throws: RedisError.closed) { try await client.withDedicatedConnection { try await $0.send("PING") } }
        }
    }
}
