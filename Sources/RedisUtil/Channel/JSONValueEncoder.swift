import RESP

/// Turns any `Encodable` into the JSON a Python peer would send for it. Foundation's
/// `JSONEncoder` is not used because it writes the float `1.0` as `1`, which a Python
/// peer reads back as an `int`, and it refuses `NaN`.
///
/// Containers are reference boxes filled while `encode(to:)` runs, then written out
/// (``encodeJSON(_:)``, what a channel sends) or frozen into a ``JSONValue``
/// (``encode(_:)``), the usual shape of a `Codable` encoder. Integers and floats are
/// kept apart in the boxes, so a typed message's integers are written exactly at any
/// size and its whole floats as `2.0`, while a ``JSONValue``, which holds every number
/// as a `Double`, rounds integers beyond 2^53 and writes a whole float as `2`.
struct JSONValueEncoder {
    /// `value` as a ``JSONValue``.
    static func encode<T: Encodable>(_ value: T) throws -> JSONValue {
        if let json = value as? JSONValue { return json }
        return try root(value).value
    }

    /// The bytes a channel sends for `value`, as ``JSONWriter`` writes them: streamed
    /// when the value allows it (``JSONStreamEncoder``), else through the tree.
    static func encodeJSON<T: Encodable>(_ value: T) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try encodeJSON(value, appendingTo: &bytes)
        return bytes
    }

    /// Appends the bytes of ``encodeJSON(_:)`` to `bytes`: a channel writes a message
    /// straight after the head of the command that carries it, with no second buffer
    /// and no copy when the value streams. On a throw `bytes` may hold part of it.
    ///
    /// Both encoders refuse, while writing, to nest deeper than ``JSONReader/maxDepth``
    /// levels, which no reader, ours or Python's, would read back.
    static func encodeJSON<T: Encodable>(_ value: T, appendingTo bytes: inout [UInt8]) throws {
        if try !JSONStreamEncoder.encode(value, appendingTo: &bytes) {
            bytes.append(contentsOf: try encodeJSONTree(value))
        }
    }

    /// The bytes of `value` through the tree of boxes: every shape of `encode(to:)`.
    static func encodeJSONTree<T: Encodable>(_ value: T) throws -> [UInt8] {
        var out: [UInt8] = []
        let tree = T.self == JSONValue.self ? nil : try root(value)
        do throws(JSONWriter.TooDeep) {
            if let tree {
                try tree.write(into: &out, depth: 0)
            } else {
                try JSONWriter.write(value as! JSONValue, into: &out, depth: 0)
            }
        } catch {
            throw JSONWriter.tooDeep(value, codingPath: [])
        }
        return out
    }

    private static func root<T: Encodable>(_ value: T) throws -> Slot {
        if let leaf = try leafSlot(value, path: []) { return leaf }
        let encoder = ValueEncoder(codingPath: [])
        try value.encode(to: encoder)
        guard let slot = encoder.slot else {
            throw EncodingError.invalidValue(value, .init(codingPath: [], debugDescription: "\(T.self) encoded nothing"))
        }
        return slot
    }
}

/// A value being built: a finished leaf or a container still being filled. Elements and
/// members are separate stored properties so that appending mutates in place (an enum
/// payload would be copied on every append, quadratic for big arrays).
private final class Slot {
    var leaf: JSONValue?
    /// An integer leaf, exact beyond the 2^53 a `JSONValue` number holds.
    var integer: Int64?
    /// A `Double` or `Float` leaf, written as a Python `float` even when whole (`2.0`).
    var float: Double?
    var elements: [Slot]?
    var members: [String: Slot]?
    /// The members' keys in the order of their first writes, the order they are written
    /// in (a repeated key keeps its place and takes its last value, as in a Python `dict`).
    var memberOrder: [String] = []
    /// Whether the object is a dictionary's (``DictionaryCodingKey``): its members are
    /// written sorted by key instead.
    var sortsMembers = false

