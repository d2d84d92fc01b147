import Reactor
import Synchronization
import RESP

extension RedisClient {
    // MARK: async/await

    /// Sends one command and returns its reply.
    ///
    /// ```swift
    /// let length = try await client.send("RPUSH", "jobs", payload)
    /// ```
    /// Calls with one to five arguments resolve to fixed-arity overloads
    /// (`FixedArityCommands.swift`), which cost less per command; the behaviour is the same.
    ///
    /// Throws ``RedisError``: ``RedisError/server(message:)`` for an error reply (the
    /// connection stays usable), ``RedisError/cancelled`` when the task is cancelled
    /// (only this command fails; its late reply is discarded; but a command whose reply
    /// is the only copy of what it removes, `LPOP`, `RPOP`, `SPOP`, `LMPOP`, `ZMPOP`,
    /// `ZPOPMIN`, `ZPOPMAX`, `GETDEL`, `HGETDEL`, returns that reply once it is sent,
    /// and so do pipelines and transactions holding one; under
    /// ``RedisConfiguration/CancellationPolicy/afterReply`` every command does),
    /// ``RedisError/unsupportedCommand(command:reason:)`` without sending anything for a
    /// command that would change the shared connection's state for every caller
    /// (`SELECT`, `SUBSCRIBE`, `MULTI` …; the error names what to use instead).
    /// Blocking commands (`BLPOP` …) run on a dedicated connection and never delay
    /// other commands.
    // @inlinable: specialised in the caller's module, the argument pack needs no
    // run-time tuple metadata (a measured cost on every command).
    @inlinable @discardableResult
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

    @usableFromInline
    nonisolated(nonsending) func send(encoded bytes: [UInt8], blockingDeadline: Duration?? = nil) async throws -> RESPValue {
        let route = blockingDeadline.map(CommandRoute.blocking) ?? CommandRoute.of(bytes)
        switch route {
        case .shared, .removing:
            let connection = if let ready = connectionIfRoom() { ready } else { try await connectionWithCapacity() }
            return try await connection.perform(bytes, keepsReply: route.keepsReply)
        case .blocking(let deadline):
            return try await sendBlocking(bytes, deadline: deadline)
        case .refused(let error):
            throw error
        }
    }

    /// Runs a blocking command on a leased connection. On cancellation the server is
    /// told `CLIENT UNBLOCK` from another connection, and the leased connection goes
    /// back to the pool once its reply slot has drained.
    nonisolated(nonsending) private func sendBlocking(_ bytes: [UInt8], deadline: Duration?) async throws -> RESPValue {
        // A pooled connection can die while idle and be found out only when the command
        // reaches it; that failure is `.notSent`, so one retry on a fresh lease is safe.
        for attempt in 0..<2 {
            guard !isClosed else { throw RedisError.closed }
            let lease = try await blocking.lease(for: EncodedCommand.names(bytes, count: 1).first ?? "command", within: deadline)
            // The lease is handed back exactly once, outside the do/catch: a `throw` inside
            // it would reach the catch and hand it back a second time.
            let outcome: Result<RESPValue, RedisError>
            do {
                outcome = .success(try await lease.connection.performUntilAnswered(bytes, timeout: deadline.map { .after($0) } ?? .never) { [self] answered in
                    unblockIfOpen(lease.clientID, answered: answered)
                })
            } catch let error as RedisError {
                outcome = .failure(error)
            } catch {
                outcome = .failure(.cancelled)
            }
            switch outcome {
            case .success(let reply):
                blocking.release(lease)
                if Task.isCancelled && CommandRoute.cancelledWithoutEffect(bytes, reply: reply) { throw RedisError.cancelled }
                return reply
            case .failure(let error):
                settle(lease, after: error)
                if attempt == 0, case .connectionLost(_, _, .notSent) = error { continue }
                throw Self.cancellation(error)
            }
        }
        preconditionFailure("the loop returns or throws")
    }

    /// `CLIENT UNBLOCK … ERROR` answers the unblocked command with an `UNBLOCKED` error:
    /// for a cancelled caller, that is its cancellation.
    static func cancellation(_ error: RedisError) -> RedisError {
        if Task.isCancelled, case .server(let message) = error, message.hasPrefix("UNBLOCKED") { return .cancelled }
        return error
    }

