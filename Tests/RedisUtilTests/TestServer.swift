import Foundation
import LocalRedis
import RedisUtil
import RESP
import Synchronization
import Testing
import TestSupport

/// One private redis-server per suite (or test), never a shared port; started and
/// stopped off the cooperative pool (``withLocalServer(_:_:)``).
func withServer<T>(
    _ configuration: LocalRedisServer.Configuration = .init(),
    _ body: (LocalRedisServer) async throws -> T
) async throws -> T {
    try await withLocalServer(configuration, body)
}

/// A client on `server` that is closed after `body`.
@discardableResult
func withClient<T>(
    _ server: LocalRedisServer,
    configuration: RedisConfiguration = .init(),
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    try await withClient(.tcp(host: server.host, port: server.port), configuration: configuration, body)
}

/// A client on `endpoint` that is closed after `body`.
@discardableResult
func withClient<T>(
    _ endpoint: RedisEndpoint,
    configuration: RedisConfiguration = .init(),
    _ body: (RedisClient) async throws -> T
) async throws -> T {
    let client = try RedisClient(endpoint, configuration: configuration)
    do {
        let result = try await body(client)
        await client.close()
        return result
    } catch {
        await client.close()
        throw error
    }
}

/// Heavy counts shrink under the thread sanitizer, which slows everything ~10×; the
/// smaller runs still race the same code paths. Set `REDISUTIL_TSAN=1` (or run with
/// `TSAN_OPTIONS` set) to select them.
enum TestScale {
    static let isSanitized: Bool = {
        let environment = ProcessInfo.processInfo.environment
        return environment["REDISUTIL_TSAN"] != nil || environment["TSAN_OPTIONS"] != nil
    }()

    /// `full` normally, a twentieth of it (at least `minimum`) when sanitized.
    static func count(_ full: Int, minimum: Int = 1) -> Int {
        isSanitized ? max(full / 20, minimum) : full
    }
}

/// A second, independent client used to observe the server (connection counts, blocked clients).
struct ServerProbe {
    let client: RedisClient

    /// `INFO clients` field `name` as an integer.
    func infoClients(_ name: String) async throws -> Int {
        let text = try await client.send("INFO", "clients").string ?? ""
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix(name + ":") {
            if let value = Int(line.dropFirst(name.count + 1)) { return value }
        }
        throw ProbeError(message: "no \(name) in INFO clients: \(text)")
    }

    /// Connected clients, not counting the probe's own connection.
    func connectedClients() async throws -> Int {
        try await infoClients("connected_clients") - 1
    }

    /// `CLIENT LIST` as one dictionary per connection.
    func clientList() async throws -> [[String: String]] {
        let text = try await client.send("CLIENT", "LIST").string ?? ""
        return text.split(whereSeparator: \.isNewline).map { line in
            var fields: [String: String] = [:]
            for item in line.split(separator: " ") {
                let parts = item.split(separator: "=", maxSplits: 1)
                fields[String(parts[0])] = parts.count > 1 ? String(parts[1]) : ""
            }
            return fields
        }
    }

    /// Polls `condition` every 5 ms until it holds or `limit` passes; returns whether it held.
    /// Used to wait for server-side effects, never to assert on timing. The limit is only a
    /// hang guard: the parallel test pass can keep a task from running for 10–20 s at a time.
    func eventually(limit: Duration = .seconds(60), _ condition: () async throws -> Bool) async throws -> Bool {
        try await waitUntil(limit: limit, condition)
    }
}

struct ProbeError: Error, CustomStringConvertible {
    let message: String
    var description: String { message }
}

/// The probe client uses one connection so its own count is exactly one.
func withProbe<T>(_ server: LocalRedisServer, _ body: (ServerProbe) async throws -> T) async throws -> T {
    try await withClient(server, configuration: .init(connections: 1)) { client in
        try await body(ServerProbe(client: client))
    }
}

extension RedisError {
    /// Whether this is a `connectionLost` for a command that was written.
    var isLostAfterWrite: Bool {
        if case .connectionLost(_, _, .written) = self { return true }
        return false
    }
}

/// A shared counter for callbacks and child tasks (an `Atomic` itself cannot be captured by escaping closures).
final class Counter: Sendable {
    private let storage: Atomic<Int>

    init(_ value: Int = 0) { storage = Atomic(value) }

    var value: Int { storage.load(ordering: .acquiring) }

    /// Adds `delta` and returns the new value.
    @discardableResult
    func add(_ delta: Int = 1) -> Int { storage.add(delta, ordering: .acquiringAndReleasing).newValue }
}

/// Heavy and wall-clock-sensitive tests, one at a time: on two cores, a million-command
/// test next to a timing bound would measure the scheduler, not the client. Every
/// other suite runs in parallel as usual.
@Suite("Serialized: heavy and timing-sensitive", .serialized)
enum SerialTests {}

