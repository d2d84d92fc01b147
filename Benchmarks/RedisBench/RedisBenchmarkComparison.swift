import Foundation

/// Runs Debian's `redis-benchmark` against the same server with the same
/// connections, pipeline depth, payload size and request count.
enum RedisBenchmarkComparison {
    /// The path of `redis-benchmark`, if installed.
    static var executable: String? {
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for directory in path.split(separator: ":") {
            let candidate = "\(directory)/redis-benchmark"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// redis-benchmark's requests per second for `test`, or `nil` when it could not run.
    /// `tls`: its TLS flags (`--tls --cacert …`), the same as the client's; empty for plaintext.
    static func opsPerSecond(test: String, host: String, port: Int, connections: Int, pipeline: Int, requests: Int, size: Int, tls: [String] = []) -> Double? {
        guard let executable else { return nil }
        let arguments = [
            "-h", host, "-p", String(port), "-c", String(connections), "-P", String(pipeline),
            "-n", String(requests), "-d", String(size), "-t", test, "--csv",
        ] + tls
        guard let output = runToCompletion(executable, arguments) else { return nil }
        // `-t ping` runs PING_INLINE and PING_MBULK; ours sends the multi-bulk form.
        let row = test == "ping" ? "PING_MBULK" : test.uppercased()
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            // A run too short to time reports "inf": not a figure to compare against.
            if fields.count >= 2, fields[0] == row, let rps = Double(fields[1]) { return rps.isFinite && rps > 0 ? rps : nil }
        }
        return nil
    }
}
