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

    /// Where the reader is; the tokens are the scanner's, the structure this type's.
    private var scanner: JSONScanner

    private init(_ bytes: [UInt8]) {
        scanner = JSONScanner(bytes)
    }

    /// Parses exactly one document, surrounded by optional whitespace.
    static func read(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        try read(bytes, as: JSONValue.self)
    }

    /// Parses exactly one document, surrounded by optional whitespace, into a `Tree`.
    static func read<Tree: JSONTree>(_ bytes: [UInt8], as tree: Tree.Type) throws(SyntaxError) -> Tree {
        var reader = JSONReader(bytes)
        reader.scanner.skipWhitespace()
        let value: Tree = try reader.readValue(depth: 0)
        reader.scanner.skipWhitespace()
        guard reader.scanner.isAtEnd else { throw reader.scanner.error("extra data after the document") }
        return value
    }

    private mutating func readValue<Tree: JSONTree>(depth: Int) throws(SyntaxError) -> Tree {
        guard depth <= Self.maxDepth else { throw scanner.error("nesting deeper than \(Self.maxDepth)") }
        guard let byte = scanner.current else { throw scanner.error("expected a value, found the end") }
        switch byte {
        case UInt8(ascii: "{"): return try readObject(depth: depth)
        case UInt8(ascii: "["): return try readArray(depth: depth)
        case UInt8(ascii: "\""): return .makeString(try readString())
        case UInt8(ascii: "t") where scanner.consume("true"): return .makeBool(true)
        case UInt8(ascii: "f") where scanner.consume("false"): return .makeBool(false)
        case UInt8(ascii: "n") where scanner.consume("null"): return .makeNull()
        case UInt8(ascii: "N") where scanner.consume("NaN"): return .makeNonFinite(.nan)
        case UInt8(ascii: "I") where scanner.consume("Infinity"): return .makeNonFinite(.infinity)
        case UInt8(ascii: "-") where scanner.consume("-Infinity"): return .makeNonFinite(-.infinity)
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try readNumber()
        default: throw scanner.error("expected a value, found byte 0x\(String(byte, radix: 16))")
        }
    }

    private mutating func readArray<Tree: JSONTree>(depth: Int) throws(SyntaxError) -> Tree {
        scanner.position += 1
        var elements: [Tree] = []
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "]") {
            scanner.position += 1
            return .makeArray(elements)
        }
        while true {
            scanner.skipWhitespace()
            elements.append(try readValue(depth: depth + 1))
            scanner.skipWhitespace()
            switch scanner.current {
            case UInt8(ascii: ","): scanner.position += 1
            case UInt8(ascii: "]"):
                scanner.position += 1
                return .makeArray(elements)
            default: throw scanner.error("expected ',' or ']' in an array")
            }
        }
    }

    private mutating func readObject<Tree: JSONTree>(depth: Int) throws(SyntaxError) -> Tree {
        scanner.position += 1
        var members = Tree.makeMembers()
        scanner.skipWhitespace()
        if scanner.current == UInt8(ascii: "}") {
            scanner.position += 1
            return .makeObject(members)
        }
        while true {
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: "\"") else { throw scanner.error("expected a string key in an object") }
            let key = try readString()
            scanner.skipWhitespace()
            guard scanner.current == UInt8(ascii: ":") else { throw scanner.error("expected ':' after an object key") }
            scanner.position += 1
            scanner.skipWhitespace()
            Tree.add(key, try readValue(depth: depth + 1), to: &members)
            scanner.skipWhitespace()
            switch scanner.current {
            case UInt8(ascii: ","): scanner.position += 1
            case UInt8(ascii: "}"):
                scanner.position += 1
                return .makeObject(members)
            default: throw scanner.error("expected ',' or '}' in an object")
            }
        }
    }

    private mutating func readNumber<Tree: JSONTree>() throws(SyntaxError) -> Tree {
        let number = try scanner.scanNumber()
        guard let value = Tree.makeNumber(scanner.bytes, number) else {
            throw SyntaxError(offset: number.range.lowerBound, message: "unreadable number \(String(decoding: scanner.bytes[number.range], as: UTF8.self))")
        }
        return value
    }

    private mutating func readString() throws(SyntaxError) -> String {
        let (range, hasEscapes) = try scanner.scanString()
        return JSONScanner.string(scanner.bytes, in: range, hasEscapes: hasEscapes)
    }

    /// The integer `number` (an integer of at most 18 characters, sign included, so
    /// that it fits in an `Int64`; `-0` is 0). What the trees' `makeNumber` call for their
    /// common case: its digits as the scan read them.
    static func shortInteger(_ number: JSONScanner.Number) -> Int64 {
        JSONScanner.integer(magnitude: number.magnitude!, negative: number.isNegative, as: Int64.self)!
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
