import Reactor
import RESP
import Synchronization

/// Dedicated connections for blocking commands (`BLPOP` and friends), which would
/// otherwise stall every command pipelined behind them. Created lazily, reused,
/// bounded by ``RedisConfiguration/maxBlockingConnections``, closed after
/// ``RedisConfiguration/blockingConnectionIdleTimeout`` idle.
///
/// The thin shell around ``LeasePoolMachine``, which decides everything: this class
/// opens and closes connections, parks waiting callers and resumes them with what the
/// machine hands them, and keeps one timer at the machine's next deadline.
final class BlockingConnectionPool: Sendable {
    /// A leased connection and the server's id for it, for `CLIENT UNBLOCK`.
    struct Lease: Sendable, Identifiable {
        let connection: RedisConnection
        let clientID: Int
        var id: ObjectIdentifier { ObjectIdentifier(connection) }
    }

    private typealias Machine = LeasePoolMachine<Lease>

    private struct State {
        var machine: Machine
        /// The callers the machine has in line, by ticket.
        var waiting: [Machine.Ticket: UnsafeContinuation<Machine.Grant, any Error>] = [:]
        var lastTicket: Machine.Ticket = 0
        /// At the machine's next moment.
        var timer = WakeTimer()
    }

    private let endpoint: RedisEndpoint
    private let configuration: RedisConfiguration
    private let group: ReactorGroup
    private let state: Mutex<State>

