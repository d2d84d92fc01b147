import Foundation
import RedisUtil
import Synchronization
import TestSupport

/// The real Python `redisutil.RedisChannel` (PyPI `k3redisutil`), run in child processes
/// against the same LocalRedis, for interop tests.
///
/// The interpreter is the project-local venv `<repo root>/.venv-interop`, which
/// `scripts/bootstrap` creates (`python3 -m venv`, then `pip install k3redisutil`).
/// Tests do not install it themselves (a network install is not a test step): when the
/// venv or the package is missing, the interop suite is skipped with ``skipMessage``,
/// which names the cause, and is never reported as passed.
enum PythonPeer {
    /// The package root: this file is `<root>/Tests/RedisChannelTests/PythonPeer.swift`.
    static let repositoryRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
    static let venv = repositoryRoot + "/.venv-interop"
    static let python = venv + "/bin/python"

    /// Why the peer cannot run, or `nil` when it can; checked once per test process.
    static let unavailableReason: String? = {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            return "\(python) not found: run scripts/bootstrap to create the venv with k3redisutil"
        }
        do {
            let check = try TestProcess(executable: python, arguments: ["-c", "import k3redisutil"])
            guard check.waitUntilExit()?.status == 0 else {
                return "k3redisutil does not import in \(venv): run scripts/bootstrap (or \(venv)/bin/pip install k3redisutil)"
            }
        } catch {
            return "cannot run \(python): \(error)"
        }
        return nil
    }()

    /// Whether the Python peer can run.
    static var isAvailable: Bool { unavailableReason == nil }

    /// Shown for each skipped interop test.
    static var skipMessage: String { "Python interop skipped: \(unavailableReason ?? "")" }

    struct PeerError: Error, CustomStringConvertible {
        let message: String
        var description: String { message }
    }

    /// Runs `op` on a Python `RedisChannel` and returns its result, read back as JSON.
    /// `args` are passed to the method; for `send_many` it is the list of messages, for
    /// `exchange` the requests to send before reading as many replies (10 s each at most).
    static func call(
        port: Int, channel: String, peer: String, timeout: Int? = nil, op: String, args: [JSONValue] = []
    ) async throws -> JSONValue {
        let request: JSONValue = [
            "port": .number(Double(port)), "channel": .string(channel), "peer": .string(peer),
            "timeout": timeout.map { .number(Double($0)) } ?? .null, "op": .string(op), "args": .array(args),
        ]
        let output = try await run(executable: python, arguments: ["-c", script], input: Data(request.description.utf8))
        // Read with the channel's own reader, which reads Python's NaN and Infinity.
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
elif op == "exchange":
    # A client of a pool: sends every request, then reads as many replies.
    for m in args[0]:
        ch.send_msg(m)
    result = []
    while len(result) < len(args[0]):
        reply = ch.brecv_msg(timeout=10)
        if reply is None:
            break
        result.append(reply)
elif op == "send_text":
    # A message built by Python from JSON text, its dict in the text's order.
    ch.send_msg(json.loads(args[0]))
    result = None
elif op == "recv_dumps":
    # The message received, as Python itself writes it (its dicts' order kept).
    result = json.dumps(ch.recv_msg(), ensure_ascii=False)
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

    /// Runs a process on its own thread (a ``TestProcess``: not Foundation's `Process`, see
    /// there), its input from a file and its output to files, without blocking the
    /// cooperative pool.
    static func run(executable: String, arguments: [String], input: Data, allowFailure: Bool = false) async throws -> Output {
        let output: Output = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let directory = FileManager.default.temporaryDirectory.appendingPathComponent("python-peer-\(UUID().uuidString)")
                defer { try? FileManager.default.removeItem(at: directory) }
                let stdin = directory.appendingPathComponent("stdin").path
                let stdout = directory.appendingPathComponent("stdout").path
                let stderr = directory.appendingPathComponent("stderr").path
                do {
                    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    try input.write(to: URL(fileURLWithPath: stdin))
                    let inputDescriptor = open(stdin, O_RDONLY | O_CLOEXEC)
                    guard inputDescriptor >= 0 else { throw PeerError(message: "cannot open \(stdin): errno \(errno)") }
                    defer { close(inputDescriptor) }
                    let process = try TestProcess(executable: executable, arguments: arguments, standardInput: inputDescriptor,
                                                  outputPath: stdout, errorPath: stderr)
                    let ended = process.waitUntilExit()
                    let out = FileManager.default.contents(atPath: stdout) ?? Data()
                    let err = String(decoding: FileManager.default.contents(atPath: stderr) ?? Data(), as: UTF8.self)
                    let status = ended?.shellStatus ?? -1
                    continuation.resume(returning: Output(status: status, stdout: out, stderr: err))
                } catch {
                    continuation.resume(throwing: PeerError(message: "cannot run \(executable): \(error)"))
                }
            }
        }
        if output.status != 0 && !allowFailure {
            throw PeerError(message: "\(executable) \(arguments.prefix(1)) exited with \(output.status): \(output.stderr)")
        }
        return output
    }
}
