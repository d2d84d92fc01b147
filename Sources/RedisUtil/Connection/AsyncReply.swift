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

    /// Whether the wait ended without the outcome: the task was cancelled (before or
    /// after arming). Once armed and submitted, a reply can only be finished by its
    /// outcome, which for a command never written has not come, or by a cancellation.
    /// Any thread.
    var isAbandoned: Bool {
        let phase = phase.load(ordering: .acquiring)
        return phase == Self.finished || phase == Self.cancelledBeforeArmed
    }

    /// From the task's cancellation handler. Returns whether this cancelled a waiting call.
    @discardableResult
    func cancel() -> Bool {
        if finish(.failure(.cancelled)) { return true }
        _ = phase.compareExchange(expected: Self.initial, desired: Self.cancelledBeforeArmed, ordering: .acquiringAndReleasing)
        return false
    }
}

extension AsyncReply {
    /// Awaits the outcome that `start` arranges to deliver (``finish(_:)``) once it has
    /// the armed reply: run only when the task was not cancelled first. A cancellation of
    /// the task while it waits resumes it at once with ``RedisError/cancelled``
    /// (``cancel()``), and the late outcome is dropped. The one wait of every awaited
    /// command that a cancellation may abandon (``RedisConnection/perform(_:timeout:keepsReply:)``,
    /// its pipeline form, a cluster command for every primary).
    ///
    /// Inlined into its callers, with the two primitives it is built of
    /// (``TaskCancellationHandler``, `_unsafeInheritExecutor_withUnsafeThrowingContinuation`;
    /// why these, see `RedisConnection+Perform.swift`): an async call of its own would
    /// cost a frame of the task's allocator and a switch back to the caller's executor.
    @inline(__always)
    nonisolated(nonsending) static func wait(_ start: (AsyncReply) -> Void) async throws -> Value {
        let reply = AsyncReply()
        let cancellation = TaskCancellationHandler(cancelling: reply)
        defer { cancellation.remove() }
        return try await _unsafeInheritExecutor_withUnsafeThrowingContinuation { continuation in
            guard reply.arm(continuation) else { return }
            start(reply)
        }
    }
}

/// A wait that can say whether its caller stopped waiting: what lets a connection leave
/// a command unsent whose task was cancelled before it was written.
protocol AbandonableWait: AnyObject, Sendable {
    /// Whether the wait ended without the outcome (the task was cancelled). Any thread.
    var isAbandoned: Bool { get }
}

extension AsyncReply: AbandonableWait {}

extension AsyncReply: CancellableWait {
    func cancelWait() {
        cancel()
    }
}
