import Synchronization

/// Callers suspended until something they wait for may have changed, oldest first; a
/// plain value kept inside its owner's lock (the backpressure
/// waiters', `CapacityWaiters`). A woken caller looks again and may wait again (wakes are hints, and a
/// newcomer may have taken what freed); with its ticket it waits again in its old
/// place, so the line stays first come, first served.
struct WaiterList {
    typealias Wake = CheckedContinuation<Void, Never>
    /// A caller's place in line, taken on its first wait and kept while it waits again.
    typealias Ticket = UInt64

    /// Ordered by ticket: arrival order, whatever wakes came in between.
    private var waiters: [(id: Ticket, wake: Wake)] = []
    private var lastID: Ticket = 0

    /// How many wait now.
    var count: Int { waiters.count }

    /// The lock an owner keeps its list in (this module's `Mutex`, which a `make test-tsan`
    /// build annotates): for tests, which see two types of that name.
    typealias Lock<State> = Mutex<State>

    /// Queues `wake` in ticket order: a new caller at the back, one that was woken but
    /// found nothing back in the place it had, ahead of those who came later.
    private mutating func insert(_ id: Ticket, _ wake: Wake) {
        if let last = waiters.last, last.id > id {
            waiters.insert((id, wake), at: waiters.firstIndex { $0.id > id } ?? waiters.count)
        } else {
            waiters.append((id, wake))
        }
    }

    /// Removes and returns the oldest `count` waiters, for the caller to resume once it
    /// has left the lock.
    mutating func removeFirst(_ count: Int) -> [Wake] {
        let taken = waiters.prefix(count).map(\.wake)
        waiters.removeFirst(taken.count)
        return taken
    }

    /// Removes and returns every waiter.
    mutating func removeAll() -> [Wake] {
        removeFirst(waiters.count)
    }

    /// Suspends the calling task until a wake from `list` in `mutex`'s state, or its
    /// cancellation. `shouldWait` runs under the lock just before registering: `false`
    /// (the awaited change has already happened) returns at once. `ticket` is the
    /// caller's place in line: `nil` on its first wait, then kept by the caller for the
    /// next, so that a wake that another caller beat it to does not send it to the back.
    /// A cancelled caller hands on one wake, in case it took one it will not use: no
    /// connection or slot is then left unclaimed while others wait.
    static func wait<State>(
        in mutex: borrowing Mutex<State>,
        list: WritableKeyPath<State, WaiterList> & Sendable,
        ticket: inout Ticket?,
        while shouldWait: (inout State) -> Bool
    ) async {
        let id = ticket ?? Self.ticket(in: mutex, list: list)
        ticket = id
        await withTaskCancellationHandler {
            await withCheckedContinuation { (wake: Wake) in
                let waits = mutex.withLock { state -> Bool in
                    guard !Task.isCancelled, shouldWait(&state) else { return false }
                    state[keyPath: list].insert(id, wake)
                    return true
                }
                if !waits { wake.resume() }
            }
        } onCancel: {
            wake(id, in: mutex, list: list)
        }
        if Task.isCancelled {
            for wake in mutex.withLock({ $0[keyPath: list].removeFirst(1) }) { wake.resume() }
        }
    }

    /// A place in line, for a caller that needs its ticket before it first waits (to
    /// wake itself at a deadline).
    static func ticket<State>(in mutex: borrowing Mutex<State>, list: WritableKeyPath<State, WaiterList> & Sendable) -> Ticket {
        mutex.withLock { state in
            state[keyPath: list].lastID &+= 1
            return state[keyPath: list].lastID
        }
    }

    /// Resumes the caller waiting with `ticket`, if it is waiting: its cancellation or
    /// its deadline, not a change it waited for.
    static func wake<State>(_ ticket: Ticket, in mutex: borrowing Mutex<State>, list: WritableKeyPath<State, WaiterList> & Sendable) {
        mutex.withLock { state -> Wake? in
            guard let index = state[keyPath: list].waiters.firstIndex(where: { $0.id == ticket }) else { return nil }
            return state[keyPath: list].waiters.remove(at: index).wake
        }?.resume()
    }
}
