import Foundation
import Glibc
import Testing
@testable import LocalRedis

/// The LocalRedis promises that are about time: stopping a paused server does not wait out
/// its grace period, and a dead server is reported at once rather than polled until a
/// deadline. They run in the serial timing pass (`make test`), not beside the heavy suites.
@Suite("LocalRedis timing: no waiting out grace periods or deadlines", .timeLimit(.minutes(3)))
struct LocalRedisTimingTests {
    @Test func stopEndsAPausedServerToo() throws {
        let server = try LocalRedisServer(configuration: .init(stopGracePeriod: .seconds(5)))
        let pid = try #require(server.pid)
        try server.pause()
        let start = ContinuousClock.now
        server.stop()
        // SIGTERM stays pending on a stopped process unless it is continued; without the SIGCONT
        // this would wait out the whole grace period.
        #expect(ContinuousClock.now - start < .seconds(4))
        #expect(processIsGone(pid))
    }

    /// signalAndAwaitState only checks kill(2), which succeeds on a zombie, then polls
    /// /proc for state "T" and returns silently when its 2 s deadline passes.
    @Test func pauseAndResumeOfAServerThatExitedReportNotRunning() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        let pid = try #require(server.pid)
        _ = LoopbackProbe.exchange("SHUTDOWN NOSAVE\r\n", with: .tcp(host: server.host, port: server.port), timeout: .seconds(2))
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, ProcStat.sample(pid: pid)?.state != "Z" {
            blockingSleep(.milliseconds(5))
        }
        try #require(ProcStat.sample(pid: pid)?.state == "Z", "redis-server did not exit on SHUTDOWN")
        let start = ContinuousClock.now
        #expect(throws: LocalRedisError.notRunning) { try server.pause() }
        #expect(throws: LocalRedisError.notRunning) { try server.resume() }
        #expect(ContinuousClock.now - start < .seconds(1), "pause() polled a dead process until its deadline")
    }
}
