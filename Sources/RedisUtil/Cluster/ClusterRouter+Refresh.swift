import Reactor
import RESP

/// Fetching the slot map: at most one fetch in flight (``ClusterRefreshMachine``), from
/// the known nodes (primaries first) and then the seeds, one after another, so that many
/// callers cost one `CLUSTER SHARDS`.
extension ClusterRouter {
    /// How long one node may take to answer `CLUSTER SHARDS` before the next is asked.
    static let fetchTimeout: Duration = .seconds(2)

    /// Asks for a map fresher than generation `seen`. `resume`, when given, is called
    /// once the caller may route again: at once when no fetch is needed, else when the
    /// fetch ends (with its error when it failed). Without `resume` the refresh runs in
    /// the background.
    func refresh(_ reason: ClusterRefreshMachine<Waiter>.Reason, seen: UInt64,
                 resume: (@Sendable (Result<Void, RedisError>) -> Void)?) {
        let now = monotonicNanoseconds()
        let request = state.withLock { state -> ClusterRefreshMachine<Waiter>.Request? in
            guard !state.closed else { return nil }
            var waiter: Waiter?
            if let resume {
                state.nextWaiterID += 1
                waiter = Waiter(id: state.nextWaiterID, resume: resume)
            }
            return state.refresh.request(reason, seen: seen, now: now, waiter: waiter)
        }
        switch request {
        case nil:
            resume?(.failure(.closed))
        case .start?:
            // On a reactor rather than the global pool: a fetch must not wait behind tasks
            // that wait for it.
            Task(executorPreference: group.next()) { await self.fetch() }
        case .joined?:
            break
        case .current?:
            resume?(.success(()))
        }
    }

