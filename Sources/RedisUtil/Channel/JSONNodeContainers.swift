/// An object's members, looked up by key; a missing key is Foundation's `keyNotFound`.
struct JSONNodeKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: JSONNodeDecoder
    let object: JSONNodeObject
    let path: CodingPath

    var codingPath: [any CodingKey] { path.keys }

    var allKeys: [Key] {
        object.members.compactMap { key, _ in Key(stringValue: key) }
    }

    func contains(_ key: Key) -> Bool {
        object.position(of: key.stringValue) != nil
    }

    private func node(_ key: some CodingKey) throws -> JSONNode {
        guard let node = object.value(of: key.stringValue) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "No value associated with key \(key) (\"\(key.stringValue)\")."))
        }
        return node
    }

    private func read<Value: JSONNodeScalar>(_ key: Key) throws -> Value {
        try node(key).read(at: path.appending(key))
    }

    /// One lookup for an optional field, where the protocol's default makes three.
    private func readIfPresent<Value: JSONNodeScalar>(_ key: Key) throws -> Value? {
        guard let node = object.value(of: key.stringValue), !node.isNull else { return nil }
        return try node.read(at: path.appending(key))
    }

    func decodeNil(forKey key: Key) throws -> Bool { try node(key).isNull }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try read(key) }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try read(key) }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try read(key) }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { try read(key) }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try read(key) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try read(key) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try read(key) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try read(key) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try read(key) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try read(key) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try read(key) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try read(key) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try read(key) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try read(key) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { try read(key) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { try read(key) }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decoder.decode(node(key), as: T.self, at: path.appending(key))
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try readIfPresent(key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try readIfPresent(key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try readIfPresent(key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try readIfPresent(key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try readIfPresent(key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try readIfPresent(key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try readIfPresent(key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try readIfPresent(key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try readIfPresent(key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try readIfPresent(key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try readIfPresent(key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try readIfPresent(key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try readIfPresent(key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try readIfPresent(key) }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let node = object.value(of: key.stringValue), !node.isNull else { return nil }
        return try decoder.decode(node, as: T.self, at: path.appending(key))
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder.keyedContainer(node(key), at: path.appending(key), keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder.unkeyedContainer(node(key), at: path.appending(key))
    }

    func superDecoder() throws -> any Decoder { superDecoder(NameKey.super) }
    func superDecoder(forKey key: Key) throws -> any Decoder { superDecoder(key) }

    /// As Foundation's: a missing key gives a decoder of `null`, not an error.
    private func superDecoder(_ key: some CodingKey) -> any Decoder {
        JSONNodeDecoder(node: object.value(of: key.stringValue) ?? .null, path: path.appending(key))
    }
}

/// An array's elements in order; reading past the end is Foundation's `valueNotFound`.
struct JSONNodeUnkeyedContainer: UnkeyedDecodingContainer {
    let decoder: JSONNodeDecoder
    let elements: [JSONNode]
    let path: CodingPath
    private(set) var currentIndex = 0

    init(decoder: JSONNodeDecoder, elements: [JSONNode], path: CodingPath) {
        self.decoder = decoder
        self.elements = elements
        self.path = path
    }

    var codingPath: [any CodingKey] { path.keys }
    var count: Int? { elements.count }
    var isAtEnd: Bool { currentIndex >= elements.count }

    private var currentPath: CodingPath { path.appending(index: currentIndex) }

    /// The element at `currentIndex`, which a successful decode then moves past.
    private func next(_ type: Any.Type, _ message: String = "Unkeyed container is at end.") throws -> JSONNode {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(type, .init(codingPath: currentPath.keys, debugDescription: message))
        }
        return elements[currentIndex]
    }

    private mutating func read<Value: JSONNodeScalar>() throws -> Value {
        let value: Value = try next(Value.self).read(at: currentPath)
        currentIndex += 1
        return value
    }

    /// Moves past a `null`; any other element stays to be decoded.
    mutating func decodeNil() throws -> Bool {
        guard try next(Never.self).isNull else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool { try read() }
    mutating func decode(_ type: String.Type) throws -> String { try read() }
    mutating func decode(_ type: Double.Type) throws -> Double { try read() }
    mutating func decode(_ type: Float.Type) throws -> Float { try read() }
    mutating func decode(_ type: Int.Type) throws -> Int { try read() }
    mutating func decode(_ type: Int8.Type) throws -> Int8 { try read() }
    mutating func decode(_ type: Int16.Type) throws -> Int16 { try read() }
    mutating func decode(_ type: Int32.Type) throws -> Int32 { try read() }
    mutating func decode(_ type: Int64.Type) throws -> Int64 { try read() }
    mutating func decode(_ type: UInt.Type) throws -> UInt { try read() }
    mutating func decode(_ type: UInt8.Type) throws -> UInt8 { try read() }
    mutating func decode(_ type: UInt16.Type) throws -> UInt16 { try read() }
    mutating func decode(_ type: UInt32.Type) throws -> UInt32 { try read() }
    mutating func decode(_ type: UInt64.Type) throws -> UInt64 { try read() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    mutating func decode(_ type: Int128.Type) throws -> Int128 { try read() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 { try read() }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let value = try decoder.decode(next(T.self), as: T.self, at: currentPath)
        currentIndex += 1
        return value
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        let node = try next(KeyedDecodingContainer<NestedKey>.self, "Cannot get nested keyed container -- unkeyed container is at end.")
        let container = try decoder.keyedContainer(node, at: currentPath, keyedBy: NestedKey.self)
        currentIndex += 1
        return container
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let node = try next((any UnkeyedDecodingContainer).self, "Cannot get nested unkeyed container -- unkeyed container is at end.")
        let container = try decoder.unkeyedContainer(node, at: currentPath)
        currentIndex += 1
        return container
    }

    mutating func superDecoder() throws -> any Decoder {
        let node = try next((any Decoder).self, "Cannot get superDecoder() -- unkeyed container is at end.")
        let decoder = JSONNodeDecoder(node: node, path: currentPath)
        currentIndex += 1
        return decoder
    }
}

/// One value, read as a whole (a `RawRepresentable` enum, an `Optional`, a wrapper).
struct JSONNodeSingleValueContainer: SingleValueDecodingContainer {
    let decoder: JSONNodeDecoder
    let node: JSONNode
    let path: CodingPath

    var codingPath: [any CodingKey] { path.keys }

    func decodeNil() -> Bool { node.isNull }

    func decode(_ type: Bool.Type) throws -> Bool { try node.read(at: path) }
    func decode(_ type: String.Type) throws -> String { try node.read(at: path) }
    func decode(_ type: Double.Type) throws -> Double { try node.read(at: path) }
    func decode(_ type: Float.Type) throws -> Float { try node.read(at: path) }
    func decode(_ type: Int.Type) throws -> Int { try node.read(at: path) }
    func decode(_ type: Int8.Type) throws -> Int8 { try node.read(at: path) }
    func decode(_ type: Int16.Type) throws -> Int16 { try node.read(at: path) }
    func decode(_ type: Int32.Type) throws -> Int32 { try node.read(at: path) }
    func decode(_ type: Int64.Type) throws -> Int64 { try node.read(at: path) }
    func decode(_ type: UInt.Type) throws -> UInt { try node.read(at: path) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try node.read(at: path) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try node.read(at: path) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try node.read(at: path) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try node.read(at: path) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 { try node.read(at: path) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 { try node.read(at: path) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.decode(node, as: T.self, at: path)
    }
}
