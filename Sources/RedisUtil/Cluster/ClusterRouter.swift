import Reactor
import RESP
import Synchronization

/// One node of the cluster as the router reaches it: where it is, and the connection set
/// that reaches it.
///
/// The connection set is an internal ``RedisClient`` for that one node, on the cluster
/// client's own reactors: it brings everything a node needs and a single server already
/// has (N multiplexed connections spread over the reactors and picked by load, write
/// coalescing, backpressure, reconnects that re-send only never-written commands, a
/// bounded pool of leased connections for blocking commands) without a second copy of
/// any of it.
final class ClusterNode: Sendable {
    /// Where the node is reached; a redirection's target is compared with this.
    let address: ClusterNodeAddress
    /// The node's connections.
    let client: RedisClient

    init(address: ClusterNodeAddress, client: RedisClient) {
        self.address = address
        self.client = client
    }
}

/// What a node's connections hand a failed first attempt (``ReplyHandler/routed(_:bytes:)``):
/// the router, reached through its link (the router owns its nodes' clients, so a strong
/// reference would be a cycle), and the node's address.
final class ClusterNodeFailures: RoutedFailureHandler {
    let link: SharedOwnerLink<ClusterRouter>
    let address: ClusterNodeAddress

    init(link: SharedOwnerLink<ClusterRouter>, address: ClusterNodeAddress) {
        self.link = link
        self.address = address
    }

    func attemptFailed(_ result: Result<RESPValue, RedisError>, bytes: [UInt8], completion: @escaping ReplyCallback) {
        guard let router = link.owner else {
            // The router is gone (its client was released with commands in flight):
            // nothing can retry, so the caller gets the node's answer.
            return completion(result)
        }
        router.firstAttemptFailed(result, bytes: bytes, on: address, completion: completion)
    }
}

/// The slot map in the form a command reads it: an immutable snapshot, replaced whole
/// when the map changes, so that a command takes it once (one lock, one retain) and
/// routes without holding anything.
final class ClusterRouteTable: Sendable {
    /// The map.
    let topology: ClusterTopology
    /// The refresh machine's generation this map belongs to (a `MOVED` patched into it
    /// keeps the generation: it is the same fetch, corrected in one slot).
    let generation: UInt64
    /// Each shard's primary, by shard index; nil where no connection set could be made
    /// for it (its TLS settings failed) or the cluster flags it failed, which routes as a
    /// slot without owner.
    let primaries: [ClusterNode?]
    /// Which arguments are keys: the built-in table, merged with the server's own
    /// (`COMMAND`) once it has been read. Kept here so that a command reads it with the
    /// map, under one lock.
    let keyTable: ClusterKeyTable
    /// Each shard's online replicas, by shard index, when ``RedisConfiguration/readFrom``
    /// reaches replicas; empty lists otherwise.
    let replicas: [[ClusterNode]]

    /// The clients of ``primaries``, unretained: ``withPrimaryClient(ofShard:_:)`` lends
    /// them without the retain and release per command that reading one through its node
    /// costs (about 80 instructions of a callback command's routing).
    private let primaryClients: [Unmanaged<RedisClient>?]

    init(topology: ClusterTopology, generation: UInt64, primaries: [ClusterNode?], keyTable: ClusterKeyTable, replicas: [[ClusterNode]] = []) {
        self.topology = topology
        self.generation = generation
        self.primaries = primaries
        self.keyTable = keyTable
        self.replicas = replicas
        primaryClients = primaries.map { $0.map { Unmanaged.passUnretained($0.client) } }
    }

    /// The shard whose primary serves `slot`: nil when no shard owns it, or its shard has
    /// no primary.
    @inline(__always)
    func primaryIndex(ofSlot slot: Int) -> Int? {
        guard let shard = topology.shardIndex(ofSlot: slot), primaries[shard] != nil else { return nil }
        return shard
    }

