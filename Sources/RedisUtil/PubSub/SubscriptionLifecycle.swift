/// Every decision of a subscription's life, as a pure struct: events in (subscribed,
/// attempt failed, connection lost, backoff elapsed, terminated), actions out, no I/O
/// and no clock of its own, so each rule is a unit test. ``SubscriptionSession`` does
/// what it says.
///
/// Each connection the subscription opens gets the next `generation`; events carry the
/// generation they concern, and those of a connection given up are ignored. That is
/// what lets a loss be reported twice (the failed exchange, then the connection's own
/// report) and still be handled once.
struct SubscriptionLifecycle {
    /// Where the subscription stands.
    enum Phase: Equatable {
        /// Made; `subscribe` has not started it yet.
        case idle
        /// The subscribe request is out on connection `generation`, the `attempt`-th
        /// (from 0) since the loss.
        case subscribing(attempt: Int)
        /// Subscribed; messages flow.
        case live
        /// Waiting out the backoff before `attempt`.
        case waiting(attempt: Int)
        /// Closed, failed or ended: nothing follows.
        case ended
    }

    /// What the shell must do after an event.
    enum Action: Equatable {
        /// Nothing: the event changed nothing, or was about a connection given up.
        case none
        /// Open connection `generation` (the first is made with the session) and send the subscribe request.
        case connect(generation: Int)
        /// The first subscription is in place: `subscribe` returns; keep connection `generation` alive.
        case confirmed(generation: Int)
        /// Subscribed again after a loss: yield the gap, then what arrived on the way;
        /// keep connection `generation` alive.
        case resubscribed(RedisSubscription.Gap, generation: Int)
        /// Give up the connection and come back (``backoffElapsed()``) after the delay.
        case retry(after: Duration)
        /// The first attempt failed: `subscribe` throws this; the subscription never was.
        case fail(RedisError)
        /// The subscription ends with this error.
        case end(RedisError)
        /// Closed by its owner; `subscribe`, if still waiting, throws `failingFirst`.
        case stop(failingFirst: RedisError?)
    }

    /// What to do with a message that arrived.
    enum MessageDisposition: Equatable {
        case deliver
        /// Resubscribing: it belongs after the gap, which is yielded once every target
        /// is subscribed again.
        case hold
        /// From a connection given up: published in the gap, which says so.
        case drop
    }

    let policy: RedisSubscription.ConnectionLossPolicy
    let backoff: RedisConfiguration.Backoff
    private(set) var phase = Phase.idle
    /// The connection events are about; 0 before the first.
    private(set) var generation = 0
    /// Whether the subscription has been in place (`subscribe` returned).
    private var hasBeenLive = false
    /// Why `subscribe` fails when it starts after the subscription was terminated.
    private var terminatedBeforeStart: RedisError?
    /// The gap being bridged: why, since when (monotonic ns), connections opened.
    private var gap: (reason: String, since: UInt64, attempts: Int)?

    /// A subscription not started yet.
    init(policy: RedisSubscription.ConnectionLossPolicy, backoff: RedisConfiguration.Backoff) {
        self.policy = policy
        self.backoff = backoff
    }

    /// `subscribe` starts the first attempt.
    mutating func start() -> Action {
        switch phase {
        case .idle:
            return connect(attempt: 0)
        case .ended:
            return .fail(terminatedBeforeStart ?? .closed)
        case .subscribing, .live, .waiting:
            assertionFailure("a subscription starts once")
            return .none
        }
    }

    /// The subscribe request on connection `generation` was answered: all is subscribed.
    mutating func subscribed(generation: Int, now: UInt64) -> Action {
        guard case .subscribing = phase, generation == self.generation else { return .none }
        phase = .live
        guard hasBeenLive, let gap else {
            hasBeenLive = true
            return .confirmed(generation: generation)
        }
        self.gap = nil
        let duration = Duration.nanoseconds(Int64(clamping: now &- gap.since))
        return .resubscribed(RedisSubscription.Gap(reason: gap.reason, attempts: gap.attempts, duration: duration), generation: generation)
    }

