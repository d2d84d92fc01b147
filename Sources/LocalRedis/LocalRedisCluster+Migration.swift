extension LocalRedisCluster {
    /// A slot on its way from one primary to another, between ``LocalRedisCluster/beginMigration(ofSlot:to:)``
    /// and ``LocalRedisCluster/finishMigration(_:timeout:)``: the source answers `ASK` for
    /// keys it no longer has, the target accepts them after `ASKING`.
    public struct SlotMigration: Sendable, Hashable {
        /// The slot being moved.
        public let slot: Int
        /// The primary that owned it.
        public let source: Node
        /// The primary that will own it.
        public let target: Node
    }

    /// Moves `slot`, with its keys, to the primary `target`, and returns once every running
    /// node agrees that `target` owns it. Returns how many keys moved.
    ///
    /// The steps (each also public, so a test can stop mid-way and see `ASK`):
    /// ``beginMigration(ofSlot:to:)``, ``moveRemainingKeys(of:batchSize:)``,
    /// ``finishMigration(_:timeout:)``.
    @discardableResult
    public func migrate(slot: Int, to target: Node, timeout: Duration = .seconds(20)) throws(LocalRedisError) -> Int {
        try finishMigration(try beginMigration(ofSlot: slot, to: target), timeout: timeout)
    }

    /// Marks `slot` importing on `target` (`CLUSTER SETSLOT slot IMPORTING source`) and then
    /// migrating on its owner (`… MIGRATING target`). From then on the owner answers `ASK`
    /// for keys of the slot it does not have, and `target` serves them after `ASKING`.
    ///
    /// - Throws: `.invalidClusterOperation` when `target` is not a running primary, already
    ///   owns the slot, or the slot is out of range.
    public func beginMigration(ofSlot slot: Int, to target: Node) throws(LocalRedisError) -> SlotMigration {
        let source = try owner(ofSlot: slot)
        let targetMember = try member(for: target)
        let sourceMember = try member(for: source)
        let current = try runningNode(targetMember, for: "a slot migration")
        guard current.isPrimary else { throw .invalidClusterOperation(reason: "a slot can only move to a primary; \(current) is not one") }
        guard current.id != source.id else { throw .invalidClusterOperation(reason: "\(current) already owns slot \(slot)") }
        _ = try runningNode(sourceMember, for: "a slot migration")
        // Importing first: once the source says MIGRATING, it sends clients to the target with
        // ASK, which the target must then accept.
        try Self.expectOK(["CLUSTER", "SETSLOT", "\(slot)", "IMPORTING", source.id], on: targetMember)
        try Self.expectOK(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", current.id], on: sourceMember)
        return SlotMigration(slot: slot, source: source, target: current)
    }

    /// Moves `keys` (all in the migrating slot) from the source to the target with one
    /// `MIGRATE … KEYS`; keys the source no longer has are skipped.
    public func moveKeys(_ keys: [String], of migration: SlotMigration) throws(LocalRedisError) {
        guard !keys.isEmpty else { return }
        let source = try member(for: migration.source)
        let command = ["MIGRATE", migration.target.host, "\(migration.target.port)", "", "0", "5000", "KEYS"] + keys
        let reply = try Self.call(command, on: source, timeout: .seconds(10))
        // NOKEY: none of the keys was there (moved or expired already).
        guard reply == .simple("OK") || reply == .simple("NOKEY") else {
            throw .clusterReplyUnexpected(command: "MIGRATE … KEYS \(keys.joined(separator: " "))", node: source.label,
                                          expected: "+OK or +NOKEY", reply: reply.description)
        }
    }

    /// Moves every key still in the slot, `batchSize` at a time (`CLUSTER GETKEYSINSLOT`,
    /// then `MIGRATE … KEYS`); returns how many it moved.
    @discardableResult
    public func moveRemainingKeys(of migration: SlotMigration, batchSize: Int = 100) throws(LocalRedisError) -> Int {
        let source = try member(for: migration.source)
        let command = ["CLUSTER", "GETKEYSINSLOT", "\(migration.slot)", "\(max(batchSize, 1))"]
        var moved = 0
        while true {
            let reply = try Self.call(command, on: source)
            guard let elements = reply.array else {
                throw .clusterReplyUnexpected(command: command.joined(separator: " "), node: source.label,
                                              expected: "an array of keys", reply: reply.description)
            }
            let keys = elements.compactMap(\.string)
            if keys.isEmpty { return moved }
            try moveKeys(keys, of: migration)
            moved += keys.count
        }
    }

    /// Moves any keys left, assigns the slot to the target on the target, the source and
    /// every other running primary (`CLUSTER SETSLOT slot NODE target`, which also ends the
    /// importing and migrating states), and waits until every running node agrees. Returns
    /// how many keys it moved.
    @discardableResult
    public func finishMigration(_ migration: SlotMigration, timeout: Duration = .seconds(20)) throws(LocalRedisError) -> Int {
        let moved = try moveRemainingKeys(of: migration)
        let target = try member(for: migration.target)
        let source = try member(for: migration.source)
        let others = state.withLock { state in
            members.filter { member in
                member.id != target.id && member.id != source.id && !state.down.contains(member.id)
                    && node(member, in: state).isPrimary
            }
        }
        // Target first: it bumps its epoch as it takes the slot, so its claim wins over any
        // stale one still gossiped by the source.
        for member in [target, source] + others {
            try Self.expectOK(["CLUSTER", "SETSLOT", "\(migration.slot)", "NODE", target.id], on: member)
        }
        try settle("slot \(migration.slot) to be owned by \(target.label), agreed by every running node", timeout: timeout) { topology in
            topology.owner(ofSlot: migration.slot) == target.id ? nil : "slot \(migration.slot) is not owned by \(target.label) yet"
        }
        return moved
    }
}
