/// When a cluster client fetches its slot map again, as a value: at most one fetch in
/// flight, callers that ask meanwhile wait for it instead of starting their own, and a
/// caller whose reason is already stale (it saw an older map than the one now held) is
/// answered at once. No I/O, no clock, no lock: the shell (the cluster router) feeds it
/// events under its lock with the time `now` (monotonic nanoseconds) and does what the
/// returned actions say.
///
/// Generations number the maps: each successful fetch that is applied makes a new one.
/// A caller hit by a `MOVED` reports the generation it routed with; when a newer map
/// has been applied since, its redirection is already known and no fetch is needed.
/// This is what keeps a thousand commands redirected by one slot move from sending a
/// thousand `CLUSTER SHARDS`.
///
/// Generic over the waiter so that tests drive it with plain values.
struct ClusterRefreshMachine<Waiter> {
    /// Why a refresh is asked for; periodic ones are skipped when a recent fetch exists.
    enum Reason: Sendable, Equatable {
        /// A `MOVED` named a node the map does not know, or a slot it did not expect.
        case redirected
        /// A node's connection was lost (a failover may be under way).
        case connectionLost
        /// The periodic refresh.
        case periodic
        /// No map yet (the first command).
        case initial
    }

    /// What the shell does about a request.
    enum Request {
        /// Start fetching now (from the seeds or the known nodes); report the outcome
        /// with ``fetched(_:now:)`` or ``failed(now:)``.
        case start
        /// A fetch is in flight, or a newer map exists than the caller saw: the caller
        /// waits (it has been queued) or, when `queued` is false, goes on at once.
        case joined(queued: Bool)
        /// Nothing to do: the caller goes on with the current map.
        case current
    }

    /// The map generation callers route with.
    private(set) var generation: UInt64 = 0
    /// Whether a fetch is in flight.
    private(set) var fetching = false
    /// Callers waiting for the fetch in flight, in arrival order.
    private var waiters: [Waiter] = []
    /// When the last fetch ended (applied or failed), for the periodic spacing and the
    /// failure backoff.
    private var lastFetchEnded: UInt64?
    /// Whether the last fetch failed: a redirected caller then asks again at once rather
    /// than waiting for the periodic one.
    private(set) var lastFetchFailed = false
    /// The least time between two fetches for the periodic reason, in nanoseconds.
    let periodicInterval: UInt64
    /// The least time between a failed fetch and the next, in nanoseconds (so that a
    /// cluster that cannot answer is not hammered by every caller's retry).
    let failureBackoff: UInt64

    init(periodicInterval: UInt64, failureBackoff: UInt64) {
        self.periodicInterval = periodicInterval
        self.failureBackoff = failureBackoff
    }

    /// A caller asks for a fresher map than generation `seen`. With a `waiter` it is
    /// queued when it must wait; without one (a background request) it is not.
    mutating func request(_ reason: Reason, seen: UInt64, now: UInt64, waiter: Waiter?) -> Request {
        if fetching {
            guard let waiter else { return .joined(queued: false) }
            waiters.append(waiter)
            return .joined(queued: true)
        }
        // A map newer than the one the caller routed with already holds its answer.
        if seen < generation, reason != .periodic { return .current }
        if let ended = lastFetchEnded {
            let since = now &- min(now, ended)
            switch reason {
            case .periodic where since < periodicInterval:
                return .current
            case .redirected, .connectionLost, .initial:
                if lastFetchFailed, since < failureBackoff, generation > 0 { return .current }
            case .periodic:
                break
            }
        }
        fetching = true
        if let waiter { waiters.append(waiter) }
        return .start
    }

    /// The fetch returned a map. `changed`: whether it differs from the one held (a
    /// new generation is made only then, so that callers who saw the same map are not
    /// told it moved on). Returns the waiters to resume and the generation they now see.
    mutating func fetched(changed: Bool, now: UInt64) -> (resume: [Waiter], generation: UInt64) {
        precondition(fetching, "a fetch ended that was not started")
        fetching = false
        lastFetchEnded = now
        lastFetchFailed = false
        if changed || generation == 0 { generation &+= 1 }
        defer { waiters.removeAll() }
        return (waiters, generation)
    }

    /// The fetch failed (no node answered, or every answer was malformed). The waiters
    /// are resumed to go on with the map held (or fail when there is none).
    mutating func failed(now: UInt64) -> [Waiter] {
        precondition(fetching, "a fetch ended that was not started")
        fetching = false
        lastFetchEnded = now
        lastFetchFailed = true
        defer { waiters.removeAll() }
        return waiters
    }

    /// Removes a waiter that gave up (its task was cancelled, or the client closed);
    /// returns whether it was still waiting.
    mutating func removeWaiter(where matches: (Waiter) -> Bool) -> Waiter? {
        guard let index = waiters.firstIndex(where: matches) else { return nil }
        return waiters.remove(at: index)
    }

    /// Everyone waiting, for the client's close; no fetch is started after it.
    mutating func close() -> [Waiter] {
        defer { waiters.removeAll() }
        return waiters
    }
}
