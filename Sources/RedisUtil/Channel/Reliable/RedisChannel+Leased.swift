import RESP

extension RedisChannel {
    /// The leased-delivery state of this channel's receive list, leasing for `lease`.
    func leasing(lease: Duration) throws -> ChannelLeasing {
        ChannelLeasing(client: try checkedClient(), list: receiveKey, timeout: timeout, lease: lease)
    }

    /// The next message under a lease, at least once: it stays in Redis until
    /// ``RedisChannelDelivery/ack()``, and if the lease ends first (the process died, hung
    /// or lost its connection), the next receive of any consumer of the channel hands it
    /// back to the head of the list and it is delivered again, marked as a redelivery.
    /// No daemon is needed: every leased receive first hands back expired leases.
    ///
    /// - Parameters:
    ///   - timeout: `nil` returns `nil` at once when there is no message; otherwise waits
    ///     up to `timeout` (`.zero`: forever) on a dedicated connection (`BLMOVE`, which
    ///     keeps the message in Redis while it is being leased).
    ///   - lease: how long the message is the caller's before it is handed back; extend
    ///     it with ``RedisChannelDelivery/extend(by:)``.
    ///
    /// One round trip when a message is waiting (a Lua script: hand back expired leases,
    /// `LPOP`, record the lease); two more when it must wait for one. A message that does
    /// not decode as `T` is moved to the dead letters (``deadLetters(max:)``) with its
    /// bytes and thrown as ``RedisChannelError/undecodable(raw:list:type:underlying:)``.
    /// Needs scripting (`EVALSHA`) and Redis 6.2 or later (`BLMOVE`).
    nonisolated(nonsending) public func receiveLeased<T: Decodable & Sendable>(
        as type: T.Type = T.self, timeout: Duration? = nil, lease: Duration = .seconds(30)
    ) async throws -> RedisChannelDelivery<T>? {
        guard lease > .zero else { throw RedisChannelError.invalidArgument("a lease must be positive, got \(lease)") }
        if let timeout, timeout < .zero { throw RedisChannelError.invalidArgument("a blocking timeout must not be negative, got \(timeout)") }
        let leasing = try leasing(lease: lease)
        let deadline = timeout.flatMap { $0 == .zero ? nil : ContinuousClock.now + $0 }
        while true {
            let (leased, nextExpiry) = try await leasing.lease(count: 1, lease: lease)
            if let first = leased.first { return try await decodeLeased(T.self, first, leasing: leasing) }
            guard timeout != nil else { return nil }
            guard let wait = Self.waitBeforeLeasing(deadline: deadline, lease: lease, nextExpiry: nextExpiry) else { return nil }
            _ = try await leasing.waitForMessage(timeout: wait)
        }
    }

    /// How long a receiver with nothing to lease waits for a push before leasing again:
    /// until its deadline, but no longer than until the earliest lease held ends (its
    /// message is then to be handed back) nor than a lease of its own (a lease taken
    /// meanwhile by another consumer ends no sooner). `nil` when the deadline has passed.
    static func waitBeforeLeasing(deadline: ContinuousClock.Instant?, lease: Duration, nextExpiry: Duration?) -> Duration? {
        var wait = lease
        if let nextExpiry { wait = min(wait, nextExpiry + .milliseconds(2)) }
        if let deadline {
            let remaining = deadline - ContinuousClock.now
            guard remaining > .zero else { return nil }
            wait = min(wait, remaining)
        }
        // BLMOVE's timeout 0 would wait forever.
        return max(wait, .milliseconds(1))
    }

    /// The delivery of a leased message; one that does not decode goes to the dead
    /// letters with its bytes first, then its error is thrown.
    nonisolated(nonsending) func decodeLeased<T: Decodable & Sendable>(
        _ type: T.Type, _ leased: ChannelLeasing.Leased, leasing: ChannelLeasing
    ) async throws -> RedisChannelDelivery<T> {
        let message: T
        do {
            message = try MessageCodec.decode(T.self, from: leased.raw, list: receiveKey)
        } catch {
            try await leasing.deadLetter(leased.id, raw: leased.raw, reason: "undecodable: \(error)", deliveries: leased.deliveries)
            throw error
        }
        return RedisChannelDelivery(message: message, raw: leased.raw, deliveryCount: leased.deliveries, leaseID: leased.id, leasing: leasing)
    }

    // MARK: Dead letters

    /// Up to `max` dead letters of this channel's receive list, oldest first (`LRANGE`;
    /// they stay).
    nonisolated(nonsending) public func deadLetters(max: Int = 100) async throws -> [RedisChannelDeadLetter] {
        guard max > 0 else { return [] }
        let keys = ChannelLeaseKeys(list: receiveKey)
        let entries = try await checkedClient().send("LRANGE", keys.dead, 0, max - 1)
        return (entries.array ?? []).compactMap { $0.bytes.flatMap(DeadLetterEntry.decode) }
    }

    /// Puts dead letters back at the tail of the receive list, as they were first sent,
    /// with their delivery count reset; one atomic round trip. Returns how many went back
    /// (a letter another caller re-queued meanwhile is not sent twice).
    @discardableResult
    nonisolated(nonsending) public func requeueDeadLetters(_ letters: [RedisChannelDeadLetter]) async throws -> Int {
        guard !letters.isEmpty else { return 0 }
        let client = try checkedClient()
        let keys = ChannelLeaseKeys(list: receiveKey)
        var arguments: [any RESPArgument] = []
        arguments.reserveCapacity(letters.count * 2 + 1)
        for letter in letters {
            arguments.append(letter.entry)
            arguments.append(letter.raw)
        }
        arguments.append(timeout.map { ChannelLeasing.milliseconds($0) } ?? 0)
        return try await client.eval(ChannelLeaseScripts.requeue, keys: [keys.dead, keys.list, keys.redelivered], arguments: arguments).asInt()
    }
}
