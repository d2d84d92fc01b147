import Foundation
import Testing

/// Guards `--compare-redis-benchmark`: redis-benchmark really runs beside ours, its
/// figures (its rate, its CPU per request and the server's under it) and the ratio reach
/// the JSON, and its list does not stay on the server.
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
            // Its own CPU per request, from the kernel's account of the child.
            expectSomeCPU(run, "redis_benchmark_cpu_us_per_op")
            // An external server's CPU counts every other client too: not reported for
            // either run.
            #expect(BenchReport.isNull(run["server_cpu_seconds"]) && BenchReport.isNull(run["redis_benchmark_server_cpu_us_per_op"]))
            // redis-benchmark's RPUSH fills `mylist`; the comparison must remove it too.
            let leftover = try await leftoverKeys(server)
            #expect(leftover.count == 0, "keys left behind: \(leftover.names)")
        }
    }

    /// On the private server, the server's CPU during redis-benchmark's run too, per
    /// request, beside its own CPU per request: for each workload it runs.
    @Test func theServersCPUUnderBothOnThePrivateServer() async throws {
        let finished = try await BenchProcess.run([
            "--compare-redis-benchmark", "--workload", "rpush", "--workload", "lpop", "--workload", "ping", "--api", "callback",
            // Enough that redis-benchmark's PINGs take a few of its milliseconds: a run it
            // finishes within one reports no rate ("inf").
            "--messages", "20000", "--json", "--quiet",
        ])
        try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
        let runs = try BenchReport.runs(finished)
        #expect(runs.map { $0["workload"] as? String ?? "?" } == ["rpush", "lpop", "ping"])
        for run in runs {
            BenchReport.expectWellFormed(run, messages: 20000)
            #expect((BenchReport.number(run["redis_benchmark_ops_per_sec"]) ?? 0) > 0, "\(run["workload"] ?? "?"): \(run)")
            for key in ["server_cpu_seconds", "redis_benchmark_cpu_us_per_op", "redis_benchmark_server_cpu_us_per_op"] {
                expectSomeCPU(run, key)
            }
        }
    }
}

/// `run[key]` is some CPU, and less than a second (per request where the figure is per
/// request): a misread clock, or a sum over other processes, would not be.
private func expectSomeCPU(_ run: [String: Any], _ key: String, sourceLocation: SourceLocation = #_sourceLocation) {
    let figure = BenchReport.number(run[key])
    #expect(figure.map { $0 > 0 && $0 < 1_000_000 } == true, "\(run["workload"] ?? "?"): \(key) \(run[key] ?? "missing")",
            sourceLocation: sourceLocation)
}

/// redis-benchmark, looked up on PATH as redis-bench looks it up (it inherits our environment).
enum RedisBenchmarkTool {
    static let isInstalled: Bool = {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").contains { FileManager.default.isExecutableFile(atPath: "\($0)/redis-benchmark") }
    }()
}
