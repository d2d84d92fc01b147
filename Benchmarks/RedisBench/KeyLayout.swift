import ArgumentParser
import RedisUtil

/// How a run's lanes share its keys on a cluster.
enum KeyLayout: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// Every lane over all the keys, operation `i` on key `i % K`: each connection's
    /// commands spread over every primary, as an application's whose keys fall where
    /// their hashes put them.
    case spread
    /// The same keys, grouped by the primary that owns each; a connection's lanes use one
    /// group, connections dealt to the groups in turn. This is how `redis-benchmark
    /// --cluster` loads a cluster (each of its clients bound to one node, its keys in that
    /// node's slots), so a write to a node carries a whole connection's commands.
    case byPrimary = "by-primary"
}

/// The keys each lane of a run uses: lane `l` (of `pipeline` per connection) draws from
/// the group of its connection, operation `i` on the group's key `i % count`.
struct LaneKeys: Sendable {
    /// The key groups (one, every key, when spread).
    let groups: [[String]]
    /// Lanes per connection: lanes `c × pipeline ..< (c + 1) × pipeline` are connection `c`'s.
    let pipeline: Int

    /// Every lane over every key.
    static func spread(_ keys: [String]) -> LaneKeys { LaneKeys(groups: [keys], pipeline: 1) }

    /// `keys` grouped by owning primary (in the order of the first slot each owns), read
    /// from the cluster `client` reaches: `CLUSTER SLOTS` for the owners, `CLUSTER KEYSLOT`
    /// for the keys' slots (the server's own hash, not the library's). A primary that owns
    /// none of the keys gets no group.
    static func byPrimary(_ keys: [String], client: RedisClient, pipeline: Int) async throws -> LaneKeys {
        let ranges = try await slotOwners(client)
        let slots = try await client.pipeline { pipeline in
            for key in keys { pipeline.send("CLUSTER", "KEYSLOT", key) }
        }
        var byOwner: [String: [String]] = [:]
        for (key, reply) in zip(keys, slots) {
            guard let slot = try reply.get().int, let owner = ranges.first(where: { $0.slots.contains(slot) })?.owner else {
                throw BenchError("no primary owns the slot of \(key)")
            }
            byOwner[owner, default: []].append(key)
        }
        var owners: [String] = []
        for range in ranges.sorted(by: { $0.slots.lowerBound < $1.slots.lowerBound }) where !owners.contains(range.owner) {
            owners.append(range.owner)
        }
        return LaneKeys(groups: owners.compactMap { byOwner[$0] }, pipeline: pipeline)
    }

    /// `CLUSTER SLOTS`: `[start, end, [host, port, id, …], replicas…]` for each range.
    private static func slotOwners(_ client: RedisClient) async throws -> [(slots: ClosedRange<Int>, owner: String)] {
        guard let entries = try await client.send("CLUSTER", "SLOTS").array else { throw BenchError("CLUSTER SLOTS: not an array") }
        return try entries.map { entry in
            guard let fields = entry.array, fields.count >= 3, let start = fields[0].int, let end = fields[1].int, start <= end,
                  let primary = fields[2].array, primary.count >= 2, let host = primary[0].string, let port = primary[1].int
            else { throw BenchError("CLUSTER SLOTS: an entry of an unexpected shape") }
            return (start...end, "\(host):\(port)")
        }
    }

    /// The key of operation `index` on lane `lane`.
    @inline(__always)
    func key(_ index: Int, lane: Int) -> String {
        if groups.count == 1 { return groups[0][index % groups[0].count] }
        let group = groups[(lane / pipeline) % groups.count]
        return group[index % group.count]
    }
}
