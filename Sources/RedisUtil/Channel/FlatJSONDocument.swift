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
            /// `start..<end` are the digits (and sign); exact as any integer type.
            case integer
            /// Fraction or exponent, or `-0`: only a `Double` reads these here.
            case fraction
            case `true`, `false`, null
        }
        var kind: Kind
        var start: Int
        var end: Int
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
        var scanner = Scanner(bytes: bytes)
        scanner.skipWhitespace()
        if scanner.peek == UInt8(ascii: "{") {
            guard let members = scanner.object() else { return nil }
            self.members = members
        } else {
            guard let scalar = scanner.scalar() else { return nil }
            root = scalar
        }
        scanner.skipWhitespace()
        guard scanner.position == bytes.count, !scanner.sawHighBytes || Self.isValidUTF8(bytes) else { return nil }
        // Only a document with a byte beyond ASCII can have such a key: the usual
        // message does not look. A wanted key beyond ASCII may equal an ASCII one too
        // (the Kelvin sign is `K`): then every lookup that misses compares strings.
        hasNonASCIIKey = scanner.sawHighBytes && members.contains { member in
            bytes[member.keyStart..<member.keyEnd].contains { $0 >= 0x80 }
        }
        if members.count > 1 && hasRepeatedKey() { return nil }
    }

    /// The index of the member whose key is `key`, searching from `hint` (members are
    /// usually read in the order they were written).
    func member(named key: String, from hint: Int) -> Int? {
        let count = members.count
        guard count > 0 else { return nil }
        let wanted = key.utf8
        var index = hint < count ? hint : 0
        for _ in 0..<count {
            let member = members[index]
            if member.keyEnd - member.keyStart == wanted.count, bytes[member.keyStart..<member.keyEnd].elementsEqual(wanted) {
                return index
            }
            index = index + 1 == count ? 0 : index + 1
        }
        // Equal strings with other bytes: only where some key is not ASCII.
        return hasNonASCIIKey || wanted.contains(where: { $0 >= 0x80 }) ? member(equalTo: key) : nil
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

    /// Strict UTF-8: no overlong forms, no surrogates, nothing past U+10FFFF.
    static func isValidUTF8(_ bytes: [UInt8]) -> Bool {
        isValidUTF8(bytes, in: 0..<bytes.count)
    }

    /// Whether `bytes[range]` is strict UTF-8 (``JSONReader`` checks each string's bytes
    /// with it, as this type checks a whole document).
    static func isValidUTF8(_ bytes: [UInt8], in range: Range<Int>) -> Bool {
        var index = range.lowerBound
        let count = range.upperBound
        while index < count {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard count - index >= length, (low...high).contains(bytes[index + 1]) else { return false }
            for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }
}

extension FlatJSONDocument {
    /// The validating scan; every method returns `nil` where the document leaves the
    /// fast path's shape or strict JSON.
    private struct Scanner {
        let bytes: [UInt8]
        var position = 0
        /// Whether any byte ≥ 0x80 was seen (inside strings: anywhere else is an error).
        var sawHighBytes = false

        var peek: UInt8? { position < bytes.count ? bytes[position] : nil }

        mutating func skipWhitespace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
        }

        mutating func object() -> [Member]? {
            position += 1
            var members: [Member] = []
            members.reserveCapacity(8)
            skipWhitespace()
            if peek == UInt8(ascii: "}") {
                position += 1
                return members
            }
            while true {
                skipWhitespace()
                guard members.count < FlatJSONDocument.maxMembers, peek == UInt8(ascii: "\""),
                      let key = string(), key.kind == .string else { return nil }
                skipWhitespace()
                guard peek == UInt8(ascii: ":") else { return nil }
                position += 1
                skipWhitespace()
                guard let value = scalar() else { return nil }
                members.append(Member(keyStart: key.start, keyEnd: key.end, value: value))
                skipWhitespace()
                switch peek {
                case UInt8(ascii: ","): position += 1
                case UInt8(ascii: "}"):
                    position += 1
                    return members
                default: return nil
                }
            }
        }

        mutating func scalar() -> Scalar? {
            guard let byte = peek else { return nil }
            switch byte {
            case UInt8(ascii: "\""): return string()
            case UInt8(ascii: "t"): return literal("true", .true)
            case UInt8(ascii: "f"): return literal("false", .false)
            case UInt8(ascii: "n"): return literal("null", .null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return number()
            default: return nil
            }
        }

        private mutating func literal(_ text: String, _ kind: Scalar.Kind) -> Scalar? {
            let start = position
            let length = text.utf8.count
            guard bytes.count - position >= length, bytes[position..<position + length].elementsEqual(text.utf8) else { return nil }
            position += length
            return Scalar(kind: kind, start: start, end: position)
        }

        private mutating func number() -> Scalar? {
            let start = position
            var kind = Scalar.Kind.integer
            if peek == UInt8(ascii: "-") { position += 1 }
            guard let first = peek, first >= 0x30, first <= 0x39 else { return nil }
            position += 1
            if first == 0x30 {
                // "-0" is an integer to JSON but -0.0 to a Double, which the slow path
                // keeps apart: leave it to Double or to the slow path.
                if position - start == 2 { kind = .fraction }
            } else {
                skipDigits()
            }
            if peek == UInt8(ascii: ".") {
                kind = .fraction
                position += 1
                guard skipDigits() > 0 else { return nil }
            }
            if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
                kind = .fraction
                position += 1
                if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { position += 1 }
                guard skipDigits() > 0 else { return nil }
            }
            return Scalar(kind: kind, start: start, end: position)
        }

        @discardableResult
        private mutating func skipDigits() -> Int {
            let start = position
            while let byte = peek, byte >= 0x30, byte <= 0x39 { position += 1 }
            return position - start
        }

        /// A string whose escapes are all well formed, surrogates paired.
        private mutating func string() -> Scalar? {
            position += 1
            let start = position
            var kind = Scalar.Kind.string
            while position < bytes.count {
                let byte = bytes[position]
                switch byte {
                case UInt8(ascii: "\""):
                    position += 1
                    return Scalar(kind: kind, start: start, end: position - 1)
                case UInt8(ascii: "\\"):
                    kind = .escapedString
                    position += 1
                    guard escape() else { return nil }
                case 0..<0x20:
                    return nil
                default:
                    if byte >= 0x80 { sawHighBytes = true }
                    position += 1
                }
            }
            return nil
        }

        private mutating func escape() -> Bool {
            guard let byte = peek else { return false }
            position += 1
            if JSONReader.unescaped(byte) != nil { return true }
            switch byte {
            case UInt8(ascii: "u"):
                guard let unit = JSONReader.hex4(bytes, at: position) else { return false }
                position += 4
                switch unit {
                case 0xD800..<0xDC00:
                    guard bytes.count - position >= 6, bytes[position] == UInt8(ascii: "\\"), bytes[position + 1] == UInt8(ascii: "u"),
                          let low = JSONReader.hex4(bytes, at: position + 2), (0xDC00..<0xE000).contains(low) else { return false }
                    position += 6
                    return true
                case 0xDC00..<0xE000:
                    return false
                default:
                    return true
                }
            default:
                return false
            }
        }
    }

}

