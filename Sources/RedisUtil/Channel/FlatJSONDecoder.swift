import Foundation

/// Decodes the usual channel message (a flat object of strings, numbers, booleans and
/// nulls, or one such scalar) straight from its bytes, at a fraction of the cost of
/// the slow path (``JSONNodeDecoder``), which builds a tree of the document first.
///
/// It answers only where its answer is certainly the slow path's: anything else
/// (nesting, a repeated key, `NaN`, a number converted by rules it does not implement,
/// a type read by rules of its own, any error, even one the type catches) returns
/// `nil`, and ``MessageCodec`` takes the slow path. Where it answers, the document is
/// strict JSON without a repeated key, on which the slow path gives Foundation's
/// `JSONDecoder`'s answer, so both are tested against Foundation too. A type's
/// `init(from:)` may therefore run twice; decoding has no side effects in any sane type.
enum FlatJSONDecoder {
    /// `type` read from `bytes`, or `nil` when the slow path must decide.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) -> T? {
        do throws(Declined) {
            return try decodeOrDecline(T.self, from: bytes)
        } catch {
            return nil
        }
    }

    /// The slow path must decide.
    struct Declined: Error {}

    /// ``decode(_:from:)`` without an optional: the channel's receive calls this one, in
    /// code not specialized for `T`, where making a `T?` costs a run-time lookup of its
    /// type (about 300 instructions each).
    static func decodeOrDecline<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(Declined) -> T {
        guard !isSpecialCased(T.self), let document = FlatJSONDocument(bytes) else { throw Declined() }
        let session = FlatDecodingSession(document)
        let value: T
        do {
            value = try T(from: FlatDecoder(session: session, scalar: document.root, key: nil))
        } catch {
            throw Declined()
        }
        guard !session.failed else { throw Declined() }
        return value
    }

    /// Types Foundation's `JSONDecoder` decodes by its own strategies rather than their
    /// `init(from:)`, and so does the slow path (`Date` through its `init(from:)` there,
    /// as Foundation's default does, but left to it all the same).
    static func isSpecialCased(_ type: Any.Type) -> Bool {
        type == Date.self || type == Data.self || type == URL.self || type == Decimal.self
    }
}

/// The document being decoded, and whether the fast path gave up anywhere: a type may
/// swallow the error (`try?`) and go on with a value the slow path would not produce.
private final class FlatDecodingSession {
    let document: FlatJSONDocument
    var failed = false
    /// Where the last key was found: the next one is usually the member after it.
    var hint = 0

    init(_ document: FlatJSONDocument) { self.document = document }

    /// Marks the decode as the slow path's to do and returns the error to throw.
    func giveUp() -> any Error {
        failed = true
        return FallBack()
    }

    struct FallBack: Error {}

    func read<Value>(_ scalar: FlatJSONDocument.Scalar, _ reader: (FlatJSONDocument.Scalar) -> Value?) throws -> Value {
        guard let value = reader(scalar) else { throw giveUp() }
        return value
    }

    func integer<Integer: FixedWidthInteger>(_ scalar: FlatJSONDocument.Scalar) throws -> Integer {
        try read(scalar) { $0.integer(in: document.bytes, as: Integer.self) }
    }

    /// `T` from one scalar, through its own `init(from:)`.
    func decode<T: Decodable>(_ type: T.Type, from scalar: FlatJSONDocument.Scalar, key: (any CodingKey)?) throws -> T {
        guard !FlatJSONDecoder.isSpecialCased(T.self) else { throw giveUp() }
        return try T(from: FlatDecoder(session: self, scalar: scalar, key: key))
    }
}

/// The decoder for the root (`scalar == nil`: the root object) or for one member's value.
private struct FlatDecoder: Decoder {
    let session: FlatDecodingSession
    let scalar: FlatJSONDocument.Scalar?
    let key: (any CodingKey)?

    var codingPath: [any CodingKey] { key.map { [$0] } ?? [] }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard scalar == nil, key == nil else { throw session.giveUp() }
        return KeyedDecodingContainer(FlatKeyedContainer<Key>(session: session))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        throw session.giveUp()
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        guard let scalar else { throw session.giveUp() }
        return FlatSingleValueContainer(session: session, scalar: scalar, codingPath: codingPath)
    }
}

