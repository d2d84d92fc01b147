import Foundation
import Glibc
import Testing
@testable import LocalRedis

/// Faults a review found (each test failed before its fix) and coverage the other LocalRedis suites lack.
/// Tests that change the environment or end the process run as exit tests, in a child process.
@Suite("LocalRedis edge cases: dead servers, relative TMPDIR, daemonize, exit cleanup", .timeLimit(.minutes(4)))
struct LocalRedisEdgeCaseTests {
    // MARK: Faults fixed after a review (each failed before its fix)

    /// TemporaryDirectory.create keeps a relative $TMPDIR relative; redis chdirs to `dir`
    /// while loading the config, then resolves `logfile` against the new directory and exits.
    @Test func relativeTMPDIRStillStartsAServer() async {
        await #expect(processExitsWith: .success) {
            let base = "local-redis-review-\(getpid())"
            guard chdir("/tmp") == 0, mkdir(base, 0o700) == 0 else { exit(2) }
            setenv("TMPDIR", base, 1)
            defer { rmdir(base) }
            do throws(LocalRedisError) {
                let server = try LocalRedisServer(configuration: .init(startTimeout: .seconds(5)))
                server.stop()
            } catch {
                rmdir(base)
                // 3: the failure this test documents (redis resolved logfile after chdir to `dir`).
                if case let .startFailed(_, logTail) = error, logTail.contains("Can't open the log file") { exit(3) }
                exit(1)
            }
        }
    }

    /// `daemonize yes` in extraConfig: redis forks, the parent exits 0 (startFailed), and the
    /// daemon keeps running on the port with its directory deleted; nothing ever stops it.
    @Test func daemonizeInExtraConfigLeavesNoProcessBehind() throws {
        let pidfile = "/tmp/local-redis-review-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).pid"
        var leaked: Int32?
        defer {
            if let leaked { kill(leaked, SIGKILL) }
            unlink(pidfile)
        }
        let outcome: String
        do {
            let server = try LocalRedisServer(configuration: .init(extraConfig: ["daemonize yes", "pidfile \(pidfile)"], startTimeout: .seconds(3)))
            outcome = "started"
            server.stop()
        } catch {
            outcome = "\(error)"
        }
        let deadline = ContinuousClock.now + .seconds(2)
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOfFile: pidfile, encoding: .utf8),
               let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), !processIsGone(pid) {
                leaked = pid
                break
            }
            blockingSleep(.milliseconds(20))
        }
        #expect(leaked == nil, "redis-server pid \(leaked ?? 0) outlived LocalRedisServer (init: \(outcome))")
    }

    /// The exit hook is atexit only: a test process ended by SIGTERM (a CI runner, `kill`)
    /// runs none. Its watchdog (``OrphanWatchdog``) kills the server and removes its
    /// temporary directory (a known issue until the watchdog listed directories too).
    @Test func sigtermToTheTestProcessStillStopsTheServer() async throws {
        let result = await #expect(processExitsWith: .signal(SIGTERM), observing: [\.standardOutputContent]) {
            guard let server = try? LocalRedisServer(), let pid = server.pid else { exit(2) }
            print("\(pid) \(server.directory)")
            fflush(nil)
            // Deliver SIGTERM as `kill <pid>` from outside would: default action, not blocked.
            signal(SIGTERM, SIG_DFL)
            var unblock = sigset_t()
            sigemptyset(&unblock)
            sigaddset(&unblock, SIGTERM)
            pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
            kill(getpid(), SIGTERM)
            blockingSleep(.seconds(5))
            withExtendedLifetime(server) {}
        }
        let words = String(decoding: result?.standardOutputContent ?? [], as: UTF8.self).split(separator: " ")
        let pid = try #require(words.first.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let directory = words.dropFirst().joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines)
        let deadline = ContinuousClock.now + .seconds(5)
        while ContinuousClock.now < deadline, !processIsGone(pid) || FileManager.default.fileExists(atPath: directory) {
            blockingSleep(.milliseconds(20))
        }
        let gone = processIsGone(pid)
        #expect(gone, "redis-server \(pid) outlived the SIGTERMed process")
        #expect(!FileManager.default.fileExists(atPath: directory), "\(directory) left behind")
        if !gone { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(atPath: directory)
    }

    // MARK: Behaviour no other suite covers

    /// The atexit hook itself: a server that is never stopped or deinitialized.
    @Test func normalExitKillsALeakedServerAndRemovesItsDirectory() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            guard let server = try? LocalRedisServer(), let pid = server.pid else { exit(2) }
            _ = Unmanaged.passRetained(server)
            try? server.pause() // SIGTERM would not end it; the hook must use SIGKILL
            print("\(pid) \(server.directory)")
            fflush(nil)
            exit(0)
        }
        let words = String(decoding: result?.standardOutputContent ?? [], as: UTF8.self).split(separator: " ")
        let pid = try #require(words.first.flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) })
        let directory = words.dropFirst().joined(separator: " ").trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(processIsGone(pid))
        #expect(!directory.isEmpty && !FileManager.default.fileExists(atPath: directory))
        if !processIsGone(pid) { kill(pid, SIGKILL) }
    }

    @Test func pauseAndResumeAreIdempotentAndRestartEndsAPausedServer() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        let port = server.port
        try server.pause()
        try server.pause()
        #expect(!server.ping(timeout: .milliseconds(200)))
        try server.resume()
        try server.resume()
        #expect(server.ping(timeout: .seconds(2)))
        try server.pause()
        let pausedPid = try #require(server.pid)
        try server.restart()
        #expect(processIsGone(pausedPid))
        #expect(server.port == port && server.ping(timeout: .seconds(2)))
    }

    /// PATH without redis-server, a missing $TMPDIR and an over-long one.
    @Test func environmentQuirksGiveTypedErrorsOrFallBack() async {
        await #expect(processExitsWith: .success) {
            setenv("PATH", "/nonexistent:/also-not-here", 1)
            do throws(LocalRedisError) {
                _ = try LocalRedisServer()
                exit(10)
            } catch {
                guard case .executableNotFound("redis-server", "/nonexistent:/also-not-here") = error else { exit(11) }
            }
            unsetenv("PATH")
            do throws(LocalRedisError) {
                _ = try LocalRedisServer()
                exit(12)
            } catch {
                guard case .executableNotFound = error else { exit(13) }
            }
            setenv("PATH", "/usr/local/bin:/usr/bin:/bin", 1)
            setenv("TMPDIR", "/nonexistent-tmpdir-for-review", 1)
            do throws(LocalRedisError) {
                _ = try LocalRedisServer()
                exit(14)
            } catch {
                guard case .temporaryDirectoryFailed("/nonexistent-tmpdir-for-review", ENOENT) = error else { exit(15) }
            }
            // Too long for sun_path: falls back to /tmp.
            setenv("TMPDIR", "/nonexistent/" + String(repeating: "x", count: 100), 1)
            guard let server = try? LocalRedisServer(configuration: .init(unixSocket: true)) else { exit(16) }
            guard server.directory.hasPrefix("/tmp/local-redis."), server.ping() else { exit(17) }
            server.stop()
        }
    }
}
