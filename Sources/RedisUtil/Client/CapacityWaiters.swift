import Synchronization

/// Async callers suspended because every connection is at its limits (backpressure), and
/// the wake-ups that connections send as replies free slots and writes drain bytes.
///
/// The connections' side is one atomic load per freed batch while nobody waits. A
/// waiter and a connection meet Dekker-style: the waiter announces itself in `waiting`,
/// then checks the limits under the lock; a connection lowers its counters, then reads
/// `waiting`. Both are sequentially consistent, so at least one sees the other: either
/// the waiter finds room, or the connection finds it waiting and wakes it.
final class CapacityWaiters: Sendable {
    private struct State {
        var waiters = WaiterList()
        var closed = false
    }

    private let waiting = Atomic<Int>(0)
    private let state = Mutex(State())

    /// Suspends until a connection may have room (a wake), the client closes, or the task
    /// is cancelled; returns at once if `hasRoom` already holds. The caller checks again,
    /// and keeps `ticket` for its next wait (see ``WaiterList``).
    nonisolated(nonsending) func wait(ticket: inout WaiterList.Ticket?, until hasRoom: @Sendable () -> Bool) async {
        waiting.add(1, ordering: .sequentiallyConsistent)
        defer { waiting.subtract(1, ordering: .sequentiallyConsistent) }
        // `hasRoom` reads the connections' counters with relaxed loads; the fence keeps
        // them after the announcement above, as the handshake needs.
        atomicMemoryFence(ordering: .sequentiallyConsistent)
        await WaiterList.wait(in: state, list: \.waiters, ticket: &ticket) { state in !state.closed && !hasRoom() }
    }

    /// A connection freed `count` reply slots (or wrote bytes: `Int.max`): wakes up to
    /// `count` waiters, each of which looks for room again. Reactor threads, after
    /// lowering the counter with sequentially consistent ordering.
    @inline(__always)
    func roomFreed(_ count: Int) {
        guard waiting.load(ordering: .sequentiallyConsistent) > 0 else { return }
        for wake in state.withLock({ $0.waiters.removeFirst(max(count, 1)) }) { wake.resume() }
    }

    /// The client closed: every waiter wakes and finds it closed; later ones return at once.
    func close() {
        let woken = state.withLock { state in
            state.closed = true
            return state.waiters.removeAll()
        }
        for wake in woken { wake.resume() }
    }
}
