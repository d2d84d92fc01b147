import RESP

/// A channel message that writes its own JSON members, skipping `Codable`'s encoder:
/// about a third of the client's instructions for a small message's send.
///
/// The type stays `Encodable` and its `encode(to:)` stays the reference: a message's
/// bytes are what that writes, its members in the order it writes them (for synthesized
/// `Codable`, the properties' declaration order, as Python writes a `dict` in insertion
/// order). Write every member `encode(to:)` writes, under the same key, in that order:
///
/// ```swift
/// struct Job: Codable, JSONMemberEncodable {
///     var id: Int
///     var payload: String
///     var deadline: Double?
///
///     func writeMembers(to members: inout JSONMemberWriter) {
///         members.write("id", id)                        // as declared
///         members.write("payload", payload)
///         members.writeIfPresent("deadline", deadline)
///     }
/// }
/// ```
///
/// `write` is `encode(_:forKey:)`, `writeIfPresent` is `encodeIfPresent(_:forKey:)` (what
/// synthesized `Codable` uses for an optional property: a `nil` leaves the key out).
/// Whatever the writer cannot write exactly as `encode(to:)` would (a key that needs
/// escaping, an integer beyond JSON's signed 64 bits, a nested value only the general
/// encoder writes), it hands the whole message back to `encode(to:)`: the bytes are the
/// same either way, only slower, and errors are the general encoder's. What it cannot
/// see is whether the members come in `encode(to:)`'s order (or a key twice): tests
/// should compare both for their types (``JSONMemberWriter/bytes(of:)`` and
/// ``JSONMemberWriter/codableBytes(of:)``); a Python peer reads either the same.
/// (`SendableMetatype`: the channel remembers the last conforming type, with its
/// conformance, for every thread that sends.)
public protocol JSONMemberEncodable: Encodable, SendableMetatype {
    /// Writes the message's members, in the order its `encode(to:)` writes them.
    func writeMembers(to members: inout JSONMemberWriter)
}

/// Writes the members of a ``JSONMemberEncodable`` message as the channel's JSON object:
/// Python's `json.dumps(obj, ensure_ascii=False)` spelling, as every channel message.
public struct JSONMemberWriter: ~Copyable {
    /// The message so far, from `{`.
    fileprivate var sink: JSONByteSink
    /// Whether a member has been written, which the next follows after a comma.
    private var hasMembers = false
    /// Set at the first member the writer cannot write as `encode(to:)` would: the
    /// message then goes through `encode(to:)`.
    fileprivate private(set) var declined = false

    fileprivate init(sink: consuming JSONByteSink) {
        self.sink = sink
    }

    /// Writes `key` and its separators (`, "key": `) with one reservation; false (and
    /// declined) when the key needs escaping.
    private mutating func member(_ key: StaticString) -> Bool {
        guard !declined else { return false }
        let separated = hasMembers
        let fits = key.withUTF8Buffer { bytes in
            let count = bytes.count
            // The usual key, eight bytes or fewer, as one word: checked for escapes by the
            // word test and stored at once (a byte loop and a `memcpy` call cost about 60
            // instructions a key). Room for the whole word is reserved.
            var word: UInt64 = 0
            if count <= 8 {
                guard let plain = JSONEscapeScan.shortPlainWord(bytes) else { return false }
                word = plain.word
            } else {
                for byte in bytes where JSONEscapeScan.needsEscape(byte) { return false }
            }
            sink.write(upTo: max(count, 8) &+ 6) { out in
                var index = 0
                if separated {
                    out[0] = UInt8(ascii: ",")
                    out[1] = UInt8(ascii: " ")
                    index = 2
                }
                out[index] = UInt8(ascii: "\"")
                if count <= 8 {
                    UnsafeMutableRawPointer(out + (index &+ 1)).storeBytes(of: word.littleEndian, as: UInt64.self)
                } else if let start = bytes.baseAddress {
                    (out + (index &+ 1)).initialize(from: start, count: count)
                }
                index &+= count &+ 1
                out[index] = UInt8(ascii: "\"")
                out[index &+ 1] = UInt8(ascii: ":")
                out[index &+ 2] = UInt8(ascii: " ")
                return index &+ 3
            }
            return true
        }
        guard fits else {
            declined = true
            return false
        }
        hasMembers = true
        return true
    }

    /// Writes a string member.
    public mutating func write(_ key: StaticString, _ value: String) {
        guard member(key) else { return }
        JSONWriter.writeString(value, into: &sink)
    }

    /// Writes an integer member.
    public mutating func write(_ key: StaticString, _ value: Int) {
        guard member(key) else { return }
        sink.appendDecimal(Int64(value))
    }

    /// Writes an integer member.
    public mutating func write(_ key: StaticString, _ value: Int64) {
        guard member(key) else { return }
        sink.appendDecimal(value)
    }

    /// Writes an integer member; one beyond `Int64.max` hands the message to `encode(to:)`,
    /// which reports it.
    public mutating func write(_ key: StaticString, _ value: UInt64) {
        guard let exact = Int64(exactly: value) else {
            declined = true
            return
        }
        write(key, exact)
    }

    /// Writes a number member (Python's `repr` of a float; `NaN` and `Infinity` as Python writes them).
    public mutating func write(_ key: StaticString, _ value: Double) {
        guard member(key) else { return }
        var text: [UInt8] = []
        JSONWriter.writeDouble(value, into: &text)
        sink.append(text)
    }

    /// Writes a boolean member.
    public mutating func write(_ key: StaticString, _ value: Bool) {
        guard member(key) else { return }
        let literal: StaticString = value ? "true" : "false"
        literal.withUTF8Buffer { sink.append($0) }
    }

