/// A channel message that reads its own JSON members, skipping `Codable`'s decoder.
///
/// The type stays `Decodable` and its `init(from:)` stays the reference: what this reads
/// must be what that would decode. Read each member `init(from:)` reads, under the same
/// key and type. Members may come in any order (Python sends a dictionary's insertion
/// order), but reads in the order the sender writes them (declaration order, as
/// ``JSONMemberEncodable`` and a synthesised `encode(to:)` write) are answered as the
/// bytes come, with no look-up; a message in another order is read again by key.
/// `init(members:)` may therefore run twice for one message, and once more as
/// `init(from:)` where the reader declines: keep it free of side effects.
///
/// ```swift
/// struct Job: Codable, JSONMemberDecodable {
///     var id: Int
///     var payload: String
///     var deadline: Double?
///
///     init(members: inout JSONMemberReader) throws {
///         id = try members.read("id")
///         payload = try members.read("payload")
///         deadline = try members.readIfPresent("deadline")   // decodeIfPresent
///     }
/// }
/// ```
///
/// `read` is `decode(_:forKey:)`, `readIfPresent` is `decodeIfPresent(_:forKey:)`. The
/// reader answers only where `init(from:)` would certainly give the same value: a message
/// that is one flat object of strict JSON (no nesting, no repeated key, no `NaN`), read
/// as strings, integers of any width, `Double`s and `Bool`s (for another type, decode the
/// message through `Codable`: a conversion of your own might trap or round where
/// `init(from:)` throws). Anything else (a missing key, a value of
/// another type, a number a field's type reads by other rules, an error the initializer
/// throws) hands the message to `init(from:)`, which decodes it or reports the error:
/// the result is the same either way, only slower. (`SendableMetatype`: the channel
/// remembers the last conforming type, with its conformance, for every thread that reads.)
public protocol JSONMemberDecodable: Decodable, SendableMetatype {
    /// Reads the message's members.
    init(members: inout JSONMemberReader) throws
}

/// Reads the members of a flat JSON object for a ``JSONMemberDecodable`` message.
public struct JSONMemberReader: ~Copyable {
    /// What a reader's method throws where it cannot answer as `init(from:)` would; the
    /// message is then decoded by `init(from:)`.
    public struct Declined: Error {}

    private let bytes: [UInt8]
    /// Members read in the order they come (first), or `nil` once reading by look-up.
    private var stream: JSONMemberStream?
    /// Members looked up by key, when the stream has left (see ``JSONMemberStream``).
    private let document: FlatJSONDocument?
    /// Where the last key was found: the next one is usually the member after it.
    private var hint = 0

    /// A reader of the members in the order they come.
    fileprivate init(streaming bytes: [UInt8]) {
        self.bytes = bytes
        stream = JSONMemberStream(bytes)
        document = nil
    }

    /// A reader that looks each member up in `document`.
    fileprivate init(_ document: FlatJSONDocument) {
        bytes = document.bytes
        stream = nil
        self.document = document
    }

    /// Whether a streaming reader read the whole message (see ``JSONMemberStream``).
    fileprivate mutating func streamFinished() -> Bool {
        stream?.finished() ?? false
    }

    /// The value of `key`; `nil` when missing. A streaming reader whose stream leaves
    /// declines: missing or not, the message is read again by look-up.
    private mutating func scalar(_ key: StaticString) throws(Declined) -> FlatJSONDocument.Scalar? {
        if stream != nil {
            guard let value = stream!.next(key) else { throw Declined() }
            return value
        }
        guard let document, let index = document.member(named: key, from: hint) else { return nil }
        hint = index + 1
        return document.members[index].value
    }

    /// The value of `key`, present and not `null`, or `nil`.
    private mutating func present(_ key: StaticString) throws(Declined) -> FlatJSONDocument.Scalar? {
        guard let scalar = try scalar(key), scalar.kind != .null else { return nil }
        return scalar
    }

    private mutating func required(_ key: StaticString) throws(Declined) -> FlatJSONDocument.Scalar {
        guard let scalar = try scalar(key) else { throw Declined() }
        return scalar
    }

    private func answer<Value>(_ value: Value?) throws(Declined) -> Value {
        guard let value else { throw Declined() }
        return value
    }

    /// A string member.
    public mutating func read(_ key: StaticString) throws(Declined) -> String {
        if stream != nil { return try answer(stream!.nextString(key)) }
        return try answer(required(key).string(in: bytes))
    }

    /// An integer member.
    public mutating func read(_ key: StaticString) throws(Declined) -> Int {
        try readInteger(key, as: Int.self)
    }

    /// An integer member.
    public mutating func read(_ key: StaticString) throws(Declined) -> Int64 {
        try readInteger(key, as: Int64.self)
    }

    /// An integer member.
    public mutating func read(_ key: StaticString) throws(Declined) -> UInt64 {
        try readInteger(key, as: UInt64.self)
    }

    /// An integer member of any other width (`Int32`, `UInt8`, …): one that does not fit
    /// is `init(from:)`'s to report, never a trap.
    public mutating func read<Integer: FixedWidthInteger>(_ key: StaticString) throws(Declined) -> Integer {
        try readInteger(key, as: Integer.self)
    }

