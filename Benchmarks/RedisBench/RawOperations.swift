import RedisUtil
import RESP

/// The raw-command workloads, the same commands redis-benchmark sends.
enum RawOperations {
    static let listKey = "bench:list"

    static func operation(for workload: Workload, client: RedisClient, payload: [UInt8]) -> Operation? {
        switch workload {
        case .rpush:
            return Operation(
                callback: { _, done in client.send("RPUSH", listKey, payload) { done(Outcome($0)) } },
                async: { _ in await Outcome { _ = try await client.send("RPUSH", listKey, payload); return true } }
            )
        case .lpop:
            // An empty pop (null) popped nothing: an error, not an operation.
            return Operation(
                callback: { _, done in client.send("LPOP", listKey) { done(Outcome($0) { !$0.isNull }) } },
                async: { _ in await Outcome { try await !client.send("LPOP", listKey).isNull } }
            )
        case .ping:
            return Operation(
                callback: { _, done in client.send("PING") { done(Outcome($0)) } },
                async: { _ in await Outcome { _ = try await client.send("PING"); return true } }
            )
        default:
            return nil
        }
    }

    /// Fills `key` with `count` elements of `payload` in large pipelines, so that LPOP
    /// measures popping and not an empty list.
    static func fill(_ key: String, count: Int, payload: [UInt8], client: RedisClient) async throws {
        var remaining = count
        while remaining > 0 {
            let batch = min(remaining, 1000)
            var arguments: [any RESPArgument] = ["RPUSH", key]
            for _ in 0..<batch { arguments.append(payload) }
            let replies = try await client.pipeline { $0.send(arguments: arguments) }
            _ = try replies[0].get()
            remaining -= batch
        }
    }
}
