import RESP

/// What a subscription listens to, and the request that subscribes a connection to all
/// of it: the same bytes the first time and after every reconnect.
struct SubscriptionTargets: Sendable {
    /// `SUBSCRIBE …`, `PSUBSCRIBE …`, `SSUBSCRIBE …` (those with targets), then `PING`.
    ///
    /// In RESP3 the subscribe commands have no reply (their confirmations are pushes),
    /// but the `PING` after them has one, which comes after them: so its reply means the
    /// subscription is in place. A refusal is a subscribe command's error reply, which
    /// arrives in the `PING`'s place.
    let request: [UInt8]

    /// Neither channel nor pattern: nothing to subscribe to.
    let isEmpty: Bool

    init(channels: [String], patterns: [String], shardChannels: [String]) {
        isEmpty = channels.isEmpty && patterns.isEmpty && shardChannels.isEmpty
        var bytes: [UInt8] = []
        if !channels.isEmpty { RESPEncoder.encodeCommand(into: &bytes, arguments: ["SUBSCRIBE"] + channels) }
        if !patterns.isEmpty { RESPEncoder.encodeCommand(into: &bytes, arguments: ["PSUBSCRIBE"] + patterns) }
        if !shardChannels.isEmpty { RESPEncoder.encodeCommand(into: &bytes, arguments: ["SSUBSCRIBE"] + shardChannels) }
        RESPEncoder.encodeCommand(into: &bytes, "PING")
        request = bytes
    }

    /// The outcome of ``request`` from its reply: only RESP3 answers a subscribed
    /// connection's `PING` with `PONG`; in RESP2 it is `["pong", ""]`.
    static func confirmation(_ reply: RESPValue) -> Result<Void, RedisError> {
        guard reply.string == "PONG" else {
            return .failure(.unsupportedCommand(command: "SUBSCRIBE", reason: "the server answered in RESP2 (\(reply)); subscriptions need RESP3 (Redis 6 or later)"))
        }
        return .success(())
    }
}