    /// An integer member as `Integer`: read where it lies while streaming
    /// (``JSONMemberStream/nextInteger(_:as:)``), else looked up.
    @inline(__always)
    private mutating func readInteger<Integer: FixedWidthInteger>(_ key: StaticString, as type: Integer.Type) throws(Declined) -> Integer {
        if stream != nil { return try answer(stream!.nextInteger(key, as: Integer.self)) }
        return try answer(required(key).integer(in: bytes, as: Integer.self))
    }

    /// A number member.
    public mutating func read(_ key: StaticString) throws(Declined) -> Double {
        try answer(required(key).double(in: bytes))
    }

    /// A boolean member.
    public mutating func read(_ key: StaticString) throws(Declined) -> Bool {
        try answer(required(key).bool())
    }

    /// A string member, or `nil` when missing or `null`.
    public mutating func readIfPresent(_ key: StaticString) throws(Declined) -> String? {
        guard let scalar = try present(key) else { return nil }
        return try answer(scalar.string(in: bytes))
    }

    /// An integer member, or `nil` when missing or `null`.
    public mutating func readIfPresent(_ key: StaticString) throws(Declined) -> Int? {
        guard let scalar = try present(key) else { return nil }
        return try answer(scalar.integer(in: bytes, as: Int.self))
    }

    /// An integer member, or `nil` when missing or `null`.
    public mutating func readIfPresent(_ key: StaticString) throws(Declined) -> Int64? {
        guard let scalar = try present(key) else { return nil }
        return try answer(scalar.integer(in: bytes, as: Int64.self))
    }

    /// An integer member of any other width, or `nil` when missing or `null`.
    public mutating func readIfPresent<Integer: FixedWidthInteger>(_ key: StaticString) throws(Declined) -> Integer? {
        guard let scalar = try present(key) else { return nil }
        return try answer(scalar.integer(in: bytes, as: Integer.self))
    }

    /// A number member, or `nil` when missing or `null`.
    public mutating func readIfPresent(_ key: StaticString) throws(Declined) -> Double? {
        guard let scalar = try present(key) else { return nil }
        return try answer(scalar.double(in: bytes))
    }

    /// A boolean member, or `nil` when missing or `null`.
    public mutating func readIfPresent(_ key: StaticString) throws(Declined) -> Bool? {
        guard let scalar = try present(key) else { return nil }
        return try answer(scalar.bool())
    }
}

extension JSONMemberReader {
    /// `T` (the conforming type) read from `bytes` by its ``JSONMemberDecodable/init(members:)``,
    /// or declined: the bytes are not one flat object, or the type's reads did not answer.
    static func read<Message: JSONMemberDecodable>(_ type: Message.Type, from bytes: [UInt8]) throws(Declined) -> Message {
        // No `Optional<Message>` on this path: the type is known only at run time here,
        // and the runtime looks an optional's metadata up (about 320 instructions).
        do throws(Declined) {
            return try streamed(Message.self, from: bytes)
        } catch {}
        guard let document = FlatJSONDocument(bytes), document.isObject else { throw Declined() }
        var reader = JSONMemberReader(document)
        do {
            return try Message(members: &reader)
        } catch {
            throw Declined()
        }
    }

    /// `Message` read from `bytes` with its members in the order they come, or declined
    /// where the stream left (see ``JSONMemberStream``) or the type's reads threw.
    static func streamed<Message: JSONMemberDecodable>(_ type: Message.Type, from bytes: [UInt8]) throws(Declined) -> Message {
        var reader = JSONMemberReader(streaming: bytes)
        do {
            let message = try Message(members: &reader)
            if reader.streamFinished() { return message }
        } catch {}
        throw Declined()
    }

    /// The message `bytes` hold, read by `Message`'s ``JSONMemberDecodable/init(members:)``,
    /// or `nil` when the reader declines (the channel then decodes with `init(from:)`).
    /// For tests of a conformance: where this answers, it must equal `init(from:)`'s answer.
    public static func message<Message: JSONMemberDecodable>(_ type: Message.Type, from bytes: [UInt8]) -> Message? {
        do throws(Declined) {
            return try read(Message.self, from: bytes)
        } catch {
            return nil
        }
    }
}

extension JSONMemberDecodable {
    /// ``JSONMemberReader/read(_:from:)`` for a caller that knows the type only as a
    /// generic `T` that conforms (found by a cast of its type): returns the message as `T`,
    /// a cast of a value to its own type, without boxing it in an existential. (Checked
    /// by type identity, then cast unconditionally: a conditional cast made an `Optional`
    /// of `T`, whose metadata the runtime looked up on every message.)
    static func readMembers<T>(from bytes: [UInt8], as type: T.Type) throws(JSONMemberReader.Declined) -> T {
        guard Self.self == T.self else { throw JSONMemberReader.Declined() }
        return try JSONMemberReader.read(Self.self, from: bytes) as! T
    }
}
