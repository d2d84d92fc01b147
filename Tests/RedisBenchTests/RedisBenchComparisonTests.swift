import Foundation
import Testing

/// Guards `--compare-redis-benchmark`: redis-benchmark really runs beside ours and its
/// figure and the ratio reach the JSON, and its list does not stay on the server.
// A condition trait, not an early return: without redis-benchmark the test is reported
// as skipped, with the reason, never as passed.
@Suite("redis-bench --compare-redis-benchmark", .timeLimit(.minutes(4)),
       .enabled(if: RedisBenchmarkTool.isInstalled,
                "redis-benchmark is not on PATH (apt-get install redis-tools): the comparison cannot run"))
struct RedisBenchComparisonTests {

    @Test func ratioAgainstRedisBenchmark() async throws {
        try await withBenchServer { server in
            let finished = try await BenchProcess.run([
                "--port", "\(server.port)", "--compare-redis-benchmark", "--workload", "rpush", "--api", "callback",
                "--messages", "2000", "--json", "--quiet",
            ])
            try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
            let runs = try BenchReport.runs(finished)
            try #require(runs.count == 1, "\(finished)")
            let run = runs[0]
            BenchReport.expectWellFormed(run, messages: 2000)
            let theirs = BenchReport.number(run["redis_benchmark_ops_per_sec"])
            let ratio = BenchReport.number(run["ratio_vs_redis_benchmark"])
            #expect((theirs ?? 0) > 0, "redis_benchmark_ops_per_sec: \(run["redis_benchmark_ops_per_sec"] ?? "missing")")
            #expect((ratio ?? 0) > 0, "ratio_vs_redis_benchmark: \(run["ratio_vs_redis_benchmark"] ?? "missing")")
            // redis-benchmark's RPUSH fills `mylist`; the comparison must remove it too.
            let leftover = try await leftoverKeys(server)
            #expect(leftover.count == 0, "keys left behind: \(leftover.names)")
        }
    }
}

/// redis-benchmark, looked up on PATH as redis-bench looks it up (it inherits our environment).
enum RedisBenchmarkTool {
    static let isInstalled: Bool = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/redis-benchmark") }
    }()
}
