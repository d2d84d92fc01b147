import Foundation
@testable import LocalRedis
import RESP
import RedisUtil
import Synchronization
import TestSupport
import Testing

/// Guards how redis-bench fails: bad arguments are refused before anything runs, with
/// ArgumentParser's usage status and the problem named on stderr; a server that is
/// unreachable, missing (no redis-server to start) or dies mid-run ends the run with
/// status 1 and a message, never a hang and never output on stdout, where a script
/// expects figures.
@Suite("redis-bench failures: bad arguments, no server, no redis-server, a lost server", .timeLimit(.minutes(4)))
struct RedisBenchErrorTests {
    /// ArgumentParser's exit status for a validation error (EX_USAGE).
    static let usageStatus: Int32 = 64

    struct BadArguments: Sendable, CustomTestStringConvertible {
        let arguments: [String]
        /// What the `Error:` line must mention, naming the problem.
        let named: String
        var testDescription: String { arguments.joined(separator: " ") }
    }

    @Test(arguments: [
        BadArguments(arguments: ["--connections", "0"], named: "--connections"),
        BadArguments(arguments: ["--workload", "nosuch"], named: "nosuch"),
        BadArguments(arguments: ["--port", "1", "--endpoint", "redis://127.0.0.1:1"], named: "--endpoint or --port"),
        BadArguments(arguments: ["--size", "4", "--workload", "channel-send"], named: "--size"),
        BadArguments(arguments: ["--keys", "0"], named: "--keys"),
        BadArguments(arguments: ["--cluster", "--port", "1"], named: "--cluster"),
        BadArguments(arguments: ["--cluster-seed", "127.0.0.1"], named: "HOST:PORT"),
        BadArguments(arguments: ["--key-layout", "by-primary", "--workload", "rpush"], named: "by-primary needs a cluster"),
        BadArguments(arguments: ["--cluster", "--key-layout", "by-primary", "--workload", "lpop"], named: "rpush only"),
        BadArguments(arguments: ["--cluster", "--key-layout", "by-primary"], named: "rpush only"),
        BadArguments(arguments: ["--message", "json", "--workload", "rpush"], named: "--message"),
        BadArguments(arguments: ["--message", "text"], named: "text"),
    ])
    func badArgumentsAreRefused(_ bad: BadArguments) async throws {
        let finished = try await BenchProcess.run(bad.arguments)
        #expect(finished.exitedNormally && finished.status == Self.usageStatus && !finished.hung, "\(finished)")
        #expect(finished.stdout.isEmpty, "\(finished)")
        // The usage text that follows names every option, so only the error line counts.
        let errorLine = finished.stderr.split(separator: "\n").first { $0.hasPrefix("Error:") }
        #expect(errorLine?.contains(bad.named) == true, "expected an 'Error:' line naming \(bad.named)\n\(finished)")
    }

