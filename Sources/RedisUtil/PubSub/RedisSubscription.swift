/// The messages published to some channels and patterns, on a connection of the
/// subscription's own, from
/// ``RedisClient/subscribe(channels:patterns:shardChannels:maxBufferedMessages:onConnectionLoss:)``:
/// an `AsyncSequence` of ``Event``s, each a message or a gap.
///
/// ```swift
/// let news = try await client.subscribe(channels: ["news"])
/// for try await event in news {                    // ends after close()
///     switch event {
///     case .message(let message): print(message.channel, message.string)
///     case .gap(let gap): print(gap)                // reconnected: some may be missing
///     }
/// }
/// ```
///
/// Every message published after `subscribe` returns is delivered, in order, while the
/// connection lasts. When it is lost, or the server stops answering the liveness `PING`,
/// the subscription reconnects with the client's backoff, subscribes again to all it
/// had and yields ``Event/gap(_:)``: publish/subscribe delivers at most once, so what
/// was published in between is lost. (``ConnectionLossPolicy/end`` ends it instead.)
///
/// It ends without error after ``close()`` (or when the task reading it is cancelled,
/// or the subscription is released), with ``RedisError/closed`` when the client closes,
/// and with ``RedisError/subscriptionEnded(reason:)`` when the reader falls
/// `maxBufferedMessages` behind. Each of these unsubscribes and stops any reconnecting.
/// One task reads a subscription; ``messages`` reads the messages alone.
public final class RedisSubscription: AsyncSequence, Sendable {
    /// Each message, or gap.
    public typealias Element = Event

    private let stream: AsyncThrowingStream<Event, any Error>
    private let continuation: AsyncThrowingStream<Event, any Error>.Continuation
    /// Connect, resubscribe and yield: all that happens on the reactor. One session on
    /// one server; on a cluster client one for the channels and patterns and one per slot
    /// of the shard channels, all yielding into this subscription's stream.
    let sessions: [SubscriptionSession]
    /// The first session (the only one on one server).
    var session: SubscriptionSession { sessions[0] }
    /// Held so that a client released without `close()` keeps its reactors, which run
    /// this subscription's connections, for as long as the subscription lives.
    private let client: RedisClient

    /// Made by `subscribe`, which starts `session` once the client has registered it.
    init(
        stream: AsyncThrowingStream<Event, any Error>,
        continuation: AsyncThrowingStream<Event, any Error>.Continuation,
        sessions: [SubscriptionSession],
        client: RedisClient
    ) {
        self.stream = stream
        self.continuation = continuation
        self.sessions = sessions
        self.client = client
    }

    /// The connections the subscription uses now (or used last), for the client's close
    /// to wait on.
    var connections: [RedisConnection] { sessions.map(\.latestConnection) }

    /// Ends the subscription: reading finishes after the events already received, the
    /// connection closes and a reconnect in progress stops. Idempotent.
    public func close() {
        continuation.finish()
    }

    /// Ends the subscription with `error` (the client closed, a gap in ``messages``).
    func end(throwing error: RedisError) {
        continuation.finish(throwing: error)
    }

    deinit {
        // Nobody can read it any more: let the connection go.
        continuation.finish()
    }

    /// Reads the events; keeps the subscription open while it reads.
    public func makeAsyncIterator() -> Iterator {
        Iterator(base: stream.makeAsyncIterator(), owner: self)
    }

    /// Reads a subscription's events.
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<Event, any Error>.Iterator
        /// Holds the subscription (and so its connection) while someone reads it, as in
        /// `for try await m in try await client.subscribe(…)`.
        let owner: RedisSubscription

        /// The next message or gap; `nil` once the subscription was closed.
        public mutating func next() async throws -> Event? {
            try await base.next()
        }
    }
}
