/// Reads JSON as Python's `json.loads` does: standard JSON plus the `NaN`, `Infinity`
/// and `-Infinity` that `json.dumps` writes for non-finite floats; a repeated object key
/// keeps its last value. Works on the raw bytes of a Redis list element, without
/// copying them into a `String` first, and builds any ``JSONTree``: a ``JSONValue``, or
/// the ``JSONNode`` tree that typed messages are decoded from.
struct JSONReader {
    typealias SyntaxError = JSONSyntaxError

    /// Nesting beyond this is refused rather than risking the stack on hostile input.
    /// Python's own limit comes from its recursion limit, about 1000; 1000 here, so that
    /// what either side can send, this side can read.
    static let maxDepth = 1000

    private let bytes: [UInt8]
    private var position = 0

    private init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    /// Parses exactly one document, surrounded by optional whitespace.
    static func read(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        try read(bytes, as: JSONValue.self)
    }

    /// Parses exactly one document, surrounded by optional whitespace, into a `Tree`.
    static func read<Tree: JSONTree>(_ bytes: [UInt8], as tree: Tree.Type) throws(SyntaxError) -> Tree {
        var reader = JSONReader(bytes)
        reader.skipWhitespace()
        let value: Tree = try reader.readValue(depth: 0)
        reader.skipWhitespace()
        guard reader.position == bytes.count else { throw reader.error("extra data after the document") }
        return value
    }

    private func error(_ message: String) -> SyntaxError {
        SyntaxError(offset: position, message: message)
    }

    private var current: UInt8? { position < bytes.count ? bytes[position] : nil }

