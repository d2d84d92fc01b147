/// The members of a flat JSON object read in the order they come, for a
/// ``JSONMemberDecodable`` type whose reads follow that order (a message its own
/// `writeMembers` wrote, or Python from a dictionary filled in declaration order): each
/// wanted key is compared in place with the next key of the document and its value
/// scanned there, with no table of members built, no search for repeated keys over it
/// and no look-up (callgrind: the table, its checks and look-ups were about a quarter of
/// a four-member receive).
///
/// It answers only for a message it reads whole: every member read once, in order, the
/// object closed and nothing but whitespace after it. Anything else (another order, a
/// member not read, a missing key, a key read twice, a key beyond ASCII or with an
/// escape) makes it *leave*, and ``JSONMemberReader`` reads the message again through
/// ``FlatJSONDocument``, which answers those cases. Values are scanned by the same
/// ``JSONScanner`` as there, so the two cannot disagree on a token; the string and
/// integer reads, which convert as they scan (``nextString(_:)``, ``nextInteger(_:as:)``),
/// follow the rules of the document's scalars, a test comparing the two.
struct JSONMemberStream {
    private var scanner: JSONScanner
    /// Whether the message left the order this reads in (then nothing more is read).
    private(set) var left = false
    /// Whether the object's closing brace has been read.
    private var closed = false
    /// Where the object's members start (after its opening brace).
    private var firstMember = 0
    /// One bit per key read so far, from a hash of its bytes: a key whose bit is new was
    /// not read before; one whose bit is set is looked for among the keys before it.
    private var keyBits: UInt64 = 0

