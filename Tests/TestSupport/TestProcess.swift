import Glibc
import Synchronization
@testable import LocalRedis

/// A child process for tests, started with `posix_spawn` through LocalRedis' own spawner,
/// not Foundation's `Process`.
///
/// Why: swift-corelibs-foundation's `Process.run()` (this toolchain's) scans `/proc/self/fd`
/// and copies each entry's whole 256-byte `d_name`, reading past glibc's `readdir` buffer
/// when a short entry ends it next to an unmapped page (fixed upstream,
/// swiftlang/swift-corelibs-foundation#5472). The more descriptors the test process holds,
/// the likelier: it crashed `make test` with SIGSEGV in a `memcpy` under `Process.run()`
/// while the client suite's thousand-connection tests ran beside the Python peer's launches.
/// Serialising launches does not help (the scan races with nothing; it is simply unlucky).
///
/// The child gets an empty signal mask, default dispositions and no descriptor above 2; its
/// output goes to files (nothing to drain while it runs). It is reaped by whoever asks first
/// (``isRunning``, ``waitUntilExit(timeout:)``), once; the status is kept.
public final class TestProcess: Sendable {
    /// How the process ended.
    public struct Termination: Sendable, Equatable {
        /// The exit status, or the signal's number when ``exitedNormally`` is false.
        public let status: Int32
        /// Whether it exited (rather than being killed by a signal).
        public let exitedNormally: Bool

        /// The status as a shell reports it: the exit status, or 128 plus the signal.
        public var shellStatus: Int32 { exitedNormally ? status : 128 + status }

        init(waitStatus: Int32) {
            let signal = waitStatus & 0x7f
            exitedNormally = signal == 0
            status = exitedNormally ? (waitStatus >> 8) & 0xff : signal
        }
    }

    public let pid: pid_t
    private let child: ChildProcess
    private let ended = Synchronization.Mutex<Termination?>(nil)

    /// Starts `executable arguments` with stdin from `standardInput` (a descriptor this
    /// call leaves open; /dev/null when nil), stdout appended to `outputPath` and stderr
    /// written to `errorPath` (nil: with stdout). `environment` entries (`NAME=value`) replace this process's
    /// variables of the same names. `newProcessGroup`: it leads a group of its own, which
    /// ``sendToGroup(_:)`` signals.
    public init(executable: String, arguments: [String], environment: [String] = [], standardInput: Int32? = nil,
                outputPath: String = "/dev/null", errorPath: String? = "/dev/null", newProcessGroup: Bool = false) throws {
        child = try ChildProcess.spawn(executable: executable, arguments: arguments, environment: environment, outputPath: outputPath,
                                       errorPath: errorPath, standardInput: standardInput, registered: false,
                                       newProcessGroup: newProcessGroup)
        pid = child.pid
    }

    deinit {
        if isRunning {
            child.send(SIGKILL)
            _ = waitUntilExit()
        }
    }

    /// Whether it still runs (reaping it if it has ended).
    public var isRunning: Bool {
        ended.withLock { ended in
            if ended != nil { return false }
            guard let status = child.reapIfExited() else { return true }
            ended = Termination(waitStatus: status)
            return false
        }
    }

    /// Sends `signal` to the process alone.
    public func send(_ signal: Int32) {
        if isRunning { child.send(signal) }
    }

    /// Sends `signal` to the process's group (``init``'s `newProcessGroup`), and to it.
    public func sendToGroup(_ signal: Int32) {
        guard isRunning else { return }
        kill(-pid, signal)
        child.send(signal)
    }

    /// Blocks until the process ends, or `timeout` passes (nil then).
    public func waitUntilExit(timeout: Duration = .seconds(86_400)) -> Termination? {
        if let ended = ended.withLock({ $0 }) { return ended }
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let left = deadline - ContinuousClock.now
            if let status = child.waitForExit(timeout: min(left, .seconds(10))) {
                return ended.withLock { ended in
                    if ended == nil { ended = Termination(waitStatus: status) }
                    return ended
                }
            }
            // Reaped meanwhile by ``isRunning`` on another thread.
            if let ended = ended.withLock({ $0 }) { return ended }
        }
        return nil
    }
}

/// A pipe for a child's stdin. Its ends close on exec; a child started by ``TestProcess``
/// (which closes every descriptor above 2) gets only the end passed to it, as its stdin.
public func childInputPipe() throws -> (read: Int32, write: Int32) {
    var ends: [Int32] = [-1, -1]
    guard pipe(&ends) == 0 else { throw TestProcessError(description: "pipe failed: errno \(errno)") }
    for end in ends { _ = fcntl(end, F_SETFD, FD_CLOEXEC) }
    return (ends[0], ends[1])
}

/// A failure to set a test process up.
public struct TestProcessError: Error, CustomStringConvertible {
    public let description: String
}
