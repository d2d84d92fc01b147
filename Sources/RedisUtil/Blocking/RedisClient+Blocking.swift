import Reactor
import RESP

/// Blocking commands (`BLPOP` …), which ``RedisClient/send(_:)`` routes here
/// (``CommandRoute/blocking(_:)``): each runs on a connection leased from the pool
/// (``BlockingConnectionPool``) as a ``BlockingCall``, so it never delays other commands.
extension RedisClient {
    /// Runs a blocking command on a leased connection. On cancellation the server is
    /// told `CLIENT UNBLOCK` from another connection, and the call returns the command's
    /// reply: what a `BLPOP` cancelled just as it popped took is returned, not lost.
    /// `asking`: `ASKING` goes first, in the same write (a cluster's command that an `ASK`
    /// sent to the node importing its slot, where it may then block).
    nonisolated(nonsending) func sendBlocking(_ bytes: [UInt8], deadline: Duration?, asking: Bool = false) async throws -> RESPValue {
        // A pooled connection can die while idle and be found out only when the command
        // reaches it; that failure is `.notSent`, so one retry on a fresh lease is safe.
        for attempt in 0..<2 {
            guard !isClosed else { throw RedisError.closed }
            let lease = try await blocking.lease(for: Self.commandName(bytes), within: deadline)
            let outcome = await blockingCall(on: lease, deadline: deadline, pooled: true, asking: asking).run(bytes)
            if attempt == 0, Self.wasNeverSent(outcome) { continue }
            return try Self.value(of: outcome, bytes, deadline: deadline)
        }
        preconditionFailure("the loop returns or throws")
    }

    /// A blocking command on a ``RedisDedicatedConnection``'s lease: as on the client,
    /// except that the call returns only once the connection is settled (no
    /// `CLIENT UNBLOCK` of ours on its way), since its caller goes on using it. When the
    /// server does not let go, the lease is dropped.
    nonisolated(nonsending) func sendBlocking(_ bytes: [UInt8], deadline: Duration?, onDedicated lease: BlockingConnectionPool.Lease) async throws -> RESPValue {
        let outcome = await blockingCall(on: lease, deadline: deadline, pooled: false).run(bytes)
        return try Self.value(of: outcome, bytes, deadline: deadline)
    }

    /// A blocking command from the callback facade: straight onto an idle leased
    /// connection when there is one (no task, no thread hop), else through the async
    /// path, which may open a connection or wait for one. `asking` as for the async form.
    func sendBlocking(_ bytes: [UInt8], deadline: Duration?, asking: Bool = false, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        guard !isClosed, let lease = blocking.leaseIdle() else {
            sendBlockingInTask(bytes, deadline: deadline, asking: asking, completion: completion)
            return
        }
        blockingCall(on: lease, deadline: deadline, pooled: true, asking: asking).start(bytes) { [self] outcome in
            if Self.wasNeverSent(outcome) {
                // The idle connection had died unnoticed; as in the async path, one
                // retry on a fresh lease is safe because nothing was sent.
                sendBlockingInTask(bytes, deadline: deadline, asking: asking, completion: completion)
            } else {
                completion(Self.result(of: outcome, bytes, deadline: deadline))
            }
        }
    }

    /// On a reactor: the completion then runs on a reactor thread, as every callback
    /// does, and a callback user's blocking command never waits for Swift's global pool.
    private func sendBlockingInTask(_ bytes: [UInt8], deadline: Duration?, asking: Bool, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        Task(executorPreference: ownExecutor) { [self] in
            do { completion(.success(try await sendBlocking(bytes, deadline: deadline, asking: asking))) }
            catch let error as RedisError { completion(.failure(error)) }
            catch { completion(.failure(.cancelled)) }
        }
    }

