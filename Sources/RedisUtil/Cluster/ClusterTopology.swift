/// The slot map of a Redis Cluster: its shards (a primary and its replicas each) and which
/// shard owns each of the 16384 slots, looked up in O(1).
///
/// Built from `CLUSTER SHARDS` (``init(shardsReply:answeredBy:preferTLS:)``) or, from a node
/// that refuses it (before 7.0, or to a user without the right), `CLUSTER SLOTS` (``init(slotsReply:answeredBy:preferTLS:)``); patched one
/// slot at a time by `MOVED` (``applyMoved(slot:to:)``). A value: a refresh compares the new
/// map with the old one (`==`) to tell whether anything changed, whichever node answered and
/// in whatever order it listed its shards.
struct ClusterTopology: Sendable, Equatable {
    /// The shards, ordered by the lowest slot each owns; shards that own no slot come last,
    /// by primary id. The order is the map's, not the reply's, so that equal maps compare equal.
    private(set) var shards: [Shard]
    /// For each slot, the index in ``shards`` of its owner, or ``noOwner``.
    private var slotOwners: [UInt16]
    /// How many slots have an owner.
    private(set) var coveredSlotCount: Int

    /// The mark of a slot no shard owns.
    private static let noOwner = UInt16.max

    /// A map of `shards`, each owning the slot ranges given with it (none is allowed: a
    /// primary that owns no slot yet is still part of the cluster).
    ///
    /// `source` names the reply in errors (`CLUSTER SHARDS`). Throws when a slot is outside
    /// `0..<16384`, a range runs backwards, or two shards claim the same slot.
    init(source: String, shards input: [(shard: Shard, slots: [ClosedRange<Int>])]) throws(ClusterTopologyError) {
        // Replies list shards and replicas in the order of the answering node's hash table;
        // sorting makes two answers about the same cluster equal.
        let ordered = input.map { entry in
            (shard: Shard(primary: entry.shard.primary, replicas: entry.shard.replicas.sorted { $0.id < $1.id }),
             slots: entry.slots,
             first: entry.slots.map(\.lowerBound).min())
        }.sorted { a, b in
            switch (a.first, b.first) {
            case let (x?, y?): x < y
            case (.some, nil): true
            case (nil, .some): false
            case (nil, nil): a.shard.primary.id < b.shard.primary.id
            }
        }
        guard ordered.count < Int(Self.noOwner) else {
            throw .unexpected(reply: source, at: "the shard list", expected: "fewer than \(Self.noOwner) shards",
                              received: "\(ordered.count)")
        }
        var owners = [UInt16](repeating: Self.noOwner, count: HashSlot.count)
        var covered = 0
        for (index, entry) in ordered.enumerated() {
            for range in entry.slots {
                guard range.lowerBound >= 0, range.upperBound < HashSlot.count else {
                    throw .invalidSlotRange(reply: source, at: "shard of \(entry.shard.primary.id)",
                                            start: Int64(range.lowerBound), end: Int64(range.upperBound))
                }
                for slot in range {
                    let owner = owners[slot]
                    guard owner == Self.noOwner else {
                        throw .slotClaimedTwice(reply: source, slot: slot, firstOwner: ordered[Int(owner)].shard.primary.id,
                                                secondOwner: entry.shard.primary.id)
                    }
                    owners[slot] = UInt16(index)
                    covered += 1
                }
            }
        }
        shards = ordered.map(\.shard)
        slotOwners = owners
        coveredSlotCount = covered
    }

    /// Whether every slot has an owner. A cluster that is not complete answers
    /// `CLUSTERDOWN` for every key (with `cluster-require-full-coverage yes`, the default)
    /// or for the keys of the missing slots.
    var isComplete: Bool { coveredSlotCount == HashSlot.count }

    /// The index in ``shards`` of the shard that owns `slot`; nil when none does or `slot`
    /// is outside `0..<16384`.
    func shardIndex(ofSlot slot: Int) -> Int? {
        guard slot >= 0, slot < HashSlot.count else { return nil }
        let owner = slotOwners[slot]
        return owner == Self.noOwner ? nil : Int(owner)
    }

    /// The primary that serves `slot`; nil when no shard owns it.
    func owner(ofSlot slot: Int) -> Node? {
        shardIndex(ofSlot: slot).map { shards[$0].primary }
    }

    /// The replicas of the shard that owns `slot`, sorted by id, failed and loading ones
    /// included (filter on ``Node/health`` to pick one for reads); empty when no shard owns it.
    func replicas(ofSlot slot: Int) -> [Node] {
        shardIndex(ofSlot: slot).map { shards[$0].replicas } ?? []
    }

    /// The slots the shard at `index` owns, as ranges in ascending order.
    func slotRanges(ofShard index: Int) -> [ClosedRange<Int>] {
        var ranges: [ClosedRange<Int>] = []
        var start: Int?
        for slot in 0...HashSlot.count {
            let owned = slot < HashSlot.count && Int(slotOwners[slot]) == index
            if owned, start == nil { start = slot }
            if !owned, let first = start {
                ranges.append(first...(slot - 1))
                start = nil
            }
        }
        return ranges
    }

    /// The lowest slot each shard owns, by shard index; nil for a shard that owns none.
    /// A cluster `SCAN` walks the shards in this order (``ClusterScanCursor``).
    func lowestSlots() -> [Int?] {
        var lowest = [Int?](repeating: nil, count: shards.count)
        for slot in 0..<HashSlot.count {
            let owner = slotOwners[slot]
            if owner != Self.noOwner, lowest[Int(owner)] == nil { lowest[Int(owner)] = slot }
        }
        return lowest
    }

    /// Every shard's primary, in shard order (the nodes a command for every key goes to).
    var primaries: [Node] { shards.map(\.primary) }

    /// Every node: each shard's primary, then its replicas.
    var allNodes: [Node] { shards.flatMap { [$0.primary] + $0.replicas } }

    /// The node at `address`, primary or replica.
    func node(at address: ClusterNodeAddress) -> Node? {
        for shard in shards {
            if shard.primary.address == address { return shard.primary }
            if let replica = shard.replicas.first(where: { $0.address == address }) { return replica }
        }
        return nil
    }

    /// Gives `slot` to the shard whose primary is at `address`, as `MOVED` says, and
    /// returns true; returns false, changing nothing, when no primary in the map is at
    /// `address` (a new node, or a replica promoted by a failover) or `slot` is outside
    /// `0..<16384`. False means the map is behind in more than this slot: refresh all of it.
    @discardableResult
    mutating func applyMoved(slot: Int, to address: ClusterNodeAddress) -> Bool {
        guard slot >= 0, slot < HashSlot.count,
              let index = shards.firstIndex(where: { $0.primary.address == address }) else { return false }
        if slotOwners[slot] == Self.noOwner { coveredSlotCount += 1 }
        slotOwners[slot] = UInt16(index)
        return true
    }
}
