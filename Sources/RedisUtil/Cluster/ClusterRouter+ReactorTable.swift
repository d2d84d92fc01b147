import Reactor

/// One reactor's own copy of the router's current route table.
///
/// Why: the router's table sits behind its lock, and every command routed with it took
/// that lock and a retain of the table, writes to memory every reactor thread shares.
/// On two reactors those writes moved cache lines between the cores at every command,
/// which callgrind (its threads run one at a time) does not count: `redis-bench
/// --cluster --workload rpush --api callback` spent 0.63 µs of CPU a command on two
/// reactors and 0.44 on one. A reactor's copy is an object of its own (sharing the map's
/// immutable parts), so the retain a command takes is of memory only that reactor writes:
/// 0.54–0.58 µs on two reactors, 958k commands a second against 878k. Callgrind counts
/// 3,427 instructions a command on a one-node cluster against 3,418 under the lock: the
/// reactor, found once, also picks the node's connection (``RedisClient/pickConnection(onReactor:)``).
final class ReactorRouteTable: @unchecked Sendable {
    // Unchecked Sendable: both fields are read and written only by
    // `ClusterRouter.reactorSnapshot()`, on the thread of the reactor this entry belongs
    // to: it finds the entry by `Reactor.currentIdentifier`, the identity of the reactor
    // whose loop runs the calling thread, and each reactor runs on one thread. The router
    // makes the entries before any command can reach them.
    /// The router's ``ClusterRouter/tableVersion`` when ``table`` was copied (`.max`: never).
    var version = UInt64.max
    /// The copy, or nil when the router had no table.
    var table: ClusterRouteTable?
}

extension ClusterRouter {
    /// The current route table as a command sees it: on a reactor of the client's group,
    /// that reactor's copy, taken again from the router (under its lock) when the table
    /// has changed since; elsewhere, the router's. A command may be routed with a table
    /// replaced a moment before, as one read under the lock may be replaced a moment
    /// after: a redirection corrects it.
    @inline(__always)
    func reactorSnapshot() -> ClusterRouteTable? {
        reactorSnapshot(onReactor: Reactor.currentIdentifier)
    }

    /// ``reactorSnapshot()`` for a caller that found its reactor already (`current`, from
    /// ``Reactor/currentIdentifier``), to hand on to the node's client
    /// (``RedisClient/pickConnection(onReactor:)``).
    @inline(__always)
    func reactorSnapshot(onReactor current: ObjectIdentifier?) -> ClusterRouteTable? {
        guard let current else { return snapshot() }
        // A linear scan of a handful of reactors, by index (no pair copied), the entry
        // reached through the array each time (bound to a local, it was retained).
        for index in reactorTables.indices where reactorTables[index].reactor == current {
            let version = tableVersion.load(ordering: .acquiring)
            if reactorTables[index].copy.version != version {
                reactorTables[index].copy.table = snapshot()?.copy()
                reactorTables[index].copy.version = version
            }
            return reactorTables[index].copy.table
        }
        return snapshot()
    }
}

extension ClusterRouteTable {
    /// A table of its own with the same contents (the map, the nodes and the key table
    /// are shared, immutable): a reactor's copy (``ReactorRouteTable``).
    func copy() -> ClusterRouteTable {
        with(keyTable: keyTable)
    }
}