    init(endpoint: RedisEndpoint, configuration: RedisConfiguration, group: ReactorGroup) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.group = group
        let settings = Machine.Settings(bound: configuration.maxBlockingConnections, idleTimeout: configuration.blockingConnectionIdleTimeout?.nanosecondsClamped)
        state = Mutex(State(machine: Machine(settings: settings)))
    }

    /// An idle connection, a new one, or (at the bound, or while a connection is settling)
    /// a wait for one to come back. With a `deadline` (a blocking command's own timeout
    /// plus its grace), neither the wait nor opening a connection outlasts it: past it the
    /// call fails with ``RedisError/noBlockingConnection(command:waited:)``, `command`
    /// never sent. Without one (a command that blocks forever) it waits as long as it takes.
    nonisolated(nonsending) func lease(for command: @autoclosure () -> String = "", within deadline: Duration? = nil) async throws -> Lease {
        let expiry = deadline.map { monotonicNanoseconds() &+ $0.nanosecondsClamped }
        var grant = try await acquire(until: expiry)
        while true {
            switch grant {
            case .reuse(let lease):
                // Lost while idle (e.g. a server restart): its client id is stale.
                guard lease.connection.isDefunct.load(ordering: .relaxed) else { return lease }
                grant = apply { state, _ in state.machine.replace(lease) }
            case .create:
                return try await open(until: expiry, deadline: deadline, command: command())
            case .expired:
                throw RedisError.noBlockingConnection(command: command(), waited: deadline ?? .zero)
            case .closed:
                throw RedisError.closed
            }
        }
    }

    /// What the machine grants this caller, now or after a wait in line. A cancelled
    /// wait throws ``RedisError/cancelled``.
    nonisolated(nonsending) private func acquire(until expiry: UInt64?) async throws -> Machine.Grant {
        let current = Reactor.current
        let ticket = state.withLock { state in
            state.lastTicket &+= 1
            return state.lastTicket
        }
        var waited = false
        let grant: Machine.Grant = try await withTaskCancellationHandler {
            try await withUnsafeThrowingContinuation { continuation in
                enum Answer { case granted(Machine.Grant), waits, cancelled }
                let answer = state.withLock { state -> Answer in
                    // A cancellation that came first found nothing to resume: it is seen here.
                    if Task.isCancelled { return .cancelled }
                    let now = monotonicNanoseconds()
                    // Preferably a connection on the caller's reactor: its command and reply
                    // then cost no cross-thread wakeup.
                    guard let grant = state.machine.request(ticket, deadline: expiry, now: now, preferring: { $0.connection.reactor === current }) else {
                        state.waiting[ticket] = continuation
                        rearmTimer(&state, now: now)
                        return .waits
                    }
                    return .granted(grant)
                }
                switch answer {
                case .granted(let grant): continuation.resume(returning: grant)
                case .waits: waited = true
                case .cancelled: continuation.resume(throwing: RedisError.cancelled)
                }
            }
        } onCancel: {
            // Out of line, then resumed: unless a handoff took it first (it then holds a
            // grant, given back below).
            let cancelled = apply { state, _ in
                let (waited, step) = state.machine.cancelWait(ticket)
                return (waited ? state.waiting.removeValue(forKey: ticket) : nil, step)
            }
            cancelled?.resume(throwing: RedisError.cancelled)
        }
        // Handed over just as the task was cancelled: given back, not used.
        guard waited, Task.isCancelled else { return grant }
        switch grant {
        case .reuse(let lease): release(lease)
        case .create: run { machine, _ in machine.openFailed() }
        case .expired, .closed: break
        }
        throw RedisError.cancelled
    }

    /// Opens a connection for a granted slot and asks the server its client id.
    nonisolated(nonsending) private func open(until expiry: UInt64?, deadline: Duration?, command: @autoclosure () -> String) async throws -> Lease {
        let connection = RedisConnection(reactor: Reactor.current ?? group.next(), endpoint: endpoint, configuration: configuration, isBlocking: true)
        let id: Int
        do {
            var bytes: [UInt8] = []
            RESPEncoder.encodeCommand(into: &bytes, "CLIENT", "ID")
            // Bounded: a blocking connection has no liveness sweep, and a stalled
            // server would otherwise hold this lease, and its caller, forever.
            var limit = configuration.connectTimeout
            if let expiry {
                let remaining = Duration.nanoseconds(Int64(clamping: expiry &- min(expiry, monotonicNanoseconds())))
                limit = min(limit, max(remaining, .milliseconds(1)))
            }
            id = try await connection.perform(bytes, timeout: .after(limit)).asInt()
        } catch {
            run { machine, _ in machine.openFailed() }
            Self.close(connection)
            if let expiry, monotonicNanoseconds() >= expiry, case .timeout? = error as? RedisError {
                throw RedisError.noBlockingConnection(command: command(), waited: deadline ?? .zero)
            }
            throw openingFailure(error)
        }
        let lease = Lease(connection: connection, clientID: id)
        guard state.withLock({ $0.machine.created(lease) }) else {
            Self.close(connection)
            throw RedisError.closed
        }
        return lease
    }

    /// Why a connection for a blocking command could not be opened. That command was
    /// never sent, whatever became of the `CLIENT ID` before it, so a lost connection or
    /// a timeout is reported as a failure to connect (safe to retry), not as `.written`.
    private func openingFailure(_ error: any Error) -> RedisError {
        switch error as? RedisError {
        case let known? where [.closed, .cancelled].contains(known): known
        case .connectionFailed(let endpoint, let reason)?: .connectionFailed(endpoint: endpoint, reason: reason)
        case .handshakeFailed(let step, let message)?: .handshakeFailed(step: step, message: message)
        case .tlsFailed(let endpoint, let reason)?: .tlsFailed(endpoint: endpoint, reason: reason)
        default: .connectionFailed(endpoint: endpoint.description, reason: "opening a connection for a blocking command: \(error)")
        }
    }

    /// Connections lent out (or coming back) and callers in line, for the metrics' report.
    var usage: (leased: Int, waiting: Int) {
        state.withLock { ($0.machine.open.count - $0.machine.idleCount, $0.machine.waiting) }
    }

    /// Every connection open now, idle or leased, for the metrics' report.
    var connectionsOpen: [RedisConnection] {
        state.withLock { $0.machine.open.values.map(\.connection) }
    }

    /// How many callers wait in line (for tests of the shell's waits).
    var waitingCallers: Int {
        state.withLock { $0.machine.waiting }
    }

    /// An idle connection, without waiting or connecting; `nil` when none is idle.
    func leaseIdle() -> Lease? {
        let current = Reactor.current
        while let lease = state.withLock({ $0.machine.takeIdle { $0.connection.reactor === current } }) {
            guard lease.connection.isDefunct.load(ordering: .relaxed) else { return lease }
            discard(lease)
        }
        return nil
    }

    /// Returns a connection whose command was answered (its reply slot drained, no
    /// `CLIENT UNBLOCK` of ours on its way).
    func release(_ lease: Lease) {
        run { machine, now in machine.release(lease, now: now) }
    }

    /// Drops a connection whose state is unknown (e.g. its command failed with the
    /// connection, or the server did not let go of it).
    func discard(_ lease: Lease) {
        run { machine, _ in machine.discard(lease) }
    }

    /// A leased connection's caller has its answer, and a ``release(_:)`` or
    /// ``discard(_:)`` follows once its command is unblocked.
    func settle(_ lease: Lease) {
        state.withLock { $0.machine.settle(lease) }
    }

    /// Stops leasing and hands back every open connection, idle or leased, for closing
    /// (with the client's grace period); waiters get ``RedisError/closed``.
    func drainAll() -> [RedisConnection] {
        var connections: [RedisConnection] = []
        run { machine, _ in
            var step = machine.drain()
            connections = step.close.map(\.connection)
            step.close = []
            return step
        }
        return connections
    }

    // MARK: The shell

    /// Runs one event under the lock, re-arms the timer, and takes the continuations
    /// the step hands something to; then resumes them and closes what the step
    /// closes, outside the lock.
    private func apply<Value>(_ event: (inout State, _ now: UInt64) -> (Value, Machine.Step)) -> Value {
        let (value, resumes, closes) = state.withLock { state in
            let now = monotonicNanoseconds()
            let (value, step) = event(&state, now)
            rearmTimer(&state, now: now)
            let resumes = step.handoffs.map { handoff in
                // The machine hands a grant only to a caller in line, once.
                (state.waiting.removeValue(forKey: handoff.ticket)!, handoff.grant)
            }
            return (value, resumes, step.close)
        }
        for (continuation, grant) in resumes { continuation.resume(returning: grant) }
        for lease in closes { Self.close(lease.connection) }
        return value
    }

    /// ``apply(_:)`` for an event of the machine alone.
    private func run(_ event: (inout Machine, _ now: UInt64) -> Machine.Step) {
        apply { state, now in ((), event(&state.machine, now)) }
    }

    /// Keeps the timer at the machine's next deadline: a waiter's end or an idle
    /// connection's.
    private func rearmTimer(_ state: inout State, now: UInt64) {
        state.timer.set(to: state.machine.isDrained ? nil : state.machine.wakeAt, now: now, on: group.next()) { [weak self] number in
            self?.timerFired(number)
        }
    }

    private func timerFired(_ number: UInt64) {
        state.withLock { $0.timer.spend(number) }
        run { machine, now in machine.timerFired(now: now) }
    }

    private static func close(_ connection: RedisConnection) {
        connection.closeOnReactor()
    }
}
