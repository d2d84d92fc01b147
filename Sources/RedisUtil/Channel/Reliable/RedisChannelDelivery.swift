import RESP

/// A message received under a lease (``RedisChannel/receiveLeased(as:timeout:lease:)``):
/// it stays in Redis, in the channel's in-flight hash, until it is acked. If the lease
/// ends first (the worker died, hung, or lost its connection), the next receive of any
/// consumer of the channel hands the message back to the head of its list, and it is
/// delivered again with a higher ``deliveryCount``.
///
/// Each operation is one round trip and tells whether the lease was still held: when it
/// was not, it throws ``RedisChannelError/leaseLost(id:list:)`` and changes nothing.
public struct RedisChannelDelivery<Message: Sendable>: Sendable {
    /// The decoded message.
    public let message: Message
    /// The message as it is stored: the JSON text a sender wrote.
    public let raw: [UInt8]
    /// How many times the message has been delivered, this time included (1 the first
    /// time). Counted per message text: a lease that ends or a ``release()`` hands the
    /// count back with the message.
    public let deliveryCount: Int
    /// The lease's id in the in-flight hash (`<server ms>-<n>`).
    public let leaseID: String
    let leasing: ChannelLeasing

    /// Whether this message was delivered before (its earlier lease ended or was released).
    public var isRedelivery: Bool { deliveryCount > 1 }

    /// Done with: the message leaves Redis for good and is never delivered again.
    nonisolated(nonsending) public func ack() async throws {
        try await leasing.ack([leaseID])
    }

    /// Hands the message back to the head of its list at once, for any consumer to take.
    nonisolated(nonsending) public func release() async throws {
        try await leasing.release(leaseID)
    }

    /// Keeps the lease for `duration` from now (the server's clock): for a job that runs
    /// longer than the lease it was received with.
    nonisolated(nonsending) public func extend(by duration: Duration) async throws {
        try await leasing.extend(leaseID, by: duration)
    }

    /// Moves the message to the channel's dead letters with `reason` (see
    /// ``RedisChannel/deadLetters(max:)``): it is not delivered again unless re-queued.
    nonisolated(nonsending) public func deadLetter(reason: String) async throws {
        try await leasing.deadLetter(leaseID, raw: raw, reason: reason, deliveries: deliveryCount)
    }
}

/// A message that failed for good, as kept in the channel's dead-letter list.
public struct RedisChannelDeadLetter: Sendable, Hashable {
    /// The message exactly as it was in the channel (it may not be valid JSON: an
    /// undecodable message is kept with its bytes).
    public let raw: [UInt8]
    /// Why it was given up: the handler's last error, or why it did not decode.
    public let reason: String
    /// How many times it had been delivered.
    public let deliveries: Int
    /// When it was given up, in milliseconds since 1970 (the clock of the process that gave it up).
    public let failedAtMilliseconds: Int
    /// The stored entry (JSON), which ``RedisChannel/requeueDeadLetters(_:)`` matches.
    public let entry: [UInt8]
}

/// The leased-delivery operations of one channel's receive list: the scripts run with
/// their keys. Shared by deliveries, receives and the ``RedisChannelServer``.
struct ChannelLeasing: Sendable {
    let client: RedisClient
    let keys: ChannelLeaseKeys
    /// Expiry of the state keys in ms (0: none): the channel's timeout, but never less
    /// than twice the lease, so that a held lease's state cannot expire under it.
    let expiryMilliseconds: Int

    init(client: RedisClient, list: String, timeout: Duration?, lease: Duration) {
        self.client = client
        keys = ChannelLeaseKeys(list: list)
        if let timeout {
            expiryMilliseconds = Int(max(timeout, lease * 2).nanosecondsClamped / 1_000_000).clamped(to: 1...Int.max)
        } else {
            expiryMilliseconds = 0
        }
    }

    /// One leased message as the lease script returns it.
    struct Leased: Sendable {
        let id: String
        let deliveries: Int
        let raw: [UInt8]
    }

