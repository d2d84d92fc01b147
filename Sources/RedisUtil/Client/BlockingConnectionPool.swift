import Reactor
import RESP
import Synchronization

/// Dedicated connections for blocking commands (`BLPOP` and friends), which would
/// otherwise stall every command pipelined behind them. Created lazily, reused,
/// bounded by ``RedisConfiguration/maxBlockingConnections``.
final class BlockingConnectionPool: Sendable {
    /// A leased connection and the server's id for it, for `CLIENT UNBLOCK`.
    struct Lease: Sendable {
        let connection: RedisConnection
        let clientID: Int
    }

    /// An idle connection and when it came back.
    private struct IdleLease {
        let lease: Lease
        let since: ContinuousClock.Instant
    }

    private struct State {
        /// In the order they came back, so the first is the one idle longest.
        var idle: [IdleLease] = []
        /// The timer that closes the connection idle longest when its idle time is up;
        /// armed while any connection is idle (and an idle timeout is configured).
        var idleTimer: ScheduledTimer?
        /// Every connection created and not yet closed, leased or idle, so that closing
        /// the client also closes the ones in use.
        var open: [ObjectIdentifier: RedisConnection] = [:]
        /// Connections being created (counted against the bound before they exist).
        var creating = 0
        /// Leases whose cancelled or timed-out command is being unblocked; each comes
        /// back (or is dropped) within the settle window.
        var settling = 0
        var drained = false
        /// Callers waiting for a connection to come back or a slot to free.
        var waiters = WaiterList()
        /// Bumped by every event that can end a wait, so that a caller that decided to
        /// wait can tell, when it registers, whether it has already missed one.
        var generation: UInt64 = 0

        /// An idle connection, preferably one on the caller's reactor: its command and
        /// reply then cost no cross-thread wakeup. Looks at the most recently returned
        /// few only, so that a large pool costs no long scan under the lock.
        mutating func takeIdle(preferring reactor: Reactor?) -> Lease? {
            if let reactor {
                for index in idle.indices.reversed().prefix(8) where idle[index].lease.connection.reactor === reactor {
                    return idle.remove(at: index).lease
                }
            }
            return idle.popLast()?.lease
        }

        /// Takes out the connections idle for `timeout` or longer at `now`: they leave
        /// the pool, and the caller closes them.
        mutating func removeExpired(idleFor timeout: Duration, at now: ContinuousClock.Instant) -> [RedisConnection] {
            let expiredCount = idle.prefix { now - $0.since >= timeout }.count
            let expired = idle.prefix(expiredCount).map(\.lease.connection)
            idle.removeFirst(expiredCount)
            for connection in expired { open.removeValue(forKey: ObjectIdentifier(connection)) }
            return expired
        }

        /// Something came back or a slot freed: the oldest waiter looks again.
        mutating func wakeOne() -> [WaiterList.Wake] {
            generation &+= 1
            return waiters.removeFirst(1)
        }
    }

    private let endpoint: RedisEndpoint
    private let configuration: RedisConfiguration
    private let group: ReactorGroup
    private let state = Mutex(State())

    init(endpoint: RedisEndpoint, configuration: RedisConfiguration, group: ReactorGroup) {
        self.endpoint = endpoint
        self.configuration = configuration
        self.group = group
    }

