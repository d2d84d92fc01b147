import Synchronization

/// Callers suspended until something they wait for may have changed, oldest first; a
/// plain value kept inside its owner's lock (the blocking pool's and the backpressure
/// waiters'). A woken caller looks again and may wait again: wakes are hints.
struct WaiterList {
    typealias Wake = CheckedContinuation<Void, Never>

    private var waiters: [(id: UInt64, wake: Wake)] = []
    private var lastID: UInt64 = 0

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
    /// (the awaited change has already happened) returns at once. A cancelled caller
    /// hands on one wake, in case it took one it will not use: no connection or slot
    /// is then left unclaimed while others wait.
    static func wait<State>(
        in mutex: borrowing Mutex<State>,
        list: WritableKeyPath<State, WaiterList> & Sendable,
        while shouldWait: (inout State) -> Bool
    ) async {
        let id = mutex.withLock { state in
            state[keyPath: list].lastID &+= 1
            return state[keyPath: list].lastID
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (wake: Wake) in
                let waits = mutex.withLock { state -> Bool in
                    guard !Task.isCancelled, shouldWait(&state) else { return false }
                    state[keyPath: list].waiters.append((id, wake))
                    return true
                }
                if !waits { wake.resume() }
            }
        } onCancel: {
            mutex.withLock { state -> Wake? in
                guard let index = state[keyPath: list].waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return state[keyPath: list].waiters.remove(at: index).wake
            }?.resume()
        }
        if Task.isCancelled {
            for wake in mutex.withLock({ $0[keyPath: list].removeFirst(1) }) { wake.resume() }
        }
    }
}
