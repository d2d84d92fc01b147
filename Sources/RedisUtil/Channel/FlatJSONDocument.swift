/// A strict-JSON document that is one scalar, or one object whose members are all
/// scalars: the shape channel messages almost always have. Scanning validates the
/// whole document (so that a value no field reads cannot hide an error the slow path
/// would report) and records where each scalar lies, without copying anything.
///
/// Anything outside that shape or outside strict JSON (nesting, `NaN`, JSON5, a
/// repeated or escaped key, invalid UTF-8) makes `init` fail; the caller then uses the
/// slow path (``JSONNodeDecoder``), which decides those cases.
struct FlatJSONDocument {
    /// Where one scalar lies in `bytes`, and what it is.
    struct Scalar {
        enum Kind: UInt8 {
            /// `start..<end` are the bytes between the quotes.
            case string, escapedString
            /// `start..<end` are the digits (and sign), at most 19 of them, whose value
            /// is `magnitude`; exact as any integer type.
            case integer
            /// An integer of more than 19 digits, read again from its bytes.
            case longInteger
            /// Fraction or exponent, or `-0`: only a `Double` reads these here.
            case fraction
            case `true`, `false`, null
        }
        var kind: Kind
        var start: Int
        var end: Int
        /// An ``Kind/integer``'s digits as the scan read them (``JSONScanner/Number/magnitude``;
        /// not optional, which made each scalar a word longer to move).
        var magnitude: UInt64 = 0
    }

    /// One member of the root object: its key's bytes (between the quotes) and value.
    struct Member {
        var keyStart: Int
        var keyEnd: Int
        var value: Scalar
    }

    /// Objects with more members are left to the slow path: the duplicate-key check and
    /// the key lookups are linear scans, meant for message-sized objects.
    static let maxMembers = 64

    let bytes: [UInt8]
    /// The root scalar, when the root is not an object.
    private(set) var root: Scalar?
    /// The root object's members in document order, when the root is an object.
    private(set) var members: [Member] = []
    /// Whether a key has a byte beyond ASCII: then two keys with different bytes may
    /// still be one Swift `String` (`é` composed or not, `K` and the Kelvin sign), as the
    /// slow path and `CodingKey`s compare them.
    private var hasNonASCIIKey = false

