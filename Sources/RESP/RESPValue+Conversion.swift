/// A Swift type that can be read from a reply: typed command layers use this for generic results.
public protocol RESPValueConvertible {
    /// Reads `value`, or throws an error naming the reply type that arrived.
    init(respValue value: RESPValue) throws(RESPConversionError)
}

extension RESPValue {
    /// Reads the reply as `T`: `let n = try reply.converted(to: Int.self)`.
    public func converted<T: RESPValueConvertible>(to type: T.Type = T.self) throws(RESPConversionError) -> T {
        try T(respValue: self)
    }

    /// Succeeds only for `+OK` (attributes ignored); anything else throws, with the server's
    /// message if the reply was an error.
    public func expectOK() throws(RESPConversionError) {
        let value = withoutAttributes
        guard value.isOK else { throw value.mismatch("OK") }
    }

    /// An integer reply, or a simple/bulk string holding a decimal integer (RESP2 sends some
    /// numbers, such as `GET` of a counter, as strings).
    public func asInt() throws(RESPConversionError) -> Int {
        let value = withoutAttributes
        switch value {
        case .integer(let i):
            guard let exact = Int(exactly: i) else { throw value.mismatch("Int", "\(i) does not fit in Int") }
            return exact
        case .simpleString(let b), .bulkString(let b):
            guard let i = Int(String(decoding: b, as: UTF8.self)) else {
                throw value.mismatch("Int", "\(RESPValue.bulkString(b)) is not a decimal integer")
            }
            return i
        case .bigNumber(let digits):
            // A RESP3 big number (a Lua script can return one) that happens to fit.
            guard let i = Int(String(decoding: digits, as: UTF8.self)) else {
                throw value.mismatch("Int", "big number \(String(decoding: digits, as: UTF8.self)) does not fit in Int")
            }
            return i
        default:
            throw value.mismatch("Int")
        }
    }

    /// A RESP3 double, an integer, or a string holding a number (RESP2's `ZSCORE`).
    public func asDouble() throws(RESPConversionError) -> Double {
        let value = withoutAttributes
        switch value {
        case .double(let d): return d
        case .integer(let i): return Double(i)
        case .simpleString(let b), .bulkString(let b):
            let parsed = b.withUnsafeBufferPointer { RESPScanner.parseDouble($0) }
            guard let d = parsed else { throw value.mismatch("Double", "\(value) is not a number") }
            return d
        case .bigNumber(let digits):
            // The scanner checked the digits; the nearest Double, as for any integer this large.
            guard let d = Double(String(decoding: digits, as: UTF8.self)) else { throw value.mismatch("Double") }
            return d
        default:
            throw value.mismatch("Double")
        }
    }

    /// A RESP3 boolean, or RESP2's integer `1`/`0` (as `SISMEMBER` and `EXPIRE` answer).
    public func asBool() throws(RESPConversionError) -> Bool {
        let value = withoutAttributes
        switch value {
        case .boolean(let b): return b
        case .integer(1): return true
        case .integer(0): return false
        case .integer(let i): throw value.mismatch("Bool", "integer \(i) is neither 0 nor 1")
        default: throw value.mismatch("Bool")
        }
    }

    /// The payload of a simple, bulk or verbatim string; nil for any null.
    public func asOptionalBytes() throws(RESPConversionError) -> [UInt8]? {
        let value = withoutAttributes
        if value.isNull { return nil }
        guard let bytes = value.bytes else { throw value.mismatch("[UInt8]?") }
        return bytes
    }

    /// The payload of a simple, bulk or verbatim string; a null throws.
    public func asBytes() throws(RESPConversionError) -> [UInt8] {
        let value = withoutAttributes
        guard let bytes = value.bytes else { throw value.mismatch("[UInt8]") }
        return bytes
    }

    /// A simple, bulk or verbatim string as UTF-8 text; nil for any null; invalid UTF-8 throws.
    public func asOptionalString() throws(RESPConversionError) -> String? {
        let value = withoutAttributes
        if value.isNull { return nil }
        return try value.asString()
    }

    /// A simple, bulk or verbatim string as UTF-8 text; a null or invalid UTF-8 throws.
    public func asString() throws(RESPConversionError) -> String {
        let value = withoutAttributes
        guard let bytes = value.bytes else { throw value.mismatch("String") }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw value.mismatch("String", "payload is not valid UTF-8")
        }
        return text
    }

    /// An array, set or push of strings (`LRANGE`, `SMEMBERS`, `KEYS`); a null element throws.
    public func asStrings() throws(RESPConversionError) -> [String] {
        let value = withoutAttributes
        guard let elements = value.array else { throw value.mismatch("[String]") }
        var strings: [String] = []
        strings.reserveCapacity(elements.count)
        for element in elements {
            strings.append(try element.asString())
        }
        return strings
    }

    /// The conversion error for this reply, with the server's message if it is an error reply.
    func mismatch(_ expected: String, _ detail: String? = nil) -> RESPConversionError {
        RESPConversionError(expected: expected, received: kind, detail: errorMessage ?? detail)
    }
}

extension RESPValue: RESPValueConvertible {
    /// The reply itself, unchanged.
    public init(respValue value: RESPValue) { self = value }
}

extension Int: RESPValueConvertible {
    /// See ``RESPValue/asInt()``.
    public init(respValue value: RESPValue) throws(RESPConversionError) { self = try value.asInt() }
}

extension Double: RESPValueConvertible {
    /// See ``RESPValue/asDouble()``.
    public init(respValue value: RESPValue) throws(RESPConversionError) { self = try value.asDouble() }
}

extension Bool: RESPValueConvertible {
    /// See ``RESPValue/asBool()``.
    public init(respValue value: RESPValue) throws(RESPConversionError) { self = try value.asBool() }
}

extension String: RESPValueConvertible {
    /// See ``RESPValue/asString()``.
    public init(respValue value: RESPValue) throws(RESPConversionError) { self = try value.asString() }
}

extension Optional: RESPValueConvertible where Wrapped: RESPValueConvertible {
    /// nil for any null reply, otherwise the wrapped conversion.
    public init(respValue value: RESPValue) throws(RESPConversionError) {
        self = value.withoutAttributes.isNull ? nil : try Wrapped(respValue: value)
    }
}

extension Array: RESPValueConvertible where Element: RESPValueConvertible {
    /// Each element of an array, set or push converted in turn.
    public init(respValue value: RESPValue) throws(RESPConversionError) {
        let value = value.withoutAttributes
        guard let elements = value.array else { throw value.mismatch("[\(Element.self)]") }
        var converted: [Element] = []
        converted.reserveCapacity(elements.count)
        for element in elements {
            converted.append(try Element(respValue: element))
        }
        self = converted
    }
}
