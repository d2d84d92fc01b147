import CLibevent

/// Readiness notifications for one non-blocking file descriptor.
///
/// libevent only says when the fd is readable or writable; reading and writing are
/// the owner's. A watcher belongs to its reactor's thread: create it with
/// ``Reactor/watch(fd:interest:onReadable:onWritable:)`` and use it only there.
/// The callbacks are released by ``cancel()``, which breaks the reference cycle an
/// owner capturing itself would otherwise create.
public final class FDWatcher {
    /// Which readiness the owner wants to hear about.
    public struct Interest: OptionSet, Sendable, Hashable {
        /// The bits: 1 read, 2 write.
        public let rawValue: UInt8
        /// An interest from its bits (``read``, ``write``).
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// Notify when the fd is readable (data, EOF or error).
        public static let read = Interest(rawValue: 1)
        /// Notify when the fd is writable (send buffer has room, or connect finished).
        public static let write = Interest(rawValue: 2)
    }

    /// The watched descriptor. The watcher never closes it.
    public let fd: Int32
    // Unchecked for exclusivity (a connection sets its interest after every write): the
    // watcher belongs to its reactor's thread, and every access is a plain read or write.
    /// The current interest.
    @exclusivity(unchecked) public private(set) var interest: Interest = []
    /// Whether ``cancel()`` has been called (or the reactor shut down).
    @exclusivity(unchecked) public private(set) var isCancelled = false

    private unowned let reactor: Reactor
    private let readEvent: ReadinessEvent
    private let writeEvent: ReadinessEvent

    fileprivate init(reactor: Reactor, fd: Int32, onReadable: @escaping () -> Void, onWritable: @escaping () -> Void) {
        self.reactor = reactor
        self.fd = fd
        // Two persistent events instead of one: changing write interest (the common
        // change, on every partial write) then never touches the read registration.
        self.readEvent = ReadinessEvent(base: reactor.base, fd: fd, what: Int16(EV_READ | EV_PERSIST), handler: onReadable)
        self.writeEvent = ReadinessEvent(base: reactor.base, fd: fd, what: Int16(EV_WRITE | EV_PERSIST), handler: onWritable)
    }

    /// Changes the interest; only the events whose state changes are touched. Reactor thread only.
    public func setInterest(_ newInterest: Interest) {
        reactor.preconditionInReactor()
        guard !isCancelled, newInterest != interest else { return }
        let changed = newInterest.symmetricDifference(interest)
        if changed.contains(.read) {
            if newInterest.contains(.read) { readEvent.add() } else { readEvent.remove() }
        }
        if changed.contains(.write) {
            if newInterest.contains(.write) { writeEvent.add() } else { writeEvent.remove() }
        }
        interest = newInterest
    }

    /// Stops all notifications and releases the callbacks. Idempotent; reactor thread only.
    /// Call it before closing the fd.
    public func cancel() {
        reactor.preconditionInReactor()
        guard !isCancelled else { return }
        release()
        reactor.unregister(key: ObjectIdentifier(self))
    }

    private func release() {
        isCancelled = true
        interest = []
        readEvent.free()
        writeEvent.free()
        readEvent.handler = nil
        writeEvent.handler = nil
    }
}

extension FDWatcher: ReactorResource {
    func releaseOnShutdown() { release() }
}

extension Reactor {
    /// Starts watching a non-blocking `fd` for readiness. Reactor thread only.
    ///
    /// The callbacks run on the reactor thread. Level-triggered: a callback that
    /// leaves data unread is called again on the next iteration.
    public func watch(
        fd: Int32,
        interest: FDWatcher.Interest = .read,
        onReadable: @escaping () -> Void,
        onWritable: @escaping () -> Void = {}
    ) -> FDWatcher {
        preconditionInReactor()
        let watcher = FDWatcher(reactor: self, fd: fd, onReadable: onReadable, onWritable: onWritable)
        register(watcher, key: ObjectIdentifier(watcher))
        watcher.setInterest(interest)
        return watcher
    }
}

/// One direction of an fd watcher.
private final class ReadinessEvent: LibeventEvent {
    var handler: (() -> Void)?

    init(base: OpaquePointer, fd: Int32, what: Int16, handler: @escaping () -> Void) {
        self.handler = handler
        super.init(base: base, fd: fd, what: what)
    }

    override func fire(_ what: Int16) { handler?() }
}
