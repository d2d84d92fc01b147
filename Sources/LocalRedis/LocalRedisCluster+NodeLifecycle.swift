import Glibc

/// Crashes, stops, restarts and failovers of single nodes.
extension LocalRedisCluster {
    /// How `failover(_:mode:timeout:)` asks a replica to take over (CLUSTER FAILOVER's options).
    public enum FailoverMode: Sendable, Hashable {
        /// The primary stops clients, the replica catches up, then takes over: no write is
        /// lost. The primary must be up.
        case coordinated
        /// Without the primary's help (it may be down), still with the other primaries' votes.
        case force
        /// Without anyone's agreement: the replica bumps its epoch and takes the slots.
        case takeover
    }

    /// Kills `node` with SIGKILL, as a crash would, and returns once the process is gone
    /// (its ports closed). Its peers flag it failing after ``Configuration/nodeTimeout``;
    /// for a primary, ``waitForPromotion(of:timeout:)`` or ``waitUntilSettled(timeout:)``
    /// then waits for a replica to take over. ``restartNode(_:timeout:)`` brings it back.
    ///
    /// - Throws: `.notRunning` after `stop()`; `.signalFailed` when the process cannot be
    ///   signalled or does not exit.
    public func kill(_ node: Node) throws(LocalRedisError) {
        try end(try member(for: node), signal: SIGKILL, gracePeriod: .seconds(10))
    }

    /// Stops `node` gracefully (SIGTERM; SIGKILL after ``Configuration/stopGracePeriod``),
    /// keeping its directory and nodes.conf for ``restartNode(_:timeout:)``. A primary with
    /// replicas first lets them catch up (redis' `shutdown-timeout`).
    public func stopNode(_ node: Node) throws(LocalRedisError) {
        let member = try member(for: node)
        do {
            try end(member, signal: SIGTERM, gracePeriod: configuration.stopGracePeriod)
        } catch {
            guard case .signalFailed = error else { throw error }
            try end(member, signal: SIGKILL, gracePeriod: .seconds(10))
        }
    }

    /// Starts `node` again on its ports with its nodes.conf, so it rejoins as the node it was
    /// (a primary whose slots were taken over comes back as a replica of the new owner), and
    /// waits until the cluster has settled with it. Its data is gone: persistence is off, and
    /// a replica resyncs from its primary. Restarting a running node stops it first.
    ///
    /// - Throws: the start errors of ``LocalRedisServer/restart(downtime:holdingDownWhile:)``;
    ///   `.clusterWaitTimedOut` when the cluster does not settle within `timeout`.
    public func restartNode(_ node: Node, timeout: Duration = .seconds(20)) throws(LocalRedisError) {
        let member = try member(for: node)
        guard !state.withLock({ $0.isStopped }) else { throw .notRunning }
        try member.server.restart()
        state.withLock { _ = $0.down.remove(member.id) }
        try settle("\(member.label) to rejoin and the cluster to settle", timeout: timeout)
    }

    /// Makes `replica` a primary with `CLUSTER FAILOVER`, and returns it once it is primary,
    /// the cluster has settled and every running node agrees. In the default coordinated
    /// mode no acknowledged write is lost and the old primary becomes its replica. With
    /// `.force` or `.takeover` on the replica of a primary that is down, the cluster may
    /// elect it on its own before the command arrives; that counts as the promotion.
    ///
    /// - Throws: `.invalidClusterOperation` when `replica` is a primary or down;
    ///   `.clusterReplyUnexpected` when the node refuses; `.clusterWaitTimedOut`.
    @discardableResult
    public func failover(_ replica: Node, mode: FailoverMode = .coordinated, timeout: Duration = .seconds(20)) throws(LocalRedisError) -> Node {
        let member = try member(for: replica)
        let current = try runningNode(member, for: "failover")
        guard !current.isPrimary else {
            throw .invalidClusterOperation(reason: "failover needs a replica; \(current) is a primary")
        }
        let option: [String] = switch mode {
        case .coordinated: []
        case .force: ["FORCE"]
        case .takeover: ["TAKEOVER"]
        }
        let command = ["CLUSTER", "FAILOVER"] + option
        let reply = try Self.call([command], on: member)[0]
        // The replica of a stopped or killed primary may have been elected on its own
        // (after the node timeout) since the layout was last read: then it is promoted
        // already, which is what the caller waits for.
        if reply != .simple("OK"), mode != .coordinated,
           case .array(let role)? = try? Self.call([["ROLE"]], on: member)[0], role.first?.string == "master" {
            return try waitForPromotion(of: replica, timeout: timeout)
        }
        guard reply == .simple("OK") else {
            throw .clusterReplyUnexpected(command: command.joined(separator: " "), node: member.label, expected: "+OK", reply: reply.description)
        }
        return try waitForPromotion(of: replica, timeout: timeout)
    }

    /// Waits until `replica` has become a primary (after its primary was killed, say), the
    /// cluster has settled and every running node agrees; returns the promoted node.
    @discardableResult
    public func waitForPromotion(of replica: Node, timeout: Duration = .seconds(20)) throws(LocalRedisError) -> Node {
        let member = try member(for: replica)
        try settle("\(member.label) to be promoted to primary, agreed by every running node", timeout: timeout) { topology in
            topology.assignments[member.id]?.primaryID == nil ? nil : "\(member.label) is not a primary yet"
        }
        return state.withLock { node(member, in: $0) }
    }

    /// `member` as last agreed on, which must be running for `operation`.
    func runningNode(_ member: Member, for operation: String) throws(LocalRedisError) -> Node {
        let current = state.withLock { node(member, in: $0) }
        guard current.isRunning else {
            throw .invalidClusterOperation(reason: "\(operation) needs a running node; \(current) is down")
        }
        return current
    }

    /// Signals `member`'s process and waits for its exit without reaping it (see
    /// ``ClusterNodeSignal``); marks it down first, so no wait counts on it meanwhile.
    private func end(_ member: Member, signal: Int32, gracePeriod: Duration) throws(LocalRedisError) {
        guard !state.withLock({ $0.isStopped }), let pid = member.server.pid else { throw .notRunning }
        state.withLock { _ = $0.down.insert(member.id) }
        if let errno = ClusterNodeSignal.signalAndAwaitExit(pid: pid, signal: signal, timeout: gracePeriod) {
            throw .signalFailed(signal: signal, pid: pid, errno: errno)
        }
    }
}
