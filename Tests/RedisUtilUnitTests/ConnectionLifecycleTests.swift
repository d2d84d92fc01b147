@testable import RedisUtil
import RESP
import Testing

/// The connection's timing rules, decided by ``ConnectionStateMachine`` from plain
/// values: `now` is a number of nanoseconds the test chooses (a manual clock), so each
/// rule runs in microseconds and never depends on how loaded the machine is.
@Suite("Connection lifecycle: deadlines, losses, backoff and close, with a manual clock")
struct ConnectionLifecycleTests {
    static let ms: UInt64 = 1_000_000

    /// A machine for a RESP2 connection without handshake (ready as soon as the socket
    /// connects), unless `configure` says otherwise.
    static func machine(isBlocking: Bool = false, _ configure: (inout RedisConfiguration) -> Void = { _ in }) -> ConnectionStateMachine {
        var configuration = RedisConfiguration(
            protocolVersion: .resp2, connectTimeout: .milliseconds(1000), livenessTimeout: .milliseconds(500),
            backoff: .init(initial: .milliseconds(20), maximum: .milliseconds(500), jitter: 0.2)
        )
        configure(&configuration)
        return ConnectionStateMachine(settings: .init(configuration, endpoint: "db:6379", isBlocking: isBlocking))
    }

    /// Connects `machine` at `now` (RESP2, no handshake): ready at once.
    static func ready(_ machine: inout ConnectionStateMachine, at now: UInt64) {
        #expect(machine.connectStarted(now: now, commandsQueued: true) == true)
        #expect(machine.connected(now: now) == nil)
        #expect(machine.state == .ready)
    }

    // MARK: Commands set things off

    @Test func aQueuedCommandConnectsWritesOrWaits() {
        var m = Self.machine()
        #expect(m.commandsQueued(now: 0, wasIdle: true) == .connect)
        #expect(m.connectStarted(now: 0, commandsQueued: true) == true)
        #expect(m.commandsQueued(now: 1, wasIdle: false) == .wait, "an attempt is under way")
        _ = m.connected(now: 2)
        #expect(m.commandsQueued(now: 3, wasIdle: false) == .write)
    }

    // MARK: Connect timeout

    /// A TLS client that reached a plaintext port waits for a handshake answer that never
    /// comes (the server takes the hello for an unfinished command line): the timeout
    /// says so. Once the Redis handshake has started, the usual words.
    @Test func aTLSConnectTimeoutNamesTheTLSHandshake() {
        var m = Self.machine { $0.tls = RedisTLSConfiguration() }
        #expect(m.connectStarted(now: 0, commandsQueued: true) == true)
        guard case .lose(let reason) = m.deadlinePassed(now: 1000 * Self.ms, hasWrittenPending: false) else {
            Issue.record("the connect deadline passed without a loss")
            return
        }
        #expect(reason.contains("TLS handshake") && reason.contains("does not serve TLS"), "\(reason)")
        var n = Self.machine { $0.tls = RedisTLSConfiguration(); $0.protocolVersion = .resp3 }
        #expect(n.connectStarted(now: 0, commandsQueued: true) == true)
        _ = n.connected(now: 1)
        guard case .lose(let later) = n.deadlinePassed(now: 1000 * Self.ms, hasWrittenPending: false) else {
            Issue.record("the connect deadline passed without a loss")
            return
        }
        #expect(later.contains("connect and handshake took longer"), "\(later)")
    }

    @Test func theConnectTimeoutIsADeadlineOfTheAttempt() {
        var m = Self.machine { $0.protocolVersion = .resp3 }
        #expect(m.connectStarted(now: 100 * Self.ms, commandsQueued: true) == true)
        #expect(m.nextDeadline(commandDeadline: nil, hasPending: true) == 1100 * Self.ms)
        #expect(m.deadlinePassed(now: 1099 * Self.ms, hasWrittenPending: false) == .none)
        guard case .lose(let reason) = m.deadlinePassed(now: 1100 * Self.ms, hasWrittenPending: false) else {
            Issue.record("the connect deadline passed without a loss")
            return
        }
        #expect(reason.contains("connect and handshake took longer than 1.0 seconds"), "\(reason)")
        // The handshake completing clears it.
        var n = Self.machine { $0.protocolVersion = .resp3 }
        #expect(n.connectStarted(now: 0, commandsQueued: true) == true)
        _ = n.connected(now: 1)
        #expect(n.handshakeReply(.map([]), now: 2) == .ready)
        #expect(n.nextDeadline(commandDeadline: nil, hasPending: false) == nil)
    }

