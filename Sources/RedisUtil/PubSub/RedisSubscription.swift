import Reactor
import RESP
import Synchronization

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

/// The messages published to some channels and patterns, on a connection of the
/// subscription's own, from ``RedisClient/subscribe(channels:patterns:shardChannels:maxBufferedMessages:)``.
///
/// ```swift
/// let news = try await client.subscribe(channels: ["news"])
/// for try await message in news {            // ends after close()
///     print(message.channel, message.string)
/// }
/// ```
///
/// Every message published after `subscribe` returns is delivered, in order, until the
/// subscription ends. It ends without error after ``close()`` (or when the task reading it
/// is cancelled), with ``RedisError/closed`` when the client closes, and with
/// ``RedisError/subscriptionEnded(reason:)`` when the connection is lost, stops
/// answering the liveness `PING`, or the reader falls `maxBufferedMessages` behind.
/// Publish/subscribe delivers at most once: what is published after that is lost, so
/// subscribe again. One task reads a subscription.
public final class RedisSubscription: AsyncSequence, Sendable {
    /// Each message.
    public typealias Element = RedisPubSubMessage

    private let stream: AsyncThrowingStream<RedisPubSubMessage, any Error>
    private let continuation: AsyncThrowingStream<RedisPubSubMessage, any Error>.Continuation
    let connection: RedisConnection
    /// Held so that a client released without `close()` keeps its reactors, which run
    /// this subscription's connection, for as long as the subscription lives.
    private let client: RedisClient

    init(
        stream: AsyncThrowingStream<RedisPubSubMessage, any Error>,
        continuation: AsyncThrowingStream<RedisPubSubMessage, any Error>.Continuation,
        connection: RedisConnection,
        client: RedisClient
    ) {
        self.stream = stream
        self.continuation = continuation
        self.connection = connection
        self.client = client
    }

    /// Ends the subscription: reading finishes after the messages already received, and
    /// the connection closes. Idempotent.
    public func close() {
        continuation.finish()
    }

    /// Ends the subscription with `error` (the client closed).
    func end(throwing error: RedisError) {
        continuation.finish(throwing: error)
    }

    deinit {
        // Nobody can read it any more: let the connection go.
        continuation.finish()
    }

    /// Reads the messages; keeps the subscription open while it reads.
    public func makeAsyncIterator() -> Iterator {
        Iterator(base: stream.makeAsyncIterator(), owner: self)
    }

    /// Reads a subscription's messages.
    public struct Iterator: AsyncIteratorProtocol {
        var base: AsyncThrowingStream<RedisPubSubMessage, any Error>.Iterator
        /// Holds the subscription (and so its connection) while someone reads it, as in
        /// `for try await m in try await client.subscribe(…)`.
        let owner: RedisSubscription

        /// The next message; `nil` once the subscription was closed.
        public mutating func next() async throws -> RedisPubSubMessage? {
            try await base.next()
        }
    }
}

extension RedisClient {
    /// Subscribes to `channels` (`SUBSCRIBE`), `patterns` (`PSUBSCRIBE`, glob-style) and
    /// `shardChannels` (`SSUBSCRIBE`, for `SPUBLISH`) on a connection of the
    /// subscription's own, and returns once the server has confirmed them: every message
    /// published from then on is delivered.
    ///
    /// - Parameter maxBufferedMessages: how far the reader may fall behind. Past it the
    ///   subscription ends with ``RedisError/subscriptionEnded(reason:)`` rather than
    ///   grow without bound or drop messages unseen.
    ///
    /// Needs RESP3 (Redis 6 or later, the default ``RedisConfiguration/protocolVersion``).
    /// Throws ``RedisError/server(message:)`` when the server refuses (an ACL without
    /// access to a channel), and the connection errors of any command.
    nonisolated(nonsending) public func subscribe(
        channels: [String] = [], patterns: [String] = [], shardChannels: [String] = [], maxBufferedMessages: Int = 65_536
    ) async throws -> RedisSubscription {
        guard !channels.isEmpty || !patterns.isEmpty || !shardChannels.isEmpty else {
            throw RedisError.invalidArgument("subscribe needs at least one channel or pattern")
        }
        guard maxBufferedMessages > 0 else { throw RedisError.invalidArgument("maxBufferedMessages must be at least 1") }
        guard configuration.protocolVersion == .resp3 else {
            throw RedisError.unsupportedCommand(command: "SUBSCRIBE", reason: "subscriptions need RESP3 (RedisConfiguration.protocolVersion .resp3, Redis 6 or later)")
        }
        guard !isClosed else { throw RedisError.closed }

        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RedisPubSubMessage.self, throwing: (any Error).self, bufferingPolicy: .bufferingOldest(maxBufferedMessages))
        let connection = RedisConnection(
            reactor: Reactor.current ?? group.next(), endpoint: endpoint, configuration: configuration, isBlocking: true,
            onPush: { push in
                guard let message = RedisPubSubMessage(push: push) else { return }
                if case .dropped = continuation.yield(message) {
                    continuation.finish(throwing: RedisError.subscriptionEnded(reason: "the reader fell \(maxBufferedMessages) messages behind"))
                }
            },
            onDefunct: { error in
                continuation.finish(throwing: RedisError.subscriptionEnded(reason: "the connection was lost (\(error))"))
            }
        )
        let heartbeat = HeartbeatHandle()
        continuation.onTermination = { [subscriptions] _ in
            heartbeat.end()
            subscriptions.remove(connection)
            // May run on the reactor thread, inside the push handler: close afterwards.
            connection.closeOnReactor()
        }
        let subscription = RedisSubscription(stream: stream, continuation: continuation, connection: connection, client: self)
        guard subscriptions.add(subscription) else {
            continuation.finish()
            throw RedisError.closed
        }

