import Foundation
import LocalRedis
@testable import RedisUtil
import Testing
import TestSupport

/// A client told to open more connections than its process has file descriptors for.
/// Before the descriptor budget, it took every free descriptor and libdispatch aborted
/// the process (SIGILL) when it needed one: 9 runs in 10 with 1,000 connections under
/// `ulimit -n 256`. The limit is per process, so the client runs in a subprocess
/// (`descriptor-limit-probe`, built beside this test bundle) that lowers its own limit.
@Suite struct DescriptorLimitTests {
    /// What the probe printed: two rounds of PINGs, the first while the client opens its
    /// connections, the second on the connections it has.
    struct Report: Decodable {
        var firstOK: Int
        var firstLimit: Int
        var firstOther: Int
        var firstSample: String
        var secondOK: Int
        var secondLimit: Int
        var secondOther: Int
        var secondSample: String
        var descriptorsAfter: Int
        var limit: Int
    }

    @Test(arguments: [(connections: 1000, limit: 256), (connections: 500, limit: 128)])
    func moreConnectionsThanDescriptorsFailClearlyAndKeepServing(_ scenario: (connections: Int, limit: Int)) async throws {
        let commands = 5000
        try await withServer(.init(extraConfig: ["maxclients 4000"])) { server in
            let run = try await ProbeRun(arguments: ["\(server.port)", "\(scenario.connections)", "\(commands)", "\(scenario.limit)"])
            try #require(run.status == 0 && run.exitedNormally, "the probe crashed or failed: \(run)")
            let report = try JSONDecoder().decode(Report.self, from: Data(run.stdout.utf8))
            // Every command completes once: with its reply, or with the limit error.
            #expect(report.firstOK + report.firstLimit == commands, "\(run)")
            #expect(report.firstOther == 0, "unexpected error: \(report.firstSample)")
            #expect(report.firstOK > 0, "no command was served at all")
            #expect(report.firstLimit > 0, "the limit was never reached; the scenario tests nothing")
            // The client kept its reserve free, and serves on the connections it has.
            #expect(report.descriptorsAfter < scenario.limit - 8, "\(report.descriptorsAfter) descriptors open under a limit of \(scenario.limit)")
            #expect(report.secondOK == commands, "second round: \(report.secondLimit) at the limit, \(report.secondOther) other failures (\(report.secondSample))")
        }
    }

    /// The reserve is an eighth of the limit, within 16…256, and a descriptor is kept
    /// only below it: Linux hands out the lowest free number, so a socket numbered `n`
    /// means `n` descriptors are already taken.
    @Test func theBudgetKeepsAReserveBelowTheLimit() {
        let small = DescriptorBudget(limit: 64)
        #expect(small.reserved == 16)
        #expect(small.admits(47) && !small.admits(48))
        #expect(DescriptorBudget(limit: 256).reserved == 32)
        #expect(DescriptorBudget(limit: 1 << 20).reserved == 256)
        #expect(DescriptorBudget(limit: 1 << 20).admits(100_000))
        #expect(DescriptorBudget.isExhaustion(EMFILE) && DescriptorBudget.isExhaustion(ENFILE) && !DescriptorBudget.isExhaustion(ECONNREFUSED))
        #expect(DescriptorBudget.current().limit > 0)
    }

    @Test func theErrorNamesTheLimitAndIsSafeToRetry() {
        let error = RedisError.descriptorLimit(limit: 256, reserved: 32)
        #expect(error.isSafeToRetry)
        #expect(error.description.contains("limit of 256 open files"))
        #expect(error.description.contains("RLIMIT_NOFILE"))
    }
}

/// One finished run of the probe executable.
private struct ProbeRun: CustomStringConvertible {
    let status: Int32
    let exitedNormally: Bool
    let stdout: String
    let stderr: String

    struct NotFound: Error, CustomStringConvertible {
        let description: String
    }

    init(arguments: [String]) async throws {
        // /proc/self/exe names the real test executable, beside which SwiftPM puts the
        // probe (this test target depends on it).
        let testExecutable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let probe = URL(fileURLWithPath: testExecutable).deletingLastPathComponent().appendingPathComponent("DescriptorLimitProbe")
        guard FileManager.default.isExecutableFile(atPath: probe.path) else {
            throw NotFound(description: "no probe at \(probe.path); build it with `swift build --build-tests`")
        }
        // Output to files, not pipes, which nobody would drain while the probe runs.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("descriptor-probe-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("stdout"), err = directory.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        // Not Foundation's `Process`, whose `run()` can crash a test process holding many
        // descriptors (see TestProcess), as this suite's neighbours do.
        let process = try TestProcess(executable: probe.path, arguments: arguments, outputPath: out.path, errorPath: err.path)
        // Bounded: a hung probe is killed and reported, never waited on forever.
        let ended = await onOwnThread { () -> TestProcess.Termination? in
            if let ended = process.waitUntilExit(timeout: .seconds(120)) { return ended }
            process.send(SIGKILL)
            return process.waitUntilExit()
        }
        status = ended?.status ?? -1
        exitedNormally = ended?.exitedNormally ?? false
        stdout = (try? String(contentsOf: out, encoding: .utf8)) ?? ""
        stderr = (try? String(contentsOf: err, encoding: .utf8)) ?? ""
    }

    var description: String {
        "\(exitedNormally ? "exit status" : "signal") \(status)\n--- stdout:\n\(stdout.prefix(2000))\n--- stderr:\n\(stderr.prefix(2000))"
    }
}
