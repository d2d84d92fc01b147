import Foundation

/// One workload run's figures; the JSON keys are a contract with scripts.
struct RunResult: Encodable, Sendable {
    var workload: String
    var api: String
    var connections: Int
    var pipeline: Int
    var size: Int
    /// Keys (or channels) the run spread over.
    var keys: Int
    /// How the lanes shared the keys (``KeyLayout``'s name).
    var keyLayout: String
    /// The message's type (``MessageKind``'s name) for channel-send and channel-recv; nil
    /// for the workloads that take none.
    var message: String?
    var messages: Int
    var seconds: Double
    var opsPerSec: Double
    var mbPerSec: Double
    var latencyUs: LatencySummary
    var clientCpuUsPerOp: Double
    var serverCpuSeconds: Double?
    var redisBenchmarkOpsPerSec: Double?
    /// redis-benchmark's own CPU per request in the same round: its client's cost beside ours.
    var redisBenchmarkCpuUsPerOp: Double? = nil
    /// The server's CPU per request during redis-benchmark's run (where ``serverCpuSeconds``
    /// is reported for ours): what its load costs the server beside what ours does.
    var redisBenchmarkServerCpuUsPerOp: Double? = nil
    var ratioVsRedisBenchmark: Double?
    /// With `--tls` on the private server: the same run in plaintext, and ours ÷ it.
    var plaintextOpsPerSec: Double?
    var ratioVsPlaintext: Double?
    var errors: Int

    enum CodingKeys: String, CodingKey {
        case workload, api, connections, pipeline, size, keys, messages, seconds
        case keyLayout = "key_layout"
        case message
        case opsPerSec = "ops_per_sec"
        case mbPerSec = "mb_per_sec"
        case latencyUs = "latency_us"
        case clientCpuUsPerOp = "client_cpu_us_per_op"
        case serverCpuSeconds = "server_cpu_seconds"
        case redisBenchmarkOpsPerSec = "redis_benchmark_ops_per_sec"
        case redisBenchmarkCpuUsPerOp = "redis_benchmark_cpu_us_per_op"
        case redisBenchmarkServerCpuUsPerOp = "redis_benchmark_server_cpu_us_per_op"
        case ratioVsRedisBenchmark = "ratio_vs_redis_benchmark"
        case plaintextOpsPerSec = "plaintext_ops_per_sec"
        case ratioVsPlaintext = "ratio_vs_plaintext"
        case errors
    }

    // Nulls are written explicitly: a missing figure is "not measurable", not "forgotten".
    func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(workload, forKey: .workload)
        try c.encode(api, forKey: .api)
        try c.encode(connections, forKey: .connections)
        try c.encode(pipeline, forKey: .pipeline)
        try c.encode(size, forKey: .size)
        try c.encode(keys, forKey: .keys)
        try c.encode(keyLayout, forKey: .keyLayout)
        try c.encode(message, forKey: .message)
        try c.encode(messages, forKey: .messages)
        try c.encode(seconds, forKey: .seconds)
        try c.encode(opsPerSec, forKey: .opsPerSec)
        try c.encode(mbPerSec, forKey: .mbPerSec)
        try c.encode(latencyUs, forKey: .latencyUs)
        try c.encode(clientCpuUsPerOp, forKey: .clientCpuUsPerOp)
        try c.encode(serverCpuSeconds, forKey: .serverCpuSeconds)
        try c.encode(redisBenchmarkOpsPerSec, forKey: .redisBenchmarkOpsPerSec)
        try c.encode(redisBenchmarkCpuUsPerOp, forKey: .redisBenchmarkCpuUsPerOp)
        try c.encode(redisBenchmarkServerCpuUsPerOp, forKey: .redisBenchmarkServerCpuUsPerOp)
        try c.encode(ratioVsRedisBenchmark, forKey: .ratioVsRedisBenchmark)
        try c.encode(plaintextOpsPerSec, forKey: .plaintextOpsPerSec)
        try c.encode(ratioVsPlaintext, forKey: .ratioVsPlaintext)
        try c.encode(errors, forKey: .errors)
    }
}

enum Report {
    /// Throws rather than print an empty array: a script must not mistake a figure JSON
    /// cannot hold (an infinity) for "no runs".
    static func json(_ results: [RunResult]) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        return String(decoding: try encoder.encode(results), as: UTF8.self)
    }

    static func table(_ results: [RunResult]) -> String {
        var header = ["workload", "api", "conn", "pipe", "size", "keys", "messages", "ops/s", "MB/s", "p50 µs", "p90 µs", "p99 µs", "p99.9 µs", "max µs",
                      "cpu µs/op", "server cpu s", "redis-benchmark ops/s", "its cpu µs/op", "its server µs/op", "ratio", "errors"]
        // The TLS cost columns only when a plaintext twin ran (`--tls`).
        let showsPlaintext = results.contains { $0.plaintextOpsPerSec != nil }
        if showsPlaintext { header += ["plaintext ops/s", "tls÷plain"] }
        var rows = [header]
        for r in results {
            let plaintext = [r.plaintextOpsPerSec.map(grouped) ?? "–", hundredths(r.ratioVsPlaintext)]
            let run: [String] = [
                r.message.map { $0 == MessageKind.members.rawValue ? r.workload : "\(r.workload):\($0)" } ?? r.workload, r.api, "\(r.connections)", "\(r.pipeline)", "\(r.size)", r.keyLayout == KeyLayout.spread.rawValue ? "\(r.keys)" : "\(r.keys) \(r.keyLayout)", "\(r.messages)",
                grouped(r.opsPerSec), String(format: "%.1f", r.mbPerSec),
                String(format: "%.0f", r.latencyUs.p50), String(format: "%.0f", r.latencyUs.p90),
                String(format: "%.0f", r.latencyUs.p99), String(format: "%.0f", r.latencyUs.p999),
                String(format: "%.0f", r.latencyUs.max), hundredths(r.clientCpuUsPerOp), hundredths(r.serverCpuSeconds),
            ]
            let comparison: [String] = [
                r.redisBenchmarkOpsPerSec.map(grouped) ?? "–", hundredths(r.redisBenchmarkCpuUsPerOp),
                hundredths(r.redisBenchmarkServerCpuUsPerOp), hundredths(r.ratioVsRedisBenchmark), "\(r.errors)",
            ]
            rows.append(run + comparison + (showsPlaintext ? plaintext : []))
        }
        let widths = header.indices.map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            row.indices.map { column in
                let cell = row[column]
                let pad = String(repeating: " ", count: widths[column] - cell.count)
                return column < 2 ? cell + pad : pad + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }

    /// `value` to two decimals, or "–" when there is none.
    static func hundredths(_ value: Double?) -> String {
        value.map { String(format: "%.2f", $0) } ?? "–"
    }

    static func grouped(_ value: Double) -> String {
        guard value.isFinite else { return "–" }
        let digits = String(Int(value.rounded()))
        var out = ""
        for (offset, character) in digits.reversed().enumerated() {
            if offset > 0 && offset % 3 == 0 { out.append(",") }
            out.append(character)
        }
        return String(out.reversed())
    }
}
