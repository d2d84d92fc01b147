import RESP
import Synchronization

/// How channel messages become bytes and back: UTF-8 JSON, written as Python's
/// `json.dumps(obj, ensure_ascii=False)` writes it (what `k3utfjson.dump` sends) and
/// read as `json.loads` reads it.
enum MessageCodec {
    /// The message type last found not to be ``JSONMemberEncodable``.
    private static let codableOnly = NonConformingType()
    /// The message type last found not to be ``JSONMemberDecodable``.
    private static let decodableOnly = NonConformingType()

    /// The message type last found to be ``JSONMemberEncodable``, with its conformance.
    private static let lastWriting = RememberedConformance<any JSONMemberEncodable.Type>()
    /// The message type last found to be ``JSONMemberDecodable``, with its conformance.
    private static let lastReading = RememberedConformance<any JSONMemberDecodable.Type>()

    /// The type last found not to conform to a protocol: finding whether a type conforms
    /// is a look-up in the runtime's conformance cache (about 250 instructions), which a
    /// plain `Codable` message then skips. A hint only (its metadata's address): any value
    /// is safe to read, as types never move or go.
    private struct NonConformingType: ~Copyable {
        private let last = Atomic<Int>(0)

        /// Whether `type` may conform: it is not the one last found not to.
        func mayConform(_ type: Any.Type) -> Bool {
            last.load(ordering: .relaxed) != Int(bitPattern: ObjectIdentifier(type))
        }

        /// Notes that `type` does not conform.
        func remember(_ type: Any.Type) {
            last.store(Int(bitPattern: ObjectIdentifier(type)), ordering: .relaxed)
        }
    }

    /// The wire bytes of `message`.
    static func encode<T: Encodable>(_ message: T) throws(RedisChannelError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(message, appendingTo: &bytes)
        return bytes
    }

    /// Appends the wire bytes of `message` to `bytes`.
    static func encode<T: Encodable>(_ message: T, appendingTo bytes: inout [UInt8]) throws(RedisChannelError) {
        // A type that writes its own members, unless its writer declines the message.
        if let writing = memberWriting(of: T.self), writing.writeMembers(of: message, appendingTo: &bytes) { return }
        try encodeByCodable(message, appendingTo: &bytes)
    }

    /// Appends the wire bytes of `message` to `bytes` by its `encode(to:)`.
    private static func encodeByCodable<T: Encodable>(_ message: T, appendingTo bytes: inout [UInt8]) throws(RedisChannelError) {
        do {
            try JSONValueEncoder.encodeJSON(message, appendingTo: &bytes)
        } catch {
            throw .unencodable(type: String(describing: T.self), underlying: error)
        }
    }

    /// `type`'s conformance to ``JSONMemberEncodable``, or `nil` (remembered either way).
    @inline(__always)
    private static func memberWriting(of type: Any.Type) -> (any JSONMemberEncodable.Type)? {
        guard codableOnly.mayConform(type) else { return nil }
        if let writing = lastWriting.conformance(of: type, lookUp: { $0 as? any JSONMemberEncodable.Type }) { return writing }
        codableOnly.remember(type)
        return nil
    }

