/// A JSON document of any shape: what a Python peer's `json.loads` would give.
///
/// Use it for messages whose shape is not known in advance:
/// ```swift
/// let job: JSONValue? = try await channel.recv()
/// if let width = job?["size"]?[0]?.intValue { … }
/// try await channel.send(["op": "resize", "size": [640, 480], "urgent": true] as JSONValue)
/// ```
/// Every number is one ``number(_:)`` holding a `Double`, as in JavaScript:
/// - Integers round-trip exactly up to 2^53 in magnitude, and an integral value in
///   that range is written without a fraction (`1`, as Python writes its `int` 1).
/// - So a Python `float` with an integral value, `1.0`, is read as `.number(1)` and
///   written back as `1`: the peer then sees an `int`. This loss of the int/float
///   distinction is the specified behaviour; send a typed message (a `Double` field is
///   written `1.0`) when the peer must receive a `float`.
/// - Integers beyond 2^53 (Python has no limit) arrive rounded to the nearest `Double`,
///   as in most JSON readers, and are written in float form (`9007199254740994.0`).
///   Typed messages (an `Int64` field) keep them exact in both directions.
/// - `-0.0` keeps its sign and is written `-0.0`; `NaN`, `Infinity` and `-Infinity`
///   are read and written as Python's `json` does.
public enum JSONValue: Codable, Equatable, Hashable, Sendable {
    /// `null` (Python `None`).
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// Any number (Python `int` or `float`), including the non-standard `NaN`,
    /// `Infinity` and `-Infinity` that Python writes by default.
    case number(Double)
    /// A string.
    case string(String)
    /// An array (Python `list`).
    case array([JSONValue])
    /// An object (Python `dict`), its members in the order they were read or added in,
    /// which is the order they are written in (``JSONObject``).
    case object(JSONObject)
}

extension JSONValue {
    /// Whether this is `null`.
    public var isNull: Bool {
        if case .null = self { return true }
        return false
    }

    /// The boolean, or `nil` for any other kind.
    public var boolValue: Bool? {
        if case .bool(let value) = self { return value }
        return nil
    }

    /// The number as an `Int` when it has an exact integer value (`2.0` too, as
    /// Python's `2.0 == 2`); `nil` for a fraction, a non-finite number or any other kind.
    public var intValue: Int? {
        if case .number(let value) = self { return Int(exactly: value) }
        return nil
    }

    /// The number, or `nil` for any other kind.
    public var doubleValue: Double? {
        if case .number(let value) = self { return value }
        return nil
    }

    /// The string, or `nil` for any other kind.
    public var stringValue: String? {
        if case .string(let value) = self { return value }
        return nil
    }

    /// The elements, or `nil` for any other kind.
    public var arrayValue: [JSONValue]? {
        if case .array(let value) = self { return value }
        return nil
    }

    /// The members, or `nil` for any other kind.
    public var objectValue: JSONObject? {
        if case .object(let value) = self { return value }
        return nil
    }

    /// The member named `key` of an object; `nil` when absent or not an object.
    public subscript(key: String) -> JSONValue? {
        objectValue?[key]
    }

    /// The element at `index` of an array; `nil` when out of range or not an array.
    public subscript(index: Int) -> JSONValue? {
        guard let array = arrayValue, array.indices.contains(index) else { return nil }
        return array[index]
    }
}

extension JSONValue: ExpressibleByNilLiteral, ExpressibleByBooleanLiteral, ExpressibleByIntegerLiteral,
    ExpressibleByFloatLiteral, ExpressibleByStringLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral
{
    /// `nil` is `null`.
    public init(nilLiteral: ()) { self = .null }
    /// A boolean.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An integer; exact up to 2^53 in magnitude.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A number; a whole one is written without a fraction (`1.0` as `1`).
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object, its members in the literal's order; a repeated key keeps its first
    /// place and takes its last value, as in Python.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(JSONObject(storage: JSONMembers(adopting: elements)))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The JSON text, exactly as it is sent on a channel. A value nested deeper than
    /// 1000 levels, which no channel sends, is shown down to that depth and cut off
    /// there with `…`.
    public var description: String {
        String(decoding: JSONWriter.writeCuttingAtDepthLimit(self), as: UTF8.self)
    }
}