    private mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 {
            position += 1
        }
    }

    /// Consumes `literal` if it comes next; compares in place, with no copy of either.
    private mutating func consume(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard bytes.count - position >= length else { return false }
        let matches = literal.withUTF8Buffer { utf8 in bytes[position..<position + length].elementsEqual(utf8) }
        if matches { position += length }
        return matches
    }

    private mutating func readValue<Tree: JSONTree>(depth: Int) throws(SyntaxError) -> Tree {
        guard depth <= Self.maxDepth else { throw error("nesting deeper than \(Self.maxDepth)") }
        guard let byte = current else { throw error("expected a value, found the end") }
        switch byte {
        case UInt8(ascii: "{"): return try readObject(depth: depth)
        case UInt8(ascii: "["): return try readArray(depth: depth)
        case UInt8(ascii: "\""): return .makeString(try readString())
        case UInt8(ascii: "t") where consume("true"): return .makeBool(true)
        case UInt8(ascii: "f") where consume("false"): return .makeBool(false)
        case UInt8(ascii: "n") where consume("null"): return .makeNull()
        case UInt8(ascii: "N") where consume("NaN"): return .makeNonFinite(.nan)
        case UInt8(ascii: "I") where consume("Infinity"): return .makeNonFinite(.infinity)
        case UInt8(ascii: "-") where consume("-Infinity"): return .makeNonFinite(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default: throw error("expected a value, found byte 0x\(String(byte, radix: 16))")
        }
    }

    private mutating func readArray<Tree: JSONTree>(depth: Int) throws(SyntaxError) -> Tree {
        position += 1
        var elements: [Tree] = []
        skipWhitespace()
        if current == UInt8(ascii: "]") {
            position += 1
            return .makeArray(elements)
        }
        while true {
            skipWhitespace()
            elements.append(try readValue(depth: depth + 1))
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "]"):
                position += 1
                return .makeArray(elements)
            default: throw error("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func readObject<Tree: JSONTree>(depth: Int) throws(SyntaxError) -> Tree {
        position += 1
        var members = Tree.makeMembers()
        skipWhitespace()
        if current == UInt8(ascii: "}") {
            position += 1
            return .makeObject(members)
        }
        while true {
            skipWhitespace()
            guard current == UInt8(ascii: "\"") else { throw error("expected a string key in an object") }
            let key = try readString()
            skipWhitespace()
            guard current == UInt8(ascii: ":") else { throw error("expected ':' after an object key") }
            position += 1
            skipWhitespace()
            Tree.add(key, try readValue(depth: depth + 1), to: &members)
            skipWhitespace()
            switch current {
            case UInt8(ascii: ","): position += 1
            case UInt8(ascii: "}"):
                position += 1
                return .makeObject(members)
            default: throw error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func readNumber<Tree: JSONTree>() throws(SyntaxError) -> Tree {
        let start = position
        var isInteger = true
        if current == UInt8(ascii: "-") { position += 1 }
        guard let first = current, first >= 0x30, first <= 0x39 else { throw error("expected a digit") }
        // JSON forbids leading zeros: "01" is two tokens, and the second is extra data.
        if first == 0x30 {
            position += 1
        } else {
            skipDigits()
        }
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard skipDigits() > 0 else { throw error("expected a digit after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() > 0 else { throw error("expected a digit in the exponent") }
        }
        guard let number = Tree.makeNumber(bytes, start, position, isInteger: isInteger) else {
            throw SyntaxError(offset: start, message: "unreadable number \(String(decoding: bytes[start..<position], as: UTF8.self))")
        }
        return number
    }

    /// The integer `bytes[start..<end]`, a JSON integer of at most 18 characters (sign
    /// included), so that it fits in an `Int64`; `-0` is 0.
    static func shortInteger(_ bytes: [UInt8], _ start: Int, _ end: Int) -> Int64 {
        var magnitude: Int64 = 0
        for byte in bytes[start..<end] where byte != UInt8(ascii: "-") {
            magnitude = magnitude * 10 + Int64(byte - 0x30)
        }
        return bytes[start] == UInt8(ascii: "-") ? -magnitude : magnitude
    }

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = position
        while let byte = current, byte >= 0x30, byte <= 0x39 { position += 1 }
        return position - start
    }

    private mutating func readString() throws(SyntaxError) -> String {
        position += 1
        let start = position
        var isASCII = true
        // Most strings have no escape: they become a String straight from the message's
        // bytes, with no copy first (and no check at all when they are ASCII).
        while let byte = current, byte != UInt8(ascii: "\""), byte != UInt8(ascii: "\\"), byte >= 0x20 {
            if byte >= 0x80 { isASCII = false }
            position += 1
        }
        if current == UInt8(ascii: "\"") {
            guard isASCII || FlatJSONDocument.isValidUTF8(bytes, in: start..<position) else { throw error("string is not valid UTF-8") }
            position += 1
            return String(decoding: bytes[start..<position - 1], as: UTF8.self)
        }
        var utf8 = Array(bytes[start..<position])
        while true {
            guard let byte = current else { throw error("unterminated string") }
            switch byte {
            case UInt8(ascii: "\""):
                // Escapes add only valid UTF-8: the bytes copied as they were are checked.
                guard isASCII || FlatJSONDocument.isValidUTF8(utf8) else { throw error("string is not valid UTF-8") }
                position += 1
                return String(decoding: utf8, as: UTF8.self)
            case UInt8(ascii: "\\"):
                position += 1
                try readEscape(into: &utf8)
            case 0..<0x20:
                throw error("control character 0x\(String(byte, radix: 16)) inside a string")
            default:
                if byte >= 0x80 { isASCII = false }
                utf8.append(byte)
                position += 1
            }
        }
    }

    private mutating func readEscape(into utf8: inout [UInt8]) throws(SyntaxError) {
        guard let byte = current else { throw error("unterminated escape") }
        position += 1
        if let unescaped = Self.unescaped(byte) {
            utf8.append(unescaped)
            return
        }
        guard byte == UInt8(ascii: "u") else { throw error("invalid escape \\\(Character(Unicode.Scalar(byte)))") }
        var scalar = try readHex4()
        if (0xD800..<0xDC00).contains(scalar) {
            // A high surrogate must pair with an escaped low one; a lone surrogate
            // has no UTF-8 form, and dropping it would alter the message silently.
            guard consume("\\u") else { throw error("unpaired surrogate \\u\(String(scalar, radix: 16))") }
            let low = try readHex4()
            guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate \\u\(String(scalar, radix: 16))") }
            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let unicode = Unicode.Scalar(scalar) else { throw error("unpaired surrogate \\u\(String(scalar, radix: 16))") }
        UTF8.encode(unicode) { utf8.append($0) }
    }

    private mutating func readHex4() throws(SyntaxError) -> UInt32 {
        guard let value = Self.hex4(bytes, at: position) else { throw error("expected 4 hex digits after \\u") }
        position += 4
        return value
    }

    /// The byte a one-character escape (`\n`, `\"` …) stands for; `nil` for `u` and
    /// for what is no escape at all.
    static func unescaped(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The four hex digits at `index` (of a `\uXXXX` escape), or `nil`.
    static func hex4(_ bytes: [UInt8], at index: Int) -> UInt32? {
        guard index >= 0, bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            case 0x41...0x46: digit = byte - 0x41 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }
}

/// Why bytes are not one JSON document, and where.
public struct JSONSyntaxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The byte offset of the problem.
    public let offset: Int
    /// What was expected there.
    public let message: String

    /// "invalid JSON at byte N: what was expected".
    public var description: String { "invalid JSON at byte \(offset): \(message)" }
}
