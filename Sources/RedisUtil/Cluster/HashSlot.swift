#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The Redis Cluster slot of a key: CRC16 (XMODEM) of the key, or of its hash tag, mod 16384.
///
/// A hash tag is what lies between the first `{` and the first `}` after it, when that is
/// not empty: `{user1000}.following` and `{user1000}.followers` share a slot. Anything
/// else (no `{`, no `}` after it, or `{}`) hashes the whole key, exactly as the server's
/// `keyHashSlot` does, so that `CLUSTER KEYSLOT` and this agree for every key.
enum HashSlot {
    /// The number of slots in a cluster.
    static let count = 16384

    /// The slot of `key`, in `0..<16384`.
    static func of(_ key: some Collection<UInt8>) -> Int {
        if let open = key.firstIndex(of: UInt8(ascii: "{")) {
            let afterOpen = key.index(after: open)
            if let close = key[afterOpen...].firstIndex(of: UInt8(ascii: "}")), close != afterOpen {
                return Int(crc16(key[afterOpen..<close]) & 0x3FFF)
            }
        }
        return Int(crc16(key) & 0x3FFF)
    }

    /// The slot of `key`: what routing calls for every command, on the key's bytes in
    /// place (the generic form took about 245 instructions for a 15-byte key).
    static func of(_ key: UnsafeBufferPointer<UInt8>) -> Int {
        guard let base = key.baseAddress, !key.isEmpty else { return 0 }
        // A key of 8 to 16 bytes (most) is searched for `{` in two overlapping words
        // (both inside the key) rather than by a call to `memchr`.
        if key.count >= 8, key.count <= 16 {
            let raw = UnsafeRawPointer(base)
            if !hasOpeningBrace(raw.loadUnaligned(as: UInt64.self)),
               !hasOpeningBrace(raw.loadUnaligned(fromByteOffset: key.count &- 8, as: UInt64.self)) {
                return Int(crc16Sliced(key) & 0x3FFF)
            }
        }
        if let open = memchr(base, Int32(UInt8(ascii: "{")), key.count) {
            let afterOpen = UnsafeRawPointer(open).assumingMemoryBound(to: UInt8.self) + 1
            let rest = base + key.count - afterOpen
            if rest > 0, let close = memchr(afterOpen, Int32(UInt8(ascii: "}")), rest), close != UnsafeRawPointer(afterOpen) {
                return Int(crc16Sliced(UnsafeBufferPointer(start: afterOpen, count: UnsafeRawPointer(close) - UnsafeRawPointer(afterOpen))) & 0x3FFF)
            }
        }
        return Int(crc16Sliced(key) & 0x3FFF)
    }

    /// Whether one of the eight bytes of `word` is `{`: the bytes equal to it become
    /// zero, and the classic test for a zero byte finds one exactly when there is one
    /// (its false flags lie only above a true one).
    @inline(__always)
    static func hasOpeningBrace(_ word: UInt64) -> Bool {
        let flipped = word ^ 0x7B7B_7B7B_7B7B_7B7B
        return (flipped &- 0x0101_0101_0101_0101) & ~flipped & 0x8080_8080_8080_8080 != 0
    }

    /// The slot of `key`'s UTF-8 bytes.
    static func of(_ key: String) -> Int {
        var key = key
        return key.withUTF8 { of($0) }
    }

    /// CRC16-CCITT (XMODEM: polynomial 0x1021, initial value 0, no reflection), the
    /// checksum Redis Cluster specifies, one table lookup per byte.
    static func crc16(_ bytes: some Sequence<UInt8>) -> UInt16 {
        // Through a buffer pointer: read from the array inside the loop, the static was
        // checked for its lazy initialisation and the index bounds-checked at every byte
        // (callgrind, the slot of `GET user:1000:profile`: 705 instructions, now 650). A
        // `UInt8` index cannot leave the 256 entries, so the unchecked read is safe.
        table.withUnsafeBufferPointer { table in
            var crc: UInt16 = 0
            for byte in bytes {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
            }
            return crc
        }
    }

    /// ``crc16(_:)`` four bytes a step (slicing by four): the CRC is linear, so the CRC of
    /// four bytes from a state is the XOR of each byte's CRC followed by as many zero bytes
    /// as come after it, once the state's two bytes are folded into the first two (about
    /// 4 instructions a byte against 9: a 15-byte key's CRC 141 → 95 under callgrind).
    /// Every read lies inside `bytes`, and a table index is a byte, inside its 256 entries.
    /// The tail of one to three bytes takes a two-byte step and a one-byte step.
    @inline(__always)
    static func crc16Sliced(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        slicedTable.withUnsafeBufferPointer { table in
            var crc: UInt16 = 0
            var index = 0
            let count = bytes.count
            while index &+ 4 <= count {
                let first = bytes[index] ^ UInt8(truncatingIfNeeded: crc >> 8)
                let second = bytes[index &+ 1] ^ UInt8(truncatingIfNeeded: crc)
                crc = table[768 &+ Int(first)] ^ table[512 &+ Int(second)] ^ table[256 &+ Int(bytes[index &+ 2])] ^ table[Int(bytes[index &+ 3])]
                index &+= 4
            }
            // Two bytes consume the whole 16-bit state, as four do: two look-ups.
            if index &+ 2 <= count {
                let first = bytes[index] ^ UInt8(truncatingIfNeeded: crc >> 8)
                let second = bytes[index &+ 1] ^ UInt8(truncatingIfNeeded: crc)
                crc = table[256 &+ Int(first)] ^ table[Int(second)]
                index &+= 2
            }
            if index < count {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ bytes[index])]
            }
            return crc
        }
    }

    /// Four tables back to back: entry `256 × k + x` is the CRC of the byte `x` followed
    /// by `k` zero bytes (the first is ``table``).
    private static let slicedTable: [UInt16] = {
        var tables = table
        for zeros in 1..<4 {
            for value in 0..<256 {
                let previous = tables[256 * (zeros - 1) + value]
                tables.append((previous << 8) ^ table[Int(previous >> 8)])
            }
        }
        return tables
    }()

    /// The CRC of every byte value, computed once.
    private static let table: [UInt16] = (0..<256).map { value in
        var crc = UInt16(value) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
