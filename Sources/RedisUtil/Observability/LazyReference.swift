import Synchronization

/// A reference made on first use and kept: later reads cost one atomic load, where a
/// lock would be taken on every command. Two threads racing the first use may both
/// make a value; one is kept and the other released, so `make` must have no side
/// effect beyond making it.
///
/// The one audited use of `Unmanaged` for the metrics: the slot owns one retain of
/// the value it holds, taken when it is stored and given back in `deinit`.
final class LazyReference<Value: AnyObject & Sendable>: Sendable {
    private let stored = Atomic<Unmanaged<Value>?>(nil)

    init() {}

    /// The value, made by `make` if there is none yet.
    func value(orMake make: () -> Value) -> Value {
        if let existing = stored.load(ordering: .acquiring) { return existing.takeUnretainedValue() }
        let made = Unmanaged.passRetained(make())
        let (exchanged, current) = stored.compareExchange(expected: nil, desired: made, ordering: .acquiringAndReleasing)
        if exchanged { return made.takeUnretainedValue() }
        made.release()
        // Another thread stored first: `current` is its value, which the slot keeps.
        return current!.takeUnretainedValue()
    }

    /// The value if it was made.
    var valueIfMade: Value? { stored.load(ordering: .acquiring)?.takeUnretainedValue() }

    deinit {
        stored.load(ordering: .acquiring)?.release()
    }
}
