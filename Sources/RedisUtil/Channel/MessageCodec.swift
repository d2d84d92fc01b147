import Foundation

/// How channel messages become bytes and back: UTF-8 JSON, written as Python's
/// `json.dumps(obj, ensure_ascii=False)` writes it (what `k3utfjson.dump` sends) and
/// read as `json.loads` reads it.
enum MessageCodec {
    /// The wire bytes of `message`.
    static func encode<T: Encodable>(_ message: T) throws(RedisChannelError) -> [UInt8] {
        do {
            return try JSONValueEncoder.encodeJSON(message)
        } catch {
            throw .unencodable(type: String(describing: T.self), underlying: error)
        }
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
            return try decoder.decode(T.self, from: Data(raw))
        } catch {
            throw .undecodable(raw: raw, list: list, type: String(describing: T.self), underlying: error)
        }
    }

    /// JSON5 mode accepts the `NaN` and `Infinity` a Python peer writes for
    /// non-finite floats, which strict JSON (and so strict `JSONDecoder`) rejects.
    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.allowsJSON5 = true
        return decoder
    }
}