private struct FlatKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let session: FlatDecodingSession

    var codingPath: [any CodingKey] { [] }

    var allKeys: [Key] {
        session.document.members.indices.compactMap { Key(stringValue: session.document.key(at: $0)) }
    }

    func contains(_ key: Key) -> Bool {
        session.document.member(named: key.stringValue, from: session.hint) != nil
    }

    /// The value of `key`; a missing key is the slow path's to report.
    private func value(_ key: Key) throws -> FlatJSONDocument.Scalar {
        guard let index = session.document.member(named: key.stringValue, from: session.hint) else { throw session.giveUp() }
        session.hint = index + 1
        return session.document.members[index].value
    }

    /// The value of `key`, or `nil` when it is missing or `null`.
    private func presentValue(_ key: Key) -> FlatJSONDocument.Scalar? {
        guard let index = session.document.member(named: key.stringValue, from: session.hint) else { return nil }
        session.hint = index + 1
        let scalar = session.document.members[index].value
        return scalar.kind == .null ? nil : scalar
    }

    func decodeNil(forKey key: Key) throws -> Bool { try value(key).kind == .null }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool { try session.read(value(key)) { $0.bool() } }
    func decode(_ type: String.Type, forKey key: Key) throws -> String { try session.read(value(key)) { $0.string(in: session.document.bytes) } }
    func decode(_ type: Double.Type, forKey key: Key) throws -> Double { try session.read(value(key)) { $0.double(in: session.document.bytes) } }
    func decode(_ type: Float.Type, forKey key: Key) throws -> Float { throw session.giveUp() }
    func decode(_ type: Int.Type, forKey key: Key) throws -> Int { try session.integer(value(key)) }
    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 { try session.integer(value(key)) }
    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 { try session.integer(value(key)) }
    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 { try session.integer(value(key)) }
    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 { try session.integer(value(key)) }
    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt { try session.integer(value(key)) }
    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 { try session.integer(value(key)) }
    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 { try session.integer(value(key)) }
    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 { try session.integer(value(key)) }
    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 { try session.integer(value(key)) }
    // The protocol's default for these throws an error a type may catch; the slow path reads them.
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 { throw session.giveUp() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 { throw session.giveUp() }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try session.decode(T.self, from: value(key), key: key)
    }

    // Optional fields: one lookup rather than the default's three.
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try presentValue(key).map { try session.read($0) { $0.string(in: session.document.bytes) } }
    }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try presentValue(key).map { try session.integer($0) }
    }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try presentValue(key).map { try session.integer($0) }
    }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try presentValue(key).map { try session.integer($0) }
    }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try presentValue(key).map { try session.read($0) { $0.double(in: session.document.bytes) } }
    }
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try presentValue(key).map { try session.read($0) { $0.bool() } }
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        throw session.giveUp()
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        throw session.giveUp()
    }

    func superDecoder() throws -> any Decoder { throw session.giveUp() }
    func superDecoder(forKey key: Key) throws -> any Decoder { throw session.giveUp() }
}

private struct FlatSingleValueContainer: SingleValueDecodingContainer {
    let session: FlatDecodingSession
    let scalar: FlatJSONDocument.Scalar
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { scalar.kind == .null }

    func decode(_ type: Bool.Type) throws -> Bool { try session.read(scalar) { $0.bool() } }
    func decode(_ type: String.Type) throws -> String { try session.read(scalar) { $0.string(in: session.document.bytes) } }
    func decode(_ type: Double.Type) throws -> Double { try session.read(scalar) { $0.double(in: session.document.bytes) } }
    func decode(_ type: Float.Type) throws -> Float { throw session.giveUp() }
    func decode(_ type: Int.Type) throws -> Int { try session.integer(scalar) }
    func decode(_ type: Int8.Type) throws -> Int8 { try session.integer(scalar) }
    func decode(_ type: Int16.Type) throws -> Int16 { try session.integer(scalar) }
    func decode(_ type: Int32.Type) throws -> Int32 { try session.integer(scalar) }
    func decode(_ type: Int64.Type) throws -> Int64 { try session.integer(scalar) }
    func decode(_ type: UInt.Type) throws -> UInt { try session.integer(scalar) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try session.integer(scalar) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try session.integer(scalar) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try session.integer(scalar) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try session.integer(scalar) }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 { throw session.giveUp() }
    @available(macOS 15.0, iOS 18.0, tvOS 18.0, watchOS 11.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 { throw session.giveUp() }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try session.decode(T.self, from: scalar, key: codingPath.last)
    }
}
