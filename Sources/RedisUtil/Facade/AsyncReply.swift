import Reactor
import RESP
import Synchronization

/// Bridges one reply (or one pipeline) to an awaiting task, with cancellation.
///
/// Three parties may race to finish it: the reply (reactor thread), the task's
/// cancellation handler (any thread) and the submitting code itself (when
/// cancellation came first). An atomic state decides the single winner, so the
/// continuation is resumed exactly once and a late reply is dropped.
final class AsyncReply<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `continuation` is written once in `arm`, before the
    // releasing compare-exchange that publishes it, and read only by the party that
    // wins the acquiring compare-exchange from `armed` to `finished`.

    // Plain UInt8 states, not an enum nested in this generic class: an `Atomic` of a
    // type that depends on `Value` had its metadata looked up at run time on every
    // allocation, a measured cost on each async command.
    private static var initial: UInt8 { 0 }
    private static var armed: UInt8 { 1 }
    private static var finished: UInt8 { 2 }
    private static var cancelledBeforeArmed: UInt8 { 3 }

    private let phase = Atomic<UInt8>(0)
    private var continuation: UnsafeContinuation<Value, any Error>?

    /// Stores the continuation. Returns `false` when the task was cancelled first; the
    /// continuation has then been resumed with ``RedisError/cancelled`` and nothing must be sent.
    func arm(_ continuation: UnsafeContinuation<Value, any Error>) -> Bool {
        self.continuation = continuation
        if phase.compareExchange(expected: Self.initial, desired: Self.armed, ordering: .acquiringAndReleasing).exchanged {
            return true
        }
        continuation.resume(throwing: RedisError.cancelled)
        return false
    }

    /// Delivers the outcome unless cancellation won. Returns whether it was delivered.
    @discardableResult
    func finish(_ result: Result<Value, RedisError>) -> Bool {
        guard phase.compareExchange(expected: Self.armed, desired: Self.finished, ordering: .acquiringAndReleasing).exchanged else {
            return false
        }
        continuation!.resume(with: result.mapError { $0 as any Error })
        return true
    }

    /// Whether the outcome was delivered (or the call cancelled).
    var isFinished: Bool { phase.load(ordering: .acquiring) == Self.finished }

    /// From the task's cancellation handler. Returns whether this cancelled a waiting call.
    @discardableResult
    func cancel() -> Bool {
        if finish(.failure(.cancelled)) { return true }
        _ = phase.compareExchange(expected: Self.initial, desired: Self.cancelledBeforeArmed, ordering: .acquiringAndReleasing)
        return false
    }
}

extension RedisConnection {
    /// Submits and awaits, with task cancellation failing only this caller: the
    /// command's reply slot stays in the FIFO and swallows the late reply. When the reply
    /// must be kept (`keepsReply`: it is the only copy of what the command removes) or
    /// under ``RedisConfiguration/CancellationPolicy/afterReply``, as
    /// ``performToCompletion(_:timeout:)`` instead.
    nonisolated(nonsending) func perform(_ bytes: [UInt8], timeout: CommandTimeout = .configured, keepsReply: Bool = false) async throws -> RESPValue {
        if keepsReply || configuration.cancellation == .afterReply {
            return try await performToCompletion(bytes, timeout: timeout)
        }
        let reply = AsyncReply<RESPValue>()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                guard reply.arm(continuation) else { return }
                submit(Submission(bytes: bytes, handlers: .one(.single { reply.finish($0) }), timeout: timeout))
            }
        } onCancel: {
            reply.cancel()
        }
    }

    /// Submits a blocking command and awaits its reply, which a cancellation does not
    /// cut short: by then the command may have taken effect (a `BLPOP` popped an element,
    /// whose only copy is the reply). Once the task is cancelled and the command has been
    /// submitted, `unblock` (`CLIENT UNBLOCK`, from another connection) is sent every
    /// 50 ms until the reply comes: null if nothing happened, else what the command did
    /// (a large element may take a while to arrive). The call ends with
    /// ``RedisError/cancelled`` at once instead when `unblock` cannot be sent (it returns
    /// `false`: the client is closing), and when the server has not answered within the
    /// liveness timeout (30 s without one); the slot then swallows the late reply. A task
    /// cancelled before the command was submitted sends nothing at all.
    ///
    /// It returns only once every `CLIENT UNBLOCK` it sent has been answered: `CLIENT
    /// UNBLOCK` names a connection, not a command, so one still on its way would unblock
    /// the next command the connection runs.
    nonisolated(nonsending) func performUntilAnswered(
        _ bytes: [UInt8], timeout: CommandTimeout,
        unblock: @escaping @Sendable (_ answered: @escaping @Sendable () -> Void) -> Bool
    ) async throws -> RESPValue {
        let reply = AsyncReply<RESPValue>()
        let poller = UnblockPoller(reply: reply, patience: configuration.livenessTimeout ?? .seconds(30), reactor: reactor, unblock: unblock)
        do {
            let value = try await withTaskCancellationHandler {
                try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<RESPValue, any Error>) in
                    guard !Task.isCancelled else { return continuation.resume(throwing: RedisError.cancelled) }
                    guard reply.arm(continuation) else { return }
                    submit(Submission(bytes: bytes, handlers: .one(.single { reply.finish($0) }), timeout: timeout))
                    poller.submitted()
                }
            } onCancel: {
                poller.cancelled()
            }
            await poller.stop()
            return value
        } catch {
            await poller.stop()
            throw error
        }
    }

    /// Submits and awaits the reply whatever becomes of the task meanwhile: for a command
    /// whose reply is the only copy of what it removed (a channel's `LPOP`), which a
    /// cancellation would throw away. A task cancelled before submitting sends nothing
    /// and gets ``RedisError/cancelled``; once sent, the wait is bounded as any
    /// command's is (command timeout, liveness timeout, loss of the connection).
    nonisolated(nonsending) private func performToCompletion(_ bytes: [UInt8], timeout: CommandTimeout) async throws -> RESPValue {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<RESPValue, any Error>) in
            guard !Task.isCancelled else { return continuation.resume(throwing: RedisError.cancelled) }
            submit(Submission(bytes: bytes, handlers: .one(.single { continuation.resume(with: $0.mapError { $0 as any Error }) }), timeout: timeout))
        }
    }

    /// ``performToCompletion(_:timeout:)`` for a pipeline, awaiting all its replies with
    /// one continuation.
    nonisolated(nonsending) private func performToCompletion(batch bytes: [UInt8], count: Int) async throws -> [Result<RESPValue, RedisError>] {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[Result<RESPValue, RedisError>], any Error>) in
            guard !Task.isCancelled else { return continuation.resume(throwing: RedisError.cancelled) }
            let collector = PipelineCollector(count: count) { continuation.resume(returning: $0) }
            submit(Submission(bytes: bytes, handlers: collector.handlers(count: count), timeout: .configured))
        }
    }

    /// Submits a checked pipeline and awaits its replies: despite a cancellation when a
    /// command of it removes what only its reply holds.
    nonisolated(nonsending) func perform(_ pipeline: RedisPipeline) async throws -> [Result<RESPValue, RedisError>] {
        try await perform(batch: pipeline.bytes, count: pipeline.count, keepsReplies: pipeline.removes)
    }

    /// Submits a pipeline and awaits all its replies with one continuation; as
    /// ``performToCompletion(batch:count:)`` when they must be kept or under
    /// ``RedisConfiguration/CancellationPolicy/afterReply``.
    nonisolated(nonsending) func perform(batch bytes: [UInt8], count: Int, keepsReplies: Bool = false) async throws -> [Result<RESPValue, RedisError>] {
        if keepsReplies || configuration.cancellation == .afterReply { return try await performToCompletion(batch: bytes, count: count) }
        let reply = AsyncReply<[Result<RESPValue, RedisError>]>()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                guard reply.arm(continuation) else { return }
                let collector = PipelineCollector(count: count) { reply.finish(.success($0)) }
                submit(Submission(bytes: bytes, handlers: collector.handlers(count: count), timeout: .configured))
            }
        } onCancel: {
            reply.cancel()
        }
    }
}

