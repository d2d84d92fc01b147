import Foundation
import LocalRedis
import Testing

/// Guards redis-bench's `--json` contract with the scripts that read it: one object per
/// workload × facade in the order asked, exactly the documented keys, figures that hold
/// for any successful run, nulls for what was not measured, and an external server left
/// with no keys behind. Runs the built binary, as a script would.
@Suite("redis-bench --json: the output scripts read", .timeLimit(.minutes(4)))
struct RedisBenchJSONTests {
    static let workloads = ["rpush", "lpop", "ping", "channel-send", "channel-recv", "channel-pingpong", "channel-pipe"]

    /// `--api all`: callbacks, tasks preferring the client's reactors, and plain tasks on
    /// the global executor (whose channel workloads run their responders and consumers as
    /// plain tasks too).
    @Test func everyWorkloadOnEveryFacadeAgainstAnExternalServer() async throws {
        try await withBenchServer { server in
            let arguments = ["--port", "\(server.port)"] + Self.workloads.flatMap { ["--workload", $0] }
                + ["--api", "all", "--messages", "300", "--connections", "1", "--pipeline", "4", "--json", "--quiet"]
            let finished = try await BenchProcess.run(arguments)
            try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
            let runs = try BenchReport.runs(finished)

            let expected = Self.workloads.flatMap { workload in ["callback", "async", "async-global"].map { "\(workload) \($0)" } }
            #expect(runs.map { "\($0["workload"] ?? "?") \($0["api"] ?? "?")" } == expected)
            for run in runs {
                // `messages` counts operations done (messages received, for channel-pipe):
                // every one of the 300 asked for, since none failed.
                BenchReport.expectWellFormed(run, messages: 300)
                #expect(BenchReport.number(run["connections"]) == 1)
                #expect(BenchReport.number(run["pipeline"]) == 4)
                #expect(BenchReport.number(run["size"]) == 64)
                // An external server's CPU time counts every other client too: not reported.
                #expect(BenchReport.isNull(run["server_cpu_seconds"]), "\(run["workload"] ?? "?"): \(run["server_cpu_seconds"] ?? "missing")")
                for key in BenchReport.comparisonKeys {
                    #expect(BenchReport.isNull(run[key]), "\(key): \(run[key] ?? "missing")")
                }
            }
            // The message's type is named for the two workloads that take one, and only there.
            for run in runs {
                let takesOne = ["channel-send", "channel-recv"].contains(run["workload"] as? String ?? "")
                #expect(takesOne ? run["message"] as? String == "members" : BenchReport.isNull(run["message"]), "\(run["workload"] ?? "?"): message \(run["message"] ?? "missing")")
            }
            // A PING moves no payload.
            for run in runs where run["workload"] as? String == "ping" {
                #expect(BenchReport.number(run["mb_per_sec"]) == 0)
            }

            // The benchmark promises to leave nothing behind on a server that is not its own.
            let leftover = try await leftoverKeys(server)
            #expect(leftover.count == 0, "keys left behind: \(leftover.names)")
        }
    }

    /// `--message`: the channel's send and receive as plain `Codable` and as `JSONValue`,
    /// on every facade; every message sent and received (a receive that found its list
    /// empty or could not decode the message would count as an error).
    @Test(arguments: ["codable", "json"])
    func channelMessagesOfEachType(_ message: String) async throws {
        try await withBenchServer { server in
            let arguments = ["--port", "\(server.port)", "--workload", "channel-send", "--workload", "channel-recv", "--message", message,
                             "--api", "all", "--messages", "300", "--connections", "1", "--pipeline", "4", "--json", "--quiet"]
            let finished = try await BenchProcess.run(arguments)
            try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
            let runs = try BenchReport.runs(finished)
            let expected = ["channel-send", "channel-recv"].flatMap { workload in ["callback", "async", "async-global"].map { "\(workload) \($0) \(message)" } }
            #expect(runs.map { "\($0["workload"] ?? "?") \($0["api"] ?? "?") \($0["message"] ?? "?")" } == expected)
            for run in runs { BenchReport.expectWellFormed(run, messages: 300) }
            let leftover = try await leftoverKeys(server)
            #expect(leftover.count == 0, "keys left behind: \(leftover.names)")
        }
    }

    /// Without --port or --endpoint redis-bench starts its own redis-server, and only
    /// there is the server's CPU time its own to report. Without --api it runs the async
    /// facade alone (`make bench` asks for all three).
    @Test func privateServerByDefault() async throws {
        let finished = try await BenchProcess.run(["--workload", "ping", "--messages", "500", "--json", "--quiet"])
        try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
        let runs = try BenchReport.runs(finished)
        #expect(runs.map { "\($0["workload"] ?? "?") \($0["api"] ?? "?")" } == ["ping async"])
        for run in runs {
            BenchReport.expectWellFormed(run, messages: 500)
            let serverCPU = BenchReport.number(run["server_cpu_seconds"])
            #expect(serverCPU.map { $0 >= 0 } == true, "server_cpu_seconds: \(run["server_cpu_seconds"] ?? "missing")")
            for key in BenchReport.comparisonKeys {
                #expect(BenchReport.isNull(run[key]), "\(key): \(run[key] ?? "missing")")
            }
        }
    }
}
