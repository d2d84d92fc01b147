/// Turns any `Encodable` into a ``JSONValue`` (then ``JSONWriter`` writes it as Python
/// would). Foundation's `JSONEncoder` is not used because it writes the float `1.0` as
/// `1`, which a Python peer reads back as an `int`, and it refuses `NaN`.
///
/// Containers are reference boxes filled while `encode(to:)` runs and frozen into
/// values at the end, the usual shape of a `Codable` encoder.
struct JSONValueEncoder {
    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        let encoder = ValueEncoder(codingPath: [])
        try value.encode(to: encoder)
        guard let slot = encoder.slot else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(T.self) encoded nothing"))
        }
        return slot.value
    }
}

/// A value being built: a finished leaf or a container still being filled. Elements and
/// members are separate stored properties so that appending mutates in place (an enum
/// payload would be copied on every append, quadratic for big arrays).
private final class Slot {
    var leaf: JSONValue?
    var elements: [Slot]?
    var members: [String: Slot]?

    init(leaf: JSONValue) { self.leaf = leaf }
    init(elements: [Slot]) { self.elements = elements }
    init(members: [String: Slot]) { self.members = members }

    func becomeObject() {
        guard members == nil else { return }
        leaf = nil
        elements = nil
        members = [:]
    }

    func becomeArray() {
        guard elements == nil else { return }
        leaf = nil
        members = nil
        elements = []
    }

    var value: JSONValue {
        if let elements { return .array(elements.map(\.value)) }
        if let members { return .object(members.mapValues(\.value)) }
        return leaf ?? .null
    }
}

private final class ValueEncoder: Encoder {
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }
    var slot: Slot?

    init(codingPath: [any CodingKey]) {
        self.codingPath = codingPath
    }

    /// Re-requesting a container of the same kind (as a superclass's encode does) reuses it.
    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if slot == nil { slot = Slot(members: [:]) }
        slot!.becomeObject()
        return KeyedEncodingContainer(KeyedContainer<Key>(slot: slot!, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if slot == nil { slot = Slot(elements: []) }
        slot!.becomeArray()
        return UnkeyedContainer(slot: slot!, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleContainer(encoder: self)
    }
}

/// Encodes one value at `path` into a new slot; leaves bypass the nested encoder.
private func encodeValue<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> Slot {
    if let leaf = try leafValue(value, path: path) { return Slot(leaf: leaf) }
    let encoder = ValueEncoder(codingPath: path)
    try value.encode(to: encoder)
    // A type that encodes nothing (an empty struct with a custom encode) is an empty object.
    return encoder.slot ?? Slot(members: [:])
}

/// The JSON for values that are JSON scalars (or already JSON), without the encoder.
private func leafValue<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> JSONValue? {
    switch value {
    case let json as JSONValue: return json
    case let text as String: return .string(text)
    case let flag as Bool: return .bool(flag)
    case let number as Double: return .double(number)
    case let number as Float: return .double(Double(number))
    case let number as Int: return .integer(Int64(number))
    case let number as Int8: return .integer(Int64(number))
    case let number as Int16: return .integer(Int64(number))
    case let number as Int32: return .integer(Int64(number))
    case let number as Int64: return .integer(number)
    case let number as UInt8: return .integer(Int64(number))
    case let number as UInt16: return .integer(Int64(number))
    case let number as UInt32: return .integer(Int64(number))
    case let number as UInt: return try integer(number, path: path)
    case let number as UInt64: return try integer(number, path: path)
    default: return nil
    }
}

private func integer<T: BinaryInteger>(_ number: T, path: [any CodingKey]) throws -> JSONValue {
    guard let exact = Int64(exactly: number) else {
        throw EncodingError.invalidValue(number, .init(codingPath: path, debugDescription: "\(number) does not fit in a 64-bit signed JSON integer"))
    }
    return .integer(exact)
}

private struct IndexKey: CodingKey {
    let intValue: Int?
    var stringValue: String { "Index \(intValue!)" }
    init(_ index: Int) { intValue = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.intValue = intValue }
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    private func set(_ child: Slot, for key: Key) {
        slot.members?[key.stringValue] = child
    }

    mutating func encodeNil(forKey key: Key) throws { set(Slot(leaf: .null), for: key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try encodeValue(value, path: codingPath + [key]), for: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = Slot(members: [:])
        set(child, for: key)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Slot(elements: [])
        set(child, for: key)
        return UnkeyedContainer(slot: child, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { superEncoder(forKey: Key(stringValue: "super")!) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        let encoder = ValueEncoder(codingPath: codingPath + [key])
        let child = Slot(members: [:])
        encoder.slot = child
        set(child, for: key)
        return encoder
    }
}

private struct UnkeyedContainer: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    var count: Int {
        slot.elements?.count ?? 0
    }

    private func append(_ child: Slot) {
        slot.elements?.append(child)
    }

    mutating func encodeNil() throws { append(Slot(leaf: .null)) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        append(try encodeValue(value, path: codingPath + [IndexKey(count)]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let child = Slot(members: [:])
        let path = codingPath + [IndexKey(count)]
        append(child)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: path))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let child = Slot(elements: [])
        let path = codingPath + [IndexKey(count)]
        append(child)
        return UnkeyedContainer(slot: child, codingPath: path)
    }

    mutating func superEncoder() -> any Encoder {
        let encoder = ValueEncoder(codingPath: codingPath + [IndexKey(count)])
        let child = Slot(members: [:])
        encoder.slot = child
        append(child)
        return encoder
    }
}

private struct SingleContainer: SingleValueEncodingContainer {
    let encoder: ValueEncoder
    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws { encoder.slot = Slot(leaf: .null) }

    mutating func encode<T: Encodable>(_ value: T) throws {
        encoder.slot = try encodeValue(value, path: codingPath)
    }
}
