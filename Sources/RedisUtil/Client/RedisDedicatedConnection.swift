import RESP
import Synchronization

/// A connection of one caller's own, for the length of
/// ``RedisClient/withDedicatedConnection(_:)``: for what needs one connection's state
/// across calls, as optimistic locking does.
///
/// ```swift
/// try await client.withDedicatedConnection { connection in
///     try await connection.send("WATCH", "balance")
///     let balance = try await connection.send("GET", "balance").int ?? 0
///     _ = try await connection.transaction { $0.send("SET", "balance", balance + 10) }
/// }   // throws .server("transaction aborted: …") if another client changed "balance"
/// ```
///
/// `WATCH`, `UNWATCH`, `MULTI`, `EXEC` and `DISCARD` may be sent one by one here, and a
/// blocking command blocks only this connection. Commands that would change the
/// connection for whoever leases it next (`SELECT`, `AUTH`, `HELLO`, `CLIENT REPLY`,
/// `SUBSCRIBE` …) are refused as on the shared connections. A lost connection is not
/// re-established under the caller: its `WATCH`es would be gone unseen, so later commands
/// fail instead.
public final class RedisDedicatedConnection: Sendable {
    private struct State {
        var ended = false
        /// A `MULTI` or `WATCH` went out: the connection may hold a transaction or
        /// watched keys, cleared before it goes back to the pool.
        var mayHoldTransactionState = false
    }

    private let lease: BlockingConnectionPool.Lease
    private let client: RedisClient
    private let state = Mutex(State())

    init(lease: BlockingConnectionPool.Lease, client: RedisClient) {
        self.lease = lease
        self.client = client
    }

    /// Sends one command on this connection and returns its reply.
    ///
    /// Throws as ``RedisClient/send(_:)`` does, and
    /// ``RedisError/invalidArgument(_:)`` once ``RedisClient/withDedicatedConnection(_:)``
    /// has returned.
    @discardableResult
    nonisolated(nonsending) public func send<each Argument: RESPArgument>(_ arguments: repeat each Argument) async throws -> RESPValue {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, repeat each arguments)
        return try await send(encoded: bytes)
    }

    /// Sends one command built at run time.
    @discardableResult
    nonisolated(nonsending) public func send(arguments: [any RESPArgument]) async throws -> RESPValue {
        try await send(encoded: EncodedCommand.encode(arguments).get())
    }

    /// Runs a typed command and decodes its reply.
    @discardableResult
    nonisolated(nonsending) public func execute<Response>(_ command: RedisCommand<Response>) async throws -> Response {
        try command.result(.success(try await send(encoded: command.bytes))).get()
    }

    /// Sends every command of `build` in one batch, as ``RedisClient/pipeline(_:)``
    /// does; here the batch may also open a `MULTI` or `WATCH` keys for later calls.
    nonisolated(nonsending) public func pipeline(_ build: (inout RedisPipeline) throws -> Void) async throws -> [Result<RESPValue, RedisError>] {
        let pipeline = try RedisPipeline.checked(build, in: .dedicated)
        guard pipeline.count > 0 else { return [] }
        try markSending(pipeline.bytes)
        return try await client.observingBatch(by: client.configuration.observer, pipeline.bytes, count: pipeline.count, as: OperationName.pipeline) {
            try await lease.connection.perform(pipeline)
        }
    }

    /// Runs the commands of `build` as one `MULTI … EXEC`, as
    /// ``RedisClient/transaction(_:)`` does: after a `WATCH` on this connection, it
    /// throws ``RedisError/server(message:)`` when a watched key changed.
    nonisolated(nonsending) public func transaction(_ build: (inout RedisPipeline) throws -> Void) async throws -> [Result<RESPValue, RedisError>] {
        let pipeline = try RedisPipeline.transaction(build)
        try markSending(pipeline.bytes)
        return try await client.observingBatch(by: client.configuration.observer, pipeline.bytes, count: pipeline.count - 2, as: OperationName.transaction) {
            try RedisClient.transactionResults(try await lease.connection.perform(pipeline))
        }
    }

    nonisolated(nonsending) func send(encoded bytes: [UInt8]) async throws -> RESPValue {
        let route = CommandRoute.of(bytes, in: .dedicated)
        if case .refused(let error) = route { throw error }
        try markSending(bytes)
        return try await client.observingCommand(by: client.configuration.observer, bytes) { try await client.send(encoded: bytes, routed: route, on: lease) }
    }

    /// Fails once the scope has ended; notes a `MULTI` or `WATCH` among `bytes`.
    private func markSending(_ bytes: [UInt8]) throws {
        let opens = CommandRoute.opensTransactionState(bytes)
        let ended = state.withLock { state in
            if opens { state.mayHoldTransactionState = true }
            return state.ended
        }
        if ended {
            throw RedisError.invalidArgument("this RedisDedicatedConnection was used after withDedicatedConnection returned")
        }
    }

    /// Ends the scope and hands the connection back clean: with no transaction open and
    /// no key watched, or else closed. A command still in flight (its caller was
    /// cancelled) closes it too, rather than making the next user wait behind it.
    nonisolated(nonsending) func end() async {
        let needsReset = state.withLock { state in
            state.ended = true
            return state.mayHoldTransactionState
        }
        let connection = lease.connection
        guard connection.load.load(ordering: .acquiring) == 0, !connection.isDefunct.load(ordering: .relaxed) else {
            client.blocking.discard(lease)
            return
        }
        guard needsReset else {
            client.blocking.release(lease)
            return
        }
        // DISCARD fails harmlessly when no MULTI is open; UNWATCH always succeeds.
        var reset = RedisPipeline()
        reset.send("DISCARD")
        reset.send("UNWATCH")
        if let replies = try? await connection.perform(batch: reset.bytes, count: reset.count),
           case .success = replies[1], connection.load.load(ordering: .acquiring) == 0 {
            client.blocking.release(lease)
        } else {
            client.blocking.discard(lease)
        }
    }
}

extension RedisClient {
    /// Runs `body` with a connection of its own (see ``RedisDedicatedConnection``), and
    /// returns what it returns.
    ///
    /// The connection is leased from the pool that serves blocking commands, so it
    /// counts against ``RedisConfiguration/maxBlockingConnections`` while `body` runs,
    /// and a call waits for one when all are in use. A `body` that itself needs a second
    /// lease (a nested call, or a blocking command sent on the client) therefore needs a
    /// bound of at least two. Keep the scope short. Afterwards the connection goes back
    /// to the pool with no transaction open and no key watched, or is closed.
    ///
    /// A cluster client has no one server to lease from: it throws
    /// ``RedisError/unsupportedCommand(command:reason:)``; name the key instead with
    /// ``withDedicatedConnection(forKey:_:)``.
    nonisolated(nonsending) public func withDedicatedConnection<T>(
        _ body: nonisolated(nonsending) (RedisDedicatedConnection) async throws -> T
    ) async throws -> T {
        guard !isClosed else { throw RedisError.closed }
        if router != nil {
            throw RedisError.unsupportedCommand(command: "withDedicatedConnection", reason: "a cluster client has a server per slot: use withDedicatedConnection(forKey:) or (slot:) to name the one")
        }
        let connection = RedisDedicatedConnection(lease: try await blocking.lease(), client: self)
        do {
            let result = try await body(connection)
            await connection.end()
            return result
        } catch {
            await connection.end()
            throw error
        }
    }
}