    /// `body`'s result with the client of shard `shard`'s primary, nil when it has none.
    ///
    /// The client is lent without a retain, which is sound: for as long as this method
    /// runs, the table is alive (the method's `self`), it holds each primary's
    /// ``ClusterNode`` strongly in ``primaries``, which nothing changes (a `let` of an
    /// immutable snapshot), and each node holds its client strongly in a `let`. What
    /// `body` keeps of the client (returns, stores) it retains as any reference is.
    @inline(__always)
    func withPrimaryClient<Result>(ofShard shard: Int, _ body: (RedisClient) -> Result) -> Result? {
        guard let client = primaryClients[shard] else { return nil }
        return client.lend(heldBy: self, body)
    }

    /// The shard whose primary takes a command without keys: the first from `start`
    /// (modulo the shards' number) that has a primary, so that successive starts spread
    /// such commands over the primaries; nil when none has.
    @inline(__always)
    func anyPrimaryIndex(from start: UInt) -> Int? {
        Self.firstPresent(from: start, in: primaries)
    }

    /// The first index from `start` (modulo the count) whose element is present; nil when
    /// none is.
    static func firstPresent<Element>(from start: UInt, in elements: [Element?]) -> Int? {
        let count = elements.count
        guard count > 0 else { return nil }
        let first = Int(start % UInt(count))
        for offset in 0..<count {
            let index = (first + offset) % count
            if elements[index] != nil { return index }
        }
        return nil
    }

    /// This table with `keyTable` instead.
    func with(keyTable: ClusterKeyTable) -> ClusterRouteTable {
        ClusterRouteTable(topology: topology, generation: generation, primaries: primaries, keyTable: keyTable, replicas: replicas)
    }

    /// The primary that serves `slot`, or nil when none does.
    func primary(ofSlot slot: Int) -> ClusterNode? {
        primaryIndex(ofSlot: slot).flatMap { primaries[$0] }
    }

    /// The primary that takes a command without keys, from `start` (see
    /// ``anyPrimaryIndex(from:)``), or nil when no shard has one.
    func anyPrimary(from start: UInt) -> ClusterNode? {
        anyPrimaryIndex(from: start).flatMap { primaries[$0] }
    }
}

/// Routes the commands of a cluster client (``RedisEndpoint/cluster(seeds:)``): each to
/// the primary that serves its keys' slot, following the cluster as its slots move.
///
/// It learns the slot map from any seed that answers (`CLUSTER SHARDS`, or `CLUSTER
/// SLOTS` from a node that refuses it: before 7.0, or to a user without the right), keeps one ``ClusterNode`` (connection set) per node it
/// has talked to, and decides each command's fate with ``ClusterRetryMachine``: `MOVED`
/// patches the slot, re-sends to the new owner and refreshes the map in the background;
/// `ASK` sends `ASKING` and the command in one write to the target; `TRYAGAIN`,
/// `CLUSTERDOWN`, `LOADING`, `MASTERDOWN` and unreachable nodes are retried with backoff
/// within the command timeout. Refreshes go through ``ClusterRefreshMachine``: one fetch
/// in flight, everyone else waits for it.
///
/// Shared state (the route table, the nodes, the refresh machine) sits behind one
/// `Mutex`, held for O(1) work except when a node's connection set is first made.
final class ClusterRouter: Sendable {
    /// A caller waiting for a refresh: resumed once, with the fetch's outcome.
    struct Waiter: Sendable {
        let id: UInt64
        let resume: @Sendable (Result<Void, RedisError>) -> Void
    }

    struct State {
        var table: ClusterRouteTable?
        var refresh: ClusterRefreshMachine<Waiter>
        /// Every node talked to, by address: primaries, seeds, redirection targets.
        var nodes: [ClusterNodeAddress: ClusterNode] = [:]
        var nextWaiterID: UInt64 = 0
        var closed = false
        /// The periodic refresh's timer, cancelled on close.
        var periodicTimer: ScheduledTimer?
        /// Nodes whose connection failed, with when that was first seen: the map is
        /// fetched again every ``suspectRefreshInterval`` until it flags them failed (a
        /// failover follows), stops naming them, or ``suspectWatchLimit`` passes.
        var suspects: [ClusterNodeAddress: UInt64] = [:]
        /// Whether the loop that refreshes for suspects runs.
        var watching = false
        /// The key table route tables get: the built-in one until the server's is read.
        var keyTable = ClusterKeyTable.builtIn
        /// Whether the server's key table has been read (or is being read).
        var keyTableRequested = false
    }

