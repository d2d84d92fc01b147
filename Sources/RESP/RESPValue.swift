/// One RESP2 or RESP3 value, as it travelled on the wire.
///
/// Payloads stay bytes (`[UInt8]`): Redis strings are binary-safe and most callers either
/// hand them on or decode them once, so nothing here forces a `String` conversion. Use the
/// accessors (``string``, ``int``, ``array``, ``isNull``, …) or the conversions in
/// `RESPValue+Conversion.swift` to get Swift values out.
///
/// Equality compares the wire meaning, with one deliberate departure from IEEE 754: two
/// `.double(.nan)` values are equal, so that a value always equals its own round trip.
public enum RESPValue: Sendable {
    /// `+OK\r\n`: a status line. Cannot contain `\r` or `\n`.
    case simpleString([UInt8])
    /// `-ERR message\r\n`: a server error line, the bytes after `-`.
    case error([UInt8])
    /// `:42\r\n`: a signed 64-bit integer.
    case integer(Int64)
    /// `$5\r\nhello\r\n`: a binary-safe string.
    case bulkString([UInt8])
    /// `$-1\r\n`: RESP2's null bulk string (for example `GET` of a missing key).
    case nullBulkString
    /// `*-1\r\n`: RESP2's null array (for example a timed-out `BLPOP`).
    case nullArray
    /// `*2\r\n…`: an ordered list of values.
    case array([RESPValue])
    /// `_\r\n`: RESP3's single null.
    case null
    /// `,3.14\r\n`: a RESP3 double, including `inf`, `-inf` and `nan`.
    case double(Double)
    /// `#t\r\n` / `#f\r\n`: a RESP3 boolean.
    case boolean(Bool)
    /// `(12345678901234567890\r\n`: a RESP3 integer of any size, kept as its decimal digits
    /// (an optional leading `-` then digits).
    case bigNumber([UInt8])
    /// `!21\r\nSYNTAX invalid syntax\r\n`: a RESP3 binary-safe error.
    case bulkError([UInt8])
    /// `=15\r\ntxt:Some string\r\n`: a RESP3 string with a three-byte format hint.
    case verbatimString(format: RESPVerbatimFormat, text: [UInt8])
    /// `%1\r\n+key\r\n:1\r\n`: a RESP3 map, pairs in wire order (duplicates kept).
    case map([(key: RESPValue, value: RESPValue)])
    /// `~2\r\n…`: a RESP3 set, elements in wire order.
    case set([RESPValue])
    /// `|1\r\n<key><value><reply>`: RESP3 attributes and the reply they annotate.
    indirect case attribute([(key: RESPValue, value: RESPValue)], RESPValue)
    /// `>3\r\n…`: a RESP3 out-of-band push (pub/sub message, client-tracking invalidation).
    case push([RESPValue])
}

/// The three-byte format of a RESP3 verbatim string, such as `txt` or `mkd`.
///
/// Stored inline so that a verbatim string costs one allocation, like a bulk string.
public struct RESPVerbatimFormat: Sendable, Hashable, CustomStringConvertible {
    /// The three format bytes, in wire order.
    public var bytes: (UInt8, UInt8, UInt8)

    /// Creates a format from its three bytes.
    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8) {
        bytes = (b0, b1, b2)
    }

    /// Creates a format from a three-byte ASCII string; nil for any other length.
    public init?(_ string: String) {
        let utf8 = Array(string.utf8)
        guard utf8.count == 3 else { return nil }
        self.init(utf8[0], utf8[1], utf8[2])
    }

    /// `txt`: plain text.
    public static let text = RESPVerbatimFormat(0x74, 0x78, 0x74)
    /// `mkd`: markdown.
    public static let markdown = RESPVerbatimFormat(0x6D, 0x6B, 0x64)

    /// The format as text, for example `txt`.
    public var description: String {
        String(decoding: [bytes.0, bytes.1, bytes.2], as: UTF8.self)
    }

    /// Formats are equal when their three bytes are.
    public static func == (lhs: Self, rhs: Self) -> Bool {
        lhs.bytes == rhs.bytes
    }

    /// Hashes the three bytes.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(bytes.0)
        hasher.combine(bytes.1)
        hasher.combine(bytes.2)
    }
}

extension RESPValue: Equatable {
    /// Structural equality; `.double(.nan)` equals itself (see the type's documentation).
    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case let (.simpleString(a), .simpleString(b)): a == b
        case let (.error(a), .error(b)): a == b
        case let (.integer(a), .integer(b)): a == b
        case let (.bulkString(a), .bulkString(b)): a == b
        case (.nullBulkString, .nullBulkString): true
        case (.nullArray, .nullArray): true
        case let (.array(a), .array(b)): a == b
        case (.null, .null): true
        case let (.double(a), .double(b)): a == b || (a.isNaN && b.isNaN)
        case let (.boolean(a), .boolean(b)): a == b
        case let (.bigNumber(a), .bigNumber(b)): a == b
        case let (.bulkError(a), .bulkError(b)): a == b
        case let (.verbatimString(f1, t1), .verbatimString(f2, t2)): f1 == f2 && t1 == t2
        case let (.map(a), .map(b)): pairsEqual(a, b)
        case let (.set(a), .set(b)): a == b
        case let (.attribute(a1, v1), .attribute(a2, v2)): pairsEqual(a1, a2) && v1 == v2
        case let (.push(a), .push(b)): a == b
        default: false
        }
    }

    private static func pairsEqual(
        _ a: [(key: RESPValue, value: RESPValue)], _ b: [(key: RESPValue, value: RESPValue)]
    ) -> Bool {
        a.count == b.count && zip(a, b).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