    init(leaf: JSONValue) { self.leaf = leaf }
    init(integer: Int64) { self.integer = integer }
    init(float: Double) { self.float = float }
    init(elements: [Slot]) { self.elements = elements }
    /// An empty object; `sorted` for a dictionary's.
    init(objectSorted sorted: Bool) {
        members = [:]
        sortsMembers = sorted
    }

    /// Makes this slot an empty object, a dictionary's if `sorted`, unless it is one.
    func becomeObject(sorted: Bool) {
        guard members == nil else { return }
        leaf = nil
        integer = nil
        float = nil
        elements = nil
        members = [:]
        memberOrder = []
        sortsMembers = sorted
    }

    /// Sets the member `key`: a new key goes last, a repeated one keeps its place.
    func setMember(_ key: String, _ child: Slot) {
        guard members != nil else { return }
        if members!.updateValue(child, forKey: key) == nil { memberOrder.append(key) }
    }

    func becomeArray() {
        guard elements == nil else { return }
        leaf = nil
        integer = nil
        float = nil
        members = nil
        memberOrder = []
        elements = []
    }

    var value: JSONValue {
        if let elements { return .array(elements.map(\.value)) }
        if members != nil {
            var object = JSONObject()
            forEachMember { key, slot in object[key] = slot.value }
            return .object(object)
        }
        if let integer { return .number(Double(integer)) }
        if let float { return .number(float) }
        return leaf ?? .null
    }

