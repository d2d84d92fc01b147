/// A fixed-size heap block of bytes, the backing store of ``RESPInputBuffer``.
///
/// A class around a raw allocation rather than an `[UInt8]`, because every feed and every
/// parse step touches it: a pointer and a capacity are all the hot path needs, without
/// Array's uniqueness and bounds machinery (which costs a lot in debug builds too).
///
/// `@unchecked Sendable` is sound because the bytes are written only through
/// `RESPInputBuffer`'s mutating methods, and those first make sure (copy-on-write, with
/// `isKnownUniquelyReferenced`) that the buffer holds the only reference. A storage that is
/// shared, and so maybe visible to another thread, is therefore never written again.
final class RESPByteStorage: @unchecked Sendable {
    /// Start of `capacity` initialised bytes.
    let bytes: UnsafeMutablePointer<UInt8>
    let capacity: Int

    /// A zero-filled block of `capacity` bytes.
    init(capacity: Int) {
        precondition(capacity >= 0)
        // Never allocate 0 bytes: `bytes` must be a valid pointer for the helpers below.
        bytes = .allocate(capacity: max(capacity, 1))
        bytes.initialize(repeating: 0, count: max(capacity, 1))
        self.capacity = capacity
    }

    deinit {
        bytes.deallocate()
    }

    /// The shared storage of every parser that has not received a byte yet: it has no room,
    /// so any write replaces it first, and an idle parser allocates nothing.
    static let empty = RESPByteStorage(capacity: 0)

    // MARK: audited unsafe helpers (each covered by RESPInputBufferTests)

    /// Copies `count` bytes from `source` to offset `at`. Bounds are checked, not assumed.
    func write(_ source: UnsafeRawBufferPointer, at offset: Int) {
        precondition(offset >= 0 && source.count <= capacity - offset, "write out of bounds")
        guard let from = source.baseAddress, source.count > 0 else { return }
        UnsafeMutableRawPointer(bytes + offset).copyMemory(from: from, byteCount: source.count)
    }

    /// Moves `count` bytes starting at `from` to the front (the ranges may overlap).
    func moveToFront(from offset: Int, count: Int) {
        precondition(offset >= 0 && count >= 0 && count <= capacity - offset, "move out of bounds")
        // memmove semantics: raw copyMemory allows overlapping ranges.
        UnsafeMutableRawPointer(bytes).copyMemory(from: bytes + offset, byteCount: count)
    }

    /// A new storage of `capacity` bytes whose front holds a copy of `count` bytes from `offset`.
    func copy(from offset: Int, count: Int, capacity newCapacity: Int) -> RESPByteStorage {
        precondition(offset >= 0 && count >= 0 && count <= capacity - offset && count <= newCapacity, "copy out of bounds")
        let copy = RESPByteStorage(capacity: newCapacity)
        UnsafeMutableRawPointer(copy.bytes).copyMemory(from: bytes + offset, byteCount: count)
        return copy
    }

    /// A read-only view of `range` (for tests and diagnostics).
    subscript(range: Range<Int>) -> [UInt8] {
        precondition(range.lowerBound >= 0 && range.upperBound <= capacity, "read out of bounds")
        return Array(UnsafeBufferPointer(start: bytes + range.lowerBound, count: range.count))
    }
}
