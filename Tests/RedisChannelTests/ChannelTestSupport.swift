import Foundation
import LocalRedis
import RESP
import RedisUtil
import Testing
import TestSupport

/// One private redis-server per test (started and stopped off the cooperative pool), and
/// a client on it closed afterwards.
func withRedis<T>(_ body: (LocalRedisServer, RedisClient) async throws -> T) async throws -> T {
    try await withLocalServer { server in
        let client = try RedisClient(.tcp(host: server.host, port: server.port))
        do {
            let result = try await body(server, client)
            await client.close()
            return result
        } catch {
            await client.close()
            throw error
        }
    }
}

/// Both ends of one channel on `client`.
func channelPair(_ client: RedisClient, _ name: String = "/test/jobs", timeout: Duration? = nil) -> (client: RedisChannel, server: RedisChannel) {
    (RedisChannel(client: client, name, peer: .client, timeout: timeout),
     RedisChannel(client: client, name, peer: .server, timeout: timeout))
}

/// The raw elements of a list, head first.
func rawList(_ client: RedisClient, _ key: String) async throws -> [[UInt8]] {
    try await client.send("LRANGE", key, 0, -1).array?.compactMap(\.bytes) ?? []
}

/// Bridges a completion-handler call to async, for testing the callback facade; the
/// error it throws is the `RedisError` the completion received.
func callback<T: Sendable>(_ start: (@escaping @Sendable (Result<T, RedisError>) -> Void) -> Void) async throws(RedisError) -> T {
    try await callbackResult(start).get()
}

/// The result a completion handler received.
func callbackResult<T: Sendable>(_ start: (@escaping @Sendable (Result<T, RedisError>) -> Void) -> Void) async -> Result<T, RedisError> {
    await withCheckedContinuation { continuation in
        start { continuation.resume(returning: $0) }
    }
}

/// `connected_clients` from `INFO clients`.
func connectedClients(_ client: RedisClient) async throws -> Int {
    try await clientsInfo(client, "connected_clients")
}

/// `blocked_clients` from `INFO clients`: how many blocking pops the server holds.
func blockedClients(_ client: RedisClient) async throws -> Int {
    try await clientsInfo(client, "blocked_clients")
}

/// One counter of `INFO clients`; -1 when it is missing.
private func clientsInfo(_ client: RedisClient, _ field: String) async throws -> Int {
    let info = try await client.send("INFO", "clients").string ?? ""
    let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix(field + ":") }
    return Int(line?.split(separator: ":").last ?? "") ?? -1
}

/// A message type for typed round trips.
struct Job: Codable, Equatable, Sendable {
    var id: Int
    var name: String
    var ratio: Double
    var tags: [String]
    var parent: Int?
}
