/// How ``JSONReader`` builds a ``JSONValue``: every number a `Double`, an object's members
/// in the message's order, a repeated key in its first place with its last value.
extension JSONValue: JSONTree {
    static func makeNull() -> JSONValue { .null }
    static func makeBool(_ flag: Bool) -> JSONValue { .bool(flag) }
    static func makeString(_ text: consuming String) -> JSONValue { .string(text) }
    static func makeNonFinite(_ number: Double) -> JSONValue { .number(number) }
    static func makeArray(_ elements: [JSONValue]) -> JSONValue { .array(elements) }
    static func makeMembers() -> JSONMembers<JSONValue> { JSONMembers() }
    static func makeObject(_ members: JSONMembers<JSONValue>) -> JSONValue { .object(JSONObject(storage: members)) }

    static func add(_ key: consuming String, _ value: consuming JSONValue, to members: inout JSONMembers<JSONValue>) {
        members.set(key, value)
    }

    static func makeNumber(_ bytes: [UInt8], _ number: JSONScanner.Number) -> JSONValue? {
        // Up to 15 characters an integer is exact in a Double and needs no text conversion,
        // the common case (ids, counts, sizes). `-0` is Python's int 0, so it reads as 0.
        if number.isInteger, number.range.count <= 15 {
            return .number(Double(JSONReader.shortInteger(number)))
        }
        return Double(String(decoding: bytes[number.range], as: UTF8.self)).map(JSONValue.number)
    }
}
