/// A message as ``JSONReader`` reads it for a typed decode (``JSONNodeDecoder``): Python's
/// grammar, each number kept as written so that every integer type reads it exactly
/// (an `Int64` field keeps a value beyond 2^53), and each object's repeated key already
/// reduced to its last value.
enum JSONNode {
    /// `null`: a missing value to an optional, an error to anything else.
    case null
    /// `true` or `false`.
    case bool(Bool)
    /// A string, its escapes resolved.
    case string(String)
    /// A number written without fraction or exponent that fits in an `Int64`: the usual
    /// number, read by every numeric type without converting text. Not `-0`, which is
    /// `-0.0` to a `Double` (its text keeps the sign).
    case integer(Int64)
    /// Any other number, as written (valid JSON): each type converts it by its own rules.
    case number(String)
    /// Python's `NaN`, `Infinity` or `-Infinity`: a number, never a string.
    case nonFinite(Double)
    /// An array's elements in order.
    case array([JSONNode])
    /// An object, each key once.
    case object(JSONNodeObject)
}

/// An object's members in the order their keys first appear, each with its last value
/// (as a Python `dict` built by `json.loads`).
typealias JSONNodeObject = JSONMembers<JSONNode>

extension JSONNode: JSONTree {
    static func makeNull() -> JSONNode { .null }
    static func makeBool(_ flag: Bool) -> JSONNode { .bool(flag) }
    static func makeString(_ text: consuming String) -> JSONNode { .string(text) }
    static func makeNonFinite(_ number: Double) -> JSONNode { .nonFinite(number) }
    static func makeArray(_ elements: [JSONNode]) -> JSONNode { .array(elements) }
    static func makeMembers() -> JSONNodeObject { JSONNodeObject() }
    static func makeObject(_ members: JSONNodeObject) -> JSONNode { .object(members) }

    static func add(_ key: consuming String, _ value: consuming JSONNode, to members: inout JSONNodeObject) {
        members.set(key, value)
    }

    static func makeNumber(_ bytes: [UInt8], _ number: JSONScanner.Number) -> JSONNode? {
        // At most 18 characters (sign included) always fit in an Int64; "-0" stays text.
        if number.isInteger, number.range.count <= 18, !number.isMinusZero {
            return .integer(JSONReader.shortInteger(number))
        }
        return .number(String(decoding: bytes[number.range], as: UTF8.self))
    }
}