    /// The cluster endpoint, as errors name it.
    let endpoint: RedisEndpoint
    /// Where discovery starts.
    let seeds: [ClusterNodeAddress]
    /// The clients of the nodes known now, for the metrics' report.
    var nodeClients: [RedisClient] {
        state.withLock { $0.nodes.values.map(\.client) }
    }

    /// The configuration every node's connection set uses.
    let configuration: RedisConfiguration
    /// The cluster client's reactors, shared by every node.
    let group: ReactorGroup
    let state: Mutex<State>
    /// Whether ``close(gracePeriod:)`` has been called; read per retry decision.
    let isClosed = Atomic<Bool>(false)
    /// Spreads keyless commands over the primaries.
    private let cursor = Atomic<UInt>(0)
    /// Moved (inside the lock, after the change) each time ``State/table`` changes: a
    /// reactor's copy of the table stands while this has not moved (``reactorSnapshot()``).
    let tableVersion = Atomic<UInt64>(0)
    /// Each reactor's own copy of the route table, by the reactor's identity.
    let reactorTables: [(reactor: ObjectIdentifier, copy: ReactorRouteTable)]
    /// What the periodic refresh and the nodes' loss callbacks reach the router through
    /// (not weakly: see ``SharedOwnerLink``); released by ``close(gracePeriod:)`` and
    /// ``detachForDeinit()``, which the cluster client's deinit calls.
    let link = SharedOwnerLink<ClusterRouter>()

    /// The least time between a failed fetch and the next for a caller that has a map.
    static let failedRefreshBackoff: UInt64 = 100_000_000
    /// How often the map is fetched while a node is suspected: a crashed primary is
    /// flagged failed after `cluster-node-timeout` and replaced about a second later,
    /// and commands for its slots wait for that.
    static let suspectRefreshInterval: Duration = .milliseconds(200)
    /// How long a suspect is watched at most (a node whose connection broke and that
    /// came back, or a cluster whose node timeout is long).
    static let suspectWatchLimit: UInt64 = 30_000_000_000

    /// A router for `endpoint`'s seeds. Checks what a cluster cannot be given.
    init(endpoint: RedisEndpoint, configuration: RedisConfiguration, group: ReactorGroup) throws(RedisError) {
        guard let seedEndpoints = endpoint.clusterSeeds, !seedEndpoints.isEmpty else {
            throw RedisError.invalidArgument("a cluster endpoint needs at least one seed")
        }
        var seeds: [ClusterNodeAddress] = []
        for seed in seedEndpoints {
            guard !seed.isCluster else { throw RedisError.invalidArgument("a cluster seed cannot itself be a cluster: \(seed)") }
            guard case .tcp(let host, let port) = seed.address else {
                throw RedisError.invalidArgument("a cluster seed must be a TCP host and port (cluster nodes announce TCP addresses), got \(seed)")
            }
            guard (1...65535).contains(port) else { throw RedisError.invalidArgument("seed port \(port) is outside 1…65535") }
            seeds.append(ClusterNodeAddress(host: host, port: port))
        }
        guard configuration.database == 0 else {
            throw RedisError.invalidArgument("a cluster has only database 0, not \(configuration.database)")
        }
        self.endpoint = endpoint
        self.seeds = seeds
        var configuration = configuration
        // READONLY on every node's connections (harmless on a primary), so a node's one
        // connection set serves whatever role it has now or takes in a failover.
        configuration.sendsReadOnly = configuration.readFrom != .primary
        self.configuration = configuration
        self.group = group
        reactorTables = group.reactors.map { (ObjectIdentifier($0), ReactorRouteTable()) }
        // A periodic tick is skipped when any fetch ended within the last half interval:
        // the whole interval would skip every other tick, whose previous fetch ended
        // just after the previous tick. Without a periodic refresh the spacing is moot.
        let periodic = configuration.clusterRefreshInterval.map { max($0.nanosecondsClamped / 2, 1) } ?? .max
        state = Mutex(State(refresh: ClusterRefreshMachine(periodicInterval: periodic, failureBackoff: Self.failedRefreshBackoff)))
        link.attach(self)
    }

