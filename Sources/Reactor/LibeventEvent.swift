import CLibevent

/// One libevent `event`, owned by an object on the reactor thread.
///
/// libevent calls back through a C function pointer with an opaque argument; this
/// class is that argument. The reactor keeps every armed event alive in its registry,
/// so the unretained pointer handed to libevent is valid whenever libevent can use it.
class LibeventEvent {
    private(set) var event: OpaquePointer?

    /// Creates the event; `what` is a mask of `EV_READ`, `EV_WRITE`, `EV_PERSIST`, `EV_TIMEOUT`.
    init(base: OpaquePointer, fd: Int32, what: Int16) {
        let context = Unmanaged.passUnretained(self).toOpaque()
        self.event = event_new(base, fd, what, libeventTrampoline, context)
    }

    /// Called on the reactor thread with the `EV_*` flags that fired.
    func fire(_ what: Int16) {}

    /// Arms the event, optionally with a timeout in nanoseconds.
    @discardableResult
    func add(timeoutNanoseconds: UInt64? = nil) -> Bool {
        guard let event else { return false }
        guard let timeoutNanoseconds else { return event_add(event, nil) == 0 }
        var tv = timeval(
            tv_sec: Int(timeoutNanoseconds / 1_000_000_000),
            tv_usec: Int(timeoutNanoseconds % 1_000_000_000 / 1_000)
        )
        return event_add(event, &tv) == 0
    }

    /// Disarms the event; it can be added again later.
    func remove() {
        guard let event else { return }
        event_del(event)
    }

    /// Disarms and frees the event for good.
    func free() {
        guard let event else { return }
        self.event = nil
        event_del(event)
        event_free(event)
    }

    deinit {
        if let event { event_free(event) }
    }
}

/// The single C entry point for every libevent callback of this module.
private let libeventTrampoline: event_callback_fn = { _, what, context in
    guard let context else { return }
    Unmanaged<LibeventEvent>.fromOpaque(context).takeUnretainedValue().fire(what)
}
