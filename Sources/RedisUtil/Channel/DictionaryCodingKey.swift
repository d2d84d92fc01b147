/// Whether an object being encoded is a `Dictionary`: the standard library encodes one
/// with `String` or `Int` keys (or `CodingKeyRepresentable` ones) through a keyed
/// container keyed by a type of its own, which is not public; it is learned here once,
/// by encoding an empty dictionary. A dictionary's members have no order of their own
/// (its iteration order changes from process to process), so the encoders sort them by
/// key, which keeps a message's bytes a function of its value; every other object keeps
/// the order its `encode(to:)` wrote (a struct's declaration order).
enum DictionaryCodingKey {
    /// Whether containers keyed by `type` are a dictionary's. One comparison of type
    /// identities, made for every object a message holds.
    @inline(__always)
    static func isDictionaryKey<Key: CodingKey>(_ type: Key.Type) -> Bool {
        ObjectIdentifier(type) == dictionaryKeyType
    }

    /// The key type of a dictionary's keyed container; `nil` only if a future standard
    /// library stopped using one (every object would then keep its written order).
    private static let dictionaryKeyType: ObjectIdentifier? = {
        let probe = Probe()
        try? [String: Int]().encode(to: probe)
        return probe.keyType
    }()

    /// An encoder that only notes the key type of the first keyed container asked of it.
    private final class Probe: Encoder {
        var keyType: ObjectIdentifier?
        var codingPath: [any CodingKey] { [] }
        var userInfo: [CodingUserInfoKey: Any] { [:] }

        func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
            if keyType == nil { keyType = ObjectIdentifier(type) }
            return KeyedEncodingContainer(Ignored<Key>(encoder: self))
        }

        func unkeyedContainer() -> any UnkeyedEncodingContainer { IgnoredElements(encoder: self) }
        func singleValueContainer() -> any SingleValueEncodingContainer { IgnoredElements(encoder: self) }
    }

    /// Containers that write nothing: the probe's dictionary is empty, and nothing
    /// reaches them but its own (possible) calls.
    private struct Ignored<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let encoder: Probe
        var codingPath: [any CodingKey] { [] }
        mutating func encodeNil(forKey key: Key) throws {}
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {}
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            KeyedEncodingContainer(Ignored<NestedKey>(encoder: encoder))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer { IgnoredElements(encoder: encoder) }
        mutating func superEncoder() -> any Encoder { encoder }
        mutating func superEncoder(forKey key: Key) -> any Encoder { encoder }
    }

    private struct IgnoredElements: UnkeyedEncodingContainer, SingleValueEncodingContainer {
        let encoder: Probe
        var codingPath: [any CodingKey] { [] }
        var count: Int { 0 }
        mutating func encodeNil() throws {}
        mutating func encode<T: Encodable>(_ value: T) throws {}
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            KeyedEncodingContainer(Ignored<NestedKey>(encoder: encoder))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { self }
        mutating func superEncoder() -> any Encoder { encoder }
    }
}
