import LocalRedis
import RedisUtil

/// What `--cluster` measures: a private ``LocalRedisCluster`` (stopped at the end), or an
/// existing cluster reached through the nodes `--cluster-seed` names.
struct BenchCluster {
    /// The private cluster, nil for an existing one.
    let local: LocalRedisCluster?
    /// The client's cluster endpoint: every running node of the private cluster as a seed,
    /// or the named ones.
    let endpoint: RedisEndpoint

    /// A private cluster of `primaries` primaries with one replica each.
    ///
    /// The node timeout is 5 s rather than LocalRedisCluster's 500 ms (tuned for failover
    /// tests): a node starved of CPU by a full-speed run on two cores must not be taken for
    /// dead mid-run.
    static func start(primaries: Int) throws -> BenchCluster {
        let cluster = try LocalRedisCluster(configuration: .init(primaries: primaries, replicasPerPrimary: 1, nodeTimeout: .seconds(5)))
        let seeds = cluster.seeds.map { RedisEndpoint.tcp(host: $0.host, port: $0.port) }
        return BenchCluster(local: cluster, endpoint: .cluster(seeds: seeds))
    }

    /// An existing cluster, from `HOST:PORT` seeds.
    static func existing(seeds: [String]) throws(BenchError) -> BenchCluster {
        let endpoints = try seeds.map { seed throws(BenchError) in
            guard let colon = seed.lastIndex(of: ":"), let port = Int(seed[seed.index(after: colon)...]),
                  (1...65535).contains(port), colon > seed.startIndex
            else { throw BenchError("--cluster-seed wants HOST:PORT, got \(seed)") }
            return RedisEndpoint.tcp(host: String(seed[..<colon]), port: port)
        }
        return BenchCluster(local: nil, endpoint: .cluster(seeds: endpoints))
    }

    /// The header's description: the private cluster's shape, or the seeds.
    var summary: String {
        if let local {
            return "private cluster \(local.configuration.primaries) primaries × \(local.configuration.replicasPerPrimary) replica, redis-server \(local.nodes.first?.server.redisVersion ?? "?")"
        }
        return "existing cluster"
    }
}
