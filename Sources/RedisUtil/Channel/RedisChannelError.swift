/// Failures of ``RedisChannel`` itself; failures of Redis (connection, server errors)
/// are thrown as ``RedisError``.
public enum RedisChannelError: Error, Sendable, CustomStringConvertible {
    /// A message was taken from the channel but is not valid JSON or does not fit the
    /// requested type. The message is no longer in Redis: `raw` is the only copy, handed
    /// back so that nothing is lost silently (log it, re-queue it, or decode it as
    /// ``JSONValue`` to see what arrived).
    case undecodable(raw: [UInt8], type: String, underlying: any Error)
    /// A batch receive (``RedisChannel/recv(as:max:)``) popped `raw`, and the message at
    /// `index` does not decode. Every popped message is handed back, decoded or not,
    /// since none of them is in Redis any more.
    case undecodableBatch(raw: [[UInt8]], index: Int, type: String, underlying: any Error)
    /// A message could not be written as JSON (e.g. a `UInt64` beyond the signed 64-bit
    /// range); nothing was sent.
    case unencodable(type: String, underlying: any Error)
    /// A `listChannels` prefix was refused before anything was sent, as Python's
    /// `list_channel` refuses it: it must start with `/`, end with `/`, and not end with `*`.
    case invalidPrefix(String, reason: String)
    /// A timeout or a count that cannot be used (negative); nothing was sent.
    case invalidArgument(String)

    /// The raw bytes of the message that did not decode, or `nil` for the other cases.
    public var rawMessage: [UInt8]? {
        switch self {
        case .undecodable(let raw, _, _): raw
        case .undecodableBatch(let raw, let index, _, _): raw[index]
        default: nil
        }
    }

    public var description: String {
        switch self {
        case .undecodable(let raw, let type, let underlying):
            let preview = String(decoding: raw.prefix(200), as: UTF8.self)
            return "cannot decode a \(raw.count)-byte message as \(type): \(underlying); raw message: \(preview)\(raw.count > 200 ? "…" : "")"
        case .undecodableBatch(let raw, let index, let type, let underlying):
            return "cannot decode message \(index) of a batch of \(raw.count) as \(type): \(underlying); all \(raw.count) raw messages are in the error"
        case .unencodable(let type, let underlying):
            return "cannot encode \(type) as JSON: \(underlying); nothing was sent"
        case .invalidPrefix(let prefix, let reason):
            return "invalid channel prefix \(prefix.debugDescription): \(reason)"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        }
    }
}
