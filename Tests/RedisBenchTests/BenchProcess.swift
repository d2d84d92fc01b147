import Foundation
import Glibc
import TestSupport

/// The built `redis-bench` (or another executable of the package, such as the
/// WorkerService example), run as a subprocess the way a user or a script runs it.
///
/// Its output goes to files in a private temporary directory rather than pipes: a pipe
/// nobody drains while the test waits would stall the benchmark once it filled.
final class BenchProcess: Sendable {
    /// Not Foundation's `Process`, whose `run()` can crash a test process holding many
    /// descriptors (see ``TestProcess``).
    private let process: TestProcess
    private let directory: URL
    private let started = ContinuousClock.now
    private let name: String

    /// How a run ended.
    struct Finished: Sendable, CustomStringConvertible {
        /// The executable's name.
        let name: String
        /// The exit status, or the signal number when `exitedNormally` is false.
        let status: Int32
        let exitedNormally: Bool
        let stdout: String
        let stderr: String
        /// Killed by the hang guard.
        let hung: Bool
        let seconds: Double

        var description: String {
            let ending = hung ? "killed by the hang guard" : exitedNormally ? "exit status \(status)" : "signal \(status)"
            return "\(name): \(ending) after \(String(format: "%.1f", seconds)) s\n--- stdout:\n\(stdout.prefix(4000))\n--- stderr:\n\(stderr.prefix(4000))"
        }
    }

    struct SetupFailure: Error, CustomStringConvertible {
        let description: String
    }

    /// `name` beside the test executable, where `swift build --build-tests` puts it
    /// (the test target depends on the executable target).
    static func executable(_ name: String = "redis-bench") throws -> URL {
        // /proc/self/exe names the real file even when the build directory is reached
        // through the `.build/debug` symlink.
        let testExecutable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe"))
            ?? Bundle.main.executableURL?.path
        guard let testExecutable else {
            throw SetupFailure(description: "cannot tell where the test executable is (no /proc/self/exe, no Bundle.main.executableURL)")
        }
        let binary = URL(fileURLWithPath: testExecutable).deletingLastPathComponent().appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            throw SetupFailure(description: "no \(name) executable at \(binary.path), beside the test executable \(testExecutable); build it with `swift build --build-tests`")
        }
        return binary
    }

    /// Starts `redis-bench arguments` (or the executable `name`), with stdin from
    /// /dev/null and `environment` replacing the test's own variables of the same names.
    static func start(_ arguments: [String], environment: [String: String] = [:], executable name: String = "redis-bench") throws -> BenchProcess {
        let executable = try executable(name)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("redis-bench-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        do {
            let stdout = directory.appendingPathComponent("stdout")
            let stderr = directory.appendingPathComponent("stderr")
            guard FileManager.default.createFile(atPath: stdout.path, contents: nil),
                  FileManager.default.createFile(atPath: stderr.path, contents: nil)
            else { throw SetupFailure(description: "cannot create output files in \(directory.path)") }
            // Its own process group, so that ``kill()`` reaches a private redis-server it started.
            let process = try TestProcess(
                executable: executable.path, arguments: arguments, environment: environment.map { "\($0.key)=\($0.value)" },
                outputPath: stdout.path, errorPath: stderr.path, newProcessGroup: true)
            return BenchProcess(process: process, directory: directory, name: name)
        } catch {
            try? FileManager.default.removeItem(at: directory)
            throw error
        }
    }

    /// Runs `redis-bench arguments` to its end; see ``waitBlocking(hangGuard:)``.
    static func run(_ arguments: [String], environment: [String: String] = [:], hangGuard: Duration = .seconds(60)) async throws -> Finished {
        try await start(arguments, environment: environment).finished(hangGuard: hangGuard)
    }

    private init(process: TestProcess, directory: URL, name: String) {
        self.name = name
        self.process = process
        self.directory = directory
    }

    var isRunning: Bool { process.isRunning }

    /// What the process wrote on stderr so far.
    var stderrSoFar: String {
        (try? String(contentsOf: directory.appendingPathComponent("stderr"), encoding: .utf8)) ?? ""
    }

    /// The process's pid.
    var pid: pid_t { process.pid }

    /// Sends `signal` to the process alone (not its group), as a service manager does.
    func send(_ signal: Int32) {
        process.send(signal)
    }

    /// Waits for the exit, blocking the calling thread; past `hangGuard` the process is
    /// killed and the result says so. Call once.
    func waitBlocking(hangGuard: Duration) -> Finished {
        var hung = false
        var ended = process.waitUntilExit(timeout: hangGuard)
        if ended == nil {
            hung = true
            kill()
            ended = process.waitUntilExit()
        }
        let seconds = (ContinuousClock.now - started) / .seconds(1)
        func read(_ name: String) -> String {
            (try? String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)) ?? ""
        }
        let finished = Finished(
            name: name, status: ended?.status ?? -1, exitedNormally: ended?.exitedNormally ?? false,
            stdout: read("stdout"), stderr: read("stderr"), hung: hung, seconds: seconds)
        try? FileManager.default.removeItem(at: directory)
        return finished
    }

    /// ``waitBlocking(hangGuard:)`` on a thread of its own, so that a long wait holds no
    /// thread of Swift Concurrency's small cooperative pool.
    func finished(hangGuard: Duration = .seconds(60)) async -> Finished {
        await onOwnThread { self.waitBlocking(hangGuard: hangGuard) }
    }

    /// SIGKILL to the benchmark's process group (it leads one of its own), so that a
    /// private redis-server it started goes too.
    func kill() {
        process.sendToGroup(SIGKILL)
    }
}
