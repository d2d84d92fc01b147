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
    /// command's reply slot stays in the FIFO and swallows the late reply.
    nonisolated(nonsending) func perform(_ bytes: [UInt8], timeout: CommandTimeout = .configured, onCancel: (@Sendable () -> Void)? = nil) async throws -> RESPValue {
        let reply = AsyncReply<RESPValue>()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                guard reply.arm(continuation) else { return }
                submit(Submission(bytes: bytes, handlers: .one(.single { reply.finish($0) }), timeout: timeout))
            }
        } onCancel: {
            if reply.cancel() { onCancel?() }
        }
    }

    /// Submits a blocking command and awaits its reply, which a cancellation does not
    /// cut short: by then the command may have taken effect (a `BLPOP` popped an element,
    /// whose only copy is the reply). Cancelling calls `unblock` (`CLIENT UNBLOCK`, from
    /// another connection) until the reply comes: null if nothing happened, else what
    /// the command did (a large element may take a while to arrive). Only a server that
    /// does not answer within the liveness timeout (30 s without one) makes the call end
    /// with ``RedisError/cancelled`` anyway, its late reply then swallowed by the slot.
    nonisolated(nonsending) func performUntilAnswered(_ bytes: [UInt8], timeout: CommandTimeout, unblock: @escaping @Sendable () -> Void) async throws -> RESPValue {
        let reply = AsyncReply<RESPValue>()
        return try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                guard !Task.isCancelled else { return continuation.resume(throwing: RedisError.cancelled) }
                guard reply.arm(continuation) else { return }
                submit(Submission(bytes: bytes, handlers: .one(.single { reply.finish($0) }), timeout: timeout))
            }
        } onCancel: { [configuration] in
            let patience = configuration.livenessTimeout ?? .seconds(30)
            Task {
                let start = ContinuousClock.now
                var polls = 0
                while !reply.isFinished {
                    let waited = ContinuousClock.now - start
                    if waited >= patience {
                        reply.cancel()
                        return
                    }
                    // Again for a while: the UNBLOCK may reach the server before the command.
                    if polls % 5 == 0 && waited < .milliseconds(400) { unblock() }
                    polls += 1
                    try? await Task.sleep(for: .milliseconds(10))
                }
            }
        }
    }

    /// Submits a pipeline and awaits all its replies with one continuation.
    nonisolated(nonsending) func perform(batch bytes: [UInt8], count: Int) async throws -> [Result<RESPValue, RedisError>] {
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