    init?(_ bytes: [UInt8]) {
        self.bytes = bytes
        var scanner = JSONScanner(bytes)
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "{") {
            guard let members = scanner.flatObject() else { return nil }
            self.members = members
        } else {
            guard let scalar = scanner.flatScalar() else { return nil }
            root = scalar
        }
        scanner.skipWhitespace()
        guard scanner.isAtEnd else { return nil }
        // Only a document with a byte beyond ASCII can have such a key: the usual
        // message does not look. A wanted key beyond ASCII may equal an ASCII one too
        // (the Kelvin sign is `K`): then every lookup that misses compares strings.
        hasNonASCIIKey = scanner.sawNonASCII && members.contains { member in
            bytes[member.keyStart..<member.keyEnd].contains { $0 >= 0x80 }
        }
        if members.count > 1 && hasRepeatedKey() { return nil }
    }

    /// The index of the member whose key is `key`, searching from `hint` (members are
    /// usually read in the order they were written).
    func member(named key: String, from hint: Int) -> Int? {
        guard !members.isEmpty else { return nil }
        let wanted = key.utf8
        // A native string's bytes are contiguous; others are copied once.
        let found = wanted.withContiguousStorageIfAvailable { member(withKey: $0, from: hint) }
            ?? Array(wanted).withUnsafeBufferPointer { member(withKey: $0, from: hint) }
        if let found { return found }
        return mayEqualWithOtherBytes(wanted) ? member(equalTo: key) : nil
    }

    /// ``member(named:from:)`` for a key known when compiling (``JSONMemberReader``'s):
    /// its bytes as they are, with no `String` made unless some key is not ASCII.
    func member(named key: StaticString, from hint: Int) -> Int? {
        guard !members.isEmpty else { return nil }
        return key.withUTF8Buffer { wanted in
            if let found = member(withKey: wanted, from: hint) { return found }
            return mayEqualWithOtherBytes(wanted) ? member(equalTo: key.description) : nil
        }
    }

    /// Whether a key other than the bytes `wanted` may still be the same Swift string:
    /// only where some key, or the wanted one, is not ASCII.
    private func mayEqualWithOtherBytes(_ wanted: some Sequence<UInt8>) -> Bool {
        hasNonASCIIKey || wanted.contains(where: { $0 >= 0x80 })
    }

    /// Whether the root is an object (else a scalar).
    var isObject: Bool { root == nil }

    /// The index of the member whose key has exactly the bytes `wanted`, from `hint`.
    private func member(withKey wanted: UnsafeBufferPointer<UInt8>, from hint: Int) -> Int? {
        let count = members.count
        return bytes.withUnsafeBufferPointer { bytes in
            var index = hint < count ? hint : 0
            for _ in 0..<count {
                let member = members[index]
                if member.keyEnd - member.keyStart == wanted.count, Self.equal(bytes.baseAddress! + member.keyStart, wanted) {
                    return index
                }
                index = index + 1 == count ? 0 : index + 1
            }
            return nil
        }
    }

    /// Whether the `wanted.count` bytes at `start` are those of `wanted` (a plain loop:
    /// `elementsEqual` went through iterators, about 110 instructions for a short key).
    @inline(__always)
    private static func equal(_ start: UnsafePointer<UInt8>, _ wanted: UnsafeBufferPointer<UInt8>) -> Bool {
        var offset = 0
        while offset < wanted.count {
            if start[offset] != wanted[offset] { return false }
            offset += 1
        }
        return true
    }

    /// The member whose key equals `key` as a Swift string (canonically), for keys
    /// beyond ASCII; out of line, off the usual message's path.
    @inline(never)
    private func member(equalTo key: String) -> Int? {
        members.indices.first { self.key(at: $0) == key }
    }

    /// The key of member `index` as a `String` (valid UTF-8: checked when scanning).
    func key(at index: Int) -> String {
        String(decoding: bytes[members[index].keyStart..<members[index].keyEnd], as: UTF8.self)
    }

    private func hasRepeatedKey() -> Bool {
        if hasNonASCIIKey { return hasKeyRepeatedAsAString() }
        for later in 1..<members.count {
            let b = members[later]
            for earlier in 0..<later {
                let a = members[earlier]
                if a.keyEnd - a.keyStart == b.keyEnd - b.keyStart,
                   bytes[a.keyStart..<a.keyEnd].elementsEqual(bytes[b.keyStart..<b.keyEnd]) {
                    return true
                }
            }
        }
        return false
    }

    /// Whether two keys are equal Swift strings, for keys beyond ASCII; out of line.
    @inline(never)
    private func hasKeyRepeatedAsAString() -> Bool {
        var keys = Set<String>()
        return !members.indices.allSatisfy { keys.insert(key(at: $0)).inserted }
    }
}

/// The fast path's shape, scanned with JSON's one grammar: each method returns `nil`
/// where the document leaves that shape or strict JSON.
private extension JSONScanner {
    mutating func flatObject() -> [FlatJSONDocument.Member]? {
        position += 1
        var members: [FlatJSONDocument.Member] = []
        members.reserveCapacity(8)
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return members
        }
        while true {
            skipWhitespace()
            guard members.count < FlatJSONDocument.maxMembers, current == UInt8(ascii: "\""),
                  let key = try? scanString(), !key.hasEscapes,
                  let rest = flatMemberRest() else { return nil }
            members.append(FlatJSONDocument.Member(keyStart: key.range.lowerBound, keyEnd: key.range.upperBound, value: rest.value))
            if rest.closed { return members }
        }
    }
}

extension JSONScanner {
    /// What follows a member's key in a flat object: the colon, the scalar value and the
    /// `,` or `}` after it, each after optional whitespace; the value and whether the
    /// object closed, or `nil` where the document leaves that shape or strict JSON.
    /// Shared by ``FlatJSONDocument`` and ``JSONMemberStream/next(_:)``, whose typed reads
    /// use its colon and end in turn; inlined (a call cost the stream's receive about 75
    /// instructions).
    @inline(__always)
    mutating func flatMemberRest() -> (value: FlatJSONDocument.Scalar, closed: Bool)? {
        guard flatMemberColon(), let value = flatScalar(), let closed = flatMemberEnd() else { return nil }
        return (value, closed)
    }

