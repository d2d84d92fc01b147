import Synchronization

// Timers and loss callbacks reach their owner through one of these links instead of a
// weak reference. A weak reference gives its object a side table for good, and every
// retain and release of that object then takes the runtime's slow path: a connection
// with a weak timer paid about 140 instructions per pipelined command for it, a cluster
// router about 260 more (callgrind, `scripts/callgrind-per-op`). A link holds its owner
// strongly until the owner lets go of it (on close, or when the timer it served ends),
// so what a weak reference gave (nothing left lingering in a reactor's timer queue keeps
// a closed object alive) holds without one.

/// A link to its owner for a body that runs on the owner's reactor thread, where the
/// link is made, used and released: no lock.
final class ReactorOwnerLink<Owner: AnyObject> {
    /// The owner, until ``release()``.
    private(set) var owner: Owner?

    init(_ owner: Owner) { self.owner = owner }

    /// Lets go of the owner: a body that still holds the link then does nothing.
    func release() { owner = nil }
}

/// A link to its owner for bodies that run on any thread (a repeating timer's, a
/// connection-loss callback's): the owner behind a lock, taken rarely.
final class SharedOwnerLink<Owner: AnyObject & Sendable>: Sendable {
    private let current = Mutex<Owner?>(nil)

    /// A link attached to nothing yet: an owner makes it in its initializer, before it
    /// can pass itself, and then ``attach(_:)``es itself.
    init() {}

    /// Links `owner`.
    func attach(_ owner: Owner) { current.withLock { $0 = owner } }

    /// The owner, or nil once released.
    var owner: Owner? { current.withLock { $0 } }

    /// Lets go of the owner: bodies that still hold the link then do nothing.
    func release() { current.withLock { $0 = nil } }
}
