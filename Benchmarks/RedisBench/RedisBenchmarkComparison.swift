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

    /// What one run of redis-benchmark measured.
    struct Figures {
        /// Its requests per second, as it reports them.
        var opsPerSecond: Double
        /// Its own CPU time (user + system, all its threads) per request, from the
        /// kernel's account of the reaped child.
        var cpuMicrosecondsPerOp: Double
        /// How many requests it made (on a cluster, more than ours: ``clusterRequests``).
        var requests: Int
    }

    /// redis-benchmark's figures for `test`, or `nil` when it could not run.
    /// `tls`: its TLS flags (`--tls --cacert …`), the same as the client's; empty for plaintext.
    /// `keys` > 1 or `cluster`: see ``spreadArguments(test:keys:cluster:size:)``.
    static func run(test: String, host: String, port: Int, connections: Int, pipeline: Int, requests: Int, size: Int,
                    keys: Int = 1, cluster: Bool = false, tls: [String] = []) -> Figures? {
        guard let executable else { return nil }
        let theirRequests = cluster ? max(requests, min(clusterRequests, requests * 8)) : requests
        var arguments = [
            "-h", host, "-p", String(port), "-c", String(connections), "-P", String(pipeline),
            "-n", String(theirRequests), "--csv",
        ] + tls
        var row = test.uppercased()
        if keys > 1 || cluster {
            guard let spread = spreadArguments(test: test, keys: keys, cluster: cluster, size: size) else { return nil }
            arguments += spread.options + spread.command
            // A command given on the command line is reported under its own text.
            row = spread.command.joined(separator: " ")
        } else {
            arguments += ["-d", String(size), "-t", test]
        }
        // The bench runs its children one at a time: none other ends in between.
        let cpuBefore = reapedChildrenCPUSeconds()
        guard let output = runToCompletion(executable, arguments) else { return nil }
        let cpu = reapedChildrenCPUSeconds() - cpuBefore
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            // A run too short to time reports "inf": not a figure to compare against.
            if fields.count >= 2, fields[0] == row, let rps = Double(fields[1]) {
                return rps.isFinite && rps > 0 ? Figures(opsPerSecond: rps, cpuMicrosecondsPerOp: cpu * 1e6 / Double(theirRequests), requests: theirRequests) : nil
            }
        }
        return nil
    }

    /// The fewest requests of a run with `--cluster`. There redis-benchmark runs its clients
    /// on threads, which notice that the last request is answered only at their next
    /// 250 ms timer, and its figure counts that wait: on three primaries (no replicas), one
    /// million RPUSH were reported at 1.33M ops/s while its own live figure showed 1.9M,
    /// four million at 1.78M. Eight million (or eight times a short run's requests) make
    /// the wait a few per cent of the run.
    static let clusterRequests = 8_000_000

    /// The arguments that make redis-benchmark spread `test` over `keys` keys, or nil for a
    /// test it cannot run so (only rpush: its other tests would need their keys filled or
    /// send to every primary, as ours does for PING on a cluster).
    ///
    /// Its built-in RPUSH uses one key, so the command is given on the command line with
    /// `__rand_int__` and `-r keys`: `RPUSH bench:list:__rand_int__ <payload>`. On a cluster
    /// (`--cluster`) the key must hold `{tag}`, which redis-benchmark replaces with a hash
    /// tag of a slot that the client's node owns (each client talks to one primary, clients
    /// dealt to primaries in turn): `RPUSH bench:{tag}:__rand_int__ <payload>` puts `keys`
    /// keys in one slot of each primary, where ours spreads `keys` keys over all slots.
    static func spreadArguments(test: String, keys: Int, cluster: Bool, size: Int) -> (options: [String], command: [String])? {
        guard test == "rpush" else { return nil }
        let key = cluster ? "bench:{tag}:__rand_int__" : "bench:list:__rand_int__"
        return ((cluster ? ["--cluster"] : []) + ["-r", String(keys)], ["RPUSH", key, String(repeating: "x", count: size)])
    }

    /// The keys a single-server `spreadArguments` run leaves: `__rand_int__` is 12 digits.
    static func spreadKeys(_ keys: Int) -> [String] {
        (0..<keys).map { "bench:list:" + String(repeating: "0", count: 12 - String($0).count) + String($0) }
    }
}
