extension LocalRedisCluster {
    /// How to start a private cluster. The defaults give three primaries with one replica
    /// each, tuned so that a failover takes about a second.
    ///
    /// ```swift
    /// let cluster = try LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 0))
    /// ```
    public struct Configuration: Sendable, Equatable {
        /// How many primaries share the 16384 slots (contiguous, nearly equal ranges).
        public var primaries: Int
        /// How many replicas follow each primary.
        public var replicasPerPrimary: Int
        /// `cluster-node-timeout`: how long a node may stay silent before its peers flag it
        /// failing. A failover after a SIGKILL takes about this plus one second (Redis waits
        /// 500 to 1000 ms before a replica asks for votes): 1.2 to 2.1 s measured with the
        /// default. Much below 500 ms, a node starved of CPU on a loaded test machine may be
        /// taken for dead.
        public var nodeTimeout: Duration
        /// `cluster-require-full-coverage`. Off by default, so that while one primary is down
        /// the others keep serving their slots, which is what client tests around failover
        /// want to observe; the start and every wait still require full coverage.
        public var requireFullCoverage: Bool
        /// redis.conf lines appended to every node's config, after the cluster's own. The
        /// cluster drives its nodes without AUTH, so lines that demand it (`requirepass`, a
        /// default user with a password) are not supported.
        public var extraConfig: [String]
        /// How long `init` may take in all: starting every node, joining them, and waiting
        /// for the cluster to settle.
        public var startTimeout: Duration
        /// How long a graceful stop waits after SIGTERM before SIGKILL, per node.
        public var stopGracePeriod: Duration
        /// A path, or a name looked up on `PATH`; nil means `redis-server` (7.0 or later:
        /// `cluster-port` and `CLUSTER ADDSLOTSRANGE` are 7.0 features).
        public var executable: String?
        /// Serve TLS only, with throw-away certificates from one CA for the whole process;
        /// the cluster bus and replication use TLS too. nil: plaintext.
        public var tls: LocalRedisServer.TLSOptions?

        /// Creates a configuration; every parameter has a default suited to tests.
        public init(
            primaries: Int = 3,
            replicasPerPrimary: Int = 1,
            nodeTimeout: Duration = .milliseconds(500),
            requireFullCoverage: Bool = false,
            extraConfig: [String] = [],
            startTimeout: Duration = .seconds(30),
            stopGracePeriod: Duration = .seconds(3),
            executable: String? = nil,
            tls: LocalRedisServer.TLSOptions? = nil
        ) {
            self.primaries = primaries
            self.replicasPerPrimary = replicasPerPrimary
            self.nodeTimeout = nodeTimeout
            self.requireFullCoverage = requireFullCoverage
            self.extraConfig = extraConfig
            self.startTimeout = startTimeout
            self.stopGracePeriod = stopGracePeriod
            self.executable = executable
            self.tls = tls
        }

        /// Every node: primaries first, then the replicas of primary 0, of primary 1, ...
        var nodeCount: Int { primaries * (1 + replicasPerPrimary) }

        /// Why this configuration cannot make a cluster, or nil.
        var problem: String? {
            if primaries < 1 { return "primaries must be at least 1, got \(primaries)" }
            if primaries > ClusterSlots.count { return "primaries must be at most \(ClusterSlots.count), got \(primaries)" }
            if replicasPerPrimary < 0 { return "replicasPerPrimary must not be negative, got \(replicasPerPrimary)" }
            if nodeTimeout < .milliseconds(1) { return "nodeTimeout must be at least 1 ms, got \(nodeTimeout)" }
            return nil
        }

        /// The config lines every node gets, before `extraConfig`.
        func clusterConfigLines(busPort: Int) -> [String] {
            let (seconds, attoseconds) = nodeTimeout.components
            var lines = [
                "cluster-enabled yes",
                // Relative to `dir`, the node's own directory; kept there across restarts.
                "cluster-config-file nodes.conf",
                // Chosen, not port+10000: that may be taken, or above 65535.
                "cluster-port \(busPort)",
                "cluster-node-timeout \(seconds * 1000 + attoseconds / 1_000_000_000_000_000)",
                "cluster-require-full-coverage \(requireFullCoverage ? "yes" : "no")",
                // A replica whose link has been down a while would otherwise refuse to take
                // over; tests that kill nodes want every failover to happen.
                "cluster-replica-validity-factor 0",
                // Replicas stay where they were put, so tests can rely on the layout.
                "cluster-allow-replica-migration no",
                // Redis waits 5 s by default for more replicas before a diskless full sync.
                "repl-diskless-sync-delay 0",
            ]
            if tls != nil { lines += ["tls-cluster yes", "tls-replication yes"] }
            return lines
        }
    }
}
