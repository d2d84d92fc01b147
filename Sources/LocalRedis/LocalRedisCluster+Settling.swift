extension LocalRedisCluster {
    /// Waits until the cluster has settled, then records the layout it agreed on: every
    /// running node knows exactly the cluster's nodes and flags none of the running ones as
    /// failing; all report `cluster_state:ok` and agree on every node's role and slots; every
    /// slot has one owner and that owner runs; every running replica follows a running
    /// primary with its link up and its sync done; and every running node answers CLUSTER
    /// SLOTS alike, naming each range's owner and every running replica of it, so that a
    /// client discovers the same layout from any seed.
    ///
    /// After `kill(primary)` this returns once a replica has taken over its slots. After
    /// `kill(replica)` it returns soon: Redis lists a dead replica in CLUSTER SLOTS until the
    /// primaries flag it `fail` (in a one-primary cluster Redis 7.0 never does), and the wait
    /// asks only that all nodes say the same about it.
    ///
    /// - Throws: `.clusterWaitTimedOut`, naming what still stood in the way; `.notRunning`
    ///   after `stop()`.
    public func waitUntilSettled(timeout: Duration = .seconds(20)) throws(LocalRedisError) {
        try settle("the cluster to settle", timeout: timeout)
    }

    /// What one look at the cluster came to.
    enum Look<Value> {
        case done(Value)
        /// Not yet, and why: the reason a timeout reports.
        case notYet(String)
    }

    /// How long a wait sleeps between looks: a look at six nodes costs about a millisecond.
    static var lookInterval: Duration { .milliseconds(10) }

    /// Looks until `look` is done or `timeout` has passed.
    static func waitUntil<Value>(_ what: String, timeout: Duration, _ look: () -> Look<Value>) throws(LocalRedisError) -> Value {
        let deadline = ContinuousClock.now + timeout
        while true {
            let obstacle: String
            switch look() {
            case let .done(value): return value
            case let .notYet(reason): obstacle = reason
            }
            guard ContinuousClock.now < deadline else {
                throw .clusterWaitTimedOut(waitingFor: what, after: timeout, lastObstacle: obstacle)
            }
            blockingSleep(lookInterval)
        }
    }

    /// Waits until the cluster has settled and `condition` (nil: met; else why not) holds
    /// for the agreed layout, then records that layout.
    @discardableResult
    func settle(
        _ what: String, timeout: Duration, until condition: (ClusterTopology) -> String? = { _ in nil }
    ) throws(LocalRedisError) -> ClusterTopology {
        let (running, isStopped) = state.withLock { state in
            (members.filter { !state.down.contains($0.id) }, state.isStopped)
        }
        guard !isStopped else { throw .notRunning }
        let check = ClusterSettledCheck(
            ports: Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0.server.port) }), running: Set(running.map(\.id))
        )
        let topology = try Self.waitUntil(what, timeout: timeout) { () -> Look<ClusterTopology> in
            switch Self.observe(running) {
            case let .notYet(obstacle):
                return .notYet(obstacle)
            case let .done(observations):
                switch check.verdict(observations) {
                case let .unsettled(obstacle): return .notYet(obstacle)
                case let .settled(topology): return condition(topology).map { .notYet($0) } ?? .done(topology)
                }
            }
        }
        state.withLock { $0.topology = topology }
        return topology
    }

    /// One look at each of `members`: CLUSTER INFO, CLUSTER NODES, INFO replication and
    /// CLUSTER SLOTS in one exchange per node.
    static func observe(_ members: [Member]) -> Look<[String: ClusterObservation]> {
        let commands = [["CLUSTER", "INFO"], ["CLUSTER", "NODES"], ["INFO", "replication"], ["CLUSTER", "SLOTS"]]
        var observations: [String: ClusterObservation] = [:]
        for member in members {
            let replies: [Reply]
            switch RESPReplyExchange.run(commands, with: member.endpoint, timeout: .seconds(1)) {
            case let .success(received): replies = received
            case let .failure(failure): return .notYet("\(member.label) did not answer: \(failure.description)")
            }
            guard let info = replies[0].string, let nodes = replies[1].string, let table = ClusterNodesTable.parse(nodes),
                  let replication = replies[2].string, let slotTable = ClusterSlotsTable.parse(replies[3])
            else {
                return .notYet("\(member.label) answered CLUSTER INFO, CLUSTER NODES, INFO replication, CLUSTER SLOTS with "
                    + replies.map(\.description).joined(separator: "; "))
            }
            observations[member.id] = ClusterObservation(
                isStateOK: ClusterObservation.infoFields(info)["cluster_state"] == "ok",
                table: table,
                replication: ClusterObservation.infoFields(replication),
                slotTable: slotTable
            )
        }
        return .done(observations)
    }
}
