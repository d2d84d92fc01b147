import RedisUtil
import RESP

/// The raw-command workloads, the same commands redis-benchmark sends.
enum RawOperations {
    static let listKey = "bench:list"

    /// The lists a run over `count` keys uses: `bench:list` alone, or `bench:list:0` …
    /// (spread over a cluster's slots by their hashes).
    static func listKeys(_ count: Int) -> [String] {
        count == 1 ? [listKey] : (0..<count).map { "\(listKey):\($0)" }
    }

    /// Operation `i` of lane `l` works on `keys.key(i, lane: l)`.
    static func operation(for workload: Workload, client: RedisClient, payload: [UInt8], keys: LaneKeys) -> Operation? {
        switch workload {
        case .rpush:
            return Operation(
                callback: { index, lane in client.send("RPUSH", keys.key(index, lane: lane.number), payload) { lane.finished(Outcome($0)) } },
                async: { index, lane in await Outcome { _ = try await client.send("RPUSH", keys.key(index, lane: lane), payload); return true } }
            )
        case .lpop:
            // An empty pop (null) popped nothing: an error, not an operation.
            return Operation(
                callback: { index, lane in client.send("LPOP", keys.key(index, lane: lane.number)) { lane.finished(Outcome($0) { !$0.isNull }) } },
                async: { index, lane in await Outcome { try await !client.send("LPOP", keys.key(index, lane: lane)).isNull } }
            )
        case .ping:
            return Operation(
                callback: { _, lane in client.send("PING") { lane.finished(Outcome($0)) } },
                async: { _, _ in await Outcome { _ = try await client.send("PING"); return true } }
            )
        default:
            return nil
        }
    }

    /// Removes `keys`, one command each (on a cluster they live in different slots), in one pipeline.
    static func remove(_ keys: [String], client: RedisClient) async throws {
        let replies = try await client.pipeline { pipeline in
            for key in keys { pipeline.send("UNLINK", key) }
        }
        for reply in replies { _ = try reply.get() }
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