    /// Commands waiting for a connection fail once connecting has failed for the connect
    /// timeout, counted across attempts from the first one, not per attempt.
    @Test func theConnectTimeoutCountsAcrossReconnects() {
        var m = Self.machine()
        #expect(m.connectStarted(now: 0, commandsQueued: true) == true)
        var now: UInt64 = 0
        var attempts = 0
        while true {
            now += 300 * Self.ms
            let decision = m.connectionLost(reason: "connection refused", now: now, queueRemains: true, random: 0.5)!
            attempts += 1
            if let error = decision.failQueued {
                #expect(error == .connectionFailed(endpoint: "db:6379", reason: "connection refused"))
                #expect(now >= 1000 * Self.ms && now < 1300 * Self.ms, "failed at \(now / Self.ms) ms")
                #expect(decision.reconnectAt == nil, "nothing waits any more")
                break
            }
            let at = decision.reconnectAt!
            #expect(m.deadlinePassed(now: at, hasWrittenPending: false) == .connect)
            #expect(m.connectStarted(now: at, commandsQueued: true) == true)
        }
        #expect(attempts == 4)
        // A connection lost while idle starts no such count: the next command's first
        // failed attempt is not "hours overdue".
        var idle = Self.machine()
        Self.ready(&idle, at: 0)
        #expect(idle.connectionLost(reason: "reset", now: 10 * Self.ms, queueRemains: false, random: 0.5)?.failQueued == nil)
        #expect(idle.disconnectedSince == nil)
    }

    // MARK: Loss

    @Test func aLossFailsWrittenCommandsAsUnknownAndKeepsTheRestForTheReconnect() {
        var m = Self.machine()
        Self.ready(&m, at: 0)
        let decision = m.connectionLost(reason: "the server closed the connection", now: 5 * Self.ms, queueRemains: true, random: 0.5)!
        #expect(decision.writtenError == .connectionLost(endpoint: "db:6379", reason: "the server closed the connection", delivery: .written))
        #expect(decision.failQueued == nil)
        #expect(decision.wasReady)
        #expect(m.failedAttempts == 0, "losing a ready connection is not a failed attempt")
        #expect(decision.reconnectAt == 5 * Self.ms + 20 * Self.ms, "the first delay, jitter drawn at its middle")
        let protocolError = RESPError(.invalidTypeByte, offset: 7, reason: "x")
        var n = Self.machine()
        Self.ready(&n, at: 0)
        #expect(n.connectionLost(reason: "protocol error", protocolError: protocolError, now: 1, queueRemains: false, random: 0)?.writtenError == .protocolError(protocolError))
    }

    /// The backoff grows with failed attempts, stays within its jitter, and is reset by
    /// a completed handshake.
    @Test(arguments: [0.0, 0.25, 0.5, 1.0])
    func reconnectBackoffWithJitterBounds(random: Double) {
        var m = Self.machine()
        #expect(m.connectStarted(now: 0, commandsQueued: true) == true)
        var now: UInt64 = 0
        var delays: [UInt64] = []
        for _ in 0..<5 {
            let decision = m.connectionLost(reason: "refused", now: now, queueRemains: true, random: random)!
            delays.append(decision.reconnectAt! - now)
            now = decision.reconnectAt!
            #expect(m.nextDeadline(commandDeadline: nil, hasPending: true) == now)
            #expect(m.deadlinePassed(now: now, hasWrittenPending: false) == .connect)
            #expect(m.connectStarted(now: now, commandsQueued: true) == true)
            // Each attempt fails at once, so the connect timeout is far away.
        }
        let bases: [UInt64] = [20, 40, 80, 160, 320].map { $0 * Self.ms }
        for (delay, base) in zip(delays, bases) {
            #expect(Double(delay) >= Double(base) * 0.8 - 1 && Double(delay) <= Double(base) * 1.2 + 1, "\(delay) for base \(base)")
            #expect(delay == UInt64((Double(base) * (0.8 + 0.4 * random)).rounded(.down)) || delay == UInt64((Double(base) * (0.8 + 0.4 * random)).rounded(.up)))
        }
        _ = m.connected(now: now)
        #expect(m.failedAttempts == 0)
    }

    @Test func aRefusedHandshakeFailsWhatIsQueuedAtOnce() {
        var m = Self.machine { $0.protocolVersion = .resp3 }
        #expect(m.connectStarted(now: 0, commandsQueued: true) == true)
        _ = m.connected(now: 1)
        guard case .fail(let error) = m.handshakeReply(.error(Array("WRONGPASS invalid".utf8)), now: 2) else {
            Issue.record("the handshake was not refused")
            return
        }
        let decision = m.attemptRefused(error, now: 2, random: 0.5)!
        #expect(decision.failQueued == error)
        #expect(decision.reconnectAt == nil, "an idle connection reconnects on its next command")
        #expect(m.state == .disconnected)
    }