    /// The colon after a member's key, with the whitespace around it: whether the
    /// member's value starts at `position` now.
    @inline(__always)
    mutating func flatMemberColon() -> Bool {
        skipWhitespace()
        guard current == UInt8(ascii: ":") else { return false }
        position += 1
        skipWhitespace()
        return true
    }

    /// The `,` or `}` after a member's value, after optional whitespace: whether the
    /// object closed there, or `nil` where neither comes.
    @inline(__always)
    mutating func flatMemberEnd() -> Bool? {
        skipWhitespace()
        switch current {
        case UInt8(ascii: ","):
            position += 1
            return false
        case UInt8(ascii: "}"):
            position += 1
            return true
        default:
            return nil
        }
    }

    /// The scalar at `position` (a string, number, `true`, `false` or `null`), or `nil`
    /// where strict JSON has none; shared with ``JSONMemberStream``.
    mutating func flatScalar() -> FlatJSONDocument.Scalar? {
        guard let byte = current else { return nil }
        let start = position
        let kind: FlatJSONDocument.Scalar.Kind
        switch byte {
        case UInt8(ascii: "\""):
            guard let string = try? scanString() else { return nil }
            return FlatJSONDocument.Scalar(kind: string.hasEscapes ? .escapedString : .string, start: string.range.lowerBound, end: string.range.upperBound)
        case UInt8(ascii: "t") where consume("true"): kind = .true
        case UInt8(ascii: "f") where consume("false"): kind = .false
        case UInt8(ascii: "n") where consume("null"): kind = .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            guard let number = try? scanNumber() else { return nil }
            // "-0" is an integer to JSON but -0.0 to a Double, which the slow path keeps
            // apart: leave it to Double or to the slow path.
            guard number.isInteger && !number.isMinusZero else { return FlatJSONDocument.Scalar(kind: .fraction, start: start, end: position) }
            guard let magnitude = number.magnitude else { return FlatJSONDocument.Scalar(kind: .longInteger, start: start, end: position) }
            return FlatJSONDocument.Scalar(kind: .integer, start: start, end: position, magnitude: magnitude)
        default: return nil
        }
        return FlatJSONDocument.Scalar(kind: kind, start: start, end: position)
    }
}

// MARK: Reading scalars

extension FlatJSONDocument.Scalar {
    /// Each reader returns `nil` where the slow path might answer differently (another
    /// type, a number it converts by other rules, a Double it may reject as out of range).
    /// `bytes`: the document the scalar was scanned in.

    func string(in bytes: [UInt8]) -> String? {
        switch kind {
        case .string, .escapedString: JSONScanner.string(bytes, in: start..<end, hasEscapes: kind == .escapedString)
        default: nil
        }
    }

    func bool() -> Bool? {
        switch kind {
        case .true: true
        case .false: false
        default: nil
        }
    }

    func integer<Integer: FixedWidthInteger>(in bytes: [UInt8], as type: Integer.Type) -> Integer? {
        switch kind {
        case .integer: JSONScanner.integer(magnitude: magnitude, negative: bytes[start] == UInt8(ascii: "-"), as: Integer.self)
        case .longInteger: JSONScanner.integer(bytes, in: start..<end, as: Integer.self)
        default: nil
        }
    }

    func double(in bytes: [UInt8]) -> Double? {
        guard kind == .integer || kind == .longInteger || kind == .fraction else { return nil }
        // Up to 17 significant digits (every Double's shortest form fits, and Python
        // writes no more): beyond that, rounding subtleties are left to the slow path.
        var digits = 0
        var nonZero = false
        for byte in bytes[start..<end] {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { break }
            guard byte >= 0x30, byte <= 0x39 else { continue }
            if byte != 0x30 { nonZero = true }
            if nonZero { digits += 1 }
        }
        guard digits <= 17, let value = JSONScanner.double(bytes, in: start..<end),
              value.isFinite, value == 0 ? !nonZero : value.magnitude >= .leastNormalMagnitude else { return nil }
        return value
    }
}