/// Unblocks a cancelled blocking command until its reply arrives. Polling starts only
/// when both have happened: the command was submitted and the task was cancelled. A
/// command never submitted must not be unblocked: the connection's next command would be.
final class UnblockPoller: Sendable {
    private struct State {
        var submitted = false
        var cancelled = false
        var started = false
        var stopped = false
        /// `CLIENT UNBLOCK`s sent and not yet answered.
        var inFlight = 0
        var waiter: CheckedContinuation<Void, Never>?
    }

    private let state = Mutex(State())
    private let reply: AsyncReply<RESPValue>
    private let patience: Duration
    /// Where the polling task runs: the connection's reactor, so that unblocking never
    /// waits for Swift's global pool, which an application may have filled with blocking work.
    private let reactor: Reactor
    private let unblock: @Sendable (@escaping @Sendable () -> Void) -> Bool

    init(reply: AsyncReply<RESPValue>, patience: Duration, reactor: Reactor, unblock: @escaping @Sendable (@escaping @Sendable () -> Void) -> Bool) {
        self.reply = reply
        self.patience = patience
        self.reactor = reactor
        self.unblock = unblock
    }

    func submitted() {
        if state.withLock({ $0.submitted = true; return Self.startIfReady(&$0) }) { start() }
    }

    func cancelled() {
        if state.withLock({ $0.cancelled = true; return Self.startIfReady(&$0) }) { start() }
    }

    /// Sends no more, and returns once every `CLIENT UNBLOCK` sent has been answered.
    func stop() async {
        // The usual case (never cancelled, or nothing in flight) costs no continuation.
        let idle = state.withLock { state -> Bool in
            state.stopped = true
            return state.inFlight == 0
        }
        if idle { return }
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state -> Bool in
                state.stopped = true
                if state.inFlight == 0 { return true }
                state.waiter = done
                return false
            }
            if ready { done.resume() }
        }
    }

    private static func startIfReady(_ state: inout State) -> Bool {
        guard state.submitted && state.cancelled && !state.started && !state.stopped else { return false }
        state.started = true
        return true
    }

    /// One `CLIENT UNBLOCK`, unless stopped; `false` when it could not be sent.
    private func sendUnblock() -> Bool {
        guard state.withLock({ state -> Bool in
            guard !state.stopped else { return false }
            state.inFlight += 1
            return true
        }) else { return true }
        let sent = unblock { [self] in answered() }
        if !sent { answered() }
        return sent
    }

    private func answered() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            state.inFlight -= 1
            guard state.inFlight == 0, let waiter = state.waiter else { return nil }
            state.waiter = nil
            return waiter
        }
        waiter?.resume()
    }

    private func start() {
        Task(executorPreference: reactor) { [self] in
            let start = ContinuousClock.now
            var polls = 0
            while !reply.isFinished {
                if ContinuousClock.now - start >= patience {
                    reply.cancel()
                    return
                }
                // Repeated: an UNBLOCK that reaches the server before the command does
                // nothing, and the command may be queued behind others for a while.
                if polls % 5 == 0 && !sendUnblock() {
                    reply.cancel()
                    return
                }
                polls += 1
                try? await Task.sleep(for: .milliseconds(10))
            }
        }
    }
}