    /// A dedicated connection that served never reconnects: the pool's `CLIENT ID` for
    /// it would go stale. Its queued commands fail, never sent, and so do later ones.
    @Test func aBlockingConnectionLostAfterServingIsDefunct() {
        var m = Self.machine(isBlocking: true)
        Self.ready(&m, at: 0)
        let decision = m.connectionLost(reason: "reset", now: 1, queueRemains: true, random: 0.5)!
        #expect(decision.becameDefunct)
        #expect(decision.failQueued == .connectionLost(endpoint: "db:6379", reason: "reset", delivery: .notSent))
        #expect(decision.reconnectAt == nil)
        #expect(m.commandsQueued(now: 2, wasIdle: true) == .failQueued, "a defunct connection accepts no command")
        #expect(m.defunctError.isSafeToRetry)
        // One that never got ready reconnects as any other.
        var fresh = Self.machine(isBlocking: true)
        #expect(fresh.connectStarted(now: 0, commandsQueued: true) == true)
        #expect(fresh.connectionLost(reason: "refused", now: 1, queueRemains: true, random: 0.5)?.becameDefunct == false)
    }

    // MARK: Liveness and command timeouts

    @Test func livenessClosesAConnectionWhoseWrittenCommandGetsNoReply() {
        var m = Self.machine()
        Self.ready(&m, at: 0)
        #expect(m.commandsQueued(now: 100 * Self.ms, wasIdle: true) == .write)
        let deadline = m.nextDeadline(commandDeadline: nil, hasPending: true)!
        #expect(deadline == 600 * Self.ms + 1)
        #expect(m.deadlinePassed(now: deadline - 1, hasWrittenPending: true) == .none)
        // A reply meanwhile moves the liveness moment: the timer fires early, finds
        // nothing due, and is set again.
        m.progress(at: 400 * Self.ms)
        #expect(m.deadlinePassed(now: deadline, hasWrittenPending: true) == .none)
        let moved = m.nextDeadline(commandDeadline: nil, hasPending: true)!
        #expect(moved == 900 * Self.ms + 1)
        guard case .lose(let reason) = m.deadlinePassed(now: moved, hasWrittenPending: true) else {
            Issue.record("a silent server was not declared dead")
            return
        }
        #expect(reason == "no reply for 0.5 seconds")
    }

    @Test func livenessWaitsForACommandToGoOutAndSparesBlockingConnections() {
        var m = Self.machine()
        Self.ready(&m, at: 0)
        _ = m.commandsQueued(now: 0, wasIdle: true)
        #expect(m.deadlinePassed(now: 10_000 * Self.ms, hasWrittenPending: false) == .none, "still unsent: waiting for the socket, not the server")
        var blocking = Self.machine(isBlocking: true)
        Self.ready(&blocking, at: 0)
        _ = blocking.commandsQueued(now: 0, wasIdle: true)
        #expect(blocking.nextDeadline(commandDeadline: nil, hasPending: true) == nil)
        #expect(blocking.deadlinePassed(now: 10_000 * Self.ms, hasWrittenPending: true) == .none)
        var off = Self.machine { $0.livenessTimeout = nil }
        Self.ready(&off, at: 0)
        #expect(off.nextDeadline(commandDeadline: nil, hasPending: true) == nil)
    }

    @Test func theEarliestDeadlineWins() {
        var m = Self.machine()
        Self.ready(&m, at: 0)
        #expect(m.nextDeadline(commandDeadline: 50 * Self.ms, hasPending: true) == 50 * Self.ms)
        #expect(m.nextDeadline(commandDeadline: 900 * Self.ms, hasPending: true) == 500 * Self.ms + 1)
        #expect(m.nextDeadline(commandDeadline: nil, hasPending: false) == nil)
    }

