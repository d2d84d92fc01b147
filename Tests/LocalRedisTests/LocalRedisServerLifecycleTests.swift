import Foundation
import Glibc
import Synchronization
import Testing
@testable import LocalRedis

/// Each test starts its own server: tests run in parallel and must never share a port.
@Suite("LocalRedisServer lifecycle")
struct LocalRedisServerLifecycleTests {
    @Test func startsAndAnswersPingOverRawSocket() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        #expect(server.host == "127.0.0.1")
        #expect(server.port > 0)
        #expect(server.url == "redis://127.0.0.1:\(server.port)")
        #expect(server.pid != nil)
        #expect(server.redisVersion.split(separator: ".").count >= 2)
        let reply = LoopbackProbe.exchange("PING\r\n", with: .tcp(host: server.host, port: server.port), timeout: .seconds(2))
        #expect(reply == .replied(["+PONG"]))
        #expect(server.ping())
    }

    @Test func persistenceIsOffAndFilesLiveInPrivateDirectory() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        let request = "CONFIG GET save\r\nCONFIG GET appendonly\r\nCONFIG GET dir\r\n"
        let reply = LoopbackProbe.exchange(request, with: .tcp(host: server.host, port: server.port), replyLines: 15, timeout: .seconds(2))
        let lines = try #require(reply.lines)
        #expect(Array(lines[0..<5]) == ["*2", "$4", "save", "$0", ""])
        #expect(lines[7] == "appendonly" && lines[9] == "no")
        #expect(lines[14] == server.directory)
        #expect(FileManager.default.fileExists(atPath: "\(server.directory)/redis.log"))
    }

    /// Two parallel tests can pick the same "unused" port. The second launch must see
    /// that its own child failed, not take the first server's PONG as its own.
    /// Both ways of learning that a server is up: told (`READY=1`) and asking (PING).
    @Test(arguments: [true, false])
    func aLaunchOnAPortAnotherServerHoldsIsPortInUse(notifies: Bool) throws {
        let holder = try LocalRedisServer()
        defer { holder.stop() }
        let directory = try TemporaryDirectory.create()
        defer { TemporaryDirectory.remove(directory) }
        let launch = RedisLaunch(executable: holder.executablePath, directory: directory, host: holder.host, unixSocketPath: nil, configuration: .init(), notifies: notifies)
        switch try launch.start(port: holder.port) {
        case .portInUse: break
        case .ready(let child):
            child.terminate(gracePeriod: .zero)
            Issue.record("the launch took the other server's answer for its own")
        }
    }

    /// A build that can say when it is ready is asked to: its log shows it was started
    /// under systemd's readiness protocol, and the server answers.
    @Test func aServerThatCanNotifyIsStartedWithNotification() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        try #require(ReadinessNotification.isSupported(byExecutableAt: server.executablePath))
        let log = String(decoding: FileIO.read("\(server.directory)/redis.log") ?? [], as: UTF8.self)
        #expect(log.contains("systemd"))
        #expect(server.ping())
    }

    @Test func restartKeepsThePortAndReplacesTheProcess() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        let port = server.port
        let firstPid = try #require(server.pid)
        try server.restart()
        let secondPid = try #require(server.pid)
        #expect(server.port == port)
        #expect(secondPid != firstPid)
        #expect(processIsGone(firstPid))
        #expect(server.ping())
    }

    @Test func restartKeepsThePortClosedForTheDowntimeAndWhileAsked() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        let endpoint = ProbeEndpoint.tcp(host: server.host, port: server.port)
        let failure = Synchronization.Mutex<LocalRedisError?>(nil)
        // Held down until this test lets go (or gives up), so that a loaded machine cannot
        // bring the new process up before the probes run.
        let release = Synchronization.Atomic<Bool>(false)
        let deadline = ContinuousClock.now + .seconds(30)
        let restarted = runOnNewThread {
            do throws(LocalRedisError) {
                try server.restart(downtime: .milliseconds(300)) {
                    !release.load(ordering: .acquiring) && ContinuousClock.now < deadline
                }
            } catch {
                failure.withLock { $0 = error }
            }
        }
        func refused() -> Bool {
            LoopbackProbe.exchange("PING\r\n", with: endpoint, timeout: .milliseconds(100)) == .refused
        }
        var sawRefused = false
        while !sawRefused && ContinuousClock.now < deadline { sawRefused = refused() }
        // Past the downtime, the port stays closed while the caller asks.
        Thread.sleep(forTimeInterval: 0.5)
        let heldDown = refused()
        release.store(true, ordering: .releasing)
        restarted.wait()
        #expect(failure.withLock { $0 } == nil)
        #expect(sawRefused)
        #expect(heldDown, "the port reopened while the caller held it down")
        #expect(server.ping())
    }

    @Test func pauseStallsPingAndResumeAnswersIt() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        try server.pause()
        let start = ContinuousClock.now
        #expect(!server.ping(timeout: .milliseconds(300)))
        #expect(ContinuousClock.now - start >= .milliseconds(250))
        #expect(LoopbackProbe.exchange("PING\r\n", with: .tcp(host: server.host, port: server.port), timeout: .milliseconds(300)) == .timedOut)
        try server.resume()
        #expect(server.ping(timeout: .seconds(2)))
    }

    @Test func stopLeavesNoProcessAndNoDirectory() throws {
        let server = try LocalRedisServer()
        let pid = try #require(server.pid)
        let directory = server.directory
        #expect(FileManager.default.fileExists(atPath: directory))
        server.stop()
        #expect(processIsGone(pid))
        #expect(server.pid == nil)
        #expect(!FileManager.default.fileExists(atPath: directory))
        #expect(!server.ping(timeout: .milliseconds(200)))
    }

    @Test func stopIsIdempotentAndLaterCallsReportNotRunning() throws {
        let server = try LocalRedisServer()
        server.stop()
        server.stop()
        #expect(throws: LocalRedisError.notRunning) { try server.restart() }
        #expect(throws: LocalRedisError.notRunning) { try server.pause() }
        #expect(throws: LocalRedisError.notRunning) { try server.resume() }
        #expect(server.cpuSeconds() == nil)
    }

    @Test func deinitStopsTheServer() throws {
        var pid: Int32 = 0
        var directory = ""
        do {
            let server = try LocalRedisServer()
            pid = try #require(server.pid)
            directory = server.directory
        }
        #expect(processIsGone(pid))
        #expect(!FileManager.default.fileExists(atPath: directory))
    }

    @Test func cpuSecondsIsNonNegativeAndGrowsWithWork() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        let before = try #require(server.cpuSeconds())
        #expect(before >= 0)
        // DEBUG is off by default in redis 7, so burn CPU with a command every version has.
        let request = String(repeating: "PING\r\n", count: 20_000)
        _ = LoopbackProbe.exchange(request, with: .tcp(host: server.host, port: server.port), replyLines: 20_000, timeout: .seconds(10))
        let after = try #require(server.cpuSeconds())
        #expect(after >= before)
    }
}

/// True when no process with `pid` exists any more: not running and not a zombie.
func processIsGone(_ pid: Int32) -> Bool {
    kill(pid, 0) == -1 && errno == ESRCH
}

extension ProbeOutcome {
    var lines: [String]? {
        if case let .replied(lines) = self { return lines }
        return nil
    }
}

/// Runs `body` on a new thread and returns a handle to wait for it: blocking server calls in
/// tests must not occupy the cooperative pool that other parallel tests run on.
func runOnNewThread(_ body: @escaping @Sendable () -> Void) -> CompletionHandle {
    let handle = CompletionHandle()
    Thread.detachNewThread {
        body()
        handle.signal()
    }
    return handle
}

/// Signalled once when a `runOnNewThread` body has returned.
final class CompletionHandle: Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    func signal() { semaphore.signal() }
    func wait() { semaphore.wait() }
}