    /// A stream at the start of `bytes`, which leaves at once unless they open an object.
    init(_ bytes: [UInt8]) {
        scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        guard scanner.current == UInt8(ascii: "{") else {
            left = true
            return
        }
        scanner.position += 1
        firstMember = scanner.position
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "}") {
            scanner.position += 1
            closed = true
        }
    }

    /// The value of the next member if its key is `key`; otherwise the stream leaves and
    /// this returns `nil`.
    mutating func next(_ key: StaticString) -> FlatJSONDocument.Scalar? {
        guard valueStarts(key), let value = scanner.flatScalar(), ended() else { return leave() }
        return value
    }

    /// The next member's value as a `String`, read where it lies, if its key is `key` and
    /// its value a string; otherwise the stream leaves and this returns `nil`. What
    /// ``next(_:)`` and ``FlatJSONDocument/Scalar/string(in:)`` answer together, without
    /// the scalar between them (its kind stored, then switched on again: with the same
    /// for integers, about 320 instructions of the benchmark's four-member receive,
    /// callgrind).
    mutating func nextString(_ key: StaticString) -> String? {
        guard valueStarts(key), scanner.current == UInt8(ascii: "\""),
              let string = try? scanner.scanString(), ended() else { return leave() }
        return JSONScanner.string(scanner.bytes, in: string.range, hasEscapes: string.hasEscapes)
    }

    /// The next member's value as `Integer`, read where it lies, if its key is `key` and
    /// its value an integer that fits; `nil` otherwise, the stream having left unless the
    /// value was an integer that does not fit. What ``next(_:)`` and
    /// ``FlatJSONDocument/Scalar/integer(in:as:)`` answer together (see ``nextString(_:)``):
    /// a fraction, an exponent and `-0` are not integers here either.
    mutating func nextInteger<Integer: FixedWidthInteger>(_ key: StaticString, as type: Integer.Type) -> Integer? {
        // `scanNumber` refuses a value that does not start as a number.
        guard valueStarts(key), let number = try? scanner.scanNumber(), number.isInteger, ended() else { return leave() }
        guard let magnitude = number.magnitude else { return JSONScanner.integer(scanner.bytes, in: number.range, as: Integer.self) }
        if number.isMinusZero { return leave() }
        return JSONScanner.integer(magnitude: magnitude, negative: number.isNegative, as: Integer.self)
    }

    /// Whether the message was read whole (see the type's description).
    mutating func finished() -> Bool {
        guard !left, closed else { return false }
        scanner.skipWhitespace()
        return scanner.isAtEnd
    }

    /// Leaves the stream (nothing more is read); `nil`, for the caller to return.
    private mutating func leave<Value>() -> Value? {
        left = true
        return nil
    }

    /// Whether the next member's key is `key`, read once (see ``wasRead(keyAt:count:)``)
    /// and followed by its colon: the member's value then starts at the scanner's position.
    @inline(__always)
    private mutating func valueStarts(_ key: StaticString) -> Bool {
        guard !left, !closed else { return false }
        scanner.skipWhitespace()
        let open = scanner.position
        guard let hash = key.withUTF8Buffer({ wanted in
            scanner.bytes.withUnsafeBufferPointer { Self.matchKey(wanted, in: $0, at: open) }
        }) else { return false }
        let count = key.utf8CodeUnitCount
        let bit: UInt64 = 1 &<< ((hash &* 0x9E37_79B9_7F4A_7C15) &>> 58)
        if keyBits & bit != 0, wasRead(keyAt: open + 1, count: count) { return false }
        keyBits |= bit
        scanner.position = open + count + 2
        return scanner.flatMemberColon()
    }

    /// Whether a `,` or the object's `}` follows the value just read.
    @inline(__always)
    private mutating func ended() -> Bool {
        guard let closed = scanner.flatMemberEnd() else { return false }
        self.closed = closed
        return true
    }

    /// A hash of `wanted` if `bytes` hold the string `"wanted"` exactly at `open`, else
    /// `nil`. Only a wanted key of printable ASCII other than `"` and `\` matches, so
    /// that equal bytes are the same key as a Swift string and the document's key has no
    /// escape. Bounds are checked before the first read.
    ///
    /// A key of eight bytes or fewer (most) is checked and compared as one word, its
    /// bytes loaded from the document at once where eight bytes follow the quote (a byte
    /// loop cost about 110 instructions a key); equal keys hash alike either way.
    static func matchKey(_ wanted: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>, at open: Int) -> UInt64? {
        let count = wanted.count
        guard open >= 0, bytes.count - open >= count + 2, bytes[open] == UInt8(ascii: "\""),
              bytes[open + count + 1] == UInt8(ascii: "\"") else { return nil }
        guard count <= 8 else { return matchLongKey(wanted, in: bytes, at: open) }
        guard let (word, own) = JSONEscapeScan.shortPlainWord(wanted), word & 0x8080_8080_8080_8080 == 0 else { return nil }
        if bytes.count - (open + 1) >= 8, let base = bytes.baseAddress {
            let found = UInt64(littleEndian: UnsafeRawPointer(base + open + 1).loadUnaligned(as: UInt64.self))
            guard found & own == word else { return nil }
        } else {
            for index in 0..<count where bytes[open + 1 + index] != wanted[index] { return nil }
        }
        return word &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(count)
    }

    /// ``matchKey(_:in:at:)`` for a key of more than eight bytes, a byte at a time.
    private static func matchLongKey(_ wanted: UnsafeBufferPointer<UInt8>, in bytes: UnsafeBufferPointer<UInt8>, at open: Int) -> UInt64? {
        var hash: UInt64 = 0
        for index in 0..<wanted.count {
            let byte = wanted[index]
            guard byte &- 0x20 < 0x60, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"),
                  bytes[open + 1 + index] == byte else { return nil }
            hash = hash &* 31 &+ UInt64(byte)
        }
        return hash &+ UInt64(wanted.count)
    }

    /// Whether a member before this one has the key of `count` bytes at `start`: a key
    /// read twice would find a repeated key, whose last value is the one `init(from:)`
    /// reads (as Python's `json.loads` keeps). Walks the members already read, which were
    /// scanned once and cannot fail now; only when the key's hash bit was set before.
    /// Those are as many as the type's reads so far (a member the type does not read
    /// makes the stream leave), so a message cannot make this walk long.
    private func wasRead(keyAt start: Int, count: Int) -> Bool {
        var walker = JSONScanner(scanner.bytes)
        walker.position = firstMember
        let bytes = scanner.bytes
        while true {
            walker.skipWhitespace()
            let keyStart = walker.position + 1
            if keyStart >= start { return false }
            guard let key = try? walker.scanString() else { return false }
            if key.range.count == count, bytes[key.range].elementsEqual(bytes[start..<start + count]) { return true }
            guard let rest = walker.flatMemberRest(), !rest.closed else { return false }
        }
    }
}
