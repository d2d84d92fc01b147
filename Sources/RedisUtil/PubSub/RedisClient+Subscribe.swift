import Reactor

extension RedisClient {
    /// Subscribes to `channels` (`SUBSCRIBE`), `patterns` (`PSUBSCRIBE`, glob-style) and
    /// `shardChannels` (`SSUBSCRIBE`, for `SPUBLISH`) on a connection of the
    /// subscription's own, and returns once the server has confirmed them: every message
    /// published from then on is delivered while the connection lasts.
    ///
    /// ```swift
    /// let orders = try await client.subscribe(channels: ["orders"], patterns: ["audit.*"])
    /// for try await event in orders {
    ///     switch event {
    ///     case .message(let message): try await handle(message)
    ///     case .gap: try await reconcileOrders()   // back after a disconnect: some may be missing
    ///     }
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - maxBufferedMessages: how far the reader may fall behind. Past it the
    ///     subscription ends with ``RedisError/subscriptionEnded(reason:)`` rather than
    ///     grow without bound or drop messages unseen.
    ///   - onConnectionLoss: what a lost connection, or one that stops answering the
    ///     liveness `PING` (sent after every ``RedisConfiguration/livenessTimeout`` of
    ///     quiet), does: by default the subscription reconnects with the client's
    ///     ``RedisConfiguration/backoff``, subscribes again to everything, and yields
    ///     ``RedisSubscription/Event/gap(_:)``; ``RedisSubscription/ConnectionLossPolicy/end``
    ///     ends it with ``RedisError/subscriptionEnded(reason:)`` instead.
    ///
    /// On a cluster client, channels and patterns are subscribed on one primary (a cluster
    /// delivers `PUBLISH` on every node), and shard channels on the primary that owns each
    /// one's slot, a connection per slot; when a slot moves (the server drops its shard
    /// channels) or a node is lost, that part subscribes again on the new owner and yields
    /// ``RedisSubscription/Event/gap(_:)``, as after any loss.
    ///
    /// Needs RESP3 (Redis 6 or later, the default ``RedisConfiguration/protocolVersion``).
    /// Throws ``RedisError/server(message:)`` when the server refuses (an ACL without
    /// access to a channel), and the connection errors of any command: only the first
    /// subscription is the caller's to retry.
    nonisolated(nonsending) public func subscribe(
        channels: [String] = [], patterns: [String] = [], shardChannels: [String] = [], maxBufferedMessages: Int = 65_536,
        onConnectionLoss: RedisSubscription.ConnectionLossPolicy = .resubscribe
    ) async throws -> RedisSubscription {
        let targets = SubscriptionTargets(channels: channels, patterns: patterns, shardChannels: shardChannels)
        guard !targets.isEmpty else {
            throw RedisError.invalidArgument("subscribe needs at least one channel or pattern")
        }
        guard maxBufferedMessages > 0 else { throw RedisError.invalidArgument("maxBufferedMessages must be at least 1") }
        guard configuration.protocolVersion == .resp3 else {
            throw RedisError.unsupportedCommand(command: "SUBSCRIBE", reason: "subscriptions need RESP3 (RedisConfiguration.protocolVersion .resp3, Redis 6 or later)")
        }
        guard !isClosed else { throw RedisError.closed }
        guard !Task.isCancelled else { throw RedisError.cancelled }
        // Each part of a cluster subscription goes where the map says: have one.
        let parts: [(targets: SubscriptionTargets, route: SubscriptionRoute?)]
        if let router {
            parts = try await router.subscriptionParts(channels: channels, patterns: patterns, shardChannels: shardChannels)
        } else {
            parts = [(targets, nil)]
        }

        let (stream, continuation) = AsyncThrowingStream.makeStream(
            of: RedisSubscription.Event.self, throwing: (any Error).self, bufferingPolicy: .bufferingOldest(maxBufferedMessages)
        )
        let reactor = Reactor.current ?? group.next()
        let sessions = parts.map { part in
            SubscriptionSession(
                reactor: reactor, endpoint: endpoint, route: part.route, configuration: configuration, targets: part.targets,
                policy: onConnectionLoss, maxBufferedMessages: maxBufferedMessages, events: continuation
            )
        }
        let subscription = RedisSubscription(stream: stream, continuation: continuation, sessions: sessions, client: self)
        // The key, not the subscription: the handler lives in the stream the subscription
        // holds, and runs from its deinit at the latest.
        let key = ObjectIdentifier(subscription)
        continuation.onTermination = { [subscriptions] termination in
            subscriptions.remove(key)
            switch termination {
            case .finished(let error): for session in sessions { session.terminate(error as? RedisError ?? .closed) }
            case .cancelled: for session in sessions { session.terminate(.cancelled) }
            @unknown default: for session in sessions { session.terminate(.closed) }
            }
        }
        guard subscriptions.add(subscription) else {
            continuation.finish()
            throw RedisError.closed
        }
        try await withTaskCancellationHandler {
            // One after the other: a part that fails ends the stream, which terminates
            // every part (those not started fail at their start).
            for session in sessions {
                try await withCheckedThrowingContinuation { (subscribed: CheckedContinuation<Void, any Error>) in
                    session.start { subscribed.resume(with: $0.mapError { $0 }) }
                }
            }
        } onCancel: {
            subscription.end(throwing: .cancelled)
        }
        return subscription
    }
}
