import Foundation

/// A dead letter as stored: one JSON object per entry, readable with `redis-cli LRANGE`:
/// `{"message": "<the message text>", "reason": "…", "deliveries": 3, "failed_at_ms": …}`,
/// with `"message_base64"` in place of `"message"` when the bytes are not UTF-8.
enum DeadLetterEntry {
    static func encode(raw: [UInt8], reason: String, deliveries: Int) -> [UInt8] {
        // In the order the comment above shows them, the message first.
        var object = JSONObject()
        if let text = String(validating: raw, as: UTF8.self) {
            object["message"] = .string(text)
        } else {
            object["message_base64"] = .string(Data(raw).base64EncodedString())
        }
        object["reason"] = .string(reason)
        object["deliveries"] = .number(Double(deliveries))
        object["failed_at_ms"] = .number((Date().timeIntervalSince1970 * 1000).rounded())
        // Strings and whole numbers only: always encodable.
        return (try? MessageCodec.encode(JSONValue.object(object))) ?? Array(#"{"reason":"unencodable dead letter"}"#.utf8)
    }

    /// The stored entry read back; `nil` when it is not one of ours.
    static func decode(_ entry: [UInt8]) -> RedisChannelDeadLetter? {
        guard let value = try? MessageCodec.decode(JSONValue.self, from: entry, list: ""), let object = value.objectValue else { return nil }
        let raw: [UInt8]
        if let text = object["message"]?.stringValue {
            raw = Array(text.utf8)
        } else if let encoded = object["message_base64"]?.stringValue, let data = Data(base64Encoded: encoded) {
            raw = Array(data)
        } else {
            return nil
        }
        return RedisChannelDeadLetter(
            raw: raw, reason: object["reason"]?.stringValue ?? "", deliveries: object["deliveries"]?.intValue ?? 0,
            failedAtMilliseconds: object["failed_at_ms"]?.intValue ?? 0, entry: entry)
    }
}
