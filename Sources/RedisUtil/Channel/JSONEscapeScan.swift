/// Whether a run of UTF-8 needs any JSON escape, sixteen or eight bytes at a time: the
/// check every string of a channel message goes through (a 64-byte payload took about
/// 500 instructions a byte at a time).
///
/// The unsafe part of this file is the unaligned 16- and 8-byte loads and stores; every
/// one lies inside its buffer (`offset + 16 <= count`, `offset + 8 <= count`, or the
/// last sixteen of at least sixteen), and the rest is read a byte at a time.
enum JSONEscapeScan {
    /// What `ensure_ascii=False` escapes: quote, backslash and the C0 controls. Bytes of
    /// 0x80 and up (non-ASCII UTF-8) and DEL are written as they are.
    @inline(__always)
    static func needsEscape(_ byte: UInt8) -> Bool {
        byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\")
    }

    /// The bytes of a key of at most eight bytes as one little-endian word, with the mask
    /// of its own bytes, or `nil` when one of them needs an escape: a message's usual key,
    /// checked by the word test and handled whole (the member writer stores it at once,
    /// the member stream compares it with one load). Only the key's own bytes are tested:
    /// the padding's zeros would read as control characters.
    @inline(__always)
    static func shortPlainWord(_ bytes: UnsafeBufferPointer<UInt8>) -> (word: UInt64, own: UInt64)? {
        plainWord(shortWord(bytes), count: bytes.count)
    }