    /// `RPUSH key` in RESP, up to the message: ``pushCommand(head:message:)``'s `head`.
    static func pushHead(key: String) -> [UInt8] {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "RPUSH", key, "")
        // Without the empty last argument's `$0\r\n\r\n`.
        bytes.removeLast(6)
        return bytes
    }

    /// `RPUSH key <message>` in RESP. A message that writes its own members is written on
    /// scratch memory and copied once into the command (``pushCommand(head:json:)``); any
    /// other is encoded in place: room for a three-digit length header left after `head`
    /// (``pushHead(key:)``), the message written after it, then the header filled in (the
    /// message's bytes moved only when its length has another number of digits). The
    /// bytes are exactly what `RESPEncoder.encodeCommand("RPUSH", key, encode(message))` writes.
    static func pushCommand<T: Encodable>(head: [UInt8], message: T) throws(RedisChannelError) -> [UInt8] {
        var bytes: [UInt8] = []
        try pushCommand(head: head, message: message, into: &bytes)
        return bytes
    }

    /// ``pushCommand(head:message:)`` written over what `bytes` holds (a reused buffer's,
    /// ``CommandScratch/withBuffer(_:)``): `bytes` ends up exactly the command. On a
    /// failure its contents are unspecified. `membersDeclined`: the caller has tried `T`'s
    /// member writer already (``MemberWrittenPush``) and it declined the message.
    static func pushCommand<T: Encodable>(head: [UInt8], message: T, into bytes: inout [UInt8], membersDeclined: Bool = false) throws(RedisChannelError) {
        if !membersDeclined, let writing = memberWriting(of: T.self), writing.pushCommand(head: head, of: message, into: &bytes) { return }
        if T.self == JSONValue.self {
            // Written on scratch memory and copied once, as a message that writes its own members.
            let value = castToOwnType(message, as: JSONValue.self)
            do throws(JSONWriter.TooDeep) {
                return try JSONWriter.withJSON(of: value) { pushCommand(head: head, json: $0, into: &bytes) }
            } catch {
                throw .unencodable(type: String(describing: T.self), underlying: JSONWriter.tooDeep(value, codingPath: []))
            }
        }
        if bytes.capacity == 0 {
            // A new buffer: `head`'s storage, copied once by the reservation.
            bytes = head
        } else {
            bytes.removeAll(keepingCapacity: true)
            bytes.append(contentsOf: head)
        }
        bytes.reserveCapacity(head.count + 300)
        let headerStart = bytes.count
        // `$` + three digits + CRLF, the usual message being 100 to 999 bytes.
        let reserved = 3
        bytes.append(contentsOf: repeatElement(UInt8(ascii: "$"), count: reserved + 3))
        let start = bytes.count
        try encodeByCodable(message, appendingTo: &bytes)
        let length = bytes.count - start
        let digits = RESPDecimal.count(magnitude: UInt64(length))
        if digits < reserved {
            bytes.removeSubrange(headerStart..<(headerStart + reserved - digits))
        } else if digits > reserved {
            bytes.insert(contentsOf: repeatElement(UInt8(ascii: "$"), count: digits - reserved), at: headerStart)
        }
        var value = length
        for index in stride(from: headerStart + digits, to: headerStart, by: -1) {
            bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
        bytes[headerStart + digits + 1] = UInt8(ascii: "\r")
        bytes[headerStart + digits + 2] = UInt8(ascii: "\n")
        bytes.append(UInt8(ascii: "\r"))
        bytes.append(UInt8(ascii: "\n"))
    }

    /// `head` (``pushHead(key:)``) followed by `json` as the command's last bulk string,
    /// written over what `bytes` holds, at its exact size: the buffer grows at most once,
    /// and not at all when it is reused from a message as long.
    static func pushCommand(head: [UInt8], json: UnsafeBufferPointer<UInt8>, into bytes: inout [UInt8]) {
        // `$`, the length's digits, CRLF, the message, CRLF.
        let size = head.count + 1 + RESPDecimal.count(magnitude: UInt64(json.count)) + 2 + json.count + 2
        RESPWriter.append(count: size, to: &bytes, placement: .overwriting) { writer in
            head.withUnsafeBytes { writer.write(bytes: $0) }
            writer.write(UInt8(ascii: "$"))
            writer.writeDecimal(magnitude: UInt64(json.count))
            writer.writeLineEnd()
            writer.write(bytes: UnsafeRawBufferPointer(json))
            writer.writeLineEnd()
        }
    }

    /// Decodes one message popped from `list`; on failure the error carries the raw
    /// bytes, which have already left Redis, and the list, so the caller can still log,
    /// re-queue or repair them (`list` is evaluated only then).
    ///
    /// Every path gives the answer Python's `json.loads` gives: a repeated key keeps its
    /// last value, and a bare `NaN` or `Infinity` is a number (which only a floating-point
    /// field or a ``JSONValue`` takes), never a string.
    ///
    /// `membersDeclined`: the caller has tried `T`'s member reader already
    /// (``MemberReadMessage``) and it declined the message.
    static func decode<T: Decodable>(_ type: T.Type, from raw: [UInt8], list: @autoclosure () -> String, membersDeclined: Bool = false) throws(RedisChannelError) -> T {
        do {
            // JSONValue is read by our own reader, which reads Python's NaN and Infinity
            // and never copies the bytes into Data.
            if T.self == JSONValue.self {
                return try JSONReader.read(raw) as! T
            }
            if T.self == Optional<JSONValue>.self {
                return Optional(try JSONReader.read(raw)) as! T
            }
            if T.self == JSONObject.self {
                guard case .object(let object) = try JSONReader.read(raw) else {
                    throw DecodingError.typeMismatch(JSONObject.self, .init(codingPath: [], debugDescription: "not a JSON object"))
                }
                return object as! T
            }
            // A type that reads its own members, unless its reader declines the message.
            if !membersDeclined, decodableOnly.mayConform(T.self) {
                if let reading = lastReading.conformance(of: T.self, lookUp: { $0 as? any JSONMemberDecodable.Type }) {
                    do throws(JSONMemberReader.Declined) {
                        return try reading.readMembers(from: raw, as: T.self)
                    } catch {}
                } else {
                    decodableOnly.remember(T.self)
                }
            }
            // The usual flat message straight from its bytes, at a fraction of the cost
            // of building a tree; it declines anything it is not sure of.
            do throws(FlatJSONDecoder.Declined) {
                return try FlatJSONDecoder.decodeOrDecline(T.self, from: raw)
            } catch {}
            // Everything else, and every error: the message read once into a tree, by the
            // same grammar, then mapped onto `T`.
            return try JSONNodeDecoder.decode(T.self, from: JSONReader.read(raw, as: JSONNode.self))
        } catch {
            throw .undecodable(raw: raw, list: list(), type: String(describing: T.self), underlying: error)
        }
    }
}
