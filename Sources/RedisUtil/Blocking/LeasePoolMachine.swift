/// Every decision of the pool of dedicated connections for blocking commands, as a
/// value: which caller gets which connection, when one is opened, who waits and in
/// what order, when a wait or an idle connection has run out of time, and what closing
/// the pool hands back. No I/O, no clock, no lock: events come in with the time `now`
/// (monotonic nanoseconds) and return what the shell (``BlockingConnectionPool``) is to
/// do, so every rule is a unit test that runs in microseconds.
///
/// Generic over the lease so that tests drive it with plain values.
struct LeasePoolMachine<Lease: Identifiable> {
    /// A caller's place in line, chosen by the shell (unique among waiting callers).
    typealias Ticket = UInt64

    struct Settings: Sendable {
        /// The most connections open at once, leased, idle, settling or being opened
        /// (``RedisConfiguration/maxBlockingConnections``).
        var bound: Int
        /// How long a connection may sit idle before it is closed; `nil` keeps it
        /// (``RedisConfiguration/blockingConnectionIdleTimeout``), in nanoseconds.
        var idleTimeout: UInt64?
    }

    /// What a caller gets.
    enum Grant {
        /// This idle connection.
        case reuse(Lease)
        /// A slot: open a connection, then report ``created(_:)`` or ``openFailed(now:)``.
        case create
        /// Its deadline passed while it waited: the command is not sent.
        case expired
        /// The pool was drained (the client closed).
        case closed
    }

    /// A grant for a caller that was waiting.
    struct Handoff {
        var ticket: Ticket
        var grant: Grant
    }

    /// What the shell does after an event: resume these waiters, close these connections.
    struct Step {
        var handoffs: [Handoff] = []
        var close: [Lease] = []
    }

    /// An idle connection and when it came back.
    fileprivate struct Idle {
        var lease: Lease
        var since: UInt64
    }

    private struct Waiter {
        var ticket: Ticket
        var deadline: UInt64?
    }

    let settings: Settings
    /// Every connection opened and not yet closed, whatever it is doing.
    private(set) var open: [Lease.ID: Lease] = [:]
    /// In the order they came back, so the first is the one idle longest. Non-empty
    /// only while nobody waits: a connection that comes back goes to the first waiter.
    private var idle: [Idle] = []
    /// Slots granted for connections being opened (they count against the bound).
    private(set) var creating = 0
    /// Connections whose caller has its answer but which are not back yet (their
    /// timed-out command is being unblocked). The first callers in line wait for them
    /// rather than open sockets: they come back within a round trip, and a
    /// time-out-then-retry loop then stays on one connection.
    private var settling: Set<Lease.ID> = []
    /// Oldest first.
    private var waiters: [Waiter] = []
    private(set) var isDrained = false

    init(settings: Settings) {
        self.settings = settings
    }

    /// How many callers wait.
    var waiting: Int { waiters.count }
    /// How many connections sit idle.
    var idleCount: Int { idle.count }

    /// The earliest moment ``timerFired(now:)`` has something to do: a waiter's deadline
    /// or an idle connection's end. The shell keeps one timer set to it and never polls.
    var wakeAt: UInt64? {
        var next = waiters.lazy.compactMap(\.deadline).min()
        if let timeout = settings.idleTimeout, let oldest = idle.first {
            next = min(next ?? .max, oldest.since &+ timeout)
        }
        return next
    }

    // MARK: Events

    /// A caller wants a connection: an idle one (preferably one `preferred` says yes
    /// to, among the most recently returned few, which costs no long scan), a slot to
    /// open one, or a place in line (`nil`: wait for a ``Handoff`` to `ticket`). A
    /// `deadline` ends the wait with ``Grant/expired``.
    mutating func request(_ ticket: Ticket, deadline: UInt64?, now: UInt64, preferring preferred: (Lease) -> Bool = { _ in false }) -> Grant? {
        if isDrained { return .closed }
        if let lease = takeIdle(preferring: preferred) { return .reuse(lease) }
        if let deadline, now >= deadline { return .expired }
        if mayOpen(atPosition: waiters.count) {
            creating += 1
            return .create
        }
        waiters.append(Waiter(ticket: ticket, deadline: deadline))
        return nil
    }

    /// An idle connection for a caller that cannot wait (the callback facade's fast
    /// path), or `nil`.
    mutating func takeIdle(preferring preferred: (Lease) -> Bool = { _ in false }) -> Lease? {
        guard !isDrained, !idle.isEmpty else { return nil }
        for index in idle.indices.reversed().prefix(8) where preferred(idle[index].lease) {
            return idle.remove(at: index).lease
        }
        return idle.removeLast().lease
    }

    /// A granted slot's connection is open. `false` when the pool was drained
    /// meanwhile: the shell closes it, and its caller gets ``RedisError/closed``.
    mutating func created(_ lease: Lease) -> Bool {
        creating -= 1
        guard !isDrained else { return false }
        open[lease.id] = lease
        return true
    }

