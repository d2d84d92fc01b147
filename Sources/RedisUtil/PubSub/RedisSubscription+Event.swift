extension RedisSubscription {
    /// What a subscription yields: a message, or word that messages may have been
    /// missed. Publish/subscribe delivers at most once, so a subscription that lost its
    /// connection and resubscribed cannot know what was published meanwhile; the gap
    /// is an element of the sequence, in its place, so that no reader skips it unawares.
    ///
    /// ```swift
    /// for try await event in try await client.subscribe(channels: ["prices"]) {
    ///     switch event {
    ///     case .message(let message): prices.apply(message.payload)
    ///     case .gap(let gap):                 // resubscribed: reload what the messages maintain
    ///         log.warning("\(gap)")
    ///         prices = try await loadPrices()
    ///     }
    /// }
    /// ```
    public enum Event: Sendable, Hashable {
        /// A message published to one of the subscription's channels or patterns.
        case message(RedisPubSubMessage)
        /// The connection was lost (or stopped answering) and the subscription is in
        /// place again on a new one: messages published in between may be missing. It
        /// comes once every channel, pattern and shard channel is subscribed again, so
        /// state reloaded on seeing it misses nothing: whatever is published from then
        /// on follows it as messages.
        case gap(Gap)

        /// The message, or `nil` for a gap.
        public var message: RedisPubSubMessage? {
            if case .message(let message) = self { return message }
            return nil
        }

        // Until subscriptions resubscribed, they yielded messages: these keep code
        // written for that compiling, and its warning points at the gap it ignores.

        /// The message's channel; `nil` for a gap.
        @available(*, deprecated, message: "a subscription yields events: match .message(let message) and handle .gap, or read subscription.messages")
        public var channel: String? { message?.channel }
        /// The message's pattern; `nil` for a gap or a message not matched by a pattern.
        @available(*, deprecated, message: "a subscription yields events: match .message(let message) and handle .gap, or read subscription.messages")
        public var pattern: String? { message?.pattern }
        /// The message's payload; `nil` for a gap.
        @available(*, deprecated, message: "a subscription yields events: match .message(let message) and handle .gap, or read subscription.messages")
        public var payload: [UInt8]? { message?.payload }
        /// The message's payload as UTF-8 text; `nil` for a gap.
        @available(*, deprecated, message: "a subscription yields events: match .message(let message) and handle .gap, or read subscription.messages")
        public var string: String? { message?.string }
    }

    /// A stretch in which messages may have been missed, from a loss of the connection
    /// to the resubscription.
    public struct Gap: Sendable, Hashable, CustomStringConvertible {
        /// Why the subscription lost its connection: the loss, or the unanswered liveness `PING`.
        public let reason: String
        /// Connections opened until one resubscribed (1 when the first did).
        public let attempts: Int
        /// From when the loss was noticed to the resubscription. Messages may have been
        /// missed for longer: a connection that stopped answering is noticed by the
        /// liveness `PING`, up to two ``RedisConfiguration/livenessTimeout``s later.
        public let duration: Duration

        /// A gap; the client makes them, tests compare with them.
        public init(reason: String, attempts: Int, duration: Duration) {
            self.reason = reason
            self.attempts = attempts
            self.duration = duration
        }

        /// What was lost, why, and how long it took to resubscribe.
        public var description: String {
            "messages may have been missed: \(reason); resubscribed after \(duration) (\(attempts) attempt\(attempts == 1 ? "" : "s"))"
        }
    }

    /// What a subscription does when its connection is lost or stops answering the
    /// liveness `PING` (a reader that falls behind ends it whatever the policy).
    public enum ConnectionLossPolicy: Sendable, Hashable {
        /// Reconnect with the client's ``RedisConfiguration/backoff``, subscribe again to
        /// every channel, pattern and shard channel, then yield ``Event/gap(_:)``. It
        /// keeps trying until the subscription is closed, except when the server refuses
        /// the subscription itself (an ACL without the channel, a wrong password): that
        /// ends it with ``RedisError/subscriptionEnded(reason:)``.
        case resubscribe
        /// End the subscription with ``RedisError/subscriptionEnded(reason:)``, for
        /// readers that would rather subscribe again themselves: no gap is ever yielded.
        case end
    }
}
