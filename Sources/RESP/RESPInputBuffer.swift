/// The parser's input bytes: one block used as a window `readIndex..<writeIndex`, with spare
/// room after `writeIndex` that a socket read can fill in place (no intermediate copy).
///
/// Consumed bytes are dropped by moving the live window to the front only when that frees at
/// least half the capacity, so every byte is moved a bounded number of times (amortised O(1))
/// even when one huge reply arrives in tiny pieces. A value type: copies share the block until
/// one of them writes (copy-on-write).
struct RESPInputBuffer: Sendable {
    /// Capacity of the first allocation; most replies fit, and a socket read of this size is cheap.
    static let initialCapacity = 16 * 1024
    /// A buffer grown past this by one huge reply is given back once it drains.
    static let retainedCapacity = 1024 * 1024

    private(set) var storage = RESPByteStorage.empty
    /// First byte not yet consumed.
    private(set) var readIndex = 0
    /// One past the last byte received.
    private(set) var writeIndex = 0
    /// Stream bytes dropped from the front of `storage`; absolute offset = `discardedCount + index`.
    private(set) var discardedCount = 0

    /// Bytes received and not yet consumed.
    var readableCount: Int { writeIndex - readIndex }

    /// Size of the current block.
    var capacity: Int { storage.capacity }

    /// Absolute stream offset of a buffer index.
    func streamOffset(of index: Int) -> Int { discardedCount + index }

    /// Marks bytes up to `index` as consumed; an emptied buffer rewinds to the front for free.
    mutating func consume(upTo index: Int) {
        assert(index >= readIndex && index <= writeIndex)
        readIndex = index
        if readIndex == writeIndex {
            discardedCount += writeIndex
            readIndex = 0
            writeIndex = 0
            if storage.capacity > Self.retainedCapacity {
                storage = .empty
            }
        }
    }

    /// Makes room for at least `minimum` bytes after `writeIndex`, in a block this buffer alone owns.
    mutating func reserveTail(_ minimum: Int) {
        precondition(minimum >= 0, "negative capacity requested")
        if storage.capacity - writeIndex >= minimum && isKnownUniquelyReferenced(&storage) { return }
        let live = writeIndex - readIndex
        let (needed, overflow) = live.addingReportingOverflow(minimum)
        precondition(!overflow, "input buffer size overflows Int")
        if readIndex > 0 && needed <= storage.capacity / 2 && isKnownUniquelyReferenced(&storage) {
            storage.moveToFront(from: readIndex, count: live)
        } else {
            var capacity = max(Self.initialCapacity, storage.capacity)
            while capacity < needed {
                let (doubled, tooBig) = capacity.multipliedReportingOverflow(by: 2)
                capacity = tooBig ? needed : doubled
            }
            storage = storage.copy(from: readIndex, count: live, capacity: capacity)
        }
        discardedCount += readIndex
        readIndex = 0
        writeIndex = live
    }

    /// Lets `body` write into the spare room after the received bytes and keeps the `n` bytes
    /// it reports, e.g. the result of read(2).
    mutating func withWritableTail<E: Error>(
        minimumCapacity: Int,
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
    ) throws(E) -> Int {
        reserveTail(max(minimumCapacity, 1))
        let tail = UnsafeMutableRawBufferPointer(start: storage.bytes + writeIndex, count: storage.capacity - writeIndex)
        let written = try body(tail)
        precondition(written >= 0 && written <= tail.count, "writable tail: body reported \(written) bytes written into \(tail.count)")
        writeIndex += written
        return written
    }

    /// Appends a copy of `bytes`.
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count == 0 { return }
        reserveTail(bytes.count)
        storage.write(bytes, at: writeIndex)
        writeIndex += bytes.count
    }

    /// Runs `body` on the block: a pointer valid for reads of `readIndex..<writeIndex`.
    /// No retain is needed: `self` keeps `storage` alive and cannot change during `body`.
    @inline(__always)
    func withReadableBytes<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        body(UnsafePointer(storage.bytes))
    }
}