    /// Hands back expired leases, then leases up to `count` messages for `lease`.
    /// Returns them and how long until the earliest lease still held ends (`nil`: none).
    ///
    /// Run in a task of its own, so that a cancellation of the caller cannot throw away
    /// the reply, the only list of what was leased (the leases would end, and the
    /// messages come back, but only after `lease`).
    func lease(count: Int, lease: Duration) async throws -> (leased: [Leased], nextExpiry: Duration?) {
        // At most 1,000 a call: the script unpacks its batch into one HSET and one ZADD.
        let arguments: [any RESPArgument] = [min(count, 1000), Self.milliseconds(lease), expiryMilliseconds]
        let keys = [keys.list, keys.pending, keys.inflight, keys.leases, keys.redelivered]
        let reply = try await Task(executorPreference: client.ownExecutor) { [client] in
            try await client.eval(ChannelLeaseScripts.lease, keys: keys, arguments: arguments)
        }.value
        guard let items = reply.array, let next = items.first?.int else {
            throw RedisError.unexpectedReply(RESPConversionError(expected: "[next, id, deliveries, message, …]", received: reply.kind, detail: "from the lease script"))
        }
        var leased: [Leased] = []
        leased.reserveCapacity((items.count - 1) / 3)
        var index = 1
        while index + 2 < items.count {
            guard let id = items[index].string, let deliveries = items[index + 1].int, let raw = items[index + 2].bytes else {
                throw RedisError.unexpectedReply(RESPConversionError(expected: "id, deliveries, message", received: reply.kind, detail: "from the lease script"))
            }
            leased.append(Leased(id: id, deliveries: deliveries, raw: raw))
            index += 3
        }
        if let counters = client.configuration.observer?.counters {
            counters.count(.received, leased.count)
            counters.count(.redelivered, leased.count { $0.deliveries > 1 })
        }
        return (leased, next < 0 ? nil : .milliseconds(next))
    }

    /// `BLMOVE list pending`: waits up to `timeout` for a message, which stays in Redis
    /// (in `pending`, leased first by whoever leases next). Returns whether one came.
    func waitForMessage(timeout: Duration) async throws -> Bool {
        let (argument, wait) = try ChannelTimeout.blocking(timeout)
        let request = ChannelRequest<[UInt8]?>.blocking(
            arguments: ["BLMOVE", keys.list, keys.pending, "LEFT", "RIGHT", argument], wait: wait, read: ChannelReply.optionalBytes)
        return try await request.run(on: client) != nil
    }

    func ack(_ ids: [String]) async throws {
        var pipeline = RedisPipeline()
        appendAck(ids, to: &pipeline)
        try checkAck(ids, try await client.pipeline(pipeline)[...])
    }

    /// An ack, as two plain commands (no script): `HDEL` of the in-flight entries, whose
    /// count says which leases were still held, then `ZREM` of their ends. Not atomic,
    /// and need not be: a lease script reclaiming between the two finds the entry gone
    /// and only drops the end, as the `ZREM` would.
    func appendAck(_ ids: [String], to pipeline: inout RedisPipeline) {
        pipeline.send(arguments: ["HDEL", keys.inflight] + ids)
        pipeline.send(arguments: ["ZREM", keys.leases] + ids)
    }

    /// Reads the replies of ``appendAck(_:to:)``: throws when a lease had ended.
    func checkAck(_ ids: [String], _ replies: ArraySlice<Result<RESPValue, RedisError>>) throws {
        let held = try replies[replies.startIndex].get().asInt()
        _ = try replies[replies.startIndex + 1].get()
        client.configuration.observer?.counters?.count(.acked, min(held, ids.count))
        if held < ids.count { throw RedisChannelError.leaseLost(id: ids.count == 1 ? ids[0] : "\(ids.count - held) of \(ids.count)", list: keys.list) }
    }

    func release(_ id: String) async throws {
        let held = try await client.eval(
            ChannelLeaseScripts.release, keys: [keys.list, keys.inflight, keys.leases, keys.redelivered], arguments: [id, expiryMilliseconds]).asInt()
        if held == 0 { throw RedisChannelError.leaseLost(id: id, list: keys.list) }
    }

    func extend(_ id: String, by duration: Duration) async throws {
        guard duration > .zero else { throw RedisChannelError.invalidArgument("a lease must be extended by a positive duration, got \(duration)") }
        let held = try await client.eval(ChannelLeaseScripts.extend, keys: [keys.inflight, keys.leases], arguments: [id, Self.milliseconds(duration)]).asInt()
        if held == 0 { throw RedisChannelError.leaseLost(id: id, list: keys.list) }
    }

    /// Dead-letters the message of lease `id`.
    func deadLetter(_ id: String, raw: [UInt8], reason: String, deliveries: Int) async throws {
        let entry = DeadLetterEntry.encode(raw: raw, reason: reason, deliveries: deliveries)
        let held = try await client.eval(
            ChannelLeaseScripts.deadLetter, keys: [keys.inflight, keys.leases, keys.dead], arguments: [id, entry, expiryMilliseconds]).asInt()
        if held == 0 { throw RedisChannelError.leaseLost(id: id, list: keys.list) }
        client.configuration.observer?.counters?.count(.deadLettered)
    }

    /// Whole milliseconds, at least 1.
    static func milliseconds(_ duration: Duration) -> Int {
        max(1, Int(clamping: (duration.nanosecondsClamped + 999_999) / 1_000_000))
    }
}

extension Comparable {
    fileprivate func clamped(to range: ClosedRange<Self>) -> Self {
        min(max(self, range.lowerBound), range.upperBound)
    }
}
