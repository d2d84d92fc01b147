import Foundation
import Testing

/// The live view (`--live`): a line a second on stderr from the client's own metrics
/// while a workload runs, and nothing of it where `--quiet` and `--json` promise a
/// quiet stderr or a pure stdout. A test's stderr is a file, not a terminal: there the
/// view is off unless asked for, and each line ends with a newline instead of being
/// rewritten in place.
@Suite("redis-bench --live: the live view", .timeLimit(.minutes(3)))
struct RedisBenchLiveViewTests {
    /// One live line's figures.
    struct LiveLine {
        var title: String
        var opsPerSecond: Int
        var errors: Int
        var reconnects: Int

        /// `rpush async  round 1/1  1,023,456 ops/s so far  p50 0.41 ms  p99 1.9 ms (last 1 s)  errors 0  reconnects 0`
        init?(_ line: Substring) {
            guard let match = line.wholeMatch(of: /(.+)  ([0-9,]+) ops\/s so far  p50 \S+ ms  p99 \S+ ms \(last 1 s\)  errors (\d+)  reconnects (\d+)/),
                  let ops = Int(match.2.replacingOccurrences(of: ",", with: "")),
                  let errors = Int(match.3), let reconnects = Int(match.4)
            else { return nil }
            title = String(match.1)
            opsPerSecond = ops
            self.errors = errors
            self.reconnects = reconnects
        }
    }

    static func liveLines(_ stderr: String) -> [Substring] {
        stderr.split(separator: "\n").filter { $0.contains("ops/s so far") }
    }

    /// A run of 2.5 s shows two lines, each with the commands counted so far; the
    /// results table still follows on stdout.
    @Test func linesWhileTheWorkloadRuns() async throws {
        let finished = try await BenchProcess.run(["--live", "--workload", "rpush", "--duration", "2.5", "--rounds", "1"])
        try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
        let lines = Self.liveLines(finished.stderr)
        let parsed = lines.compactMap(LiveLine.init)
        #expect(!lines.isEmpty && parsed.count == lines.count, "live lines: \(lines)\n\(finished)")
        #expect(parsed.contains { $0.opsPerSecond > 0 }, "no live line counted a command: \(lines)")
        for line in parsed {
            #expect(line.title == "rpush async  round 1/1")
            #expect(line.errors == 0 && line.reconnects == 0, "\(line)")
        }
        // Not a terminal: no line is rewritten in place.
        #expect(!finished.stderr.contains("\u{1B}[K"))
        #expect(finished.stdout.contains("workload"), "\(finished)")
        #expect(finished.stdout.split(separator: "\n").contains { $0.hasPrefix("rpush ") }, "\(finished)")
    }

    /// `--json` keeps stdout one JSON array, with or without the view; `--quiet` and
    /// `--json` alone show no live line.
    @Test(arguments: [["--quiet"], ["--json"], ["--json", "--live"]])
    func quietAndJSONUnchanged(flags: [String]) async throws {
        let finished = try await BenchProcess.run(["--workload", "rpush", "--duration", "1.5"] + flags)
        try #require(finished.exitedNormally && finished.status == 0 && !finished.hung, "\(finished)")
        #expect(Self.liveLines(finished.stderr).isEmpty == !flags.contains("--live"), "\(finished)")
        #expect(!finished.stdout.contains("ops/s so far"))
        if flags.contains("--json") {
            let runs = try BenchReport.runs(finished)
            #expect(runs.count == 1)
        }
    }

    @Test func liveAndQuietContradict() async throws {
        let finished = try await BenchProcess.run(["--live", "--quiet", "--workload", "ping", "--messages", "10"])
        #expect(finished.exitedNormally && finished.status != 0, "\(finished)")
        #expect(finished.stderr.contains("--live and --quiet"), "\(finished)")
    }
}
