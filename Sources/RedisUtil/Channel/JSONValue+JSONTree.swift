/// How ``JSONReader`` builds a ``JSONValue``: every number a `Double`, a repeated key's
/// last value in the dictionary.
extension JSONValue: JSONTree {
    static func makeNull() -> JSONValue { .null }
    static func makeBool(_ flag: Bool) -> JSONValue { .bool(flag) }
    static func makeString(_ text: String) -> JSONValue { .string(text) }
    static func makeNonFinite(_ number: Double) -> JSONValue { .number(number) }
    static func makeArray(_ elements: [JSONValue]) -> JSONValue { .array(elements) }
    /// Room for a usual message's members at once: growing from empty rehashed every
    /// key at each doubling (about 500 instructions for four members). A copy of
    /// ``emptyMembers``, whose storage is allocated anew at the first insertion.
    static func makeMembers() -> [String: JSONValue] { emptyMembers }

    /// An empty object with room for eight members. Copying it is what makes the room:
    /// `Dictionary(minimumCapacity:)` is not inlinable, and its unspecialised code looks
    /// the storage class's generic metadata up in the runtime's cache at every call
    /// (about 330 instructions, a third of what allocating and freeing the dictionary
    /// costs), where the copy made at the first insertion is specialised code. The
    /// copies share this one's hash seed, as any copy of a dictionary does.
    private static let emptyMembers = [String: JSONValue](minimumCapacity: 8)
    static func makeObject(_ members: [String: JSONValue]) -> JSONValue { .object(members) }

    static func add(_ key: String, _ value: JSONValue, to members: inout [String: JSONValue]) {
        members[key] = value
    }

    static func makeNumber(_ bytes: [UInt8], _ start: Int, _ end: Int, isInteger: Bool) -> JSONValue? {
        // Up to 15 digits an integer is exact in a Double and needs no text conversion,
        // the common case (ids, counts, sizes). `-0` is Python's int 0, so it reads as 0.
        if isInteger, end - start <= 15 {
            return .number(Double(JSONReader.shortInteger(bytes, start, end)))
        }
        return Double(String(decoding: bytes[start..<end], as: UTF8.self)).map(JSONValue.number)
    }
}