    /// The subscribe request on connection `generation` failed with `error`. `random`
    /// (0…1) draws the backoff's jitter.
    mutating func attemptFailed(generation: Int, error: RedisError, random: Double) -> Action {
        guard case .subscribing(let attempt) = phase, generation == self.generation else { return .none }
        guard hasBeenLive, let gap else {
            // The caller of `subscribe` is waiting: the error is theirs to handle.
            phase = .ended
            return .fail(error)
        }
        if Self.isRefusal(error) {
            phase = .ended
            return .end(.subscriptionEnded(reason: "\(gap.reason), and subscribing again was refused (\(error))"))
        }
        phase = .waiting(attempt: attempt + 1)
        return .retry(after: backoff.delay(attempt: attempt + 1, random: random))
    }

    /// Connection `generation` was lost or stopped answering, for `reason`.
    mutating func lost(generation: Int, reason: String, now: UInt64, random: Double) -> Action {
        guard isLive(generation) else { return .none }
        switch policy {
        case .end:
            phase = .ended
            return .end(.subscriptionEnded(reason: reason))
        case .resubscribe:
            // A connection that had been live starts its backoff from the beginning, as
            // the client's own connections do.
            phase = .waiting(attempt: 0)
            gap = (reason, now, 0)
            return .retry(after: backoff.delay(attempt: 0, random: random))
        }
    }

    /// The backoff is over: next attempt.
    mutating func backoffElapsed() -> Action {
        guard case .waiting(let attempt) = phase else { return .none }
        return connect(attempt: attempt)
    }

    /// Closed by its owner, its reader, or the client; `error` is what a `subscribe` still
    /// waiting throws.
    mutating func terminated(_ error: RedisError) -> Action {
        let waitingCaller = !hasBeenLive
        switch phase {
        case .ended:
            return .none
        case .idle:
            phase = .ended
            terminatedBeforeStart = error
            return .stop(failingFirst: nil)
        case .subscribing, .live, .waiting:
            phase = .ended
            return .stop(failingFirst: waitingCaller ? error : nil)
        }
    }

    /// Whether connection `generation` is the live one.
    func isLive(_ generation: Int) -> Bool {
        phase == .live && generation == self.generation
    }

    /// What to do with a message from connection `generation`.
    func disposition(ofMessageFrom generation: Int) -> MessageDisposition {
        guard generation == self.generation else { return .drop }
        switch phase {
        case .live: return .deliver
        // The first time there is no gap to come first: `subscribe` has not returned,
        // and what arrives now was published after it was called.
        case .subscribing: return hasBeenLive ? .hold : .deliver
        case .idle, .waiting, .ended: return .drop
        }
    }

    /// The next connection, for `attempt`; counted in the gap it is meant to close.
    private mutating func connect(attempt: Int) -> Action {
        phase = .subscribing(attempt: attempt)
        generation += 1
        gap?.attempts += 1
        return .connect(generation: generation)
    }

    /// Whether the server refused the subscription itself, as it will on every attempt
    /// until someone changes its configuration: an error reply to a subscribe command
    /// (`NOPERM` for an ACL without the channel, `ERR` …), a handshake rejecting the
    /// credentials, a TLS handshake that fails (a certificate that does not verify will
    /// not start to), or a RESP2 answer. Anything else (a lost or refused connection, a
    /// timeout, `LOADING`, `max number of clients reached`) may pass: try again.
    static func isRefusal(_ error: RedisError) -> Bool {
        switch error {
        case .server(let message):
            return ["NOPERM", "ERR", "NOAUTH"].contains(Self.code(message))
        case .handshakeFailed(_, let message):
            return ["WRONGPASS", "NOPERM", "NOAUTH"].contains(Self.code(message))
        case .unsupportedCommand, .tlsFailed:
            return true
        default:
            return false
        }
    }

    /// The error code of a server error message: its first word.
    private static func code(_ message: String) -> Substring {
        message.prefix { $0 != " " }
    }
}