    /// The bytes of a string of at most eight bytes as one little-endian word, the bytes
    /// past its end zeros.
    @inline(__always)
    static func shortWord(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 {
        precondition(bytes.count <= 8, "a short string is at most eight bytes")
        var word: UInt64 = 0
        for index in 0..<bytes.count { word |= UInt64(bytes[index]) &<< UInt64(index &* 8) }
        return word
    }

    /// `word` (a ``shortWord(_:)`` of `count` bytes) with the mask of its own bytes, or
    /// `nil` when one of them needs an escape.
    @inline(__always)
    static func plainWord(_ word: UInt64, count: Int) -> (word: UInt64, own: UInt64)? {
        let own: UInt64 = count == 8 ? .max : (1 &<< UInt64(count &* 8)) &- 1
        return escapeMask(word) & own == 0 ? (word, own) : nil
    }

    /// Whether any byte of `bytes` needs an escape.
    static func anyNeedsEscape(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var offset = 0
        while offset &+ 16 <= count {
            if vectorNeedsEscape(raw.loadUnaligned(fromByteOffset: offset, as: SIMD2<UInt64>.self)) { return true }
            offset &+= 16
        }
        while offset &+ 8 <= count {
            if wordNeedsEscape(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) { return true }
            offset &+= 8
        }
        // The last bytes of a string of eight or more: its last word, read again in part.
        if offset < count, count >= 8 {
            return wordNeedsEscape(raw.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        }
        while offset < count {
            if needsEscape(base[offset]) { return true }
            offset += 1
        }
        return false
    }

    /// Copies `bytes` to `out` (room for `bytes.count`) when none needs an escape, checking
    /// and copying in one pass; `false` at the first that does, with `out` then holding
    /// part of them (the caller discards it). Sixteen bytes a step (``vectorNeedsEscape(_:)``
    /// and one store), the last sixteen of a longer string read and written again in part;
    /// a string of eight to fifteen as its first and last words, a shorter one a byte at a
    /// time. A scan and then a `memcpy` call cost about 100 instructions more for a 64-byte
    /// string.
    static func copyIfPlain(_ bytes: UnsafeBufferPointer<UInt8>, to out: UnsafeMutablePointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let source = UnsafeRawPointer(base)
        let target = UnsafeMutableRawPointer(out)
        let count = bytes.count
        if count >= 16 {
            var offset = 0
            while offset &+ 16 <= count {
                let vector = source.loadUnaligned(fromByteOffset: offset, as: SIMD2<UInt64>.self)
                if vectorNeedsEscape(vector) { return false }
                target.storeBytes(of: vector, toByteOffset: offset, as: SIMD2<UInt64>.self)
                offset &+= 16
            }
            if offset < count {
                let vector = source.loadUnaligned(fromByteOffset: count &- 16, as: SIMD2<UInt64>.self)
                if vectorNeedsEscape(vector) { return false }
                target.storeBytes(of: vector, toByteOffset: count &- 16, as: SIMD2<UInt64>.self)
            }
            return true
        }
        if count >= 8 {
            let first = source.loadUnaligned(fromByteOffset: 0, as: UInt64.self)
            let last = source.loadUnaligned(fromByteOffset: count &- 8, as: UInt64.self)
            if wordNeedsEscape(first) || wordNeedsEscape(last) { return false }
            target.storeBytes(of: first, toByteOffset: 0, as: UInt64.self)
            target.storeBytes(of: last, toByteOffset: count &- 8, as: UInt64.self)
            return true
        }
        var offset = 0
        while offset < count {
            let byte = base[offset]
            if needsEscape(byte) { return false }
            out[offset] = byte
            offset &+= 1
        }
        return true
    }

    /// Whether one of the sixteen bytes needs an escape: ``escapeMask(_:)`` of each word.
    /// The compiler runs the two in one vector register (SSE2 on x86-64: about 20
    /// instructions for the sixteen bytes); per-byte lanes compared with `.<` and `.==`
    /// and reduced with `any` were compiled lane by lane, some 40 times slower.
    @inline(__always)
    static func vectorNeedsEscape(_ words: SIMD2<UInt64>) -> Bool {
        escapeMask(words[0]) | escapeMask(words[1]) != 0
    }

    /// Where the run of bytes that need no escape ends in `bytes`, from `index`; sets the
    /// high bit of `highBits` when one of them is 0x80 or more (non-ASCII UTF-8, which
    /// the reader then validates). What the JSON reader skips inside a string: a word at
    /// a time, the first byte that stops the run found in the word itself (a short key
    /// is one word; a byte loop cost about 14 instructions a byte; a 16-byte step first,
    /// as the writer's, saved nothing on a message's short strings, its call no longer
    /// inlined).
    @inline(__always)
    static func endOfPlainBytes(_ bytes: UnsafeBufferPointer<UInt8>, from index: Int, highBits: inout UInt8) -> Int {
        guard let base = bytes.baseAddress, index < bytes.count else { return index }
        let raw = UnsafeRawPointer(base)
        let count = bytes.count
        var offset = index
        var seen: UInt64 = 0
        while offset &+ 8 <= count {
            // The byte at the lowest address in the lowest bits, whatever the platform.
            let word = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let stops = escapeMask(word)
            if stops != 0 {
                let plain = stops.trailingZeroBitCount &>> 3
                // Only the bytes before the stop count for `highBits`.
                seen |= plain == 0 ? 0 : word & (~0 &>> UInt64(64 &- plain &* 8))
                if seen & Self.highBitMask != 0 { highBits |= 0x80 }
                return offset &+ plain
            }
            seen |= word
            offset &+= 8
        }
        if seen & Self.highBitMask != 0 { highBits |= 0x80 }
        while offset < count {
            let byte = base[offset]
            if needsEscape(byte) { break }
            highBits |= byte
            offset &+= 1
        }
        return offset
    }

    private static let ones: UInt64 = 0x0101_0101_0101_0101
    private static let highBitMask: UInt64 = 0x8080_8080_8080_8080

    /// Whether one of the eight bytes of `word` is below 0x20, a quote or a backslash.
    /// The classic bit tricks: `(x - 0x20…) & ~x & 0x80…` is non-zero exactly when a
    /// byte of `x` is below 0x20, and `x ^ 0x22…` has a zero byte exactly where `x` has
    /// a quote (so the same test below 0x01 finds it). The quote and backslash have their
    /// high bit clear, so `~(x ^ q)` and `~x` agree on every byte's high bit and one mask
    /// serves all three. A byte of 0x80 or more has its high bit set in `x`, so `~x` clears
    /// it: non-ASCII bytes never match.
    @inline(__always)
    static func wordNeedsEscape(_ word: UInt64) -> Bool {
        escapeMask(word) != 0
    }

    /// ``wordNeedsEscape(_:)``'s test as a mask: the high bit of each byte flagged. The
    /// lowest flagged byte is always one that needs an escape: a subtraction's borrow
    /// runs only from a byte that matched, so a false flag lies above a true one.
    @inline(__always)
    static func escapeMask(_ word: UInt64) -> UInt64 {
        let control = word &- ones &* 0x20
        let quote = (word ^ (ones &* UInt64(UInt8(ascii: "\"")))) &- ones
        let backslash = (word ^ (ones &* UInt64(UInt8(ascii: "\\")))) &- ones
        return (control | quote | backslash) & ~word & highBitMask
    }
}