    /// Opening a granted slot's connection failed (or its caller gave up first): the
    /// slot goes to whoever waits.
    mutating func openFailed() -> Step {
        creating -= 1
        return Step(handoffs: dispatch())
    }

    /// A caller holding `lease` is done with it, and its connection owes no reply:
    /// to the first waiter, else idle.
    mutating func release(_ lease: Lease, now: UInt64) -> Step {
        settling.remove(lease.id)
        guard !isDrained, open[lease.id] != nil else { return Step(close: [lease]) }
        idle.append(Idle(lease: lease, since: now))
        return Step(handoffs: dispatch())
    }

    /// `lease`'s connection is in an unknown state (lost, or its server did not let go
    /// of a command): it is closed, and its slot goes to whoever waits.
    mutating func discard(_ lease: Lease) -> Step {
        settling.remove(lease.id)
        guard open.removeValue(forKey: lease.id) != nil else { return Step() }
        return Step(handoffs: dispatch(), close: [lease])
    }

    /// A caller was granted `lease` and found its connection dead (lost while idle): it
    /// is closed, and the caller keeps its slot, now to open a new one.
    mutating func replace(_ lease: Lease) -> (grant: Grant, step: Step) {
        let owned = open.removeValue(forKey: lease.id) != nil
        let step = Step(close: owned ? [lease] : [])
        if isDrained { return (.closed, step) }
        creating += 1
        return (.create, step)
    }

    /// `lease`'s caller has its answer, but the connection is not back yet (a
    /// ``release(_:now:)`` or ``discard(_:)`` follows).
    mutating func settle(_ lease: Lease) {
        guard !isDrained, open[lease.id] != nil else { return }
        settling.insert(lease.id)
    }

    /// A waiting caller gave up (its task was cancelled). `false` when it was no longer
    /// waiting: a handoff for it is already on its way.
    mutating func cancelWait(_ ticket: Ticket) -> (waited: Bool, step: Step) {
        guard let index = waiters.firstIndex(where: { $0.ticket == ticket }) else { return (false, Step()) }
        waiters.remove(at: index)
        // One fewer ahead may let a later waiter open a connection.
        return (true, Step(handoffs: dispatch()))
    }

    /// Time passed: waiters past their deadline get ``Grant/expired``, connections idle
    /// for the idle timeout close.
    mutating func timerFired(now: UInt64) -> Step {
        var step = Step()
        waiters.removeAll { waiter in
            guard let deadline = waiter.deadline, now >= deadline else { return false }
            step.handoffs.append(Handoff(ticket: waiter.ticket, grant: .expired))
            return true
        }
        step.handoffs += dispatch()
        if let timeout = settings.idleTimeout {
            let expired = idle.prefix { now &- $0.since >= timeout }.count
            for entry in idle.prefix(expired) {
                open.removeValue(forKey: entry.lease.id)
                step.close.append(entry.lease)
            }
            idle.removeFirst(expired)
        }
        return step
    }

    /// The client closes: every waiter gets ``Grant/closed``, and every open connection
    /// (idle, leased or settling) goes to the shell, which closes them (with the
    /// client's grace period); later events grant nothing.
    mutating func drain() -> Step {
        isDrained = true
        let step = Step(handoffs: waiters.map { Handoff(ticket: $0.ticket, grant: .closed) }, close: Array(open.values))
        waiters.removeAll()
        idle.removeAll()
        open.removeAll()
        settling.removeAll()
        return step
    }

    // MARK: Rules

    /// Whether the caller at `position` in line (0: first) may open a connection: there
    /// is room under the bound, and it is not among the first in line, who wait for
    /// the settling connections.
    private func mayOpen(atPosition position: Int) -> Bool {
        open.count + creating < settings.bound && position >= settling.count
    }

    /// Hands what is free to the waiters, first come first served: idle connections,
    /// then slots to open one.
    private mutating func dispatch() -> [Handoff] {
        var handoffs: [Handoff] = []
        while !waiters.isEmpty, !idle.isEmpty {
            handoffs.append(Handoff(ticket: waiters.removeFirst().ticket, grant: .reuse(idle.removeLast().lease)))
        }
        while settling.count < waiters.count, mayOpen(atPosition: settling.count) {
            creating += 1
            handoffs.append(Handoff(ticket: waiters.remove(at: settling.count).ticket, grant: .create))
        }
        return handoffs
    }
}

extension LeasePoolMachine: Sendable where Lease: Sendable, Lease.ID: Sendable {}
extension LeasePoolMachine.Grant: Sendable where Lease: Sendable {}
extension LeasePoolMachine.Handoff: Sendable where Lease: Sendable {}
extension LeasePoolMachine.Step: Sendable where Lease: Sendable {}
extension LeasePoolMachine.Idle: Sendable where Lease: Sendable {}
