/// Where a `SCAN` on a cluster client is: the shard it walks and the cursor within that
/// shard's primary.
///
/// A cluster has one keyspace per primary, so a cluster `SCAN` walks the primaries in turn,
/// in the order of the lowest slot each serves, and its cursor names both: `"0"` starts (and,
/// returned, ends) the walk as on one server; any other cursor is `"<slot>-<node cursor>"`,
/// where `slot` is a slot of the shard being walked (its lowest, when the walk reached it)
/// and `node cursor` is that primary's own `SCAN` cursor. The shard is named by a slot rather
/// than a node so that the walk goes on after a failover: the promoted replica holds the
/// same keys (Redis' cursors stay valid across a table's resizing, so a replica's table
/// serves the cursor too, with `SCAN`'s usual guarantee). Keys of a slot that migrates
/// between shards during the walk may be missed or returned twice.
struct ClusterScanCursor: Equatable, Sendable {
    /// A slot of the shard being walked: the page is read from its owner.
    var slot: Int
    /// The cursor to send to that owner.
    var nodeCursor: String

    /// The cursor a caller passed: `"0"` is the first shard's start, by `lowestSlots` (each
    /// shard's lowest slot, ``ClusterTopology/lowestSlots()``); nil for a cursor that this
    /// client did not make (or a map without any slot owner, for `"0"`).
    init?(_ text: String, lowestSlots: [Int?]) {
        if text == "0" {
            guard let first = lowestSlots.compactMap({ $0 }).min() else { return nil }
            self.init(slot: first, nodeCursor: "0")
            return
        }
        let parts = text.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2, let slot = Int(parts[0]), (0..<HashSlot.count).contains(slot),
              !parts[1].isEmpty, parts[1].allSatisfy(\.isASCII), UInt64(parts[1]) != nil
        else { return nil }
        self.init(slot: slot, nodeCursor: String(parts[1]))
    }

    init(slot: Int, nodeCursor: String) {
        self.slot = slot
        self.nodeCursor = nodeCursor
    }

    /// The cursor to hand back after this shard's primary answered `nodeCursor`: the same
    /// shard while its primary has more, else the next shard's start (the shard whose
    /// lowest slot follows `shardLowest`, this shard's lowest slot), else `"0"`: the end.
    func next(nodeCursor reply: String, shardLowest: Int, lowestSlots: [Int?]) -> String {
        if reply != "0" { return "\(slot)-\(reply)" }
        guard let following = lowestSlots.compactMap({ $0 }).filter({ $0 > shardLowest }).min() else { return "0" }
        return "\(following)-0"
    }
}
