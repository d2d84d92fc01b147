import Foundation
import Testing

/// redis-bench's `--json` output, read as a script reads it: JSONSerialization, no
/// knowledge of the Swift types that wrote it.
enum BenchReport {
    /// The keys of one run's object; scripts depend on exactly these.
    static let keys: Set<String> = [
        "workload", "api", "connections", "pipeline", "size", "keys", "key_layout", "message", "messages", "seconds", "ops_per_sec", "mb_per_sec",
        "latency_us", "client_cpu_us_per_op", "server_cpu_seconds", "redis_benchmark_ops_per_sec",
        "redis_benchmark_cpu_us_per_op", "redis_benchmark_server_cpu_us_per_op", "ratio_vs_redis_benchmark", "plaintext_ops_per_sec", "ratio_vs_plaintext", "errors",
    ]
    static let latencyKeys: Set<String> = ["p50", "p90", "p99", "p999", "max"]
    /// The keys redis-benchmark's comparison fills, null where it did not run.
    static let comparisonKeys = [
        "redis_benchmark_ops_per_sec", "redis_benchmark_cpu_us_per_op", "redis_benchmark_server_cpu_us_per_op", "ratio_vs_redis_benchmark",
    ]

    struct Malformed: Error, CustomStringConvertible {
        let description: String
    }

    /// The runs of a finished `--json` run, or an error quoting what it printed instead.
    static func runs(_ finished: BenchProcess.Finished) throws -> [[String: Any]] {
        guard let data = finished.stdout.data(using: .utf8),
              let parsed = try? JSONSerialization.jsonObject(with: data),
              let runs = parsed as? [[String: Any]]
        else {
            throw Malformed(description: "stdout is not a JSON array of objects\n\(finished)")
        }
        return runs
    }

    /// A JSON number as a Double; nil for null, a string, a boolean or a missing key.
    /// JSONSerialization reads `true` and `false` as NSNumbers too, of type "c" (char),
    /// a type it gives no JSON number; `false` would otherwise pass for `"errors": 0`.
    static func number(_ value: Any?) -> Double? {
        guard let number = value as? NSNumber, String(cString: number.objCType) != "c" else { return nil }
        return number.doubleValue
    }

    static func isNull(_ value: Any?) -> Bool { value is NSNull }

    /// The checks every run of a successful `--json` run must pass, whatever its workload:
    /// exactly the contract's keys, no errors, time and throughput measured, percentiles in order.
    static func expectWellFormed(_ run: [String: Any], messages: Int, sourceLocation: SourceLocation = #_sourceLocation) {
        let name = "\(run["workload"] ?? "?") \(run["api"] ?? "?")"
        #expect(Set(run.keys) == keys, "\(name): keys", sourceLocation: sourceLocation)
        #expect(number(run["messages"]) == Double(messages), "\(name): messages \(run["messages"] ?? "missing")", sourceLocation: sourceLocation)
        #expect(number(run["errors"]) == 0, "\(name): errors \(run["errors"] ?? "missing")", sourceLocation: sourceLocation)
        #expect((number(run["seconds"]) ?? 0) > 0, "\(name): seconds \(run["seconds"] ?? "missing")", sourceLocation: sourceLocation)
        #expect((number(run["ops_per_sec"]) ?? 0) > 0, "\(name): ops_per_sec \(run["ops_per_sec"] ?? "missing")", sourceLocation: sourceLocation)
        #expect((number(run["mb_per_sec"]) ?? -1) >= 0, "\(name): mb_per_sec \(run["mb_per_sec"] ?? "missing")", sourceLocation: sourceLocation)
        #expect((number(run["client_cpu_us_per_op"]) ?? -1) >= 0, "\(name): client_cpu_us_per_op \(run["client_cpu_us_per_op"] ?? "missing")", sourceLocation: sourceLocation)
        guard let latency = run["latency_us"] as? [String: Any] else {
            Issue.record("\(name): latency_us is not an object: \(run["latency_us"] ?? "missing")", sourceLocation: sourceLocation)
            return
        }
        #expect(Set(latency.keys) == latencyKeys, "\(name): latency_us keys", sourceLocation: sourceLocation)
        let percentiles = ["p50", "p90", "p99", "p999", "max"].map { number(latency[$0]) }
        let values = percentiles.compactMap { $0 }
        #expect(values.count == percentiles.count && values.allSatisfy { $0 >= 0 } && values == values.sorted(),
                "\(name): latency_us must be non-negative numbers with p50 <= p90 <= p99 <= p999 <= max: \(latency)",
                sourceLocation: sourceLocation)
    }
}
