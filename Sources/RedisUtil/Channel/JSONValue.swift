/// A JSON document of any shape: what a Python peer's `json.loads` would give.
///
/// Use it for messages whose shape is not known in advance:
/// ```swift
/// let job: JSONValue? = try await channel.recv()
/// if let width = job?["size"]?[0]?.intValue { … }
/// try await channel.send(["op": "resize", "size": [640, 480], "urgent": true] as JSONValue)
/// ```
/// Integers and floats stay apart (`.integer(1)` is written `1`, `.double(1)` is written
/// `1.0`), as Python's `int` and `float` do, so values survive a round trip through a
/// Python peer unchanged.
public enum JSONValue: Sendable, Hashable {
    /// `null` (Python `None`).
    case null
    /// `true` / `false`.
    case bool(Bool)
    /// A number without fraction or exponent that fits in 64 bits (Python `int`).
    /// Larger integers from a Python peer arrive as ``double(_:)``, as in most JSON readers.
    case integer(Int64)
    /// A number with a fraction or an exponent (Python `float`), including the
    /// non-standard `NaN`, `Infinity` and `-Infinity` that Python writes by default.
    case double(Double)
    /// A string.
    case string(String)
    /// An array (Python `list`).
    case array([JSONValue])
    /// An object (Python `dict`). Written with its keys sorted, so the same value always
    /// gives the same bytes.
    case object([String: JSONValue])
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

    /// The integer, also for a float with an exact integer value (Python `2.0 == 2`).
    public var intValue: Int? {
        switch self {
        case .integer(let value): return Int(exactly: value)
        case .double(let value): return Int(exactly: value)
        default: return nil
        }
    }

    /// The number as a `Double` (integers converted), or `nil` for any other kind.
    public var doubleValue: Double? {
        switch self {
        case .integer(let value): return Double(value)
        case .double(let value): return value
        default: return nil
        }
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
    public var objectValue: [String: JSONValue]? {
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
    /// An integer.
    public init(integerLiteral value: Int64) { self = .integer(value) }
    /// A float, written with a fraction or exponent even when whole (`1.0`).
    public init(floatLiteral value: Double) { self = .double(value) }
    /// A string.
    public init(stringLiteral value: String) { self = .string(value) }
    /// An array.
    public init(arrayLiteral elements: JSONValue...) { self = .array(elements) }
    /// An object; a repeated key keeps its last value, as in Python.
    public init(dictionaryLiteral elements: (String, JSONValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension JSONValue: CustomStringConvertible {
    /// The JSON text, exactly as it is sent on a channel.
    public var description: String {
        String(decoding: JSONWriter.write(self), as: UTF8.self)
    }
}