    /// An idle connection, one about to come back from settling, a new one, or (at the
    /// bound) a wait for one to come back. With a `deadline` (a blocking command's own
    /// timeout plus its grace), neither the wait nor opening a connection outlasts it:
    /// past it the call fails with ``RedisError/noBlockingConnection(command:waited:)``,
    /// `command` never sent. Without one (a command that blocks forever) it waits as long as it takes.
    nonisolated(nonsending) func lease(for command: @autoclosure () -> String = "", within deadline: Duration? = nil) async throws -> Lease {
        var ticket: WaiterList.Ticket?
        let expiry = deadline.map { ContinuousClock.now + $0 }
        func expired() -> RedisError { .noBlockingConnection(command: command(), waited: deadline ?? .zero) }
        while true {
            enum Step { case reuse(Lease), create, wait(generation: UInt64), closed }
            let current = Reactor.current
            let step = state.withLock { state -> Step in
                if state.drained { return .closed }
                if let lease = state.takeIdle(preferring: current) { return .reuse(lease) }
                // A settling connection is back within milliseconds: waiting for it costs
                // less than a new socket and keeps a cancel-then-retry loop on one connection.
                if state.settling > 0 { return .wait(generation: state.generation) }
                if state.open.count + state.creating < configuration.maxBlockingConnections {
                    state.creating += 1
                    return .create
                }
                return .wait(generation: state.generation)
            }
            switch step {
            case .reuse(let lease):
                if let alive = keepIfAlive(lease) { return alive }
            case .closed:
                throw RedisError.closed
            case .create:
                let connection = RedisConnection(reactor: current ?? group.next(), endpoint: endpoint, configuration: configuration, isBlocking: true)
                let id: Int
                do {
                    var bytes: [UInt8] = []
                    RESPEncoder.encodeCommand(into: &bytes, "CLIENT", "ID")
                    // Bounded: a blocking connection has no liveness sweep, and a stalled
                    // server would otherwise hold this lease, and its caller, forever.
                    var limit = configuration.connectTimeout
                    if let expiry { limit = min(limit, max(expiry - .now, .milliseconds(1))) }
                    id = try await connection.perform(bytes, timeout: .after(limit)).asInt()
                } catch {
                    for wake in state.withLock({ $0.creating -= 1; return $0.wakeOne() }) { wake.resume() }
                    Self.close(connection)
                    if let expiry, ContinuousClock.now >= expiry, case .timeout? = error as? RedisError { throw expired() }
                    throw openingFailure(error)
                }
                let kept = state.withLock { state -> Bool in
                    state.creating -= 1
                    guard !state.drained else { return false }
                    state.open[ObjectIdentifier(connection)] = connection
                    return true
                }
                guard kept else {
                    Self.close(connection)
                    throw RedisError.closed
                }
                return Lease(connection: connection, clientID: id)
            case .wait(let generation):
                guard let expiry else {
                    try await waitForChange(since: generation, ticket: &ticket)
                    continue
                }
                let remaining = expiry - .now
                guard remaining > .zero else { throw expired() }
                // A timer wakes this caller at its deadline. It sets the flag before it
                // takes the lock, and the wait checks it under the lock before it
                // registers: a timer that fires first is never missed. A caller woken
                // by both a wake and its timer looks again before giving up, so the
                // wake is not lost.
                let id = ticket ?? WaiterList.ticket(in: state, list: \.waiters)
                ticket = id
                let late = LateFlag()
                let timer = group.next().schedule(after: remaining) { [self] in
                    late.value.store(true, ordering: .releasing)
                    WaiterList.wake(id, in: state, list: \.waiters)
                }
                // Also when the wait throws (a cancelled task): the timer has nothing left to wake.
                defer { timer.cancel() }
                try await waitForChange(since: generation, ticket: &ticket, unless: late)
            }
        }
    }

    /// Why a connection for a blocking command could not be opened. That command was
    /// never sent, whatever became of the `CLIENT ID` before it, so a lost connection or
    /// a timeout is reported as a failure to connect (safe to retry), not as `.written`.
    private func openingFailure(_ error: any Error) -> RedisError {
        switch error as? RedisError {
        case let known? where [.closed, .cancelled].contains(known): known
        case .connectionFailed(let endpoint, let reason)?: .connectionFailed(endpoint: endpoint, reason: reason)
        case .handshakeFailed(let step, let message)?: .handshakeFailed(step: step, message: message)
        default: .connectionFailed(endpoint: endpoint.description, reason: "opening a connection for a blocking command: \(error)")
        }
    }

    /// Suspends until a connection comes back, a slot frees, the pool drains or the task
    /// is cancelled; returns at once if one of those happened since `generation`. The
    /// caller keeps `ticket` across its waits, so it keeps its place in line.
    nonisolated(nonsending) private func waitForChange(since generation: UInt64, ticket: inout WaiterList.Ticket?, unless late: LateFlag? = nil) async throws {
        await WaiterList.wait(in: state, list: \.waiters, ticket: &ticket) { state in
            state.generation == generation && !state.drained && late?.value.load(ordering: .acquiring) != true
        }
        if Task.isCancelled { throw RedisError.cancelled }
    }

    /// An idle connection, without waiting or connecting; `nil` when none is idle.
    func leaseIdle() -> Lease? {
        let current = Reactor.current
        while let idle = state.withLock({ $0.drained ? nil : $0.takeIdle(preferring: current) }) {
            if let alive = keepIfAlive(idle) { return alive }
        }
        return nil
    }

    /// `lease`, or `nil` after discarding it when it was lost while idle (e.g. a server
    /// restart): its client id is stale.
    private func keepIfAlive(_ lease: Lease) -> Lease? {
        guard lease.connection.isDefunct.load(ordering: .relaxed) else { return lease }
        discard(lease)
        return nil
    }

    /// Returns a connection after its blocking command was answered.
    func release(_ lease: Lease) {
        let (keep, woken) = state.withLock { state -> (Bool, [WaiterList.Wake]) in
            guard !state.drained, state.open[ObjectIdentifier(lease.connection)] != nil else { return (false, []) }
            state.idle.append(IdleLease(lease: lease, since: .now))
            if state.idleTimer == nil, let timeout = configuration.blockingConnectionIdleTimeout {
                state.idleTimer = armIdleTimer(after: timeout)
            }
            return (true, state.wakeOne())
        }
        for wake in woken { wake.resume() }
        if !keep { Self.close(lease.connection) }
    }

