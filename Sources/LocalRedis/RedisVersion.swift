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