    /// Starts the periodic refresh (``RedisConfiguration/clusterRefreshInterval``), which
    /// reaches the router through ``link``: it ends with the client even when nobody
    /// closes it.
    func startPeriodicRefresh() {
        guard let interval = configuration.clusterRefreshInterval else { return }
        let link = self.link
        let timer = group.next().schedule(after: interval, repeating: interval) {
            guard let router = link.owner, router.state.withLock({ $0.table != nil }) else { return }
            router.refresh(.periodic, seen: 0, resume: nil)
        }
        state.withLock { $0.periodicTimer = timer }
    }

    // MARK: Routing

    /// Where a command goes now.
    enum Resolution {
        /// To this node, by the map of this generation.
        case node(ClusterNode, generation: UInt64)
        /// No map yet: wait for the first one.
        case noMap
        /// The map names no owner for the slot.
        case noOwner(generation: UInt64)
        /// The client is closed.
        case closed
    }

    /// The current route table, nil before the first map and after close.
    func snapshot() -> ClusterRouteTable? {
        state.withLock { $0.table }
    }

    /// Makes `table` the current route table; `state` is the locked state.
    func publish(_ table: ClusterRouteTable?, in state: inout State) {
        state.table = table
        tableVersion.wrappingAdd(1, ordering: .releasing)
    }

    /// The key table a command is read with now.
    func currentKeyTable() -> ClusterKeyTable {
        snapshot()?.keyTable ?? .builtIn
    }

    /// The primary serving `slot`, or any primary for `nil` (a keyless command), by
    /// `taken` (a table the caller read already) or else the current table. `reads`: a
    /// read-only command that ``RedisConfiguration/readFrom`` lets go to a replica.
    func resolve(slot: Int?, reads: Bool = false, using taken: ClusterRouteTable? = nil) -> Resolution {
        guard let table = taken ?? snapshot() else { return isClosed.load(ordering: .acquiring) ? .closed : .noMap }
        if let slot {
            guard let shard = table.topology.shardIndex(ofSlot: slot), let node = table.primaries[shard] else {
                return .noOwner(generation: table.generation)
            }
            if reads, let reader = reader(among: table.replicas[shard], primary: node) {
                return .node(reader, generation: table.generation)
            }
            return .node(node, generation: table.generation)
        }
        guard let node = table.anyPrimary(from: nextKeylessStart()) else { return .noOwner(generation: table.generation) }
        return .node(node, generation: table.generation)
    }

    /// Where the next command without keys starts looking for a primary (see
    /// ``ClusterRouteTable/anyPrimaryIndex(from:)``).
    @inline(__always)
    func nextKeylessStart() -> UInt {
        cursor.wrappingAdd(1, ordering: .relaxed).oldValue
    }

    /// Where a hop leads (see ``target(of:slot:reads:using:)``).
    enum HopTarget {
        /// To this node, named by the map of this generation (0 for a redirection's
        /// target); `asking`: `ASKING` goes first, in the same write.
        case node(ClusterNode, generation: UInt64, asking: Bool)
        /// No map yet: wait for the first one.
        case noMap
        /// The map names no owner for the slot.
        case noOwner(generation: UInt64)
        /// Nowhere: the client is closed, or the redirection's target cannot be reached.
        case failed(RedisError)
    }

    /// Where `hop` takes a command of `slot` (`reads`, `taken`: as ``resolve(slot:reads:using:)``):
    /// the one step the single command's two facades and the pipeline share.
    func target(of hop: ClusterHop, slot: Int?, reads: Bool = false, using taken: ClusterRouteTable?) -> HopTarget {
        switch hop {
        case .route:
            switch resolve(slot: slot, reads: reads, using: taken) {
            case .node(let node, let generation): .node(node, generation: generation, asking: false)
            case .noMap: .noMap
            case .noOwner(let generation): .noOwner(generation: generation)
            case .closed: .failed(.closed)
            }
        case .node(let address, let asking):
            switch node(at: address) {
            case .success(let node): .node(node, generation: 0, asking: asking)
            case .failure(let error): .failed(error)
            }
        }
    }

