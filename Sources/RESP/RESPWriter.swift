/// Writes bytes into a region of exactly known size: how the encoder fills a command
/// after computing its length, without growing an array byte by byte.
///
/// This is the package's one unsafe write path for outgoing bytes, so it is small and
/// every write is bounds-checked against the region (one compare, even in release).
/// Writing past the end is a programming error in an argument's ``RESPArgument``
/// conformance (a ``RESPArgument/respPayloadCount`` smaller than what it writes) and
/// stops the process rather than corrupt memory; so does writing less than announced,
/// which would desynchronise the connection.
public struct RESPWriter: ~Copyable {
    @usableFromInline let storage: UnsafeMutableBufferPointer<UInt8>
    @usableFromInline var position = 0

    @inlinable
    init(_ storage: UnsafeMutableBufferPointer<UInt8>) {
        self.storage = storage
    }

    /// Bytes written so far.
    @inlinable public var count: Int { position }

    /// Writes one byte.
    @inlinable
    public mutating func write(_ byte: UInt8) {
        precondition(position < storage.count, "RESPWriter: write past the announced size")
        storage[position] = byte
        position &+= 1
    }

    /// Writes raw bytes in one copy.
    @inlinable
    public mutating func write(bytes: UnsafeRawBufferPointer) {
        precondition(bytes.count <= storage.count &- position, "RESPWriter: write past the announced size")
        guard let source = bytes.baseAddress, let target = storage.baseAddress else { return }
        (target + position).update(from: source.assumingMemoryBound(to: UInt8.self), count: bytes.count)
        position &+= bytes.count
    }

    /// Writes a collection of bytes: one copy when it is contiguous.
    @inlinable
    public mutating func write<Bytes: Collection>(contentsOf bytes: Bytes) where Bytes.Element == UInt8 {
        let copied: Void? = bytes.withContiguousStorageIfAvailable { contiguous in
            write(bytes: UnsafeRawBufferPointer(contiguous))
        }
        if copied == nil {
            for byte in bytes { write(byte) }
        }
    }

    /// Writes a `<type><n>\r\n` header (`*3\r\n`, `$5\r\n`): for the usual count or length
    /// below 100, one bounds check for the whole header rather than one a byte.
    @inlinable
    public mutating func writeHeader(_ type: UInt8, _ n: Int) {
        if n >= 0, n < 100 {
            let size = n < 10 ? 4 : 5
            precondition(size <= storage.count &- position, "RESPWriter: write past the announced size")
            storage[position] = type
            storeBelow100(UInt64(truncatingIfNeeded: n), at: position &+ 1)
            storage[position &+ size &- 2] = 0x0D
            storage[position &+ size &- 1] = 0x0A
            position &+= size
            return
        }
        write(type)
        writeDecimal(Int64(n))
        writeLineEnd()
    }

    /// Stores `value` (below 100) in decimal at `index`, one or two digits, where the
    /// caller has checked there is room: what ``writeHeader(_:_:)`` and
    /// ``writeDecimal(magnitude:)`` share for the small numbers of a command.
    @inlinable
    func storeBelow100(_ value: UInt64, at index: Int) {
        if value < 10 {
            storage[index] = 0x30 &+ UInt8(truncatingIfNeeded: value)
            return
        }
        let tens = UInt8(truncatingIfNeeded: value / 10)
        storage[index] = 0x30 &+ tens
        storage[index &+ 1] = 0x30 &+ UInt8(truncatingIfNeeded: value) &- tens &* 10
    }

    /// Writes `\r\n`, with one bounds check.
    @inlinable
    public mutating func writeLineEnd() {
        precondition(2 <= storage.count &- position, "RESPWriter: write past the announced size")
        storage[position] = 0x0D
        storage[position &+ 1] = 0x0A
        position &+= 2
    }

    /// Writes `value` in decimal, sign included, as ``RESPDecimal`` counts it.
    @inlinable
    public mutating func writeDecimal(_ value: Int64) {
        if value < 0 { write(UInt8(ascii: "-")) }
        writeDecimal(magnitude: value.magnitude)
    }

    /// Writes the digits of `magnitude`, as ``RESPDecimal/count(magnitude:)`` counts them.
    @inlinable
    public mutating func writeDecimal(magnitude: UInt64) {
        // A command's counts and lengths: one or two digits, written without the count.
        if magnitude < 100 {
            let digits = magnitude < 10 ? 1 : 2
            precondition(digits <= storage.count &- position, "RESPWriter: write past the announced size")
            storeBelow100(magnitude, at: position)
            position &+= digits
            return
        }
        var rest = magnitude
        let digits = RESPDecimal.count(magnitude: rest)
        precondition(digits <= storage.count &- position, "RESPWriter: write past the announced size")
        // Digits come out least significant first: fill from the right.
        var index = position &+ digits
        repeat {
            index &-= 1
            storage[index] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
            rest /= 10
        } while rest > 0
        position &+= digits
    }

    /// Where ``append(count:to:placement:_:)`` puts its bytes.
    public enum Placement: Sendable {
        /// After the bytes the buffer holds.
        case appending
        /// Instead of them, in the same storage: the buffer ends up exactly the new bytes.
        /// For a buffer reused from one command to the next, whose old bytes are of no
        /// further use: a buffer already of the new size is written over as it is, with
        /// neither the removal nor the zero-fill that emptying it and appending cost
        /// (with the reservation and the uniqueness checks that go with them, about 300
        /// instructions a command under callgrind). Every byte is written anew
        /// (``finish()`` checks that the writer filled the whole size), so nothing of the
        /// old bytes survives; a buffer whose storage something else still holds is
        /// copied first (copy-on-write), leaving the holder's bytes as they were.
        case overwriting
    }

    /// Appends exactly `size` bytes to `buffer` (or, `overwriting`, makes `buffer` exactly
    /// them), written by `body`: the buffer grows at most once, by a copy of zeros, then
    /// the new bytes are written in place. (Both `Array(unsafeUninitializedCapacity:)` and
    /// `Array(repeating:count:)` look up the storage's generic metadata on every call,
    /// and appending `repeatElement` fills byte by byte; each costs more than this copy.)
    @inlinable
    public static func append(count size: Int, to buffer: inout [UInt8], placement: Placement = .appending,
                              _ body: (inout RESPWriter) -> Void) {
        var start = buffer.count
        if placement == .overwriting {
            start = 0
            if buffer.count > size { buffer.removeLast(buffer.count &- size) }
        }
        var missing = start + size - buffer.count
        if missing > 0 { buffer.reserveCapacity(start + size) }
        while missing > 0 {
            let chunk = Swift.min(missing, zeros.count)
            buffer.append(contentsOf: zeros[..<chunk])
            missing -= chunk
        }
        buffer.withUnsafeMutableBufferPointer { all in
            var writer = RESPWriter(UnsafeMutableBufferPointer(rebasing: all[start...]))
            body(&writer)
            writer.finish()
        }
    }

    @usableFromInline static let zeros = [UInt8](repeating: 0, count: 4096)

    @inlinable
    consuming func finish() {
        precondition(position == storage.count, "RESPWriter: wrote \(position) of the \(storage.count) bytes announced (a respPayloadCount that does not match its payload)")
    }
}
