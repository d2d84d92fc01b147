import LocalRedis
import TestSupport
import RedisUtil
import RESP

/// A private redis-server for one test, stopped after `body`: tests run in parallel, and
/// a benchmark's keys (or a killed server) must never reach another test.
func withBenchServer<T>(_ body: (LocalRedisServer) async throws -> T) async throws -> T {
    try await withLocalServer(.init(), body)
}

/// `command` on `server` through a one-connection client that is closed before returning.
func ask(_ server: LocalRedisServer, _ command: String, _ arguments: String...) async throws -> RESPValue {
    let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 1))
    do {
        let reply = try await client.send(arguments: [command] + arguments)
        await client.close()
        return reply
    } catch {
        await client.close()
        throw error
    }
}

/// The keys left on `server`, with their names for a failure message.
func leftoverKeys(_ server: LocalRedisServer) async throws -> (count: Int, names: [String]) {
    let count = try await ask(server, "DBSIZE").int ?? -1
    let names = count == 0 ? [] : (try await ask(server, "KEYS", "*").array ?? []).compactMap(\.string)
    return (count, names)
}
