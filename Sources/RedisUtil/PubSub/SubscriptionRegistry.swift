import Synchronization

/// The client's open subscriptions, so that closing the client ends them.
final class SubscriptionRegistry: Sendable {
    private struct Entry {
        weak var subscription: RedisSubscription?
    }

    private let state = Mutex<(entries: [ObjectIdentifier: Entry], closed: Bool)>(([:], false))

    /// Registers `subscription`; `false` once the client is closing.
    func add(_ subscription: RedisSubscription) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.entries[ObjectIdentifier(subscription)] = Entry(subscription: subscription)
            return true
        }
    }

    /// Forgets the subscription `key` (its `ObjectIdentifier`: it may be deinitializing,
    /// and a weak reference to it no longer resolves), which has ended.
    func remove(_ key: ObjectIdentifier) {
        _ = state.withLock { $0.entries.removeValue(forKey: key) }
    }

    /// The connections of the subscriptions open now, for the metrics' report.
    var connections: [RedisConnection] {
        state.withLock { $0.entries.values.compactMap(\.subscription) }.flatMap(\.connections)
    }

    /// Stops registering and returns what is still open.
    func closeAll() -> [RedisSubscription] {
        state.withLock { state in
            state.closed = true
            defer { state.entries.removeAll() }
            return state.entries.values.compactMap(\.subscription)
        }
    }
}