    /// A full socket sets off sweeps for commands cancelled behind it, every 50 ms until
    /// the queue is written out; never while not ready, and not after a loss or close.
    @Test func aFullSocketSetsOffSweepsUntilTheQueueIsWritten() {
        let interval = ConnectionStateMachine.abandonedSweepInterval
        var m = Self.machine { $0.livenessTimeout = nil }
        #expect(m.writeBlocked(now: 0) == false, "not ready: nothing is written")
        Self.ready(&m, at: 0)
        #expect(m.nextDeadline(commandDeadline: nil, hasPending: true) == nil)
        #expect(m.writeBlocked(now: 10) == true)
        #expect(m.writeBlocked(now: 20) == false, "one sweep due at a time")
        #expect(m.nextDeadline(commandDeadline: nil, hasPending: true) == 10 + interval)
        #expect(m.sweepDue(now: 9 + interval, queueUnwritten: true) == false, "not yet")
        #expect(m.sweepDue(now: 10 + interval, queueUnwritten: true) == true)
        #expect(m.nextDeadline(commandDeadline: nil, hasPending: true) == 10 + 2 * interval, "the next, while the socket pushes back")
        #expect(m.sweepDue(now: 10 + 2 * interval, queueUnwritten: false) == true)
        #expect(m.nextDeadline(commandDeadline: nil, hasPending: true) == nil, "the queue went out: no more")
        #expect(m.sweepDue(now: 10 + 3 * interval, queueUnwritten: true) == false)
        // A loss and a close end them: the queue's unwritten commands are taken out there.
        #expect(m.writeBlocked(now: 1000) == true)
        _ = m.connectionLost(reason: "x", now: 1001, queueRemains: true, random: 0.5)
        #expect(m.abandonedSweepAt == nil)
        Self.ready(&m, at: 2000)
        #expect(m.writeBlocked(now: 2000) == true)
        m.close()
        #expect(m.abandonedSweepAt == nil)
        #expect(m.sweepDue(now: 2000 + interval, queueUnwritten: true) == false)
    }

    /// A command that runs out of its timeout while the connection keeps failing was
    /// never sent: its error says why the connection fails.
    @Test func anExpiredCommandSaysWhyItWasNotSent() {
        var m = Self.machine()
        Self.ready(&m, at: 0)
        #expect(m.expiryError(command: "GET", timeout: .milliseconds(10)) == .timeout(command: "GET", after: .milliseconds(10)))
        var failing = Self.machine()
        #expect(failing.connectStarted(now: 0, commandsQueued: true) == true)
        _ = failing.connectionLost(reason: "connection refused", now: 1, queueRemains: true, random: 0.5)
        #expect(failing.expiryError(command: "GET", timeout: .milliseconds(10))
            == .connectionFailed(endpoint: "db:6379", reason: "connection refused (GET not sent within its timeout of 0.01 seconds)"))
    }

    // MARK: Close

    @Test func closeDrainsLiveCommandsUntilTheGracePeriodEnds() {
        var m = Self.machine()
        Self.ready(&m, at: 0)
        #expect(m.closeRequested(now: 0, gracePeriod: .seconds(1), liveCommands: 0) == .finish, "nothing to wait for")
        var n = Self.machine()
        Self.ready(&n, at: 0)
        #expect(n.closeRequested(now: 10 * Self.ms, gracePeriod: .seconds(1), liveCommands: 3) == .waitUntil(1010 * Self.ms))
        #expect(n.closeRequested(now: 20 * Self.ms, gracePeriod: .seconds(5), liveCommands: 3) == .waitUntil(1010 * Self.ms), "a second close joins the first")
        #expect(!n.closeMayFinish(liveCommands: 1))
        #expect(n.closeMayFinish(liveCommands: 0), "the last reply finishes it")
        #expect(n.nextDeadline(commandDeadline: nil, hasPending: true) == 500 * Self.ms + 1, "liveness still applies")
        #expect(n.deadlinePassed(now: 1010 * Self.ms, hasWrittenPending: false) == .finishClose)
        n.close()
        #expect(n.state == .closed)
        #expect(n.connectionLost(reason: "x", now: 2000 * Self.ms, queueRemains: true, random: 0) == nil, "closed for good")
        #expect(n.commandsQueued(now: 2000 * Self.ms, wasIdle: true) == .wait)
        #expect(n.connectStarted(now: 2000 * Self.ms) == false)
        #expect(m.closeRequested(now: 0, gracePeriod: .zero, liveCommands: 5) == .finish)
    }

    @Test func closeDuringTheHandshakeWaitsForTheQueuedCommandsOrTheDeadline() {
        var m = Self.machine { $0.protocolVersion = .resp3 }
        #expect(m.connectStarted(now: 0, commandsQueued: true) == true)
        _ = m.connected(now: 1)
        #expect(m.closeRequested(now: 2, gracePeriod: .milliseconds(100), liveCommands: 2) == .waitUntil(2 + 100 * Self.ms))
        // The connect deadline (1 s) is later than the close's.
        #expect(m.nextDeadline(commandDeadline: nil, hasPending: true) == 2 + 100 * Self.ms)
        #expect(m.handshakeReply(.map([]), now: 3) == .ready)
        #expect(m.commandsQueued(now: 3, wasIdle: false) == .write, "the queued commands may still go out within the grace period")
    }
}