    @Test func unreachableServer() async throws {
        let reserved = try ReservedPort()
        // A hang guard ten times redis-bench's 3 s wait for the server: it must give up,
        // not retry for as long as it is left running.
        let finished = try await BenchProcess.run(["--port", "\(reserved.port)", "--workload", "ping", "--messages", "10", "--quiet"],
                                                  hangGuard: .seconds(30))
        // Held until the run is over: released earlier, the port could be taken.
        withExtendedLifetime(reserved) {}
        #expect(finished.exitedNormally && finished.status == 1 && !finished.hung, "\(finished)")
        #expect(finished.stdout.isEmpty, "\(finished)")
        #expect(finished.stderr.hasPrefix("redis-bench: ") && finished.stderr.contains("127.0.0.1:\(reserved.port)"),
                "expected a message naming the server\n\(finished)")
        // The cause, not "PING got no reply" (a queued PING's timeout used to hide it).
        #expect(finished.stderr.contains("Connection refused"), "expected the cause\n\(finished)")
    }

    /// No redis-server to start a private one with: a message saying what is missing and
    /// how to install it, status 1, and nothing on stdout.
    @Test func redisServerMissing() async throws {
        let finished = try await BenchProcess.run(["--workload", "ping", "--messages", "10", "--quiet"],
                                                  environment: ["PATH": "/nonexistent"])
        #expect(finished.exitedNormally && finished.status == 1 && !finished.hung, "\(finished)")
        #expect(finished.stdout.isEmpty, "\(finished)")
        #expect(finished.stderr.hasPrefix("redis-bench: cannot start a private redis-server")
                && finished.stderr.contains("not found") && finished.stderr.contains("apt-get install redis-server"),
                "\(finished)")
    }

    /// The server killed while a long run is under way (it would take minutes): the run
    /// must end at once with an error naming the loss, not wait out reconnects or keep
    /// counting failures.
    @Test func lostServerEndsTheRun() async throws {
        let server = try await onOwnThread { () throws(LocalRedisError) in try LocalRedisServer() }
        defer { Thread.detachNewThread { server.stop() } }
        let bench = try BenchProcess.start([
            "--port", "\(server.port)", "--workload", "rpush", "--api", "callback", "--messages", "50000000", "--quiet",
        ])
        defer { bench.kill() }
        let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 1))

        // Watched from a thread of its own, so that a starved cooperative pool in a parallel
        // test run cannot leave the run going unwatched until it ends by itself.
        let (underWay, finished) = await onOwnThread { () -> (Bool, BenchProcess.Finished) in
            // Under way means past the 10,000-push warm-up, into the measured run: the list
            // holds more than the warm-up pushed. Polled rather than slept on, so that a slow
            // start still has the server killed mid-run.
            let deadline = ContinuousClock.now + .seconds(60)
            var underWay = false
            while !underWay && bench.isRunning && ContinuousClock.now < deadline {
                underWay = (listLength(client, "bench:list") ?? 0) > 10_000
                if !underWay { Thread.sleep(forTimeInterval: 0.01) }
            }
            guard underWay && bench.isRunning else { return (false, bench.waitBlocking(hangGuard: .seconds(5))) }
            server.stop()
            return (true, bench.waitBlocking(hangGuard: .seconds(60)))
        }
        await client.close()

        #expect(underWay, "the run never got under way")
        #expect(finished.exitedNormally && finished.status == 1 && !finished.hung, "\(finished)")
        #expect(finished.stderr.contains("lost the server"), "\(finished)")
        #expect(finished.stdout.isEmpty, "\(finished)")
    }

    /// Killed outright (no exit hook runs, as in a crash), the benchmark leaves no private
    /// server behind: LocalRedis' watchdog kills it.
    @Test func killedBenchmarkLeavesNoServer() async throws {
        let bench = try BenchProcess.start(["--workload", "rpush", "--api", "callback", "--messages", "50000000", "--quiet"])
        defer { bench.kill() }
        let server = await onOwnThread { () -> ProcessIdentity? in
            let deadline = ContinuousClock.now + .seconds(60)
            while bench.isRunning && ContinuousClock.now < deadline {
                if let server = ProcessIdentity.child(of: bench.pid, named: "redis-server") { return server }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return nil
        }
        let started = try #require(server, "the benchmark started no redis-server\n\(bench.stderrSoFar)")
        // The server's private directory, which the watchdog removes too: its working
        // directory once it has read its config (it changes into `dir`; its command line
        // is rewritten to its title, so the config's path is not there to read).
        let found = await onOwnThread { () -> String? in
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                if let cwd = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(started.pid)/cwd"), cwd.contains("/local-redis.") {
                    return cwd
                }
                Thread.sleep(forTimeInterval: 0.02)
            }
            return nil
        }
        let directory = try #require(found, "the server never changed into its private directory")

        bench.send(SIGKILL)
        let gone = await onOwnThread { () -> Bool in
            let deadline = ContinuousClock.now + .seconds(15)
            while started.isRunning && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
            return !started.isRunning
        }
        if !gone { Glibc.kill(started.pid, SIGKILL) }
        #expect(gone, "redis-server \(started.pid) outlived the benchmark that started it")
        let removed = await onOwnThread { () -> Bool in
            let deadline = ContinuousClock.now + .seconds(15)
            while FileManager.default.fileExists(atPath: directory) && ContinuousClock.now < deadline { Thread.sleep(forTimeInterval: 0.02) }
            return !FileManager.default.fileExists(atPath: directory)
        }
        #expect(removed, "the server's directory \(directory) outlived the benchmark that made it")
    }
}

/// One process, by pid and start time (a pid alone may be reused), read from `/proc`
/// through LocalRedis' own reader.
private struct ProcessIdentity: Sendable {
    let pid: pid_t
    let startTicks: UInt64

    /// A child of `parent` running `name`, not with `--version` (LocalRedis asks the
    /// executable its version before it starts the server: that child exits by itself at
    /// once, and finding it would prove nothing).
    static func child(of parent: pid_t, named name: String) -> ProcessIdentity? {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = pid_t(entry), let sample = ProcStat.sample(pid: pid), sample.parent == parent,
                  let command = try? String(contentsOfFile: "/proc/\(pid)/comm", encoding: .utf8), command.dropLast() == name,
                  let arguments = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8),
                  !arguments.isEmpty, !arguments.contains("--version") else { continue }
            return ProcessIdentity(pid: pid, startTicks: sample.startTicks)
        }
        return nil
    }

    /// Whether the process still runs (a zombie does not: it is dead, waiting to be reaped).
    var isRunning: Bool {
        guard let sample = ProcStat.sample(pid: pid), sample.startTicks == startTicks else { return false }
        return sample.state != "Z"
    }
}

/// `LLEN key`, waiting for the reply on the calling thread (the callback facade answers
/// on a reactor thread); nil on an error or no reply within 5 s.
private func listLength(_ client: RedisClient, _ key: String) -> Int? {
    final class Reply: Sendable {
        let value = Synchronization.Mutex<Int?>(nil)
        let arrived = DispatchSemaphore(value: 0)
    }
    let reply = Reply()
    client.send("LLEN", key) { result in
        reply.value.withLock { $0 = (try? result.get())?.int }
        reply.arrived.signal()
    }
    guard reply.arrived.wait(timeout: .now() + 5) == .success else { return nil }
    return reply.value.withLock { $0 }
}
