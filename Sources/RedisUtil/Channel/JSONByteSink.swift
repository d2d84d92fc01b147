/// The bytes of one message as it is written, stored through a pointer: on the caller's
/// scratch memory (the stack) while they fit, then on the heap.
///
/// What ``JSONMemberWriter`` writes into. An `[UInt8]` checked its uniqueness and its
/// capacity at every byte appended (about 20 instructions a call, five calls a member); here
/// one ``reserve(_:)`` per member is followed by plain stores, and the message's bytes go
/// into the command's array with one copy.
///
/// Every write lies in `base[count ..< capacity]`: ``reserve(_:)`` makes room first, and
/// ``write(upTo:_:)`` checks what its body says it wrote against the room it asked for.
struct JSONByteSink: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// The bytes written, from `base`.
    private(set) var count = 0
    /// Whether `base` is heap memory this sink allocated (and frees); else the caller's scratch.
    private var ownsStorage = false

    /// A sink that writes into `scratch` until it needs more. `scratch` must outlive it.
    init(scratch: UnsafeMutableBufferPointer<UInt8>) {
        guard let start = scratch.baseAddress, scratch.count > 0 else {
            // No scratch: start on the heap.
            base = .allocate(capacity: 64)
            capacity = 64
            ownsStorage = true
            return
        }
        base = start
        capacity = scratch.count
    }

    deinit {
        if ownsStorage { base.deallocate() }
    }

    /// Makes room for `extra` more bytes.
    @inline(__always)
    mutating func reserve(_ extra: Int) {
        if capacity &- count < extra { grow(toFit: extra) }
    }

    /// Moves the bytes to a heap block of at least twice the capacity that holds `extra` more.
    @inline(never)
    private mutating func grow(toFit extra: Int) {
        precondition(extra >= 0 && extra <= Int.max / 2 - count, "JSONByteSink: size overflow")
        let newCapacity = max(capacity * 2, count + extra)
        let fresh = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        fresh.initialize(from: base, count: count)
        if ownsStorage { base.deallocate() }
        base = fresh
        capacity = newCapacity
        ownsStorage = true
    }

    /// Writes at most `limit` bytes at the end through `body`, which returns how many it wrote.
    @inline(__always)
    mutating func write(upTo limit: Int, _ body: (UnsafeMutablePointer<UInt8>) -> Int) {
        reserve(limit)
        let written = body(base + count)
        precondition(written >= 0 && written <= limit, "JSONByteSink: wrote past the room reserved")
        count &+= written
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count &+= 1
    }

    mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        (base + count).initialize(from: source, count: bytes.count)
        count &+= bytes.count
    }

    mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBufferPointer { append($0) }
    }

    /// Appends `value` in decimal, as `RESPDecimal.append` writes it.
    mutating func appendDecimal(_ value: Int64) {
        // At most 20 bytes: Int64.min is a sign and 19 digits.
        write(upTo: 20) { out in
            var magnitude = value.magnitude
            let start = value < 0 ? 1 : 0
            if value < 0 { out[0] = UInt8(ascii: "-") }
            // Least significant first, two digits a division, from the end of the room
            // (no count of the digits beforehand), then moved down behind the sign.
            var first = 20
            while magnitude >= 100 {
                let pair = Int(truncatingIfNeeded: magnitude % 100)
                magnitude /= 100
                let tens = (pair &* 205) &>> 11 // pair / 10, exact below 1,000
                out[first &- 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: pair &- tens &* 10)
                out[first &- 2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: tens)
                first &-= 2
            }
            if magnitude >= 10 {
                let tens = (Int(truncatingIfNeeded: magnitude) &* 205) &>> 11
                out[first &- 1] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: Int(truncatingIfNeeded: magnitude) &- tens &* 10)
                out[first &- 2] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: tens)
                first &-= 2
            } else {
                first &-= 1
                out[first] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude)
            }
            let digits = 20 &- first
            // The regions may overlap (19 digits after a sign): a move, which allows it.
            (out + start).moveInitialize(from: out + first, count: digits)
            return start &+ digits
        }
    }

    /// The bytes written so far, lent to `body`.
    func withBytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) -> Result) -> Result {
        body(UnsafeBufferPointer(start: base, count: count))
    }
}
