import RESP

/// Every decision about one blocking command on a leased connection, as a value: when
/// to send it, when its caller is answered and with what, when to unblock it with
/// `CLIENT UNBLOCK` (from another connection) and how often, and when the connection
/// may be reused or must be dropped. No I/O, no clock, no lock: events come in with the
/// time `now` (monotonic nanoseconds) and return a ``Step`` for the shell
/// (``BlockingCall``) to perform, so every rule is a unit test that runs in microseconds.
///
/// The rules:
/// - Cancelled before it was submitted, the command is never sent (and nothing is
///   unblocked: `CLIENT UNBLOCK` names a connection, so it would hit the next command).
/// - Cancelled after, it is unblocked, and the caller waits for its reply: by then it
///   may have taken effect (a `BLPOP` popped an element whose only copy is the reply).
/// - Past its deadline (the server-side timeout plus ``BlockingCommand/grace``) the
///   caller of a pooled lease is answered ``Outcome/timedOut`` at once, and the command
///   is unblocked so that the connection can go back to the pool.
/// - While unblocking, one `CLIENT UNBLOCK … ERROR` is on its way at a time, and another
///   follows every `cadence` until the reply comes: one that reaches the server before
///   the command does (it may wait behind a script, a pause or a slow network) unblocks
///   nothing.
/// - The connection is reused once its reply slot has drained (the reply came) and no
///   `CLIENT UNBLOCK` of ours is on its way: one still travelling would unblock the
///   connection's next command. One count of them, here.
/// - A server that does not let go within `patience` of the first unblock (or a client
///   that can no longer send one) ends the wait: the caller is answered, and the
///   connection dropped.
/// - The caller is answered exactly once, and the connection settled exactly once.
struct BlockingCallMachine {
    struct Settings: Sendable {
        /// The command's client-side deadline, from its submission, in nanoseconds;
        /// `nil` for one the server may hold forever (timeout 0).
        var deadline: UInt64?
        /// Between two `CLIENT UNBLOCK`s.
        var cadence: UInt64
        /// How long the server may take to let go once unblocking began.
        var patience: UInt64
        /// Whether the caller is answered at the deadline (a pooled lease, which the
        /// caller gives up) or only once the connection is settled (a dedicated
        /// connection, whose caller goes on using it and must not meet our unblocks).
        var answersAtDeadline: Bool
    }

    /// What the caller gets.
    enum Outcome: Equatable, Sendable {
        /// The command's reply, or how it failed.
        case reply(Result<RESPValue, RedisError>)
        /// Its deadline passed before the reply came.
        case timedOut
        /// Cancelled, and not sent or not answered within the patience.
        case cancelled
    }

    /// What becomes of the leased connection.
    enum LeaseAction: Equatable, Sendable {
        /// The caller has its answer, the connection is not settled yet (one of the
        /// other two follows).
        case settling
        /// It owes no reply and no `CLIENT UNBLOCK` of ours is on its way: reusable.
        case reuse
        /// Its state is unknown (lost, or the server did not let go): close it.
        case discard
    }

    /// What the shell does after an event, in this order: submit the command, send one
    /// `CLIENT UNBLOCK`, act on the lease, answer the caller.
    struct Step: Equatable {
        var submit = false
        var sendUnblock = false
        var lease: LeaseAction?
        var answer: Outcome?
    }

    let settings: Settings
    private(set) var started = false
    private(set) var cancelled = false
    /// The caller's outcome once known (it may be held until the connection settles);
    /// always set once `drained`.
    private var outcome: Outcome?
    private(set) var answered = false
    /// The command's reply slot is free: its reply came, or its connection failed it.
    private(set) var drained = false
    /// `CLIENT UNBLOCK`s sent and not yet answered (nor failed).
    private(set) var unblocksInFlight = 0
    private(set) var settled = false
    private var deadlineAt: UInt64?
    /// Set when unblocking began: the end of the patience.
    private var giveUpAt: UInt64?
    private var nextUnblockAt: UInt64?

    init(settings: Settings) {
        self.settings = settings
    }

    /// The next moment ``timerFired(now:)`` has something to do: the deadline, the next
    /// `CLIENT UNBLOCK`, or the end of the patience. The shell keeps one timer at it.
    var wakeAt: UInt64? {
        guard started, !settled else { return nil }
        guard let giveUpAt else { return drained ? nil : deadlineAt }
        guard !drained, unblocksInFlight == 0, let nextUnblockAt else { return giveUpAt }
        return min(giveUpAt, nextUnblockAt)
    }

