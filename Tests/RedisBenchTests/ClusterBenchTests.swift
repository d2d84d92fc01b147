import Foundation
import LocalRedis
import RedisUtil
import Testing

/// Guards `redis-bench --cluster`: a private cluster started and stopped by the benchmark,
/// an existing one reached through `--cluster-seed` and left with no keys behind, the
/// `--keys` spread, and redis-benchmark's `--cluster` run beside ours. `make test` runs
/// this suite alone, with the cluster client's (six nodes at full speed would starve the
/// parallel suites).
@Suite("redis-bench --cluster", .serialized, .timeLimit(.minutes(4)))
struct ClusterBenchTests {
    /// The private cluster: every raw workload asked for on both facades, 64 keys by default,
    /// redis-benchmark's figure beside rpush (when installed).
    @Test func privateClusterWithComparison() async throws {
        let finished = try await BenchProcess.run([
            "--cluster", "--workload", "rpush", "--workload", "lpop", "--workload", "channel-send", "--api", "both",
            "--messages", "2000", "--compare-redis-benchmark", "--json", "--quiet",
        ], hangGuard: .seconds(120))
        try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
        let runs = try BenchReport.runs(finished)
        #expect(runs.map { "\($0["workload"] ?? "?") \($0["api"] ?? "?")" }
                == ["rpush callback", "rpush async", "lpop callback", "lpop async", "channel-send callback", "channel-send async"])
        for run in runs {
            BenchReport.expectWellFormed(run, messages: 2000)
            #expect(BenchReport.number(run["keys"]) == 64)
            // The private cluster's CPU: its six nodes', summed.
            let serverCPU = BenchReport.number(run["server_cpu_seconds"])
            #expect(serverCPU.map { $0 > 0 } == true, "server_cpu_seconds: \(run["server_cpu_seconds"] ?? "missing")")
            let comparedHere = run["workload"] as? String == "rpush" && RedisBenchmarkTool.isInstalled
            for key in BenchReport.comparisonKeys {
                #expect(BenchReport.isNull(run[key]) != comparedHere, "\(run["workload"] ?? "?"): \(key) \(run[key] ?? "missing")")
            }
        }
    }

    /// `--cluster-primaries 2`: a private cluster of two primaries with a replica each (the
    /// header says so and names its four nodes), the default 64 keys, and the nodes' CPU
    /// reported (a figure, not the external cluster's "–").
    @Test func privateClusterOfTwoPrimaries() async throws {
        let finished = try await BenchProcess.run([
            "--cluster", "--cluster-primaries", "2", "--workload", "rpush", "--api", "callback", "--messages", "2000", "--quiet",
        ], hangGuard: .seconds(120))
        try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
        let lines = finished.stdout.split(separator: "\n")
        let header = try #require(lines.first { $0.hasPrefix("redis-bench:") })
        #expect(header.contains("private cluster 2 primaries × 1 replica"), "\(header)")
        #expect(header.components(separatedBy: "127.0.0.1:").count - 1 == 4, "\(header)")
        let rows = lines.filter { $0.hasPrefix("rpush ") }.map { $0.split(separator: " ") }
        try #require(rows.count == 1, "\(finished.stdout)")
        // Columns: workload api conn pipe size keys messages …; keys the 6th, messages the 7th, server cpu s the 15th.
        #expect(rows[0][5] == "64" && rows[0][6] == "2000", "\(rows[0])")
        #expect(Double(rows[0][14]) != nil, "server cpu s: \(rows[0])")
    }

    /// A private cluster over TLS (`--cluster --tls`: TLS-only nodes, the throw-away CA),
    /// both facades, and `redis-benchmark --cluster --tls` beside rpush.
    @Test func privateClusterOverTLS() async throws {
        let finished = try await BenchProcess.run([
            "--cluster", "--tls", "--workload", "rpush", "--api", "both", "--messages", "2000",
            "--compare-redis-benchmark", "--json", "--quiet",
        ], hangGuard: .seconds(120))
        try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
        let runs = try BenchReport.runs(finished)
        #expect(runs.map { "\($0["workload"] ?? "?") \($0["api"] ?? "?")" } == ["rpush callback", "rpush async"])
        for run in runs {
            BenchReport.expectWellFormed(run, messages: 2000)
            #expect(BenchReport.isNull(run["ratio_vs_redis_benchmark"]) != RedisBenchmarkTool.isInstalled,
                    "ratio_vs_redis_benchmark \(run["ratio_vs_redis_benchmark"] ?? "missing")")
        }
    }

    /// `--key-layout by-primary`: a connection's lanes use the keys of one primary. With one
    /// connection every RPUSH (warm-up and run, 10% and 2,000) reaches one primary and no
    /// other; with three, one primary each, so all three. The row says its layout.
    @Test func keysByPrimary() async throws {
        let cluster = try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0))
        defer { cluster.stop() }
        let seed = cluster.primaries[0]
        for connections in [1, 3] {
            for primary in cluster.primaries { _ = try cluster.command(["CONFIG", "RESETSTAT"], on: primary) }
            let finished = try await BenchProcess.run([
                "--cluster-seed", "\(seed.host):\(seed.port)", "--workload", "rpush", "--key-layout", "by-primary", "--api", "both",
                "--connections", "\(connections)", "--pipeline", "16", "--messages", "2000", "--json", "--quiet",
            ], hangGuard: .seconds(120))
            try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
            let runs = try BenchReport.runs(finished)
            #expect(runs.count == 2)
            for run in runs {
                BenchReport.expectWellFormed(run, messages: 2000)
                #expect(run["key_layout"] as? String == "by-primary")
                // An existing cluster's nodes serve other clients too: their CPU is not reported.
                #expect(BenchReport.isNull(run["server_cpu_seconds"]))
            }
            var pushes: [Int] = []
            for primary in cluster.primaries {
                let stats = try cluster.command(["INFO", "commandstats"], on: primary).string ?? ""
                let line = stats.split(whereSeparator: \.isNewline).first { $0.hasPrefix("cmdstat_rpush:calls=") }
                pushes.append(line.flatMap { Int($0.dropFirst("cmdstat_rpush:calls=".count).prefix { $0.isNumber }) } ?? 0)
                #expect(try cluster.command(["DBSIZE"], on: primary).integer == 0, "\(primary): keys left behind")
            }
            if connections == 1 {
                #expect(pushes.sorted() == [0, 0, 2 * 2200], "RPUSH calls by primary: \(pushes)")
            } else {
                #expect(pushes.allSatisfy { $0 > 0 } && pushes.reduce(0, +) == 2 * 2200, "RPUSH calls by primary: \(pushes)")
            }
        }
    }

    /// An existing cluster through one seed, the table form: the header names the cluster,
    /// the key spread and the primaries the connections spread over, every row its keys; nothing is left on any primary, and the
    /// spread reached every primary (each saw RPUSH).
    @Test func existingClusterThroughASeed() async throws {
        let cluster = try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0))
        defer { cluster.stop() }
        let seed = cluster.primaries[1]
        let finished = try await BenchProcess.run([
            "--cluster-seed", "\(seed.host):\(seed.port)", "--workload", "rpush", "--workload", "channel-recv",
            "--keys", "16", "--messages", "3000", "--quiet",
        ], hangGuard: .seconds(120))
        try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
        let lines = finished.stdout.split(separator: "\n")
        #expect(lines.first?.contains("existing cluster") == true && lines.first?.contains("over 16 keys") == true, "\(finished)")
        // `--connections` (4) is the total, spread over the three primaries it found.
        #expect(lines.first?.contains("conn spread over 3 primaries") == true, "\(finished)")
        #expect(lines.count == 4, "\(finished)")
        for primary in cluster.primaries {
            let keys = try cluster.command(["DBSIZE"], on: primary).integer
            #expect(keys == 0, "\(primary): \(keys.map(String.init) ?? "?") keys left behind")
            let stats = try cluster.command(["INFO", "commandstats"], on: primary).string ?? ""
            #expect(stats.contains("cmdstat_rpush:"), "\(primary) saw no RPUSH: the keys did not spread")
        }
    }
}
