import Foundation
import Glibc
import Testing
@testable import LocalRedis

/// The watchdog that kills what a test process leaves running when it dies without its
/// exit hook (a crash, SIGKILL): closing its socket is what the kernel does at such a death.
@Suite("OrphanWatchdog: servers left by a dead process are killed, nothing else is")
struct OrphanWatchdogTests {
    /// A process that runs until it is killed, and its start time.
    private func sleeper() throws -> (child: ChildProcess, startTicks: UInt64) {
        let child = try ChildProcess.spawn(executable: "/bin/sleep", arguments: ["120"], outputPath: "/dev/null")
        return (child, try #require(ProcStat.sample(pid: child.pid)?.startTicks))
    }

    /// The signal that ended a process, from its wait status (WTERMSIG).
    private func signal(_ status: Int32) -> Int32 { status & 0x7f }

    @Test func listedProcessesAreKilledWhenTheSocketCloses() throws {
        let watchdog = try OrphanWatchdog()
        let first = try sleeper()
        let second = try sleeper()
        defer { for child in [first.child, second.child] { child.terminate(gracePeriod: .zero) } }
        watchdog.watch(first.child.pid, startTicks: first.startTicks)
        watchdog.watch(second.child.pid, startTicks: second.startTicks)

        watchdog.close()
        for child in [first.child, second.child] {
            let status = child.waitForExit(timeout: .seconds(10))
            #expect(status.map(signal) == SIGKILL, "pid \(child.pid) outlived the watchdog (status \(String(describing: status)))")
        }
        #expect(watchdog.child.waitForExit(timeout: .seconds(10)) == 0)
    }

    @Test func forgottenProcessesAndReusedPidsAreLeftAlone() throws {
        let watchdog = try OrphanWatchdog()
        let forgotten = try sleeper()
        let reused = try sleeper()
        let listed = try sleeper()
        defer { for child in [forgotten.child, reused.child, listed.child] { child.terminate(gracePeriod: .zero) } }
        watchdog.watch(forgotten.child.pid, startTicks: forgotten.startTicks)
        // A listed pid whose process started at another time: a pid reused after its
        // process was reaped looks like this.
        watchdog.watch(reused.child.pid, startTicks: reused.startTicks + 1)
        watchdog.watch(listed.child.pid, startTicks: listed.startTicks)
        watchdog.forget(forgotten.child.pid)

        watchdog.close()
        // It exits once it has signalled what it kills.
        #expect(watchdog.child.waitForExit(timeout: .seconds(10)) == 0)
        #expect(listed.child.waitForExit(timeout: .seconds(10)).map(signal) == SIGKILL, "the control was not killed")
        #expect(forgotten.child.reapIfExited() == nil, "a forgotten pid was killed")
        #expect(reused.child.reapIfExited() == nil, "a pid listed with another start time was killed")
    }

    /// A fresh `/tmp/local-redis.XXXXXX` holding one file, as a server's directory does.
    private func serverDirectory() throws -> String {
        var template = Array("/tmp/local-redis.XXXXXX".utf8CString)
        let made = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        let path = String(cString: try #require(made))
        #expect(FileManager.default.createFile(atPath: path + "/redis.log", contents: Data("log".utf8)))
        return path
    }

    @Test func listedDirectoriesAreRemovedAndForgottenOnesKept() throws {
        let watchdog = try OrphanWatchdog()
        let listed = try serverDirectory()
        let forgotten = try serverDirectory()
        defer { for path in [listed, forgotten] { try? FileManager.default.removeItem(atPath: path) } }
        #expect(watchdog.watch(directory: listed))
        #expect(watchdog.watch(directory: forgotten))
        watchdog.forget(directory: forgotten)

        watchdog.close()
        #expect(watchdog.child.waitForExit(timeout: .seconds(10)) == 0)
        #expect(!FileManager.default.fileExists(atPath: listed), "a listed directory outlived the watchdog")
        #expect(FileManager.default.fileExists(atPath: forgotten + "/redis.log"), "a forgotten directory was removed")
    }

    @Test func onlyServerDirectoryNamesOfPlainCharactersAreListable() {
        #expect(OrphanWatchdog.isListable(directory: "/tmp/local-redis.Ab3_x-"))
        #expect(OrphanWatchdog.isListable(directory: "/var/tmp/ci-1/local-redis.q9Z0aa"))
        for refused in ["tmp/local-redis.Ab3_x-", "/tmp/../etc/local-redis.Ab3_x-", "/tmp/my dir/local-redis.Ab3_x-",
                        "/tmp/x\n/local-redis.Ab3_x-", "/tmp/*/local-redis.Ab3_x-", "/tmp/local-redis.Ab3_x", "/tmp/other.Ab3_x-",
                        "/local-redis.Ab3_x-", "/tmp/local-redis.Ab3_x-/", "/", ""] {
            #expect(!OrphanWatchdog.isListable(directory: refused), "\(refused.debugDescription)")
        }
    }

    /// A Ctrl-C on the terminal reaches the whole process group, the watchdog included:
    /// it must stay to clean up after the test process.
    @Test func interruptsDoNotEndIt() throws {
        let watchdog = try OrphanWatchdog()
        let listed = try sleeper()
        defer { listed.child.terminate(gracePeriod: .zero) }
        watchdog.watch(listed.child.pid, startTicks: listed.startTicks)
        // Once the shell has installed its traps (its ignored-signal mask says so).
        let interrupts = [SIGINT, SIGHUP, SIGTERM]
        let mask = interrupts.reduce(UInt64(0)) { $0 | 1 << UInt64($1 - 1) }
        let deadline = ContinuousClock.now + .seconds(10)
        while ignoredSignals(watchdog.child.pid) & mask != mask && ContinuousClock.now < deadline { blockingSleep(.milliseconds(5)) }
        #expect(ignoredSignals(watchdog.child.pid) & mask == mask, "the watchdog never ignored the interrupts")
        for interrupt in interrupts { watchdog.child.send(interrupt) }
        blockingSleep(.milliseconds(200))
        #expect(watchdog.child.reapIfExited() == nil, "the watchdog died of a signal it should ignore")

        watchdog.close()
        #expect(listed.child.waitForExit(timeout: .seconds(10)).map(signal) == SIGKILL)
        #expect(watchdog.child.waitForExit(timeout: .seconds(10)) == 0)
    }
}

/// The `SigIgn` mask of `/proc/PID/status` (bit n - 1 for signal n); 0 when unreadable.
private func ignoredSignals(_ pid: pid_t) -> UInt64 {
    guard let bytes = FileIO.read("/proc/\(pid)/status") else { return 0 }
    let line = String(decoding: bytes, as: UTF8.self).split(separator: "\n").first { $0.hasPrefix("SigIgn:") }
    return line.flatMap { UInt64($0.dropFirst("SigIgn:".count).trimmingPrefix { $0 == " " || $0 == "\t" }, radix: 16) } ?? 0
}