    // MARK: Events

    /// The caller hands the command over.
    mutating func start(now: UInt64) -> Step {
        precondition(!started, "a blocking call starts once")
        started = true
        // Nothing sent, so nothing owed: the connection is clean.
        if cancelled { return finish(.cancelled, lease: .reuse) }
        deadlineAt = settings.deadline.map { now &+ $0 }
        return Step(submit: true)
    }

    /// The caller's task was cancelled (before ``start(now:)`` too).
    mutating func cancel(now: UInt64) -> Step {
        guard !cancelled, !answered else { return Step() }
        cancelled = true
        // Before it started, `start` sends nothing; once unblocking (past the deadline
        // of a dedicated connection) or settled, nothing more is to be done.
        guard started, !settled, giveUpAt == nil else { return Step() }
        return beginUnblocking(now: now)
    }

    /// The command's reply came, or its connection failed it: the reply slot is free.
    mutating func replied(_ result: Result<RESPValue, RedisError>, now: UInt64) -> Step {
        guard started, !drained else {
            assertionFailure("one reply per command")
            return Step()
        }
        drained = true
        // The connection was dropped already (the patience ran out): its failure is moot.
        guard !settled else { return Step() }
        if outcome == nil { outcome = .reply(result) }
        switch result {
        case .success, .failure(.server):
            // An error reply is a reply: the connection is in step.
            return unblocksInFlight == 0 ? finish(outcome!, lease: .reuse) : Step()
        case .failure:
            // Lost with the connection (or never sent on it): nothing of ours can reach
            // a client id that is gone.
            return finish(outcome!, lease: .discard)
        }
    }

    /// A `CLIENT UNBLOCK` of ours was answered, or failed for good: it is no longer on its way.
    mutating func unblockAnswered(now: UInt64) -> Step {
        precondition(unblocksInFlight > 0, "an answer to a CLIENT UNBLOCK that was not sent")
        unblocksInFlight -= 1
        guard !settled, drained, unblocksInFlight == 0 else { return Step() }
        return finish(outcome!, lease: .reuse)
    }

    /// A `CLIENT UNBLOCK` asked for could not be sent (the client is closing): nothing
    /// will unblock the command, so the wait ends now.
    mutating func unblockNotSent(now: UInt64) -> Step {
        // With the reply in, it is one fewer to wait for, as if answered.
        if drained { return unblockAnswered(now: now) }
        precondition(unblocksInFlight > 0, "a CLIENT UNBLOCK that was not asked for")
        unblocksInFlight -= 1
        return settled ? Step() : giveUp()
    }

    /// The timer the shell keeps at ``wakeAt`` fired (or any time; early is harmless).
    mutating func timerFired(now: UInt64) -> Step {
        guard started, !settled else { return Step() }
        if let giveUpAt {
            if now >= giveUpAt { return giveUp() }
            if !drained, unblocksInFlight == 0, let nextUnblockAt, now >= nextUnblockAt { return sendUnblock(now: now) }
            return Step()
        }
        guard !drained, let deadlineAt, now >= deadlineAt else { return Step() }
        outcome = .timedOut
        var step = beginUnblocking(now: now)
        if settings.answersAtDeadline {
            answered = true
            step.answer = .timedOut
            step.lease = .settling
        }
        return step
    }

    // MARK: Rules

    private mutating func beginUnblocking(now: UInt64) -> Step {
        giveUpAt = now &+ settings.patience
        return sendUnblock(now: now)
    }

    private mutating func sendUnblock(now: UInt64) -> Step {
        unblocksInFlight += 1
        nextUnblockAt = now &+ settings.cadence
        return Step(sendUnblock: true)
    }

    /// The patience ran out, or nothing can unblock the command: the caller gets the
    /// reply if it came (only an unblock was still on its way), else its cancellation or
    /// timeout, and the connection is dropped.
    private mutating func giveUp() -> Step {
        finish(outcome ?? (cancelled ? .cancelled : .timedOut), lease: .discard)
    }

    /// Settles the connection, and answers the caller unless that was done.
    private mutating func finish(_ outcome: Outcome, lease: LeaseAction) -> Step {
        assert(!settled, "a blocking call settles once")
        settled = true
        guard !answered else { return Step(lease: lease) }
        answered = true
        return Step(lease: lease, answer: outcome)
    }
}
