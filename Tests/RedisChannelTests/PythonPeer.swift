import Foundation
import RedisUtil
import Synchronization

/// The real Python `redisutil.RedisChannel` (PyPI `k3redisutil`), run in child processes
/// against the same LocalRedis, for interop tests.
///
/// `k3redisutil` is installed once per machine into a venv under the temp directory
/// (`python3 -m venv` + `pip install k3redisutil`); later runs reuse it. Tests are
/// skipped, with this message, only when `python3` itself is missing; a failed install
/// is a test failure.
enum PythonPeer {
    static let venv = FileManager.default.temporaryDirectory.appendingPathComponent("redischannel-tests-k3redisutil-venv").path
    static var python: String { venv + "/bin/python" }

    /// Whether a `python3` is on PATH.
    static let isAvailable: Bool = findPython3() != nil

    static let skipMessage = "python3 not found on PATH: interop tests with k3redisutil need Python 3"

    private static func findPython3() -> String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        return path.split(separator: ":").map { "\($0)/python3" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// One installation per test process, shared by the tests that run in parallel.
    private static let installation = Mutex<Task<Void, any Error>?>(nil)

    static func ensureInstalled() async throws {
        let task = installation.withLock { task -> Task<Void, any Error> in
            if let task { return task }
            let created = Task { try await install() }
            task = created
            return created
        }
        try await task.value
    }

    private static func install() async throws {
        if FileManager.default.isExecutableFile(atPath: python),
           try await run(executable: python, arguments: ["-c", "import k3redisutil"], input: Data(), allowFailure: true).status == 0 {
            return
        }
        guard let python3 = findPython3() else { throw PeerError(message: skipMessage) }
        try? FileManager.default.removeItem(atPath: venv)
        _ = try await run(executable: python3, arguments: ["-m", "venv", venv], input: Data())
        _ = try await run(executable: venv + "/bin/pip", arguments: ["install", "--quiet", "k3redisutil"], input: Data())
    }

    struct PeerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Runs `op` on a Python `RedisChannel` and returns its result, read back as JSON.
    /// `args` are passed to the method; for `send_many` it is the list of messages.
    static func call(
        port: Int, channel: String, peer: String, timeout: Int? = nil, op: String, args: [JSONValue] = []
    ) async throws -> JSONValue {
        try await ensureInstalled()
        let request: JSONValue = [
            "port": .integer(Int64(port)), "channel": .string(channel), "peer": .string(peer),
            "timeout": timeout.map { .integer(Int64($0)) } ?? .null, "op": .string(op), "args": .array(args),
        ]
        let output = try await run(executable: python, arguments: ["-c", script], input: Data(request.description.utf8))
        // Read with the channel's own reader: it keeps 1 and 1.0 apart.
        guard let reply = try? JSONValue(json: Array(output.stdout)), let result = reply["result"] else {
            throw PeerError(message: "python peer gave no result: \(String(decoding: output.stdout, as: UTF8.self))")
        }
        return result
    }

    /// The peer: a request as JSON on stdin, the method's result as JSON on stdout.
    /// `list_channel` returns bytes in Python; they are decoded for JSON.
    static let script = #"""
import json, sys
import k3redisutil
req = json.loads(sys.stdin.read())
ch = k3redisutil.RedisChannel(req["port"], req["channel"], req["peer"], timeout=req["timeout"])
op, args = req["op"], req["args"]
if op == "send_many":
    for m in args[0]:
        ch.send_msg(m)
    result = None
elif op == "dumps":
    result = [json.dumps(m, ensure_ascii=False) for m in args[0]]
else:
    result = getattr(ch, op)(*args)
    if op == "list_channel":
        result = [c.decode("utf-8") for c in result]
sys.stdout.write(json.dumps({"result": result}, ensure_ascii=False))
"""#

    struct Output {
        var status: Int32
        var stdout: Data
        var stderr: String
    }

    /// Runs a process on its own thread (reading its pipes to the end, so a big output
    /// cannot fill the pipe and stall it), without blocking the cooperative pool.
    static func run(executable: String, arguments: [String], input: Data, allowFailure: Bool = false) async throws -> Output {
        let output: Output = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: executable)
                process.arguments = arguments
                let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
                process.standardInput = stdin
                process.standardOutput = stdout
                process.standardError = stderr
                do {
                    try process.run()
                } catch {
                    continuation.resume(throwing: PeerError(message: "cannot run \(executable): \(error)"))
                    return
                }
                let errors = Mutex(Data())
                let errorReader = Thread { errors.withLock { $0 = stderr.fileHandleForReading.readDataToEndOfFile() } }
                errorReader.start()
                stdin.fileHandleForWriting.write(input)
                try? stdin.fileHandleForWriting.close()
                let out = stdout.fileHandleForReading.readDataToEndOfFile()
                process.waitUntilExit()
                while errorReader.isExecuting || !errorReader.isFinished { usleep(1000) }
                let err = errors.withLock { String(decoding: $0, as: UTF8.self) }
                continuation.resume(returning: Output(status: process.terminationStatus, stdout: out, stderr: err))
            }
        }
        if output.status != 0 && !allowFailure {
            throw PeerError(message: "\(executable) \(arguments.prefix(1)) exited with \(output.status): \(output.stderr)")
        }
        return output
    }
}
