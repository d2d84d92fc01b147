extension RESPValue {
    /// The wire type of a value, for messages and switches that don't need the payload.
    public enum Kind: Sendable, Hashable, CustomStringConvertible {
        /// `+`
        case simpleString
        /// `-`
        case error
        /// `:`
        case integer
        /// `$`
        case bulkString
        /// `$-1`
        case nullBulkString
        /// `*-1`
        case nullArray
        /// `*`
        case array
        /// `_`
        case null
        /// `,`
        case double
        /// `#`
        case boolean
        /// `(`
        case bigNumber
        /// `!`
        case bulkError
        /// `=`
        case verbatimString
        /// `%`
        case map
        /// `~`
        case set
        /// `|`
        case attribute
        /// `>`
        case push

        /// The type's name as written in the RESP specification, for example `bulk string`.
        public var description: String {
            switch self {
            case .simpleString: "simple string"
            case .error: "simple error"
            case .integer: "integer"
            case .bulkString: "bulk string"
            case .nullBulkString: "null bulk string"
            case .nullArray: "null array"
            case .array: "array"
            case .null: "null"
            case .double: "double"
            case .boolean: "boolean"
            case .bigNumber: "big number"
            case .bulkError: "bulk error"
            case .verbatimString: "verbatim string"
            case .map: "map"
            case .set: "set"
            case .attribute: "attribute"
            case .push: "push"
            }
        }
    }

    /// This value's wire type.
    public var kind: Kind {
        switch self {
        case .simpleString: .simpleString
        case .error: .error
        case .integer: .integer
        case .bulkString: .bulkString
        case .nullBulkString: .nullBulkString
        case .nullArray: .nullArray
        case .array: .array
        case .null: .null
        case .double: .double
        case .boolean: .boolean
        case .bigNumber: .bigNumber
        case .bulkError: .bulkError
        case .verbatimString: .verbatimString
        case .map: .map
        case .set: .set
        case .attribute: .attribute
        case .push: .push
        }
    }

    /// True for every null: RESP2's `$-1` and `*-1` and RESP3's `_`.
    public var isNull: Bool {
        switch self {
        case .null, .nullBulkString, .nullArray: true
        default: false
        }
    }

    /// True for `-ERR …` and RESP3 `!` bulk errors.
    public var isError: Bool {
        switch self {
        case .error, .bulkError: true
        default: false
        }
    }

    /// The message of an error reply (`-` or `!`), decoded as UTF-8 with invalid bytes replaced.
    public var errorMessage: String? {
        switch self {
        case .error(let bytes), .bulkError(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }

    /// The payload of a simple, bulk or verbatim string (without the verbatim format prefix);
    /// nil for other types. No copy: the array is shared with the value.
    public var bytes: [UInt8]? {
        switch self {
        case .simpleString(let bytes), .bulkString(let bytes): bytes
        case .verbatimString(_, let text): text
        default: nil
        }
    }

    /// ``bytes`` decoded as UTF-8, invalid sequences replaced by U+FFFD.
    public var string: String? {
        bytes.map { String(decoding: $0, as: UTF8.self) }
    }

    /// The value of an integer reply; nil for other types or when it does not fit in `Int`.
    public var int: Int? {
        if case .integer(let value) = self { Int(exactly: value) } else { nil }
    }

    /// The value of a RESP3 double reply.
    public var double: Double? {
        if case .double(let value) = self { value } else { nil }
    }

    /// The value of a RESP3 boolean reply.
    public var bool: Bool? {
        if case .boolean(let value) = self { value } else { nil }
    }

    /// The elements of an array, set or push (attributes looked through, as every
    /// conversion does); nil for other types (including null arrays).
    public var array: [RESPValue]? {
        switch self {
        case .array(let elements), .set(let elements), .push(let elements): elements
        case .attribute: withoutAttributes.array
        default: nil
        }
    }

    /// The pairs of a RESP3 map, or of a RESP2 flat array of even length (`HGETALL` in
    /// RESP2), attributes looked through.
    public var map: [(key: RESPValue, value: RESPValue)]? {
        switch self {
        case .map(let pairs): return pairs
        case .attribute: return withoutAttributes.map
        case .array(let elements) where elements.count % 2 == 0:
            return stride(from: 0, to: elements.count, by: 2).map { (elements[$0], elements[$0 + 1]) }
        default: return nil
        }
    }

    /// The reply itself, with any RESP3 attributes in front of it stripped.
    public var withoutAttributes: RESPValue {
        var value = self
        while case .attribute(_, let inner) = value { value = inner }
        return value
    }

    /// True for the `+OK` status.
    public var isOK: Bool {
        if case .simpleString(let bytes) = self { bytes == RESPValue.okBytes } else { false }
    }
}

extension RESPValue: CustomStringConvertible {
    /// A compact, readable rendering for logs and test failures, e.g. `array[bulk "a", int 1]`.
    public var description: String {
        func text(_ bytes: [UInt8]) -> String {
            var out = "\""
            for byte in bytes {
                switch byte {
                case 0x0D: out += "\\r"
                case 0x0A: out += "\\n"
                case 0x22: out += "\\\""
                case 0x5C: out += "\\\\"
                case 0x20..<0x7F: out.unicodeScalars.append(Unicode.Scalar(byte))
                default:
                    let hex = String(byte, radix: 16)
                    out += "\\x" + (hex.count == 1 ? "0" + hex : hex)
                }
            }
            return out + "\""
        }
        func pairs(_ p: [(key: RESPValue, value: RESPValue)]) -> String {
            p.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
        }
        switch self {
        case .simpleString(let b): return "simple \(text(b))"
        case .error(let b): return "error \(text(b))"
        case .integer(let i): return "int \(i)"
        case .bulkString(let b): return "bulk \(text(b))"
        case .nullBulkString: return "null-bulk"
        case .nullArray: return "null-array"
        case .array(let a): return "array[\(a.map(\.description).joined(separator: ", "))]"
        case .null: return "null"
        case .double(let d): return "double \(d)"
        case .boolean(let b): return "bool \(b)"
        case .bigNumber(let b): return "bignum \(text(b))"
        case .bulkError(let b): return "bulk-error \(text(b))"
        case .verbatimString(let f, let t): return "verbatim \(f):\(text(t))"
        case .map(let p): return "map{\(pairs(p))}"
        case .set(let a): return "set[\(a.map(\.description).joined(separator: ", "))]"
        case .attribute(let p, let v): return "attribute{\(pairs(p))} \(v)"
        case .push(let a): return "push[\(a.map(\.description).joined(separator: ", "))]"
        }
    }
}
