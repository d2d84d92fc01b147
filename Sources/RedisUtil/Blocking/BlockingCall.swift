import Reactor
import RESP
import Synchronization

/// One blocking command on a leased connection: the thin shell around
/// ``BlockingCallMachine``, which decides everything. This class submits the command,
/// feeds the machine its events (the command's reply handler, the task's cancellation,
/// the answers to `CLIENT UNBLOCK`, one timer), and performs its steps.
///
/// No event is observed by polling: the command's reply slot drains exactly when its
/// own handler runs (it is submitted without a connection-side timeout, which would
/// complete the handler early and leave the slot behind; the deadline is the machine's
/// instead), so the handler is the event the machine waits for, not the connection's
/// `load`; with a ``prefix`` (`ASKING`), the command's slot is the batch's last, and the
/// handler runs once both have drained. The only repeated timer is the `CLIENT UNBLOCK` retry at
/// ``unblockCadence``, which the protocol needs.
///
/// Everything runs on reactor threads (the timer on the blocked connection's reactor,
/// replies on the connections' own), never on Swift's global pool, which an application
/// may have filled with blocking work; so does the caller's answer in the callback facade.
final class BlockingCall: Sendable {
    typealias Outcome = BlockingCallMachine.Outcome
    typealias LeaseAction = BlockingCallMachine.LeaseAction

    /// Between two `CLIENT UNBLOCK`s for one command: often enough that a cancelled
    /// caller whose first one came too early (before the server registered the command)
    /// does not wait long, rarely enough to cost nothing.
    static let unblockCadence = Duration.milliseconds(50)

    private struct State {
        var machine: BlockingCallMachine
        /// The caller's answer, until it is given.
        var answer: (@Sendable (Outcome) -> Void)?
        /// At the machine's next moment.
        var timer = WakeTimer()
    }

    private let state: Mutex<State>
    private let connection: RedisConnection
    /// A command written just before the blocking one, in the same write, whose reply
    /// only precedes the command's (a cluster's `ASKING`, for a command an `ASK` sent to
    /// the slot's importing node); `nil` for none.
    private let prefix: [UInt8]?
    /// Sends `CLIENT UNBLOCK id ERROR` for the leased connection from another one, and
    /// calls `answered` once that has been answered or failed for good; `false` when it
    /// cannot be sent (the client is closing).
    private let unblock: @Sendable (_ answered: @escaping @Sendable () -> Void) -> Bool
    /// What becomes of the lease (the pool's release, settle or discard).
    private let lease: @Sendable (LeaseAction) -> Void

    init(
        on connection: RedisConnection, settings: BlockingCallMachine.Settings, prefix: [UInt8]? = nil,
        unblock: @escaping @Sendable (_ answered: @escaping @Sendable () -> Void) -> Bool,
        lease: @escaping @Sendable (LeaseAction) -> Void
    ) {
        self.connection = connection
        self.prefix = prefix
        self.unblock = unblock
        self.lease = lease
        state = Mutex(State(machine: BlockingCallMachine(settings: settings)))
    }

    /// Sends `bytes` (one blocking command) unless the call was cancelled first, and
    /// calls `answer` exactly once: on a reactor thread, or for a cancelled call on the
    /// cancelling one (cancelled before anything was sent, or when the client is closing).
    func start(_ bytes: [UInt8], answer: @escaping @Sendable (Outcome) -> Void) {
        state.withLock { $0.answer = answer }
        handle(bytes) { machine, now in machine.start(now: now) }
    }

    /// Runs the command for an awaiting task, whose cancellation cancels the call.
    nonisolated(nonsending) func run(_ bytes: [UInt8]) async -> Outcome {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { continuation in
                start(bytes) { continuation.resume(returning: $0) }
            }
        } onCancel: {
            handle { machine, now in machine.cancel(now: now) }
        }
    }

    // MARK: The shell

    /// Runs one event on the machine under the lock, keeps the timer at its next
    /// moment, then performs the step outside the lock (a step's actions may come back
    /// here: a handler completed at once by a closed connection).
    private func handle(_ bytes: [UInt8] = [], _ event: (inout BlockingCallMachine, _ now: UInt64) -> BlockingCallMachine.Step) {
        let (step, answer) = state.withLock { state in
            let now = monotonicNanoseconds()
            let step = event(&state.machine, now)
            rearmTimer(&state, now: now)
            let answer = step.answer == nil ? nil : state.answer.take()
            return (step, answer)
        }
        if step.submit {
            let replied: @Sendable (Result<RESPValue, RedisError>) -> Void = { [self] result in
                handle { machine, now in machine.replied(result, now: now) }
            }
            if let prefix {
                // One batch, so that nothing comes between the two on the wire; the
                // prefix's reply is passed over (the command's own says how it went: a
                // node that refused `ASKING` answers it with a redirection or an error).
                let collector = PipelineCollector(count: 2) { replied($0[1]) }
                connection.submit(Submission(bytes: prefix + bytes, handlers: collector.handlers(count: 2), timeout: .never))
            } else {
                connection.submit(Submission(bytes: bytes, handlers: .one(.single(replied)), timeout: .never))
            }
        }
        if step.sendUnblock {
            let sent = unblock { [self] in
                handle { machine, now in machine.unblockAnswered(now: now) }
            }
            if !sent { handle { machine, now in machine.unblockNotSent(now: now) } }
        }
        // The lease first: a caller that retries at once then finds the connection back.
        if let action = step.lease { lease(action) }
        if let outcome = step.answer {
            assert(answer != nil, "a blocking call's caller is answered once")
            answer?(outcome)
        }
    }

    /// Keeps the timer at the machine's next moment, on the blocked connection's reactor.
    private func rearmTimer(_ state: inout State, now: UInt64) {
        state.timer.set(to: state.machine.wakeAt, now: now, on: connection.reactor) { [weak self] number in
            self?.timerFired(number)
        }
    }

    private func timerFired(_ number: UInt64) {
        state.withLock { $0.timer.spend(number) }
        handle { machine, now in machine.timerFired(now: now) }
    }
}
