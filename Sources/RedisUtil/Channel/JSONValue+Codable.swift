extension JSONValue {
    /// Reads any JSON value from any decoder, so a `JSONValue` can be a field of a
    /// typed message. Numbers become ``number(_:)`` (through Foundation's `JSONDecoder`,
    /// integers beyond 2^53 are rounded). A channel does not go through this: it reads
    /// a `JSONValue` field exactly as it reads a `JSONValue` message.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let text = try? container.decode(String.self) {
            self = .string(text)
        } else if let elements = try? container.decode([JSONValue].self) {
            self = .array(elements)
        } else if let members = try? container.decode([String: JSONValue].self) {
            // A decoder's keyed container gives its keys in no set order (Foundation's
            // from a dictionary), so the members are sorted, as a dictionary's are.
            self = .object(JSONObject(sortingKeysOf: members))
        } else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not a JSON value")
        }
    }

    /// Writes the value through any encoder; a number with an exact integer value within
    /// ±2^53 is encoded as an `Int64`, so no encoder writes it with a fraction.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number):
            if let integer = JSONWriter.exactInteger(number) {
                try container.encode(integer)
            } else {
                try container.encode(number)
            }
        case .string(let text): try container.encode(text)
        case .array(let elements): try container.encode(elements)
        case .object(let object): try container.encode(object)
        }
    }
}