        // In RESP3 SUBSCRIBE has no reply (its confirmations are pushes), but the PING
        // after it has one, which comes after them: so this waits for the confirmations.
        // A refusal is SUBSCRIBE's error reply, which arrives in the PING's place. The
        // connection has no liveness sweep (it is meant to be quiet), so this exchange
        // carries its own timeout: a server that goes silent fails it, not hangs it.
        var bytes: [UInt8] = []
        if !channels.isEmpty { RESPEncoder.encodeCommand(into: &bytes, arguments: ["SUBSCRIBE"] + channels) }
        if !patterns.isEmpty { RESPEncoder.encodeCommand(into: &bytes, arguments: ["PSUBSCRIBE"] + patterns) }
        if !shardChannels.isEmpty { RESPEncoder.encodeCommand(into: &bytes, arguments: ["SSUBSCRIBE"] + shardChannels) }
        RESPEncoder.encodeCommand(into: &bytes, "PING")
        do {
            let limit = configuration.commandTimeout ?? configuration.livenessTimeout ?? configuration.connectTimeout
            let reply = try await connection.perform(bytes, timeout: .after(limit))
            guard reply.string == "PONG" else {
                throw RedisError.unsupportedCommand(command: "SUBSCRIBE", reason: "the server answered in RESP2 (\(reply)); subscriptions need RESP3 (Redis 6 or later)")
            }
        } catch {
            continuation.finish()
            throw error
        }
        if let liveness = configuration.livenessTimeout {
            heartbeat.start(Self.heartbeat(connection, every: liveness, ending: continuation))
        }
        return subscription
    }

    /// A connection with no command pending cannot tell a silent server from a quiet
    /// channel: a `PING` every `interval`, with `interval` to answer, ends the
    /// subscription when the server stops answering.
    private static func heartbeat(
        _ connection: RedisConnection, every interval: Duration,
        ending continuation: AsyncThrowingStream<RedisPubSubMessage, any Error>.Continuation
    ) -> Task<Void, Never> {
        var ping: [UInt8] = []
        RESPEncoder.encodeCommand(into: &ping, "PING")
        // On the connection's reactor: a heartbeat must not wait for a global pool that an
        // application has filled with blocking work, and then declare a live server dead.
        return Task(executorPreference: connection.reactor) { [ping] in
            while true {
                do {
                    try await Task.sleep(for: interval)
                    _ = try await connection.perform(ping, timeout: .after(interval))
                } catch {
                    if !Task.isCancelled {
                        continuation.finish(throwing: RedisError.subscriptionEnded(reason: "no answer to PING (\(error))"))
                    }
                    return
                }
            }
        }
    }
}

/// The liveness `PING` loop of a subscription, cancelled when the subscription ends,
/// even when that happens before the loop starts.
final class HeartbeatHandle: Sendable {
    private let state = Mutex<(task: Task<Void, Never>?, ended: Bool)>((nil, false))

    func start(_ task: Task<Void, Never>) {
        let ended = state.withLock { state in
            if !state.ended { state.task = task }
            return state.ended
        }
        if ended { task.cancel() }
    }

    func end() {
        state.withLock { state in
            state.ended = true
            return state.task
        }?.cancel()
    }
}

/// The client's open subscriptions, so that closing the client ends them.
final class SubscriptionRegistry: Sendable {
    private struct Entry {
        weak var subscription: RedisSubscription?
    }

    private let state = Mutex<(entries: [ObjectIdentifier: Entry], closed: Bool)>(([:], false))

    /// Registers `subscription`; `false` once the client is closing.
    func add(_ subscription: RedisSubscription) -> Bool {
        state.withLock { state in
            guard !state.closed else { return false }
            state.entries[ObjectIdentifier(subscription.connection)] = Entry(subscription: subscription)
            return true
        }
    }

    func remove(_ connection: RedisConnection) {
        _ = state.withLock { $0.entries.removeValue(forKey: ObjectIdentifier(connection)) }
    }

    /// Stops registering and returns what is still open.
    func closeAll() -> [RedisSubscription] {
        state.withLock { state in
            state.closed = true
            defer { state.entries.removeAll() }
            return state.entries.values.compactMap(\.subscription)
        }
    }
}
