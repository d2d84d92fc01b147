#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization
import TestSupport

/// One `ChannelWorkerProbe` process: a worker of a channel pool that a test can kill
/// with SIGKILL, or stop gracefully by closing its standard input.
final class WorkerProcess: Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// The probe's process id, as it writes it in its log entries.
    let pid: Int32
    private let process: TestProcess
    /// The write end of the probe's stdin; closed by ``stop(timeout:)``.
    private let input: Mutex<Int32?>
    private let errorFile: URL
    private let state = Locked(State())

    private struct State: Sendable {
        var exit: TestProcess.Termination?
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    /// Starts a worker of `concurrency` handlers on `channel` of the server at `port`.
    init(port: Int, channel: String, leaseMs: Int, concurrency: Int) throws {
        // /proc/self/exe names the real test executable, beside which SwiftPM builds the
        // probe (the test target depends on it).
        let testExecutable = try FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")
        let probe = URL(fileURLWithPath: testExecutable).deletingLastPathComponent().appendingPathComponent("ChannelWorkerProbe")
        guard FileManager.default.isExecutableFile(atPath: probe.path) else {
            throw Failure(description: "no probe at \(probe.path); build it with `swift build --build-tests`")
        }
        errorFile = FileManager.default.temporaryDirectory.appendingPathComponent("channel-worker-\(UUID().uuidString).stderr")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        let pipe = try childInputPipe()
        defer { close(pipe.read) }
        do {
            process = try TestProcess(executable: probe.path, arguments: ["\(port)", channel, "\(leaseMs)", "\(concurrency)"],
                                      standardInput: pipe.read, errorPath: errorFile.path)
        } catch {
            close(pipe.write)
            throw error
        }
        input = Mutex(pipe.write)
        pid = process.pid
        // The exit, awaited on a thread of its own: waiters resume when it comes.
        let (process, state) = (process, state)
        Thread.detachNewThread {
            let exit = process.waitUntilExit()
            let waiters = state.withLock { state in
                state.exit = exit
                defer { state.waiters.removeAll() }
                return state.waiters
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    deinit {
        if process.isRunning { kill(pid, SIGKILL) }
        closeInput()
        try? FileManager.default.removeItem(at: errorFile)
    }

    private func closeInput() {
        if let descriptor = input.withLock({ input in defer { input = nil }; return input }) { close(descriptor) }
    }

    /// Kills the worker with SIGKILL (no drain, no cleanup) and waits until it is gone.
    func killHard() async {
        kill(pid, SIGKILL)
        await waitForExit()
    }

    /// Closes the worker's standard input, its signal to stop and drain, and waits for it
    /// to exit; returns its exit status (a SIGKILL after `timeout` fails instead).
    func stop(timeout: Duration = .seconds(30)) async throws -> Int32 {
        closeInput()
        let guardTask = Task { [pid] in
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        await waitForExit()
        guardTask.cancel()
        guard let exit = state.withLock({ $0.exit }), exit.exitedNormally else {
            throw Failure(description: "worker \(pid) did not stop within \(timeout): \(errors)")
        }
        return exit.status
    }

    func waitForExit() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let gone = state.withLock { state in
                if state.exit != nil { return true }
                state.waiters.append(continuation)
                return false
            }
            if gone { continuation.resume() }
        }
    }

    /// What the worker wrote to standard error so far.
    var errors: String {
        (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
    }
}
