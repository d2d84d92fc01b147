/// A command's name of eight bytes or fewer (every command's but a few) as one 64-bit
/// word, folded to lower case: what routing compares and hashes instead of the name's
/// bytes, one at a time (``SpecialCommand``, ``ClusterKeyTable``).
///
/// The name's first byte is the word's lowest, and the bytes past its end are zero; a
/// name is compared with its length beside the word, since a name followed by NUL bytes
/// reads the same.
enum CommandNameWord {
    /// `name` (at most eight bytes are read) as one folded word, byte by byte.
    @inline(__always)
    static func folded(_ name: UnsafeBufferPointer<UInt8>) -> UInt64 {
        var word: UInt64 = 0
        for index in 0..<min(name.count, 8) {
            word |= UInt64(name[index]) &<< (8 &* UInt64(index))
        }
        return fold(word)
    }

    /// The name of `count` bytes (at most eight) at `start` in `buffer`, read as
    /// ``folded(_:)`` reads it, with one load of eight bytes whenever `buffer` holds
    /// eight: from `start` when they lie in it, else the last eight of `buffer` (which
    /// then hold the name: it ends inside them) shifted down to the name's first byte;
    /// the bytes past the name masked off. Byte by byte only in a buffer of fewer than
    /// eight bytes. (`PING` is 14 bytes long, its name at 8: the second case.)
    @inline(__always)
    static func folded(in buffer: UnsafeBufferPointer<UInt8>, at start: Int, count: Int) -> UInt64 {
        precondition(start >= 0 && count >= 0 && count <= 8 && start &+ count <= buffer.count)
        guard count > 0, buffer.count >= 8, let base = buffer.baseAddress else {
            return folded(UnsafeBufferPointer(rebasing: buffer[start..<(start &+ count)]))
        }
        // Within bounds: `load` + 8 ≤ buffer.count, and `load` ≤ start (when start + 8
        // passes the end, buffer.count - 8 < start).
        let load = min(start, buffer.count &- 8)
        let loaded = UInt64(littleEndian: UnsafeRawPointer(base + load).loadUnaligned(as: UInt64.self))
        let name = loaded &>> (8 &* UInt64(start &- load))
        return fold(name & (UInt64.max &>> (64 &- 8 &* UInt64(count))))
    }

    /// `name`'s UTF-8 bytes (eight at most) as one folded word; for tables built once.
    static func folded(_ name: StaticString) -> UInt64 {
        name.withUTF8Buffer { folded($0) }
    }

    /// Every ASCII capital among the eight bytes of `word` in lower case, the other
    /// bytes unchanged (as ``ClusterKeyTable/folded(_:)`` folds one byte), without a
    /// branch: a byte gets bit 5 where it is at least `A` and below `[` and its top bit
    /// is clear. The additions work on the low seven bits of each byte, so that no
    /// carry crosses into the next byte.
    @inline(__always)
    static func fold(_ word: UInt64) -> UInt64 {
        let low = word & 0x7F7F_7F7F_7F7F_7F7F
        let atLeastA = low &+ 0x3F3F_3F3F_3F3F_3F3F
        let pastZ = low &+ 0x2525_2525_2525_2525
        let capitals = atLeastA & ~pastZ & ~word & 0x8080_8080_8080_8080
        return word | (capitals &>> 2)
    }

    /// A hash of a folded word: the high half of a multiplication by a large odd
    /// constant (Fibonacci hashing), which every byte of the word reaches.
    @inline(__always)
    static func hash(_ word: UInt64) -> UInt64 {
        (word &* 0x9E37_79B9_7F4A_7C15) &>> 32
    }
}
