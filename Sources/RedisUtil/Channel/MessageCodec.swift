import RESP

/// How channel messages become bytes and back: UTF-8 JSON, written as Python's
/// `json.dumps(obj, ensure_ascii=False)` writes it (what `k3utfjson.dump` sends) and
/// read as `json.loads` reads it.
enum MessageCodec {
    /// The wire bytes of `message`.
    static func encode<T: Encodable>(_ message: T) throws(RedisChannelError) -> [UInt8] {
        var bytes: [UInt8] = []
        try encode(message, appendingTo: &bytes)
        return bytes
    }

    /// Appends the wire bytes of `message` to `bytes`.
    static func encode<T: Encodable>(_ message: T, appendingTo bytes: inout [UInt8]) throws(RedisChannelError) {
        do {
            try JSONValueEncoder.encodeJSON(message, appendingTo: &bytes)
        } catch {
            throw .unencodable(type: String(describing: T.self), underlying: error)
        }
    }

    /// `RPUSH key` in RESP, up to the message: ``pushCommand(head:message:)``'s `head`.
    static func pushHead(key: String) -> [UInt8] {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "RPUSH", key, "")
        // Without the empty last argument's `$0\r\n\r\n`.
        bytes.removeLast(6)
        return bytes
    }

    /// `RPUSH key <message>` in RESP, in one buffer: the message is written in place
    /// after `head` (``pushHead(key:)``), then its length header moved in before it (a
    /// shift of the message's bytes rather than a second buffer and a copy). The bytes
    /// are exactly what `RESPEncoder.encodeCommand("RPUSH", key, encode(message))` writes.
    static func pushCommand<T: Encodable>(head: [UInt8], message: T) throws(RedisChannelError) -> [UInt8] {
        var bytes = head
        bytes.reserveCapacity(head.count + 300)
        let start = bytes.count
        try encode(message, appendingTo: &bytes)
        // `$<length>\r\n` in front of the message: reserve its room, then fill it in.
        let length = bytes.count - start
        let digits = RESPDecimal.count(magnitude: UInt64(length))
        bytes.insert(contentsOf: repeatElement(UInt8(ascii: "$"), count: digits + 3), at: start)
        var value = length
        for index in stride(from: start + digits, to: start, by: -1) {
            bytes[index] = UInt8(ascii: "0") + UInt8(value % 10)
            value /= 10
        }
        bytes[start + digits + 1] = UInt8(ascii: "\r")
        bytes[start + digits + 2] = UInt8(ascii: "\n")
        bytes.append(contentsOf: "\r\n".utf8)
        return bytes
    }

    /// Decodes one message popped from `list`; on failure the error carries the raw
    /// bytes, which have already left Redis, and the list, so the caller can still log,
    /// re-queue or repair them.
    ///
    /// Every path gives the answer Python's `json.loads` gives: a repeated key keeps its
    /// last value, and a bare `NaN` or `Infinity` is a number (which only a floating-point
    /// field or a ``JSONValue`` takes), never a string.
    static func decode<T: Decodable>(_ type: T.Type, from raw: [UInt8], list: String) throws(RedisChannelError) -> T {
        do {
            // JSONValue is read by our own reader, which reads Python's NaN and Infinity
            // and never copies the bytes into Data.
            if T.self == JSONValue.self {
                return try JSONReader.read(raw) as! T
            }
            if T.self == Optional<JSONValue>.self {
                return Optional(try JSONReader.read(raw)) as! T
            }
            // The usual flat message straight from its bytes, at a fraction of the cost
            // of building a tree; it declines anything it is not sure of.
            if let message = FlatJSONDecoder.decode(T.self, from: raw) {
                return message
            }
            // Everything else, and every error: the message read once into a tree, by the
            // same grammar, then mapped onto `T`.
            return try JSONNodeDecoder.decode(T.self, from: JSONReader.read(raw, as: JSONNode.self))
        } catch {
            throw .undecodable(raw: raw, list: list, type: String(describing: T.self), underlying: error)
        }
    }
}
