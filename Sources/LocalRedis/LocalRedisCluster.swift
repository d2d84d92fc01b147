import Glibc
import Synchronization

/// A private Redis Cluster for tests and benchmarks: P primaries with R replicas each, every
/// node a ``LocalRedisServer`` (its own loopback ports, its own temporary directory holding
/// redis.conf and nodes.conf), started, joined and settled before `init` returns.
///
/// ```swift
/// let cluster = try LocalRedisCluster()          // 3 primaries × 1 replica
/// defer { cluster.stop() }
/// let client = connect(seeds: cluster.seeds)
/// try cluster.kill(cluster.primaries[0])
/// let promoted = try cluster.waitForPromotion(of: cluster.replicas[0])
/// ```
///
/// Setup: the nodes start in parallel, each with `cluster-enabled yes` and a bus port chosen
/// like its client port; every node gets a distinct config epoch and each primary a
/// contiguous slot range (`CLUSTER ADDSLOTSRANGE`); every node meets every other one
/// (`CLUSTER MEET` with the bus port); once each knows all the others, the replicas are
/// assigned (`CLUSTER REPLICATE`); once a primary lists its replicas online it is sent a
/// FLUSHALL of its empty data set, whose only effect is to let Redis name those replicas in
/// CLUSTER SLOTS; then `init` waits until the cluster has settled (see
/// ``waitUntilSettled(timeout:)``). Redis keeps a primary's `cluster_state` at `fail` for
/// 2 s after it starts (`CLUSTER_WRITABLE_DELAY`), so no cluster is ready sooner than that;
/// 3 × 1 takes 2.2 to 3.6 s here (two cores, loaded).
///
/// The nodes are driven without a Redis client: each command is one blocking RESP exchange
/// over the node's private Unix socket, which speaks plaintext even when the node serves
/// only TLS.
///
/// ``nodes``, ``primaries``, ``replicas`` and ``owner(ofSlot:)`` report the topology as every
/// running node last agreed on it: after `init` and after each method that waits for
/// agreement (`failover`, `waitForPromotion`, `waitUntilSettled`, `restartNode`,
/// `finishMigration`, `migrate`). `kill` and `stopNode` mark a node down at once; who took
/// over its slots is known after the next wait.
///
/// Every method blocks the calling thread, like ``LocalRedisServer``'s: call them from tests or
/// setup code, never from a reactor thread or a cooperative-pool task others wait on. They
/// may be called from any thread, but two topology changes run at once (two failovers, say)
/// make each other's waits unpredictable.
public final class LocalRedisCluster: Sendable {
    /// One node's process and what never changes about it.
    struct Member: Sendable {
        let id: String
        let server: LocalRedisServer
        let busPort: Int

        /// The node's private Unix socket (``LocalRedisServer/Configuration/unixSocket`` is
        /// always on): plaintext even under TLS, and no TCP port to confuse.
        var endpoint: ProbeEndpoint { .unix(path: server.unixSocketPath ?? "\(server.directory)/redis.sock") }
        var label: String { "127.0.0.1:\(server.port) (\(id.prefix(8)))" }
    }

    struct State {
        var topology: ClusterTopology
        var down: Set<String> = []
        var isStopped = false
    }

    /// The configuration the cluster was started with.
    public let configuration: Configuration
    /// Every node, in start order: primaries first, then the replicas of each primary in turn.
    let members: [Member]
    let state: Mutex<State>

    /// Starts the nodes, joins them into one cluster and returns once it has settled: every
    /// slot covered, `cluster_state:ok` everywhere, every node agreeing on the layout, every
    /// replica in sync.
    ///
    /// - Throws: `LocalRedisError.invalidClusterConfiguration`, any start error of
    ///   ``LocalRedisServer``, `.clusterCommandFailed` or `.clusterReplyUnexpected` when a
    ///   setup command fails, `.clusterWaitTimedOut` when the cluster does not settle within
    ///   ``Configuration/startTimeout``. Nothing is left running when it throws.
    public init(configuration: Configuration = .init()) throws(LocalRedisError) {
        if let problem = configuration.problem { throw .invalidClusterConfiguration(reason: problem) }
        let deadline = ContinuousClock.now + configuration.startTimeout
        let outcomes = ClusterParallel.map(configuration.nodeCount) { _ throws(LocalRedisError) in
            try Self.startNode(configuration)
        }
        var started: [(server: LocalRedisServer, busPort: Int)] = []
        var failure: LocalRedisError?
        for outcome in outcomes {
            switch outcome {
            case let .success(node): started.append(node)
            case let .failure(error): failure = failure ?? error
            }
        }
        if let failure {
            Self.stopServers(started.map(\.server))
            throw failure
        }
        do {
            let members = try Self.join(started, configuration: configuration, deadline: deadline)
            self.configuration = configuration
            self.members = members
            self.state = Mutex(State(topology: ClusterTopology(assignments: [:])))
        } catch {
            Self.stopServers(started.map(\.server))
            throw error
        }
        do {
            try settle("the cluster to settle", timeout: max(deadline - ContinuousClock.now, .zero))
        } catch {
            stop()
            throw error
        }
    }

    deinit {
        stop()
    }

    /// Every node, in start order: primaries first, then the replicas of each primary in
    /// turn. Roles are those last agreed on (see the type's documentation).
    public var nodes: [Node] {
        state.withLock { state in members.map { node($0, in: state) } }
    }

    /// The nodes that are primaries, running or not.
    public var primaries: [Node] { nodes.filter(\.isPrimary) }

    /// The nodes that are replicas, running or not.
    public var replicas: [Node] { nodes.filter { !$0.isPrimary } }

    /// The replicas that follow `primary`.
    public func replicas(of primary: Node) -> [Node] {
        nodes.filter { $0.primaryID == primary.id }
    }

    /// The node with this id, as last agreed on; nil for an id not in this cluster.
    public func node(id: String) -> Node? {
        nodes.first { $0.id == id }
    }

    /// The address of every running node, for a client's seed list.
    public var seeds: [(host: String, port: Int)] {
        nodes.filter(\.isRunning).map { (host: $0.host, port: $0.port) }
    }

    /// Under ``Configuration/tls``: the first node's files. Every node's certificate comes
    /// from the same CA, and each accepts the client certificate, so these serve for all.
    public var tlsFiles: LocalRedisServer.TLSFiles? { members.first?.server.tlsFiles }

    /// Stops every node (SIGTERM, SIGKILL after the grace period) and removes their
    /// directories. Idempotent; also runs on deinit, and the nodes' processes are killed
    /// when the test process exits normally even if the cluster was leaked.
    public func stop() {
        state.withLock { $0.isStopped = true }
        Self.stopServers(members.map(\.server))
    }

    func node(_ member: Member, in state: State) -> Node {
        let assignment = state.topology.assignments[member.id]
        return Node(
            id: member.id, host: member.server.host, port: member.server.port, busPort: member.busPort,
            role: assignment?.primaryID.map { .replica(of: $0) } ?? .primary,
            slots: assignment?.slots ?? [],
            isRunning: !state.isStopped && !state.down.contains(member.id),
            server: member.server
        )
    }

    /// The member behind `node`; throws for a node of another cluster.
    func member(for node: Node) throws(LocalRedisError) -> Member {
        guard let member = members.first(where: { $0.id == node.id }) else {
            throw .invalidClusterOperation(reason: "\(node) is not a node of this cluster")
        }
        return member
    }
}
