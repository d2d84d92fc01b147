/// Failures of ``RedisChannel`` itself; failures of Redis (connection, server errors)
/// are thrown as ``RedisError``. The async API throws these; the completion-handler API
/// reports them as the ``RedisError`` given by ``redisError``.
public enum RedisChannelError: Error, Sendable, CustomStringConvertible {
    /// A message was taken from the list `list` but is not valid JSON or does not fit
    /// the requested type. The message is no longer in Redis: `raw` is the only copy,
    /// handed back so that nothing is lost silently (log it, re-queue it, or decode it
    /// as ``JSONValue`` to see what arrived).
    case undecodable(raw: [UInt8], list: String, type: String, underlying: any Error)
    /// A batch receive (``RedisChannel/recv(as:max:)``) popped `raw` from `list`, and the
    /// message at `index` does not decode. Every popped message is handed back, decoded
    /// or not, since none of them is in Redis any more.
    case undecodableBatch(raw: [[UInt8]], list: String, index: Int, type: String, underlying: any Error)
    /// A message could not be written as JSON (e.g. a `UInt64` beyond the signed 64-bit
    /// range); nothing was sent.
    case unencodable(type: String, underlying: any Error)
    /// A `listChannels` prefix was refused before anything was sent, as Python's
    /// `list_channel` refuses it: it must start with `/`, end with `/`, and not end with `*`.
    case invalidPrefix(String, reason: String)
    /// A channel name, timeout or count that cannot be used (empty name, a component
    /// containing `/`, a negative count); nothing was sent.
    case invalidArgument(String)
    /// A leased message's lease (``RedisChannelDelivery``) was no longer held when it was
    /// acked, released, extended or dead-lettered: it had expired and its message was
    /// handed back to `list`, to be delivered again (perhaps already was).
    case leaseLost(id: String, list: String)

    /// The raw bytes of the message that did not decode, or `nil` for the other cases.
    public var rawMessage: [UInt8]? {
        switch self {
        case .undecodable(let raw, _, _, _): raw
        case .undecodableBatch(let raw, _, let index, _, _): raw[index]
        default: nil
        }
    }

    /// The list (Redis key) the undecodable message was popped from, or `nil` for the other cases.
    public var list: String? {
        switch self {
        case .undecodable(_, let list, _, _), .undecodableBatch(_, let list, _, _, _): list
        default: nil
        }
    }

    /// What went wrong and with which channel or message, in one sentence.
    public var description: String {
        switch self {
        case .undecodable(let raw, let list, let type, let underlying):
            return "cannot decode a \(raw.count)-byte message from \(list) as \(type): \(underlying); raw message: \(Self.preview(raw))"
        case .undecodableBatch(let raw, let list, let index, let type, let underlying):
            return "cannot decode message \(index) of a batch of \(raw.count) from \(list) as \(type): \(underlying); all \(raw.count) raw messages are in the error"
        case .unencodable(let type, let underlying):
            return "cannot encode \(type) as JSON: \(underlying); nothing was sent"
        case .invalidPrefix(let prefix, let reason):
            return "invalid channel prefix \(prefix.debugDescription): \(reason)"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        case .leaseLost(let id, let list):
            return "the lease \(id) on a message of \(list) had expired: the message was handed back to the list and will be delivered again"
        }
    }

    fileprivate static func preview(_ raw: [UInt8]) -> String {
        String(decoding: raw.prefix(200), as: UTF8.self) + (raw.count > 200 ? "…" : "")
    }
}

extension RedisChannelError {
    /// This failure as the completion-handler API reports it: a decode failure becomes
    /// ``RedisError/undecodable(raw:list:reason:)`` (or, for a batch,
    /// ``RedisError/undecodableBatch(raw:list:index:reason:)`` with every popped message)
    /// with the raw bytes and the list, every other case
    /// ``RedisError/invalidArgument(_:)`` (nothing was sent for those).
    public var redisError: RedisError {
        switch self {
        case .undecodable(let raw, let list, let type, let underlying):
            return .undecodable(raw: raw, list: list, reason: "cannot decode as \(type): \(underlying)")
        case .undecodableBatch(let raw, let list, let index, let type, let underlying):
            return .undecodableBatch(raw: raw, list: list, index: index, reason: "cannot decode as \(type): \(underlying)")
        case .invalidArgument(let message):
            return .invalidArgument(message)
        case .unencodable, .invalidPrefix:
            return .invalidArgument(description)
        case .leaseLost:
            return .server(message: description)
        }
    }
}
