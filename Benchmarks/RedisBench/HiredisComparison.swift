import Foundation

/// Builds and runs the C reference (`Benchmarks/CReference/hiredis_bench.c`: hiredis'
/// async API on libevent) against the same server, for the rpush and ping workloads.
enum HiredisComparison {
    struct Figures {
        var opsPerSecond: Double
        var cpuMicrosecondsPerOp: Double
    }

    /// The source beside this file's folder; `nil` when the tree is not there (an installed binary).
    static var source: String? {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("CReference/hiredis_bench.c").path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Compiles the harness once into the temp directory. Needs gcc, libhiredis-dev and libevent-dev.
    static func build() -> String? {
        guard let source else { return nil }
        let binary = FileManager.default.temporaryDirectory.appendingPathComponent("redisutil-hiredis-bench").path
        let command = "gcc -O2 -o '\(binary)' '\(source)' $(pkg-config --cflags --libs hiredis libevent) 2>&1"
        guard runToCompletion("/bin/sh", ["-c", command]) != nil, FileManager.default.isExecutableFile(atPath: binary) else { return nil }
        return binary
    }

    /// What the harness sends: 64-byte `RPUSH`es (through `redisAsyncCommandArgv`, as our
    /// client takes its arguments) or `PING`s.
    enum Command: String {
        case rpush = "argv"
        case ping

        /// The name the report prints.
        var name: String { self == .rpush ? "rpush" : "ping" }
    }

    /// hiredis' figures for `requests` of `command` with `connections` × `pipeline` in flight.
    static func run(_ command: Command, binary: String, port: Int, connections: Int, pipeline: Int, requests: Int) -> Figures? {
        // The line names the mode the harness ran: a harness that took another is no figure for this one.
        guard let output = runToCompletion(binary, [String(connections), String(pipeline), String(requests), String(port), command.rawValue]),
              let line = output.split(separator: "\n").first(where: { $0.hasPrefix("RESULT client=hiredis-\(command.rawValue) ") }) else { return nil }
        var fields: [String: Double] = [:]
        for pair in line.split(separator: " ") {
            let parts = pair.split(separator: "=")
            if parts.count == 2, let value = Double(parts[1]) { fields[String(parts[0])] = value }
        }
        guard let ops = fields["ops_s"], let cpu = fields["cpu_us_op"] else { return nil }
        return Figures(opsPerSecond: ops, cpuMicrosecondsPerOp: cpu)
    }
}