    /// Where the common command's first attempt goes by `table`, when `reading` found one
    /// (see ``ClusterFirstRoute``, ``ClusterCommandReading/firstAttempt``) and the map names
    /// a primary for it. `nil` for any other command, which takes the general path with
    /// the same reading.
    @inline(__always)
    func firstRoute(_ reading: ClusterCommandReading, by table: ClusterRouteTable) -> ClusterFirstRoute? {
        let shard: Int
        let slot: Int?
        switch reading.firstAttempt {
        case .slot(let found)?:
            guard let owner = table.primaryIndex(ofSlot: found) else { return nil }
            (shard, slot) = (owner, found)
        case .anyPrimary?:
            guard let chosen = table.anyPrimaryIndex(from: nextKeylessStart()) else { return nil }
            (shard, slot) = (chosen, nil)
        case nil:
            return nil
        }
        return ClusterFirstRoute(shard: shard, slot: slot, generation: table.generation, keepsReply: reading.route == .removing)
    }

    /// The node that owns `slot` by the current map (waiting for the first), for a
    /// dedicated connection: no redirections or retries follow, so a slot without owner
    /// fails at once as the cluster would answer it.
    nonisolated(nonsending) func owner(ofSlot slot: Int) async throws -> ClusterNode {
        if snapshot() == nil { try await awaitRefresh(.initial, seen: 0) }
        switch resolve(slot: slot) {
        case .node(let node, _): return node
        case .closed: throw RedisError.closed
        case .noMap, .noOwner: throw Self.noOwnerError(slot: slot)
        }
    }

    /// The error for a command whose slot has no owner in the map (the cluster's own
    /// `CLUSTERDOWN` wording): single commands, pipelines and dedicated connections alike.
    static func noOwnerError(slot: Int?) -> RedisError {
        .server(message: "CLUSTERDOWN Hash slot \(slot.map(String.init) ?? "") has no owner in the client's slot map")
    }

    /// The node a read goes to, as ``RedisConfiguration/readFrom`` says: a replica in turn
    /// (or the primary among them, for `.any`); nil for the primary.
    private func reader(among replicas: [ClusterNode], primary: ClusterNode) -> ClusterNode? {
        guard !replicas.isEmpty else { return nil }
        let turn = Int(cursor.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(replicas.count + 1))
        switch configuration.readFrom {
        case .primary: return nil
        case .replicaPreferred: return replicas[turn % replicas.count]
        case .any: return turn == replicas.count ? nil : replicas[turn]
        }
    }

    /// The node at `address`, its connection set made on first use.
    func node(at address: ClusterNodeAddress) -> Result<ClusterNode, RedisError> {
        state.withLock { state in
            guard !state.closed else { return .failure(.closed) }
            return Self.node(at: address, in: &state, configuration: configuration, group: group, router: self)
        }
    }

    /// ``node(at:)`` under the lock. Making a client opens no socket (it connects on its
    /// first command): this is a few allocations, and TLS settings read once per node.
    static func node(at address: ClusterNodeAddress, in state: inout State, configuration: RedisConfiguration,
                     group: ReactorGroup, router: ClusterRouter) -> Result<ClusterNode, RedisError> {
        if let existing = state.nodes[address] { return .success(existing) }
        do {
            // Through the link: the router owns its nodes' clients.
            let link = router.link
            let client = try RedisClient(.tcp(host: address.host, port: address.port), configuration: configuration, group: group,
                                         onConnectionLoss: { link.owner?.suspect(address) },
                                         routedFailures: ClusterNodeFailures(link: link, address: address))
            let node = ClusterNode(address: address, client: client)
            state.nodes[address] = node
            return .success(node)
        } catch {
            return .failure(error)
        }
    }

    /// A `MOVED` to `address` for `slot`, met by a command routed with map `seen`: the
    /// slot is patched when `address` is a known primary, and the map refreshed in the
    /// background whenever it did not already say so. A `MOVED` that the map already
    /// reflects (the many commands in flight when a slot moved) costs nothing more.
    func moved(slot: Int, to address: ClusterNodeAddress, seen: UInt64) {
        let stale = state.withLock { state -> Bool in
            guard let table = state.table, !state.closed else { return false }
            if table.primary(ofSlot: slot)?.address == address { return false }
            var topology = table.topology
            if topology.applyMoved(slot: slot, to: address) {
                publish(ClusterRouteTable(topology: topology, generation: table.generation, primaries: table.primaries,
                                          keyTable: table.keyTable, replicas: table.replicas), in: &state)
            }
            return true
        }
        if stale { refresh(.redirected, seen: seen, resume: nil) }
    }