// MARK: Reading scalars

extension FlatJSONDocument {
    /// Each reader returns `nil` where the slow path might answer differently (another
    /// type, a number it converts by other rules, a Double it may reject as out of range).

    func string(_ scalar: Scalar) -> String? {
        switch scalar.kind {
        case .string: String(decoding: bytes[scalar.start..<scalar.end], as: UTF8.self)
        case .escapedString: unescaped(scalar)
        default: nil
        }
    }

    func bool(_ scalar: Scalar) -> Bool? {
        switch scalar.kind {
        case .true: true
        case .false: false
        default: nil
        }
    }

    func integer<Integer: FixedWidthInteger>(_ scalar: Scalar, as type: Integer.Type) -> Integer? {
        guard scalar.kind == .integer else { return nil }
        var index = scalar.start
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var magnitude: UInt64 = 0
        while index < scalar.end {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[index] &- 0x30))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        guard negative else { return Integer(exactly: magnitude) }
        if magnitude == UInt64(Int64.max) + 1 { return Integer(exactly: Int64.min) }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Integer(exactly: -Int64(magnitude))
    }

    func double(_ scalar: Scalar) -> Double? {
        guard scalar.kind == .integer || scalar.kind == .fraction else { return nil }
        // Up to 17 significant digits (every Double's shortest form fits, and Python
        // writes no more): beyond that, rounding subtleties are left to the slow path.
        var digits = 0
        var nonZero = false
        for byte in bytes[scalar.start..<scalar.end] {
            if byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E") { break }
            guard byte >= 0x30, byte <= 0x39 else { continue }
            if byte != 0x30 { nonZero = true }
            if nonZero { digits += 1 }
        }
        guard digits <= 17,
              let value = Double(String(decoding: bytes[scalar.start..<scalar.end], as: UTF8.self)),
              value.isFinite, value == 0 ? !nonZero : value.magnitude >= .leastNormalMagnitude else { return nil }
        return value
    }

    private func unescaped(_ scalar: Scalar) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(scalar.end - scalar.start)
        var index = scalar.start
        while index < scalar.end {
            let byte = bytes[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                continue
            }
            let escape = bytes[index]
            index += 1
            if let unescaped = JSONReader.unescaped(escape) {
                utf8.append(unescaped)
                continue
            }
            // `\uXXXX`, well formed and paired: the scan checked.
            var value = JSONReader.hex4(bytes, at: index)!
            index += 4
            if (0xD800..<0xDC00).contains(value) {
                let low = JSONReader.hex4(bytes, at: index + 2)!
                index += 6
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
            UTF8.encode(Unicode.Scalar(value)!) { utf8.append($0) }
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}
