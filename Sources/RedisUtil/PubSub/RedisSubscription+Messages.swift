extension RedisSubscription {
    /// The messages alone, for a reader to whom any gap is the end, as every loss of the
    /// connection was before subscriptions resubscribed:
    ///
    /// ```swift
    /// let alerts = try await client.subscribe(channels: ["alerts"], onConnectionLoss: .end)
    /// for try await message in alerts.messages { notify(message.string) }
    /// ```
    ///
    /// A gap (only a ``ConnectionLossPolicy/resubscribe`` subscription has them) ends it
    /// with ``RedisError/subscriptionEnded(reason:)`` and closes the subscription. Read
    /// it or the subscription itself, not both.
    public var messages: Messages { Messages(owner: self) }

    /// The messages of a subscription, a gap being an error; see ``messages``.
    public struct Messages: AsyncSequence, Sendable {
        /// Each message.
        public typealias Element = RedisPubSubMessage

        let owner: RedisSubscription

        /// Reads the messages; keeps the subscription open while it reads.
        public func makeAsyncIterator() -> Iterator {
            Iterator(events: owner.makeAsyncIterator())
        }

        /// Reads a subscription's messages.
        public struct Iterator: AsyncIteratorProtocol {
            var events: RedisSubscription.Iterator
            /// Past a gap: what the subscription buffered after it is not this sequence's.
            var pastGap = false

            /// The next message; `nil` once the subscription was closed. Throws
            /// ``RedisError/subscriptionEnded(reason:)`` at a gap, and then returns `nil`.
            public mutating func next() async throws -> RedisPubSubMessage? {
                guard !pastGap else { return nil }
                switch try await events.next() {
                case .message(let message):
                    return message
                case .gap(let gap):
                    let error = RedisError.subscriptionEnded(reason: gap.description)
                    pastGap = true
                    events.owner.end(throwing: error)
                    throw error
                case nil:
                    return nil
                }
            }
        }
    }
}