    // MARK: Closing idle connections

    /// A timer that runs ``closeIdle()`` after `delay`: the moment the connection idle
    /// longest reaches its idle timeout, so the pool never polls.
    private func armIdleTimer(after delay: Duration) -> ScheduledTimer {
        group.next().schedule(after: delay) { [weak self] in self?.closeIdle() }
    }

    /// Closes the connections whose idle time is up, and arms the timer for the next one.
    private func closeIdle() {
        guard let timeout = configuration.blockingConnectionIdleTimeout else { return }
        let expired = state.withLock { state -> [RedisConnection] in
            state.idleTimer = nil
            guard !state.drained else { return [] }
            let now = ContinuousClock.now
            let expired = state.removeExpired(idleFor: timeout, at: now)
            if let next = state.idle.first {
                state.idleTimer = armIdleTimer(after: max(next.since + timeout - now, .zero))
            }
            return expired
        }
        for connection in expired { Self.close(connection) }
    }

    /// Drops a connection whose state is unknown (e.g. its command failed with the connection).
    func discard(_ lease: Lease) {
        let (owned, woken) = state.withLock { state -> (Bool, [WaiterList.Wake]) in
            let owned = state.open.removeValue(forKey: ObjectIdentifier(lease.connection)) != nil
            return (owned, owned ? state.wakeOne() : [])
        }
        for wake in woken { wake.resume() }
        if owned { Self.close(lease.connection) }
    }

    /// A leased connection's command was cancelled or timed out; ``endSettling(_:reusable:)`` follows.
    func beginSettling() {
        state.withLock { $0.settling += 1 }
    }

    /// The settling connection's reply slot drained (`reusable`) or the server did not let go.
    func endSettling(_ lease: Lease, reusable: Bool) {
        // No wake here: the release or discard that follows wakes a waiter.
        state.withLock { $0.settling -= 1 }
        if reusable { release(lease) } else { discard(lease) }
    }

    /// Stops leasing and hands back every open connection, idle or leased, for closing.
    func drainAll() -> [RedisConnection] {
        let (connections, woken) = state.withLock { state in
            state.drained = true
            state.generation &+= 1
            state.idleTimer?.cancel()
            state.idleTimer = nil
            defer {
                state.idle.removeAll()
                state.open.removeAll()
            }
            return (Array(state.open.values), state.waiters.removeAll())
        }
        // Each looks again and finds the pool closed.
        for wake in woken { wake.resume() }
        return connections
    }

    private static func close(_ connection: RedisConnection) {
        connection.closeOnReactor()
    }
}

/// Set by a waiter's deadline timer.
final class LateFlag: Sendable {
    let value = Atomic<Bool>(false)
}

/// Which commands block, and for how long the server may hold them.
enum BlockingCommand {
    /// Extra time past the server-side timeout before the client gives up, so that a
    /// 5 s `BLPOP` is never cut at 5 s by the client.
    static let grace = Duration.seconds(2)

    /// For a blocking command, its client-side deadline (`nil` inside means "wait
    /// forever": server timeout 0). `nil` for other commands.
    static func deadline(arguments: [[UInt8]]) -> Duration?? {
        guard let name = arguments.first.map({ String(decoding: $0, as: UTF8.self).uppercased() }) else { return nil }
        func seconds(at index: Int) -> Duration? {
            guard arguments.indices.contains(index),
                  let value = Double(String(decoding: arguments[index], as: UTF8.self)), value > 0 else { return nil }
            return .milliseconds(Int64(value * 1000)) + grace
        }
        func milliseconds(at index: Int) -> Duration? {
            guard arguments.indices.contains(index),
                  let value = Int64(String(decoding: arguments[index], as: UTF8.self)), value > 0 else { return nil }
            return .milliseconds(value) + grace
        }
        switch name {
        case "BLPOP", "BRPOP", "BRPOPLPUSH", "BLMOVE", "BZPOPMIN", "BZPOPMAX":
            return .some(seconds(at: arguments.count - 1))
        case "BLMPOP", "BZMPOP":
            return .some(seconds(at: 1))
        case "WAIT", "WAITAOF":
            return .some(milliseconds(at: arguments.count - 1))
        case "XREAD", "XREADGROUP":
            // Options come before STREAMS, and only there is BLOCK an option: a stream
            // key, ID, group or consumer may be called "block" too.
            var index = 1
            while index < arguments.count {
                switch String(decoding: arguments[index], as: UTF8.self).uppercased() {
                case "BLOCK": return .some(milliseconds(at: index + 1))
                case "STREAMS": return nil
                case "GROUP" where name == "XREADGROUP": index += 3
                case "COUNT": index += 2
                default: index += 1
                }
            }
            return nil
        default:
            return nil
        }
    }
}
