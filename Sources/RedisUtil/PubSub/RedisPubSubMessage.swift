import RESP

/// One message received by a ``RedisSubscription``.
public struct RedisPubSubMessage: Sendable, Hashable {
    /// The channel it was published to.
    public let channel: String
    /// The pattern that matched the channel, for a pattern subscription; `nil` otherwise.
    public let pattern: String?
    /// What was published.
    public let payload: [UInt8]

    /// The payload as UTF-8 text, invalid sequences replaced by U+FFFD.
    public var string: String { String(decoding: payload, as: UTF8.self) }

    /// The message in a RESP3 push frame: `message`, `pmessage` or `smessage`; `nil`
    /// for the rest (subscription confirmations, client-tracking invalidations …).
    init?(push: RESPValue) {
        guard case .push(let parts) = push, let kind = parts.first?.bytes else { return nil }
        switch (String(decoding: kind, as: UTF8.self).lowercased(), parts.count) {
        case ("message", 3), ("smessage", 3):
            guard let channel = parts[1].string, let payload = parts[2].bytes else { return nil }
            self.init(channel: channel, pattern: nil, payload: payload)
        case ("pmessage", 4):
            guard let pattern = parts[1].string, let channel = parts[2].string, let payload = parts[3].bytes else { return nil }
            self.init(channel: channel, pattern: pattern, payload: payload)
        default:
            return nil
        }
    }

    /// A message, as published.
    public init(channel: String, pattern: String?, payload: [UInt8]) {
        self.channel = channel
        self.pattern = pattern
        self.payload = payload
    }
}