    // MARK: Suspects

    /// Notes a failure of `node`'s connection seen by a command, so that the map is
    /// watched until the cluster decides about the node. Called on failures only.
    func noteFailure(_ result: Result<RESPValue, RedisError>, on address: ClusterNodeAddress) {
        guard case .failure(let error) = result else { return }
        switch error {
        case .connectionFailed, .connectionLost: suspect(address)
        default: return
        }
    }

    /// Starts watching `address` (see ``State/suspects``).
    func suspect(_ address: ClusterNodeAddress) {
        let now = monotonicNanoseconds()
        let start = state.withLock { state -> Bool in
            guard !state.closed else { return false }
            if state.suspects[address] == nil { state.suspects[address] = now }
            guard !state.watching else { return false }
            state.watching = true
            return true
        }
        guard start else { return }
        Task(executorPreference: group.next()) { [self] in
            while true {
                try? await Task.sleep(for: Self.suspectRefreshInterval)
                let now = monotonicNanoseconds()
                let seen = state.withLock { state -> UInt64? in
                    state.suspects = state.suspects.filter { now &- $0.value < Self.suspectWatchLimit }
                    guard !state.closed, !state.suspects.isEmpty else {
                        state.watching = false
                        return nil
                    }
                    return state.table?.generation ?? 0
                }
                guard let seen else { return }
                refresh(.connectionLost, seen: seen, resume: nil)
            }
        }
    }

    // MARK: Closing

    /// Closes every node's connections (see ``RedisClient/close(gracePeriod:)``) and
    /// fails the callers waiting for a map with ``RedisError/closed``.
    func close(gracePeriod: Duration) async {
        guard !isClosed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        link.release()
        let (waiters, nodes) = state.withLock { state in
            state.closed = true
            state.periodicTimer?.cancel()
            let nodes = Array(state.nodes.values)
            state.nodes.removeAll()
            publish(nil, in: &state)
            return (state.refresh.close(), nodes)
        }
        for waiter in waiters { waiter.resume(.failure(.closed)) }
        await withTaskGroup(of: Void.self) { group in
            for node in nodes {
                group.addTask { await node.client.close(gracePeriod: gracePeriod) }
            }
        }
    }

    /// For the cluster client's deinit: marks every node's client closed and hands over
    /// its connections, which the deinit closes on their reactors before it stops them.
    func detachForDeinit() -> [RedisConnection] {
        isClosed.store(true, ordering: .releasing)
        link.release()
        let nodes = state.withLock { state in
            state.closed = true
            state.periodicTimer?.cancel()
            defer { state.nodes.removeAll() }
            return Array(state.nodes.values)
        }
        return nodes.flatMap { $0.client.detachForDeinit() }
    }

    // MARK: Helpers

    /// `ASKING`, encoded once: sent before a command an `ASK` redirected, in the same write.
    static let asking: [UInt8] = {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "ASKING")
        return bytes
    }()

    /// The command's name, for errors.
    static func commandName(_ bytes: [UInt8]) -> String {
        EncodedCommand.names(bytes, count: 1).first ?? "command"
    }

    /// The error for a command whose tips send it to every primary or node in a way
    /// this version does not combine (`INFO`'s text per node), or any such command inside
    /// a pipeline (`SCAN` included): sent to one node, it would answer for that node alone.
    static func fanOutRefusal(_ bytes: [UInt8]) -> RedisError {
        .unsupportedCommand(
            command: commandName(bytes),
            reason: "on a cluster it runs on every primary (SCAN: on each in turn), which this client does only for the command sent on its own (and not for INFO); send it on its own, or to each node with a client of its own")
    }

    /// A redirection's target as an address: a target without a host is on the host that answered.
    static func address(of target: ClusterRedirection.Target, answeredBy node: ClusterNodeAddress) -> ClusterNodeAddress {
        target.address(answeredBy: node.host)
    }
}