    /// ``refresh(_:seen:resume:)`` for async callers: returns when the caller may route
    /// again; throws the fetch's error when it failed.
    nonisolated(nonsending) func awaitRefresh(_ reason: ClusterRefreshMachine<Waiter>.Reason, seen: UInt64) async throws {
        // Not cancellable: the wait is bounded by the fetch's timeouts, and a waiter
        // removed early would only save the caller that long.
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<Void, any Error>) in
            refresh(reason, seen: seen) { continuation.resume(with: $0.mapError { $0 as any Error }) }
        }
    }

    /// Fetches the map from the first node that gives one and applies it, or reports
    /// the failure; resumes every waiter either way.
    private func fetch() async {
        let candidates = state.withLock { state -> [ClusterNodeAddress] in
            var seen = Set<ClusterNodeAddress>()
            var list: [ClusterNodeAddress] = []
            // Primaries first: they learn of slot moves before their replicas do. Nodes
            // whose connection failed, or that the map flags failed, last: a dead one
            // would hold the fetch for its whole timeout.
            let topology = state.table?.topology
            let failed = Set(topology?.allNodes.filter { $0.health == .failed }.map(\.address) ?? [])
            let known = (topology?.primaries.map(\.address) ?? []) + (topology?.allNodes.map(\.address) ?? [])
            let suspects = state.suspects
            let doubtful = { (address: ClusterNodeAddress) in suspects[address] != nil || failed.contains(address) }
            for address in known + seeds where !doubtful(address) && seen.insert(address).inserted { list.append(address) }
            for address in known + seeds where seen.insert(address).inserted { list.append(address) }
            return list
        }
        var failures: [String] = []
        // When no node gave the map, a refused handshake (a wrong password, a user without
        // the right to one of its commands, a node out of connections) is the error to act
        // on, not the list of failures: typed as on one server (the nodes share one ACL).
        var refusal: RedisError?
        for address in candidates {
            guard !isClosed.load(ordering: .acquiring) else { break }
            switch node(at: address) {
            case .failure(let error):
                failures.append("\(address): \(error)")
            case .success(let node):
                do {
                    let topology = try await fetchTopology(from: node)
                    // Before the first map is applied, so that the first commands route by it too.
                    await readKeyTableOnce(from: node)
                    apply(topology)
                    return
                } catch {
                    failures.append("\(address): \(error)")
                    if refusal == nil, let error = error as? RedisError, case .handshakeFailed = error { refusal = error }
                }
            }
        }
        let error = refusal ?? RedisError.connectionFailed(
            endpoint: endpoint.description,
            reason: "no node gave the cluster's slot map (" + (failures.isEmpty ? "the client is closed" : failures.joined(separator: "; ")) + ")")
        let waiters = state.withLock { state in state.closed ? [] : state.refresh.failed(now: monotonicNanoseconds()) }
        for waiter in waiters { waiter.resume(.failure(error)) }
    }

    /// The map as `node` sees it: `CLUSTER SHARDS`, or `CLUSTER SLOTS` from a node that
    /// refuses the former. Any refusal, not only an unknown subcommand's, whose wording
    /// varies (`ERR unknown subcommand` from 5.0 on, `ERR Wrong CLUSTER subcommand or number
    /// of arguments` before): an ACL user may lack `cluster|shards` (`NOPERM`) and have
    /// `cluster|slots`, as on a managed service. When `CLUSTER SLOTS` is refused too, the
    /// first refusal is the error (a node without cluster support says so to both).
    nonisolated(nonsending) private func fetchTopology(from node: ClusterNode) async throws -> ClusterTopology {
        let preferTLS = configuration.tls != nil
        let connection = if let ready = node.client.connectionIfRoom() { ready } else { try await node.client.connectionWithCapacity() }
        let topology: ClusterTopology
        var source = "CLUSTER SHARDS"
        do {
            let reply = try await mapReply(Self.clusterShards, on: connection, of: node)
            topology = try ClusterTopology(shardsReply: reply, answeredBy: node.address.host, preferTLS: preferTLS)
        } catch RedisError.server(let refusal) {
            source = "CLUSTER SLOTS"
            let reply: RESPValue
            do {
                reply = try await mapReply(Self.clusterSlots, on: connection, of: node)
            } catch RedisError.server {
                throw RedisError.server(message: refusal)
            }
            topology = try ClusterTopology(slotsReply: reply, answeredBy: node.address.host, preferTLS: preferTLS)
        }
        guard topology.coveredSlotCount > 0 else { throw RedisError.server(message: "\(source) lists no slot owner") }
        return topology
    }

    /// The reply to a map command (`bytes`) sent on `connection` of `node`, within the
    /// fetch's timeout; or, as soon as an attempt of the connection to connect fails
    /// after the command was queued, that failure: a seed that refuses connections (a
    /// node gone, a stale seed list) would otherwise hold the discovery for the whole
    /// timeout while its connection retries, and the next candidate may answer at once.
    /// Only attempts made for this command count, not earlier ones: a node refused
    /// once and up again is asked. A watcher polls the connection's count while the
    /// command waits (a fetch is rare: at a change, and every refresh interval).
    nonisolated(nonsending) private func mapReply(_ bytes: [UInt8], on connection: RedisConnection, of node: ClusterNode) async throws -> RESPValue {
        let failuresBefore = connection.failedAttempts.load(ordering: .relaxed)
        return try await withThrowingTaskGroup(of: RESPValue?.self) { group in
            group.addTask { try await connection.perform(bytes, timeout: .after(Self.fetchTimeout)) }
            group.addTask {
                while connection.failedAttempts.load(ordering: .relaxed) == failuresBefore { try await Task.sleep(for: Self.attemptPollInterval) }
                return nil
            }
            // The other child is cancelled, whichever finished first: a cancelled map
            // command completes at once (under the default cancellation policy).
            defer { group.cancelAll() }
            guard let first = try await group.next(), let reply = first else {
                throw RedisError.connectionFailed(endpoint: node.address.description, reason: "its attempt to connect failed")
            }
            return reply
        }
    }

    /// How often ``mapReply(_:on:of:)`` looks at the connection's failed attempts.
    static let attemptPollInterval: Duration = .milliseconds(10)

    /// Installs a fetched map: a new route table when it differs from the one held
    /// (connection sets made for new primaries), and the connection sets of nodes no
    /// longer in the cluster closed. Resumes the waiters.
    private func apply(_ topology: ClusterTopology) {
        let now = monotonicNanoseconds()
        let (waiters, removed) = state.withLock { state -> ([Waiter], [(node: ClusterNode, failed: Bool)]) in
            guard !state.closed else { return ([], []) }
            let changed = state.table?.topology != topology
            let (waiters, generation) = state.refresh.fetched(changed: changed, now: now)
            // Suspects the map has decided about are no longer watched: flagged failed
            // (their slots get a new owner), gone, or not serving slots.
            let primaries = Set(topology.primaries.filter { $0.health != .failed }.map(\.address))
            let failed = Set(topology.allNodes.filter { $0.health == .failed }.map(\.address))
            state.suspects = state.suspects.filter { primaries.contains($0.key) && !failed.contains($0.key) }
            guard changed || state.table == nil else { return (waiters, []) }
            // A primary the cluster flags failed routes nothing: its commands wait for its
            // replacement (``ClusterRetryMachine/unrouted(_:now:)``) instead of queueing
            // on a dead node's connections.
            let shardPrimaries = topology.primaries.map { primary -> ClusterNode? in
                guard primary.health != .failed else { return nil }
                return try? Self.node(at: primary.address, in: &state, configuration: configuration, group: group, router: self).get()
            }
            let replicas = topology.shards.map { shard -> [ClusterNode] in
                guard configuration.readFrom != .primary else { return [] }
                return shard.replicas.filter { $0.health == .online }.compactMap {
                    try? Self.node(at: $0.address, in: &state, configuration: configuration, group: group, router: self).get()
                }
            }
            publish(ClusterRouteTable(topology: topology, generation: generation, primaries: shardPrimaries, keyTable: state.keyTable,
                                      replicas: replicas), in: &state)
            let present = Set(topology.allNodes.filter { $0.health != .failed }.map(\.address))
            let removed = state.nodes.filter { !present.contains($0.key) }
            for address in removed.keys { state.nodes[address] = nil }
            return (waiters, removed.map { ($0.value, failed.contains($0.key)) })
        }
        for waiter in waiters { waiter.resume(.success(())) }
        if !removed.isEmpty {
            // A node that left the map still answers what it was sent (MOVED, which the
            // router follows). A failed one will not: commands queued for it fail now,
            // never sent, and are routed again (``ClusterRetryMachine`` retries
            // ``RedisError/closed`` while the cluster client is open).
            Task { for (node, failed) in removed { await node.client.close(gracePeriod: failed ? .zero : .seconds(5)) } }
        }
    }

    /// Reads the server's own key specs (`COMMAND`, one round trip and a few
    /// milliseconds of parsing) the first time a map is fetched,
    /// and merges them over the built-in table (``ClusterKeyTable/merging(_:)``): commands
    /// the library does not know then route by their keys from the start, instead of
    /// through a `MOVED`. Tried again at the next fetch when it fails; commands route by
    /// the built-in table meanwhile.
    nonisolated(nonsending) private func readKeyTableOnce(from node: ClusterNode) async {
        let first = state.withLock { state -> Bool in
            guard !state.keyTableRequested else { return false }
            state.keyTableRequested = true
            return true
        }
        guard first else { return }
        do {
            let connection = if let ready = node.client.connectionIfRoom() { ready } else { try await node.client.connectionWithCapacity() }
            let reply = try await connection.perform(Self.command, timeout: .after(Self.fetchTimeout))
            let merged = ClusterKeyTable.builtIn.merging(try ClusterKeyTable.parse(commandReply: reply).table)
            state.withLock { state in
                state.keyTable = merged
                publish(state.table?.with(keyTable: merged), in: &state)
            }
        } catch {
            configuration.logger.warning("cannot read the cluster's command key specs; routing by the built-in table",
                                         metadata: ["error": "\(error)"])
            state.withLock { $0.keyTableRequested = false }
        }
    }

    static let command: [UInt8] = {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "COMMAND")
        return bytes
    }()

    static let clusterShards: [UInt8] = {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "CLUSTER", "SHARDS")
        return bytes
    }()

    static let clusterSlots: [UInt8] = {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "CLUSTER", "SLOTS")
        return bytes
    }()
}
