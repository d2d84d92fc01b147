extension LocalRedisCluster {
    /// Sends one command to `node` and returns its reply; an error reply (`MOVED`, `ASK`,
    /// `CLUSTERDOWN`, ...) is a reply, not a throw.
    ///
    /// ```swift
    /// let reply = try cluster.command(["SET", "k", "v"], on: try cluster.owner(ofKey: "k"))
    /// ```
    ///
    /// - Throws: `.clusterCommandFailed` when the node does not answer within `timeout`
    ///   (it is down, say), `.clusterReplyUnexpected` when the reply is not RESP2.
    public func command(_ arguments: [String], on node: Node, timeout: Duration = .seconds(5)) throws(LocalRedisError) -> Reply {
        try Self.call(arguments, on: try member(for: node), timeout: timeout)
    }

    /// Sends `commands` to `node` on one connection, in one write, and returns their replies
    /// in order: for commands that only mean something together, such as `ASKING` and the
    /// command it allows.
    ///
    /// ```swift
    /// let replies = try cluster.commands([["ASKING"], ["GET", key]], on: migration.target)
    /// ```
    public func commands(_ commands: [[String]], on node: Node, timeout: Duration = .seconds(5)) throws(LocalRedisError) -> [Reply] {
        guard !commands.isEmpty else { return [] }
        return try Self.call(commands, on: try member(for: node), timeout: timeout)
    }

    /// The hash slot of `key`, as a running node computes it (`CLUSTER KEYSLOT`).
    public func keySlot(_ key: String) throws(LocalRedisError) -> Int {
        try keySlots([key])[0]
    }

    /// The hash slots of `keys`, in order, from a running node in pipelined batches: for
    /// checking a client's own slot function against the server's on many keys.
    public func keySlots(_ keys: [String]) throws(LocalRedisError) -> [Int] {
        let member = try anyRunningMember()
        var slots: [Int] = []
        var start = keys.startIndex
        while start < keys.endIndex {
            let batch = keys[start..<min(start + 1000, keys.endIndex)]
            let replies = try Self.call(batch.map { ["CLUSTER", "KEYSLOT", $0] }, on: member)
            for (key, reply) in zip(batch, replies) {
                guard let slot = reply.integer else {
                    throw .clusterReplyUnexpected(command: "CLUSTER KEYSLOT \(key)", node: member.label,
                                                  expected: "an integer", reply: reply.description)
                }
                slots.append(slot)
            }
            start = batch.endIndex
        }
        return slots
    }

    /// The primary that owns `slot`, as last agreed on (see the type's documentation).
    ///
    /// - Throws: `.invalidClusterOperation` for a slot outside 0...16383 or one without owner.
    public func owner(ofSlot slot: Int) throws(LocalRedisError) -> Node {
        guard (0..<ClusterSlots.count).contains(slot) else {
            throw .invalidClusterOperation(reason: "slot \(slot) is outside 0...\(ClusterSlots.count - 1)")
        }
        let owner: Node? = state.withLock { state in
            state.topology.owner(ofSlot: slot).flatMap { id in members.first { $0.id == id } }.map { node($0, in: state) }
        }
        guard let owner else { throw .invalidClusterOperation(reason: "slot \(slot) has no owner in the last agreed topology") }
        return owner
    }

    /// The primary that owns `key`'s slot, as last agreed on.
    public func owner(ofKey key: String) throws(LocalRedisError) -> Node {
        try owner(ofSlot: try keySlot(key))
    }

    func anyRunningMember() throws(LocalRedisError) -> Member {
        let member: Member? = state.withLock { state in
            state.isStopped ? nil : members.first { !state.down.contains($0.id) }
        }
        guard let member else { throw .notRunning }
        return member
    }

    // MARK: Exchanges

    static func call(_ arguments: [String], on member: Member, timeout: Duration = .seconds(5)) throws(LocalRedisError) -> Reply {
        try call([arguments], on: member, timeout: timeout)[0]
    }

    /// Sends `commands` in one exchange and returns their replies in order.
    static func call(_ commands: [[String]], on member: Member, timeout: Duration = .seconds(5)) throws(LocalRedisError) -> [Reply] {
        switch RESPReplyExchange.run(commands, with: member.endpoint, timeout: timeout) {
        case let .success(replies):
            return replies
        case let .failure(.noAnswer(outcome)):
            throw .clusterCommandFailed(command: show(commands), node: member.label,
                                        outcome: RESPReplyExchange.Failure.noAnswer(outcome).description)
        case let .failure(.malformed(reason)):
            throw .clusterReplyUnexpected(command: show(commands), node: member.label, expected: "RESP2", reply: reason)
        }
    }

    static func expectOK(_ command: [String], on member: Member) throws(LocalRedisError) {
        try expectOK([command], on: member)
    }

    /// Sends `commands` in one exchange; each must answer `+OK`.
    static func expectOK(_ commands: [[String]], on member: Member) throws(LocalRedisError) {
        for (command, reply) in zip(commands, try call(commands, on: member)) where reply != .simple("OK") {
            throw .clusterReplyUnexpected(command: show([command]), node: member.label, expected: "+OK", reply: reply.description)
        }
    }

    private static func show(_ commands: [[String]]) -> String {
        commands.map { $0.joined(separator: " ") }.joined(separator: "; ")
    }
}
