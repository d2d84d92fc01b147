import Foundation

/// Each scalar type's reading of a node, by Foundation's `JSONDecoder` rules (what a
/// typed message has always decoded to), except that a bare `NaN` or `Infinity` is a
/// number, read only by a floating-point type, and a string is only ever a string.
extension JSONNode {
    /// Why a node does not read as a type; the container that asked adds the coding
    /// path (``decodingError(_:_:at:)``), built only when a decode fails.
    enum Mismatch: Error {
        /// `null` where a value was expected.
        case null
        /// Another kind of value (a string for a number, a number for a string …).
        case kind
        /// A number or string the type cannot hold: out of range, a fraction for an
        /// integer, not Base64, not a URL.
        case unrepresentable(String)
    }

    /// What the node is, for error messages.
    var kindDescription: String {
        switch self {
        case .null: "null"
        case .bool: "bool"
        case .string: "a string"
        case .integer, .number, .nonFinite: "number"
        case .array: "an array"
        case .object: "a dictionary"
        }
    }

    /// Only `true` and `false`: neither `1` nor `"true"`.
    func bool() throws(Mismatch) -> Bool {
        switch self {
        case .bool(let flag): return flag
        case .null: throw .null
        default: throw .kind
        }
    }

    /// Only a string: neither a number nor a bare `NaN`.
    func string() throws(Mismatch) -> String {
        switch self {
        case .string(let text): return text
        case .null: throw .null
        default: throw .kind
        }
    }

    /// Exact integers directly; other numbers through a `Double` (`1.0` and `1e3` are
    /// integers, `1.5` is not), and beyond 2^53 through a `Decimal`, as Foundation does.
    func integer<Integer: FixedWidthInteger>(_ type: Integer.Type) throws(Mismatch) -> Integer {
        switch self {
        case .integer(let integer):
            guard let exact = Integer(exactly: integer) else { throw .unrepresentable(String(integer)) }
            return exact
        case .number(let text):
            guard let integer = Self.integer(text, as: Integer.self) else { throw .unrepresentable(text) }
            return integer
        case .nonFinite(let number): throw .unrepresentable(String(number))
        case .null: throw .null
        default: throw .kind
        }
    }

    /// Correctly rounded; a number out of the type's range (`1e400`), or one that is not
    /// zero but rounds to it (`1e-400`), is refused as Foundation refuses it.
    func floatingPoint<Number: BinaryFloatingPoint & LosslessStringConvertible>(_ type: Number.Type) throws(Mismatch) -> Number {
        switch self {
        case .integer(let integer):
            return Number(integer)
        case .number(let text):
            guard let number = Number(text), number.isFinite, number != 0 || Self.isZero(text) else { throw .unrepresentable(text) }
            return number
        case .nonFinite(let number): return Number(number)
        case .null: throw .null
        default: throw .kind
        }
    }

    /// A number's exact decimal value.
    func decimal() throws(Mismatch) -> Decimal {
        switch self {
        case .integer(let integer): return Decimal(integer)
        case .number(let text):
            guard let decimal = Decimal(string: text) else { throw .unrepresentable(text) }
            return decimal
        case .nonFinite(let number): throw .unrepresentable(String(number))
        case .null: throw .null
        default: throw .kind
        }
    }

    /// Foundation's default for `Data`: a Base64 string.
    func base64Data() throws(Mismatch) -> Data {
        let text = try string()
        guard let data = Data(base64Encoded: text) else { throw .unrepresentable("not Base64: \(text)") }
        return data
    }

    /// Foundation's reading of a `URL`: a string `URL(string:)` accepts.
    func url() throws(Mismatch) -> URL {
        let text = try string()
        guard let url = URL(string: text) else { throw .unrepresentable("not a URL: \(text)") }
        return url
    }

    /// The node as a channel reads a ``JSONValue`` (``JSONReader/read(_:)``), so that a
    /// `JSONValue` field holds what a `JSONValue` message would.
    var jsonValue: JSONValue {
        switch self {
        case .null: return .null
        case .bool(let flag): return .bool(flag)
        case .string(let text): return .string(text)
        case .integer(let integer): return .number(Double(integer))
        case .number(let text):
            // Python's int -0 is 0; any other text reads as the reader reads it.
            return .number(text == "-0" ? 0 : Double(text) ?? .nan)
        case .nonFinite(let number): return .number(number)
        case .array(let elements): return .array(elements.map(\.jsonValue))
        case .object(let object):
            return .object(JSONObject(object.members.lazy.map { key, value in (key, value.jsonValue) }))
        }
    }

