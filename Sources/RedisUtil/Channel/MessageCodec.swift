import Foundation
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
            // The usual flat message without Foundation's decoder, which costs about ten
            // times as much; everything else, and every error, is Foundation's.
            if let message = FlatJSONDecoder.decode(T.self, from: raw) {
                return message
            }
            // What is JSON is decided as Python's json.loads decides it, by our reader;
            // Foundation then maps the document onto `T`, in strict mode. Not in JSON5
            // mode, which reads NaN and Infinity but traps on some numbers (`1e+`, and
            // valid ones it converts to integers), refuses `\u0000`, and would let one
            // message kill a consumer.
            _ = try JSONReader.read(raw)
            if let quoted = quotingNonFiniteLiterals(raw) {
                return try nonFiniteDecoder.decode(T.self, from: Data(quoted))
            }
            return try strictDecoder.decode(T.self, from: Data(raw))
        } catch {
            throw .undecodable(raw: raw, list: list, type: String(describing: T.self), underlying: error)
        }
    }

    private static let strictDecoder = JSONDecoder()

    /// Reads the strings ``quotingNonFiniteLiterals(_:)`` makes of Python's bare
    /// non-finite floats back as floats. (A `String` field would also take them as
    /// text: a peer sending `NaN` where text belongs gets `"NaN"`, not an error.)
    private static let nonFiniteDecoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }()

    /// `document` (valid for ``JSONReader``) with each bare `NaN`, `Infinity` and
    /// `-Infinity` in quotes, so that strict JSON can carry them; `nil` when it has none.
    /// Outside strings, a valid document has no other capital `N` or `I`, and a `-`
    /// before an `I` belongs to `-Infinity`.
    static func quotingNonFiniteLiterals(_ document: [UInt8]) -> [UInt8]? {
        var quoted: [UInt8] = []
        var copied = 0
        var inString = false
        var index = 0
        while index < document.count {
            let byte = document[index]
            if inString {
                if byte == UInt8(ascii: "\\") {
                    index += 2
                    continue
                }
                if byte == UInt8(ascii: "\"") { inString = false }
                index += 1
                continue
            }
            switch byte {
            case UInt8(ascii: "\""):
                inString = true
                index += 1
            case UInt8(ascii: "N"), UInt8(ascii: "I"):
                let start = byte == UInt8(ascii: "I") && index > 0 && document[index - 1] == UInt8(ascii: "-") ? index - 1 : index
                let end = index + (byte == UInt8(ascii: "N") ? 3 : 8)
                if quoted.isEmpty { quoted.reserveCapacity(document.count + 16) }
                quoted.append(contentsOf: document[copied..<start])
                quoted.append(UInt8(ascii: "\""))
                quoted.append(contentsOf: document[start..<end])
                quoted.append(UInt8(ascii: "\""))
                copied = end
                index = end
            default:
                index += 1
            }
        }
        guard copied > 0 else { return nil }
        quoted.append(contentsOf: document[copied...])
        return quoted
    }
}
