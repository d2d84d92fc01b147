import LocalRedis
import Reactor
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
    /// `tls`: the nodes serve TLS only (`tls-cluster yes`), with a throw-away CA.
    static func start(primaries: Int, tls: Bool = false) throws -> BenchCluster {
        let cluster = try LocalRedisCluster(configuration: .init(primaries: primaries, replicasPerPrimary: 1, nodeTimeout: .seconds(5),
                                                                 tls: tls ? .init() : nil))
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

    /// How many primaries serve slots in the cluster `endpoint` names (`CLUSTER NODES` from
    /// its first seed that answers), to spread `--connections` over them.
    static func primaryCount(_ endpoint: RedisEndpoint, group: ReactorGroup) async throws -> Int {
        var lastError: (any Error)?
        for seed in endpoint.clusterSeeds ?? [] {
            let client = try RedisClient(seed, configuration: .init(connections: 1, tls: endpoint.tls), group: group)
            do {
                let nodes = try await client.send("CLUSTER", "NODES").asString()
                await client.close()
                // `<id> <address> <flags> <primary> <ping> <pong> <epoch> <link> <slot> …`:
                // a primary that serves slots has a ninth field.
                let primaries = nodes.split(separator: "\n").filter { line in
                    let fields = line.split(separator: " ")
                    return fields.count > 8 && fields[2].split(separator: ",").contains("master")
                }
                return max(1, primaries.count)
            } catch {
                await client.close()
                lastError = error
            }
        }
        throw lastError ?? BenchError("a cluster endpoint without seeds")
    }

    /// The CPU seconds the private cluster's running nodes have used so far, summed from
    /// each one's `INFO cpu` (the replicas' included: they apply every write too); nil for
    /// an existing cluster, whose nodes serve other clients as well, or when a node does
    /// not answer (a partial sum would read low). Blocking, one exchange a node (well
    /// under a millisecond each here), and called only outside a measured window.
    func cpuSeconds() -> Double? {
        guard let local else { return nil }
        var total = 0.0
        for node in local.nodes where node.isRunning {
            guard let info = try? local.command(["INFO", "cpu"], on: node).string else { return nil }
            total += Runner.cpuSeconds(info: info)
        }
        return total
    }

    /// The header's description: the private cluster's shape, or the seeds.
    var summary: String {
        if let local {
            return "private cluster \(local.configuration.primaries) primaries × \(local.configuration.replicasPerPrimary) replica, redis-server \(local.nodes.first?.server.redisVersion ?? "?")"
        }
        return "existing cluster"
    }
}