    /// A call for `lease`: a pooled lease goes back to the pool (or settles there) when
    /// the machine says; a dedicated one stays with its scope unless it must be dropped.
    /// `asking`: `ASKING` is written before the command, in the same batch.
    private func blockingCall(on lease: BlockingConnectionPool.Lease, deadline: Duration?, pooled: Bool, asking: Bool = false) -> BlockingCall {
        let settings = BlockingCallMachine.Settings(
            deadline: deadline?.nanosecondsClamped,
            cadence: BlockingCall.unblockCadence.nanosecondsClamped,
            patience: (configuration.livenessTimeout ?? .seconds(30)).nanosecondsClamped,
            answersAtDeadline: pooled)
        return BlockingCall(on: lease.connection, settings: settings, prefix: asking ? ClusterRouter.asking : nil, unblock: { [self] answered in
            unblockIfOpen(lease.clientID, answered: answered)
        }, lease: { [blocking] action in
            switch action {
            case .settling: if pooled { blocking.settle(lease) }
            case .reuse: if pooled { blocking.release(lease) }
            case .discard: blocking.discard(lease)
            }
        })
    }

    /// `CLIENT UNBLOCK id ERROR`, answered by `answered` (or its final failure); `false`
    /// when it cannot go out (the client is closed or overloaded).
    ///
    /// ERROR rather than the default TIMEOUT: Redis 7.0 crashes when a client whose
    /// command is postponed by `CLIENT PAUSE WRITE` (as during a failover) is unblocked
    /// with TIMEOUT. No command timeout: a timed-out UNBLOCK still queued would go out
    /// later and unblock the connection's next command.
    private func unblockIfOpen(_ clientID: Int, answered: @escaping @Sendable () -> Void) -> Bool {
        guard !isClosed, case .ready(let connection) = connectionForCallback() else { return false }
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "CLIENT", "UNBLOCK", clientID, "ERROR")
        connection.submit(Submission(bytes: bytes, handlers: .one(.single { _ in answered() }), timeout: .never))
        return true
    }

    // MARK: Outcomes

    /// The command's name, for errors.
    private static func commandName(_ bytes: [UInt8]) -> String {
        EncodedCommand.names(bytes, count: 1).first ?? "command"
    }

    /// Whether the command failed on a connection that was lost before it was written.
    private static func wasNeverSent(_ outcome: BlockingCall.Outcome) -> Bool {
        if case .reply(.failure(.connectionLost(_, _, .notSent))) = outcome { true } else { false }
    }

    /// What a callback gets.
    private static func result(of outcome: BlockingCall.Outcome, _ bytes: [UInt8], deadline: Duration?) -> Result<RESPValue, RedisError> {
        switch outcome {
        case .reply(let result): result
        case .timedOut: .failure(.timeout(command: commandName(bytes), after: deadline ?? .zero))
        case .cancelled: .failure(.cancelled)
        }
    }

    /// What an awaiting task gets. A cancelled task whose command was unblocked gets
    /// ``RedisError/cancelled``: `CLIENT UNBLOCK … ERROR` answers the command with an
    /// `UNBLOCKED` error, and a command that took nothing (see
    /// ``cancelledWithoutEffect(_:reply:)``) has nothing to return.
    private static func value(of outcome: BlockingCall.Outcome, _ bytes: [UInt8], deadline: Duration?) throws(RedisError) -> RESPValue {
        let result = result(of: outcome, bytes, deadline: deadline)
        if Task.isCancelled {
            switch result {
            case .success(let reply) where cancelledWithoutEffect(bytes, reply: reply): throw .cancelled
            case .failure(.server(let message)) where message.hasPrefix("UNBLOCKED"): throw .cancelled
            default: break
            }
        }
        return try result.get()
    }

    /// Whether a blocking command that was cancelled and unblocked took nothing: its
    /// reply is null (a pop, a move, a stream read), or it is `WAIT`/`WAITAOF`, which
    /// answer a count when unblocked but take nothing in any case.
    static func cancelledWithoutEffect(_ bytes: [UInt8], reply: RESPValue) -> Bool {
        if reply.isNull { return true }
        guard let name = EncodedCommand.firstName(bytes) else { return false }
        switch SpecialCommand.named(name, in: bytes) {
        case .blocking(.wait)?, .blocking(.waitaof)?: return true
        default: return false
        }
    }
}