    /// `CLIENT UNBLOCK id ERROR`, answered by `answered` (or its final failure); `false`
    /// when it cannot go out (the client is closed or overloaded).
    ///
    /// ERROR rather than the default TIMEOUT: Redis 7.0 crashes when a client whose
    /// command is postponed by `CLIENT PAUSE WRITE` (as during a failover) is unblocked
    /// with TIMEOUT. No command timeout: a timed-out UNBLOCK still queued would go out
    /// later and unblock the connection's next command.
    func unblockIfOpen(_ clientID: Int, answered: @escaping @Sendable () -> Void) -> Bool {
        guard !isClosed, case .success(let connection) = connectionForCallback() else { return false }
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "CLIENT", "UNBLOCK", clientID, "ERROR")
        connection.submit(Submission(bytes: bytes, handlers: .one(.single { _ in answered() }), timeout: .never))
        return true
    }

    /// After a failed blocking call: a cancelled or timed-out command may still own the
    /// connection's reply slot (`load` counts it until the reply is swallowed); unblock
    /// until it is answered, then reuse the connection, or drop it if the server does
    /// not let go. The pool makes new leases wait for a settling connection rather than
    /// open another socket.
    private func settle(_ lease: BlockingConnectionPool.Lease, after error: RedisError) {
        switch error {
        case .cancelled, .timeout, .server:
            if lease.connection.load.load(ordering: .acquiring) == 0 {
                blocking.release(lease)
                return
            }
            blocking.beginSettling()
            let isTimeout = if case .timeout = error { true } else { false }
            let unanswered = UnansweredCount()
            // On the connection's reactor, like all of the client's own background work:
            // Swift's global pool may be full of an application's blocking work.
            Task(executorPreference: lease.connection.reactor) { [self] in
                // A cancellation already sent one CLIENT UNBLOCK; a timeout has not. Either
                // may have reached the server before the command did, hence the repeats.
                for attempt in 0..<40 {
                    if lease.connection.load.load(ordering: .acquiring) == 0 {
                        // Reused only once no UNBLOCK of ours is still on its way: it would
                        // unblock the connection's next command.
                        for _ in 0..<400 where unanswered.value > 0 { try? await Task.sleep(for: .milliseconds(1)) }
                        blocking.endSettling(lease, reusable: unanswered.value == 0)
                        return
                    }
                    if attempt % 5 == (isTimeout ? 0 : 4) {
                        unanswered.add()
                        if !unblockIfOpen(lease.clientID, answered: { unanswered.remove() }) { unanswered.remove() }
                    }
                    try? await Task.sleep(for: .milliseconds(10))
                }
                blocking.endSettling(lease, reusable: false)
            }
        default:
            blocking.discard(lease)
        }
    }

    // MARK: Callbacks

    /// Sends one command; `completion` runs on a reactor thread once the reply
    /// arrives (never block in it). Fails fast with ``RedisError/overloaded(pending:unsentBytes:)``
    /// when the connection is far past its limits.
    @inlinable
    public func send<each Argument: RESPArgument>(
        _ arguments: repeat each Argument,
        completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void
    ) {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, repeat each arguments)
        send(encoded: bytes, completion: completion)
    }

    /// Sends one command built at run time, with a completion handler.
    public func send(arguments: [any RESPArgument], completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        switch EncodedCommand.encode(arguments) {
        case .success(let bytes): send(encoded: bytes, completion: completion)
        case .failure(let error): completeLater(completion, .failure(error))
        }
    }

    @usableFromInline
    func send(encoded bytes: [UInt8], blockingDeadline: Duration?? = nil, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        switch blockingDeadline.map(CommandRoute.blocking) ?? CommandRoute.of(bytes) {
        case .shared, .removing:
            switch connectionForCallback() {
            case .success(let connection):
                connection.submit(Submission(bytes: bytes, handlers: .one(.single(completion)), timeout: .configured))
            case .failure(let error):
                completeLater(completion, .failure(error))
            }
        case .blocking(let deadline):
            sendBlocking(bytes, deadline: deadline, completion: completion)
        case .refused(let error):
            completeLater(completion, .failure(error))
        }
    }

    /// Completes a callback that failed before reaching a connection (overloaded, closed,
    /// refused) on a reactor thread, as every other completion runs: never inline in
    /// the caller's `send`, where a completion taking a lock the caller holds would
    /// deadlock and one that retries would recurse. Inline only once the client's own
    /// reactors have stopped (after ``close()``), when there is no other thread to use.
    func completeLater<Value: Sendable>(_ completion: @escaping @Sendable (Result<Value, RedisError>) -> Void, _ result: Result<Value, RedisError>) {
        let reactor = Reactor.current ?? group.next()
        if !reactor.executeIfRunning({ completion(result) }) { completion(result) }
    }

    /// A blocking command from the callback facade: straight onto an idle leased
    /// connection when there is one (no task, no thread hop), else through the async
    /// path, which may open a connection or wait for one.
    private func sendBlocking(_ bytes: [UInt8], deadline: Duration?, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        guard !isClosed, let lease = blocking.leaseIdle() else {
            sendBlockingInTask(bytes, deadline: deadline, completion: completion)
            return
        }
        let handler: @Sendable (Result<RESPValue, RedisError>) -> Void = { [self] result in
            switch result {
            case .success:
                blocking.release(lease)
                completion(result)
            case .failure(let error):
                settle(lease, after: error)
                if case .connectionLost(_, _, .notSent) = error {
                    // The idle connection had died unnoticed; as in the async path, one
                    // retry on a fresh lease is safe because nothing was sent.
                    sendBlockingInTask(bytes, deadline: deadline, completion: completion)
                } else {
                    completion(result)
                }
            }
        }
        lease.connection.submit(Submission(bytes: bytes, handlers: .one(.single(handler)), timeout: deadline.map { .after($0) } ?? .never))
    }

    /// On a reactor: the completion then runs on a reactor thread, as every callback
    /// does, and a callback user's blocking command never waits for Swift's global pool.
    private func sendBlockingInTask(_ bytes: [UInt8], deadline: Duration?, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        Task(executorPreference: Reactor.current ?? group.next()) { [self] in
            do { completion(.success(try await sendBlocking(bytes, deadline: deadline))) }
            catch let error as RedisError { completion(.failure(error)) }
            catch { completion(.failure(.cancelled)) }
        }
    }
}

/// `CLIENT UNBLOCK`s sent and not yet answered, for a settling connection.
final class UnansweredCount: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .acquiring) }
    func add() { count.add(1, ordering: .relaxed) }
    func remove() { count.subtract(1, ordering: .releasing) }
}