    /// Foundation's integer reading of a number that is not a plain in-range integer.
    private static func integer<Integer: FixedWidthInteger>(_ text: String, as type: Integer.Type) -> Integer? {
        if let exact = Integer(text) { return exact }
        guard let double = Double(text), let integer = Integer(exactly: double) else { return nil }
        // Below 2^53 a Double holds every integer, so no other integer was rounded to it.
        if double.magnitude < 9_007_199_254_740_992 { return integer }
        guard let decimal = Decimal(string: text) else { return nil }
        return Self.integer(decimal, as: Integer.self)
    }

    /// Foundation's `FixedWidthInteger(Decimal)`: the significand as a `UInt64`, scaled
    /// by the exponent (a fraction truncated), `nil` on any overflow.
    private static func integer<Integer: FixedWidthInteger>(_ decimal: Decimal, as type: Integer.Type) -> Integer? {
        let negative = decimal.sign == .minus
        guard !decimal.isNaN, !negative || Integer.isSigned,
              var magnitude = UInt64(decimal.significand.magnitude.description) else { return nil }
        for _ in 0..<decimal.exponent.magnitude {
            if decimal.exponent < 0 {
                magnitude /= 10
            } else {
                let (product, overflow) = magnitude.multipliedReportingOverflow(by: 10)
                guard !overflow else { return nil }
                magnitude = product
            }
        }
        guard let exact = Integer(exactly: magnitude) else { return nil }
        return negative ? exact * -1 : exact
    }

    /// Whether a number's text is zero: no digit other than `0` before its exponent.
    private static func isZero(_ text: String) -> Bool {
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "1")...UInt8(ascii: "9"): return false
            case UInt8(ascii: "e"), UInt8(ascii: "E"): return true
            default: continue
            }
        }
        return true
    }
}

extension JSONNode.Mismatch {
    /// The `DecodingError` Foundation throws for the same failure.
    func decodingError(_ type: Any.Type, _ node: JSONNode, at path: [any CodingKey]) -> DecodingError {
        switch self {
        case .null:
            .valueNotFound(type, .init(codingPath: path, debugDescription: "Expected \(type) value but found null instead."))
        case .kind:
            .typeMismatch(type, .init(codingPath: path, debugDescription: "Expected to decode \(type) but found \(node.kindDescription) instead."))
        case .unrepresentable(let text):
            .dataCorrupted(.init(codingPath: path, debugDescription: "\(text) is not representable as \(type)."))
        }
    }
}

/// A JSON scalar type, read from a node by ``JSONNode``'s rules: every decode of a
/// scalar, in any kind of container, goes through its one `read`.
protocol JSONNodeScalar {
    /// The value `node` holds, by the rules of ``JSONNode``'s reader for this type.
    static func read(_ node: JSONNode) throws(JSONNode.Mismatch) -> Self
}

extension Bool: JSONNodeScalar {
    static func read(_ node: JSONNode) throws(JSONNode.Mismatch) -> Bool { try node.bool() }
}

extension String: JSONNodeScalar {
    static func read(_ node: JSONNode) throws(JSONNode.Mismatch) -> String { try node.string() }
}

extension JSONNodeScalar where Self: FixedWidthInteger {
    static func read(_ node: JSONNode) throws(JSONNode.Mismatch) -> Self { try node.integer(Self.self) }
}

extension JSONNodeScalar where Self: BinaryFloatingPoint & LosslessStringConvertible {
    static func read(_ node: JSONNode) throws(JSONNode.Mismatch) -> Self { try node.floatingPoint(Self.self) }
}

extension Double: JSONNodeScalar {}
extension Float: JSONNodeScalar {}
extension Int: JSONNodeScalar {}
extension Int8: JSONNodeScalar {}
extension Int16: JSONNodeScalar {}
extension Int32: JSONNodeScalar {}
extension Int64: JSONNodeScalar {}
extension UInt: JSONNodeScalar {}
extension UInt8: JSONNodeScalar {}
extension UInt16: JSONNodeScalar {}
extension UInt32: JSONNodeScalar {}
extension UInt64: JSONNodeScalar {}
// The protocol's default for these throws "not implemented"; Foundation reads them.
@available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
extension Int128: JSONNodeScalar {}
@available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
extension UInt128: JSONNodeScalar {}

extension JSONNode {
    /// `Value` read from this node at `path`, the error carrying the path.
    func read<Value: JSONNodeScalar>(at path: @autoclosure () -> CodingPath) throws -> Value {
        do {
            return try Value.read(self)
        } catch {
            throw error.decodingError(Value.self, self, at: path().keys)
        }
    }

    /// Whether this is `null`: what an optional reads as `nil`.
    var isNull: Bool {
        if case .null = self { return true }
        return false
    }
}
