import Synchronization

/// The type last found to conform to a protocol, and the conformance found: the look-up
/// in the runtime's conformance cache (about 290 instructions) is then made once per
/// change of message type, not per message.
///
/// Read without a lock and without a retain, because it is read by every channel send
/// and receive of a conforming message, on every reactor thread at once: a lock (as this
/// was) or a reference count written per read moves one cache line between the cores at
/// every message, which callgrind does not see and the wall clock does (`redis-bench`'s
/// `channel-send` spent 0.96 µs of CPU a message against 0.38 for a raw `RPUSH`, where
/// callgrind counts 4,586 instructions against 2,976).
///
/// How: each conforming type gets one ``Entry`` (a class holding the type and its
/// conformance, both immutable), kept for the life of the process in ``entries`` (a
/// program has few message types); ``last`` holds the address of the last one used,
/// unretained. A reader loads the address (acquiring: the entry's fields were written
/// before the address was released) and reads the entry in place; it can never be freed.
/// A writer (only on a change of type) finds or makes the entry under the lock and
/// publishes its address.
struct RememberedConformance<Conformance: Sendable>: ~Copyable {
    /// One per conforming type seen: immutable once made.
    final class Entry: Sendable {
        let type: ObjectIdentifier
        let conformance: Conformance

        init(type: ObjectIdentifier, conformance: Conformance) {
            self.type = type
            self.conformance = conformance
        }
    }

    /// Every entry made, by type: never removed, so that an address in ``last`` stays valid.
    private let entries = Mutex<[ObjectIdentifier: Entry]>([:])
    /// The address of the entry last used (0: none yet), unretained: ``entries`` owns it.
    private let last = Atomic<UInt>(0)

    init() {}

    /// `type`'s conformance: remembered, or found by `lookUp` (`nil`: none, not remembered).
    func conformance(of type: Any.Type, lookUp: (Any.Type) -> Conformance?) -> Conformance? {
        let identity = ObjectIdentifier(type)
        if let known = lastEntry(matching: identity) { return known }
        guard let found = lookUp(type) else { return nil }
        let entry = entries.withLock { entries in
            if let existing = entries[identity] { return existing }
            let made = Entry(type: identity, conformance: found)
            entries[identity] = made
            return made
        }
        last.store(UInt(bitPattern: Unmanaged.passUnretained(entry).toOpaque()), ordering: .releasing)
        return found
    }

    // MARK: audited unsafe helper (RememberedConformanceTests)

    /// The last entry's conformance when it is `identity`'s. The address read is 0 or an
    /// entry's that ``entries`` keeps alive for good; it is read in place, unretained
    /// (a retain and release would write the entry's reference count from every thread).
    private func lastEntry(matching identity: ObjectIdentifier) -> Conformance? {
        let address = last.load(ordering: .acquiring)
        guard let pointer = UnsafeRawPointer(bitPattern: address) else { return nil }
        return Unmanaged<Entry>.fromOpaque(pointer)._withUnsafeGuaranteedRef { entry in
            entry.type == identity ? entry.conformance : nil
        }
    }
}