    /// Writes a member of any other `Encodable` type (an optional as `null` when `nil`,
    /// as `encode(_:forKey:)` does), through the general encoder for that value.
    public mutating func write<Value: Encodable>(_ key: StaticString, _ value: Value) {
        guard member(key) else { return }
        do {
            // Streams what a struct, array, dictionary or scalar writes; declines the rest.
            var nested: [UInt8] = []
            if try JSONStreamEncoder.encode(value, appendingTo: &nested, depth: 1) {
                sink.append(nested)
                return
            }
        } catch {}
        declined = true
    }

    /// Writes `value` under `key` when it is not `nil`, and nothing when it is: synthesized
    /// `Codable`'s way with an optional property (`encodeIfPresent(_:forKey:)`).
    public mutating func writeIfPresent<Value: Encodable>(_ key: StaticString, _ value: Value?) {
        guard let value else { return }
        write(key, value)
    }

    /// Writes a `String?` member when present (the common optional, without the general encoder).
    public mutating func writeIfPresent(_ key: StaticString, _ value: String?) {
        guard let value else { return }
        write(key, value)
    }

    /// Writes an `Int?` member when present.
    public mutating func writeIfPresent(_ key: StaticString, _ value: Int?) {
        guard let value else { return }
        write(key, value)
    }

    /// Writes a `Double?` member when present.
    public mutating func writeIfPresent(_ key: StaticString, _ value: Double?) {
        guard let value else { return }
        write(key, value)
    }

    /// Writes a `Bool?` member when present.
    public mutating func writeIfPresent(_ key: StaticString, _ value: Bool?) {
        guard let value else { return }
        write(key, value)
    }
}

extension JSONMemberWriter {
    /// What the JSON of a message is written on before it is copied into its command:
    /// the common message's fits, so it takes no allocation of its own.
    private static let scratchBytes = 1024

    /// Lends the JSON of `message`, written by its ``JSONMemberEncodable/writeMembers(to:)``,
    /// to `body`; `false`, with `body` not called, when the writer declined (see the
    /// protocol). Nothing here is generic but the message: the existential call that
    /// reaches it leaves it unspecialised, where an `Optional` of a generic result had
    /// its metadata looked up on every message.
    static func withJSON<Message: JSONMemberEncodable>(of message: Message, _ body: (UnsafeBufferPointer<UInt8>) -> Void) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratchBytes) { scratch in
            var writer = JSONMemberWriter(sink: JSONByteSink(scratch: scratch))
            writer.sink.append(UInt8(ascii: "{"))
            message.writeMembers(to: &writer)
            writer.sink.append(UInt8(ascii: "}"))
            guard !writer.declined else { return false }
            writer.sink.withBytes(body)
            return true
        }
    }

    /// Appends the JSON of `message` to `bytes` through its ``JSONMemberEncodable/writeMembers(to:)``;
    /// `false`, with `bytes` as it was, when the writer declined (see the protocol).
    static func write<Message: JSONMemberEncodable>(_ message: Message, appendingTo bytes: inout [UInt8]) -> Bool {
        withJSON(of: message) { bytes.append(contentsOf: $0) }
    }

    /// The bytes the channel sends for `message` by its ``JSONMemberEncodable/writeMembers(to:)``,
    /// or `nil` when the writer declines it (the channel then sends ``codableBytes(of:)``).
    /// For tests of a conformance: both must be equal.
    public static func bytes<Message: JSONMemberEncodable>(of message: Message) -> [UInt8]? {
        var bytes: [UInt8] = []
        return write(message, appendingTo: &bytes) ? bytes : nil
    }

    /// The bytes the channel would send for `message` by its `encode(to:)`.
    public static func codableBytes<Message: Encodable>(of message: Message) throws -> [UInt8] {
        var bytes: [UInt8] = []
        try JSONValueEncoder.encodeJSON(message, appendingTo: &bytes)
        return bytes
    }
}

extension JSONMemberEncodable {
    /// ``JSONMemberWriter/write(_:appendingTo:)`` for a value the caller knows only as
    /// `some Encodable` but whose type conforms (found by a cast of its type): the value
    /// is taken as its own type once the types are found equal (``castToOwnType(_:as:)``;
    /// a conditional cast made an `Optional` of `Self`, whose metadata the runtime looked
    /// up on every message).
    static func writeMembers<Value: Encodable>(of value: Value, appendingTo bytes: inout [UInt8]) -> Bool {
        guard Value.self == Self.self else { return false }
        return JSONMemberWriter.write(castToOwnType(value, as: Self.self), appendingTo: &bytes)
    }

    /// `RPUSH` of `value` after `head` (``MessageCodec/pushCommand(head:message:into:)``),
    /// its JSON written by the members and copied once into `command`, over what it held;
    /// `false`, `command` untouched, when `value` is not of this type or the writer
    /// declined it.
    static func pushCommand<Value: Encodable>(head: [UInt8], of value: Value, into command: inout [UInt8]) -> Bool {
        guard Value.self == Self.self else { return false }
        return JSONMemberWriter.pushCommand(head: head, of: castToOwnType(value, as: Self.self), into: &command)
    }
}

extension JSONMemberWriter {
    /// `RPUSH` of `message` after `head` (``MessageCodec/pushCommand(head:message:into:membersDeclined:)``),
    /// its JSON written by its members on scratch memory and copied once into `command`,
    /// over what it held; `false`, `command` untouched, when the writer declined it. For
    /// both the run-time path (``JSONMemberEncodable/pushCommand(head:of:into:)``) and the
    /// overload's (``MemberWrittenPush``).
    @inline(__always)
    static func pushCommand<Message: JSONMemberEncodable>(head: [UInt8], of message: Message, into command: inout [UInt8]) -> Bool {
        withJSON(of: message) { MessageCodec.pushCommand(head: head, json: $0, into: &command) }
    }
}
