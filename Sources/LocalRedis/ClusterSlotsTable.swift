/// One range of `CLUSTER SLOTS`: what a client that discovers the cluster is told.
struct ClusterSlotsEntry: Sendable, Equatable {
    var slots: ClosedRange<Int>
    var primaryPort: Int
    /// Redis lists a replica only once its replication offset has moved from 0 and while it
    /// is not flagged failed.
    var replicaPorts: [Int]
}

/// Parses a `CLUSTER SLOTS` reply: `[[start, end, [ip, port, id, …], [replica ip, port, id, …]…]…]`.
enum ClusterSlotsTable {
    /// The entries of `reply`, or nil when it does not have the documented shape.
    static func parse(_ reply: LocalRedisCluster.Reply) -> [ClusterSlotsEntry]? {
        guard let ranges = reply.array else { return nil }
        var entries: [ClusterSlotsEntry] = []
        for range in ranges {
            guard let fields = range.array, fields.count >= 3, let low = fields[0].integer, let high = fields[1].integer, low <= high,
                  let primaryPort = port(of: fields[2])
            else { return nil }
            var replicaPorts: [Int] = []
            for replica in fields.dropFirst(3) {
                guard let port = port(of: replica) else { return nil }
                replicaPorts.append(port)
            }
            entries.append(ClusterSlotsEntry(slots: low...high, primaryPort: primaryPort, replicaPorts: replicaPorts))
        }
        return entries
    }

    private static func port(of node: LocalRedisCluster.Reply) -> Int? {
        guard let fields = node.array, fields.count >= 2 else { return nil }
        return fields[1].integer
    }
}