    /// Writes as ``JSONWriter`` writes the equivalent ``JSONValue``, integers exact, this
    /// slot lying inside `depth` arrays and objects. Building stops a level past the
    /// depth limit (`encodeValue`); writing refuses exactly at it, as ``JSONWriter`` does.
    func write(into out: inout [UInt8], depth: Int) throws(JSONWriter.TooDeep) {
        if let elements {
            guard depth < JSONReader.maxDepth else { throw JSONWriter.TooDeep() }
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { JSONWriter.writeComma(into: &out) }
                try element.write(into: &out, depth: depth + 1)
            }
            out.append(UInt8(ascii: "]"))
        } else if members != nil {
            guard depth < JSONReader.maxDepth else { throw JSONWriter.TooDeep() }
            out.append(UInt8(ascii: "{"))
            var first = true
            try forEachMember { (key, slot) throws(JSONWriter.TooDeep) in
                if !first { JSONWriter.writeComma(into: &out) }
                first = false
                try Self.writeMember(key, slot, into: &out, depth: depth)
            }
            out.append(UInt8(ascii: "}"))
        } else if let integer {
            RESPDecimal.append(integer, to: &out)
        } else if let float {
            JSONWriter.writeDouble(float, into: &out)
        } else {
            try JSONWriter.write(leaf ?? .null, into: &out, depth: depth)
        }
    }

    /// Calls `body` with each member of this object in the order it is written (and
    /// frozen into a ``JSONValue``): a dictionary's sorted by key, the members sorted with
    /// their values rather than each key looked up again; any other object's in the order
    /// of its keys' first writes.
    private func forEachMember<Failure: Error>(_ body: (String, Slot) throws(Failure) -> Void) throws(Failure) {
        guard let members else { return }
        if sortsMembers {
            for (key, slot) in members.sorted(by: { JSONWriter.keyPrecedes($0.key, $1.key) }) { try body(key, slot) }
        } else {
            for key in memberOrder { try body(key, members[key]!) }
        }
    }

    private static func writeMember(_ key: String, _ value: Slot, into out: inout [UInt8], depth: Int) throws(JSONWriter.TooDeep) {
        JSONWriter.writeString(key, into: &out)
        JSONWriter.writeColon(into: &out)
        try value.write(into: &out, depth: depth + 1)
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
        let sorted = DictionaryCodingKey.isDictionaryKey(Key.self)
        if slot == nil { slot = Slot(objectSorted: sorted) }
        slot!.becomeObject(sorted: sorted)
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
/// A value inside more than ``JSONReader/maxDepth`` arrays and objects is refused before
/// its `encode(to:)` runs: a recursive type (a linked list, a tree) nested 100,000 deep
/// would otherwise overflow the stack.
private func encodeValue<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> Slot {
    guard path.count <= JSONReader.maxDepth else { throw JSONWriter.tooDeep(value, codingPath: path) }
    if let leaf = try leafSlot(value, path: path) { return leaf }
    let encoder = ValueEncoder(codingPath: path)
    try value.encode(to: encoder)
    // A type that encodes nothing (an empty struct with a custom encode) is an empty object.
    return encoder.slot ?? Slot(objectSorted: false)
}

/// The slot for values that are JSON scalars (or already JSON), without the encoder.
/// Swift's static types say what Python's would be: an `Int` is an `int`, a `Double` a
/// `float` (`2.0`); only inside a ``JSONValue`` is that distinction gone.
private func leafSlot<T: Encodable>(_ value: T, path: [any CodingKey]) throws -> Slot? {
    switch value {
    case let json as JSONValue: return Slot(leaf: json)
    case let object as JSONObject: return Slot(leaf: .object(object))
    case let text as String: return Slot(leaf: .string(text))
    case let flag as Bool: return Slot(leaf: .bool(flag))
    case let number as Double: return Slot(float: number)
    case let number as Float: return Slot(float: Double(number))
    case let number as Int: return Slot(integer: Int64(number))
    case let number as Int8: return Slot(integer: Int64(number))
    case let number as Int16: return Slot(integer: Int64(number))
    case let number as Int32: return Slot(integer: Int64(number))
    case let number as Int64: return Slot(integer: number)
    case let number as UInt8: return Slot(integer: Int64(number))
    case let number as UInt16: return Slot(integer: Int64(number))
    case let number as UInt32: return Slot(integer: Int64(number))
    case let number as UInt: return try integer(number, path: path)
    case let number as UInt64: return try integer(number, path: path)
    default: return nil
    }
}

private func integer<T: BinaryInteger>(_ number: T, path: [any CodingKey]) throws -> Slot {
    guard let exact = Int64(exactly: number) else {
        throw EncodingError.invalidValue(number, .init(codingPath: path, debugDescription: "\(number) does not fit in a 64-bit signed JSON integer"))
    }
    return Slot(integer: exact)
}

private struct KeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    private func set(_ child: Slot, for key: Key) {
        slot.setMember(key.stringValue, child)
    }

    mutating func encodeNil(forKey key: Key) throws { set(Slot(leaf: .null), for: key) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        set(try encodeValue(value, path: codingPath + [key]), for: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        let child = Slot(objectSorted: DictionaryCodingKey.isDictionaryKey(NestedKey.self))
        set(child, for: key)
        return KeyedEncodingContainer(KeyedContainer<NestedKey>(slot: child, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        let child = Slot(elements: [])
        set(child, for: key)
        return UnkeyedContainer(slot: child, codingPath: codingPath + [key])
    }

    /// Under the key `"super"`, as `JSONEncoder` does; `Key` need not have such a case.
    mutating func superEncoder() -> any Encoder { superEncoder(forKey: NameKey.super) }

    mutating func superEncoder(forKey key: Key) -> any Encoder { superEncoder(forKey: key as any CodingKey) }

    private func superEncoder(forKey key: any CodingKey) -> any Encoder {
        let encoder = ValueEncoder(codingPath: codingPath + [key])
        let child = Slot(objectSorted: false)
        encoder.slot = child
        slot.setMember(key.stringValue, child)
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
        let child = Slot(objectSorted: DictionaryCodingKey.isDictionaryKey(NestedKey.self))
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
        let child = Slot(objectSorted: false)
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
