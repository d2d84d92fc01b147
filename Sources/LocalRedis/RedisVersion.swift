import Synchronization

/// Reads the version a redis-server binary reports, e.g. `Redis server v=7.0.15 sha=00000000:0 ...`.
enum RedisVersion {
    /// The `v=` value of `redis-server --version` output, nil when the output is not redis's.
    static func parse(_ output: String) -> String? {
        for word in output.split(whereSeparator: { $0 == " " || $0 == "\n" }) where word.hasPrefix("v=") {
            let version = word.dropFirst(2)
            return version.isEmpty ? nil : String(version)
        }
        return nil
    }

    /// Versions already read, by executable path: one `--version` run per binary and
    /// process rather than one per server started (about 10 ms each).
    private static let known = Mutex<[String: String]>([:])

    /// The version of `executable`, read once per process; see ``read(executable:directory:timeout:)``.
    static func cached(executable: String, directory: String, timeout: Duration) throws(LocalRedisError) -> String {
        if let version = known.withLock({ $0[executable] }) { return version }
        let version = try read(executable: executable, directory: directory, timeout: timeout)
        known.withLock { $0[executable] = version }
        return version
    }

    /// Runs `executable --version` with its output in `directory` and parses it.
    static func read(executable: String, directory: String, timeout: Duration) throws(LocalRedisError) -> String {
        let outputPath = "\(directory)/version.txt"
        let child = try ChildProcess.spawn(executable: executable, arguments: ["--version"], outputPath: outputPath)
        if child.waitForExit(timeout: timeout) == nil {
            child.terminate(gracePeriod: .zero)
        }
        let output = FileIO.tail(outputPath)
        guard let version = parse(output) else {
            throw .versionUnreadable(executable: executable, output: output)
        }
        return version
    }
}
