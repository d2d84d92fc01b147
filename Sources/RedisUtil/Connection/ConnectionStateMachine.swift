import DequeModule
import Reactor
import RESP

/// The life of one connection as a pure state machine: events in, decisions out, no
/// sockets and no clock (every event that depends on time carries `now`, monotonic
/// nanoseconds), so every rule is a unit test with plain values.
///
/// disconnected → connecting → handshaking → ready → (failure) → disconnected … → closed.
/// User commands are never written before the handshake (HELLO/AUTH/SELECT/CLIENT
/// SETNAME) has been answered; they wait in the outbound queue meanwhile.
///
/// The rules live here, each in one function: what a queued command sets off
/// (``commandsQueued(now:wasIdle:)``), what a lost connection fails and whether it
/// reconnects (``connectionLost(reason:protocolError:now:queueRemains:random:)``), which
/// deadline comes next and what passing it means (``nextDeadline(commandDeadline:hasWrittenPending:)``,
/// ``deadlinePassed(now:hasWrittenPending:)``, ``expiryError(command:timeout:)``), when
/// the commands behind a full socket are looked through for cancelled ones
/// (``writeBlocked(now:)``, ``sweepDue(now:queueUnwritten:)``), and how a close drains
/// (``closeRequested(now:gracePeriod:liveCommands:)``).
/// ``RedisConnection`` only performs what they decide.
struct ConnectionStateMachine {
    enum State: Equatable {
        case disconnected
        case connecting
        case handshaking
        case ready
        case closed
    }

    /// A handshake command whose reply is awaited.
    enum HandshakeStep: Equatable, CustomStringConvertible {
        case hello, auth, select, setName, readOnly
        var description: String {
            switch self {
            case .hello: "HELLO"
            case .auth: "AUTH"
            case .select: "SELECT"
            case .setName: "CLIENT SETNAME"
            case .readOnly: "READONLY"
            }
        }
    }

    /// What the shell must do after a handshake reply.
    enum HandshakeAction: Equatable {
        /// Wait for more handshake replies.
        case wait
        /// Write these handshake commands, then wait.
        case write([UInt8])
        /// The connection is ready: write the queued user commands.
        case ready
        /// The handshake was refused: close, fail queued commands with this error, back off.
        case fail(RedisError)
    }

    /// The part of the configuration the machine decides with.
    struct Settings: Equatable {
        var username: String?
        var password: String?
        var database: Int
        var clientName: String?
        var protocolVersion: RedisConfiguration.ProtocolVersion
        /// How long connecting plus the handshake may take, and how long commands may
        /// wait for a connection before they fail.
        var connectTimeout: UInt64
        /// How overdue the oldest written command may be before the connection is dead.
        var livenessTimeout: UInt64?
        var backoff: RedisConfiguration.Backoff
        /// A dedicated connection for blocking commands: its replies may take forever
        /// (no liveness check), and once it has served it never reconnects.
        var isBlocking: Bool
        /// For errors: `host:port`, never credentials.
        var endpoint: String
        /// Whether a TLS handshake precedes the Redis one (for the connect timeout's words).
        var tls: Bool
        /// Whether the handshake ends with `READONLY` (a cluster client reading from replicas).
        var readOnly: Bool

        init(_ configuration: RedisConfiguration, endpoint: String = "", isBlocking: Bool = false) {
            username = configuration.username
            password = configuration.password
            database = configuration.database
            clientName = configuration.clientName
            protocolVersion = configuration.protocolVersion
            connectTimeout = configuration.connectTimeout.nanosecondsClamped
            livenessTimeout = configuration.livenessTimeout?.nanosecondsClamped
            backoff = configuration.backoff
            self.isBlocking = isBlocking
            self.endpoint = endpoint
            tls = configuration.tls != nil
            readOnly = configuration.sendsReadOnly
        }
    }

    // The state below is set only by the machine's own methods, here and in its
    // extensions (+Handshake, +Loss, +Deadlines: one file per rule set, which
    // `private(set)` would not allow); the shell reads it.

    var state: State = .disconnected
    /// The protocol the server agreed to.
    var negotiated: RedisConfiguration.ProtocolVersion = .resp2
    var awaiting = Deque<HandshakeStep>()
    let settings: Settings
    /// Consecutive failed connection attempts, for the backoff.
    var failedAttempts = 0
    /// Whether a handshake has ever completed.
    var hasBeenReady = false
    /// A blocking connection lost after serving: it never reconnects, because the pool's
    /// `CLIENT ID` for it would go stale and `CLIENT UNBLOCK` could then release another
    /// client's command.
    var isDefunct = false
    /// Why the last attempt failed or the connection was lost.
    var lastError = "not connected yet"
    /// When commands started waiting for a connection (the connect timeout counts from
    /// there, across attempts); `nil` while none wait or the connection is ready.
    var disconnectedSince: UInt64?
    /// When the connection attempt under way must have finished its handshake.
    var connectDeadline: UInt64?
    /// When the backoff lets the next attempt start; `nil` when none is due.
    var reconnectAt: UInt64?
    /// When a reply last arrived, or the queue last became non-empty: the liveness clock.
    var lastProgress: UInt64 = 0
    /// When a close waiting for replies gives up on them; `nil` when not closing.
    var closeDeadline: UInt64?
    /// When the shell next looks behind a full socket for commands whose tasks were
    /// cancelled before they were written (``writeBlocked(now:)``); `nil` while the
    /// socket takes what the queue offers.
    var abandonedSweepAt: UInt64?

    init(settings: Settings) {
        self.settings = settings
    }

    // MARK: Commands

    /// What queueing commands sets off. No payload: it is decided for every command, and
    /// a small trivial enum costs nothing to return.
    enum QueueAction: Equatable {
        /// Write them (ready).
        case write
        /// Start connecting.
        case connect
        /// Fail everything queued with ``defunctError``, never sent: this blocking
        /// connection is gone for good.
        case failQueued
        /// Nothing yet: a connection attempt or its backoff is under way, or closed.
        case wait
    }

    /// Commands were queued at `now`; `wasIdle` when none was pending before them.
    @inline(__always)
    mutating func commandsQueued(now: UInt64, wasIdle: Bool) -> QueueAction {
        // The liveness clock starts when the first command of a burst waits.
        if wasIdle { lastProgress = now }
        switch state {
        case .ready:
            return .write
        case .disconnected:
            if isDefunct { return .failQueued }
            return reconnectAt == nil ? .connect : .wait
        case .connecting, .handshaking, .closed:
            return .wait
        }
    }

    /// What a command queued on a defunct connection fails with: it was never sent.
    var defunctError: RedisError {
        .connectionLost(endpoint: settings.endpoint, reason: "this blocking connection was lost earlier: \(lastError)", delivery: .notSent)
    }

    /// Bytes arrived at `now`: the server is alive.
    mutating func progress(at now: UInt64) {
        lastProgress = now
    }

    // MARK: Connecting

    /// A connection attempt begins at `now`, with commands queued or not. Returns `false`
    /// when one is already under way or the connection is closed.
    mutating func connectStarted(now: UInt64, commandsQueued: Bool = false) -> Bool {
        guard state == .disconnected else { return false }
        state = .connecting
        reconnectAt = nil
        connectDeadline = now &+ settings.connectTimeout
        // Commands waiting from the first attempt on: its time counts against the
        // connect timeout, so a stalled first attempt is not followed by a second.
        if disconnectedSince == nil && commandsQueued { disconnectedSince = now }
        return true
    }

    /// The socket connected: returns the first handshake bytes, or `nil` when no
    /// handshake is needed and the connection is ready at once.
    mutating func connected(now: UInt64) -> [UInt8]? {
        precondition(state == .connecting, "connected() in state \(state)")
        awaiting.removeAll()
        var bytes: [UInt8] = []
        if settings.protocolVersion == .resp3 {
            var arguments: [any RESPArgument] = ["HELLO", "3"]
            if let password = settings.password {
                arguments += ["AUTH", settings.username ?? "default", password]
            }
            if let name = settings.clientName { arguments += ["SETNAME", name] }
            RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
            awaiting.append(.hello)
        } else {
            bytes = resp2Handshake()
        }
        if awaiting.isEmpty {
            becomeReady(now: now)
            return nil
        }
        state = .handshaking
        return bytes
    }

    /// The handshake completed.
    mutating func becomeReady(now: UInt64) {
        state = .ready
        failedAttempts = 0
        hasBeenReady = true
        connectDeadline = nil
        disconnectedSince = nil
        // Commands queued while disconnected have waited for the socket, not for the
        // server: the liveness clock starts when they can first be written.
        lastProgress = now
    }

    /// Every queued command was failed: nothing waits for a connection any more.
    mutating func queueEmptied() {
        disconnectedSince = nil
    }

    // MARK: Closing

    /// What a close does now.
    enum CloseAction: Equatable {
        /// Close the socket and fail what is left, now.
        case finish
        /// Wait for the live commands' replies until `deadline`, then finish.
        case waitUntil(UInt64)
    }

    /// The owner closes the connection at `now`, giving the `liveCommands` already
    /// accepted up to `gracePeriod` to be answered (a reconnect in progress may still
    /// deliver never-sent ones). Placeholders of timed-out commands owe nobody an answer
    /// and are not counted.
    mutating func closeRequested(now: UInt64, gracePeriod: Duration, liveCommands: Int) -> CloseAction {
        if let closeDeadline { return .waitUntil(closeDeadline) }
        guard liveCommands > 0, gracePeriod > .zero else { return .finish }
        closeDeadline = now &+ gracePeriod.nanosecondsClamped
        return .waitUntil(closeDeadline!)
    }

    /// Whether a close waits and, with `liveCommands` left, may finish now.
    func closeMayFinish(liveCommands: Int) -> Bool {
        closeDeadline != nil && liveCommands == 0
    }

    /// Closed by its owner; no reconnect follows.
    mutating func close() {
        state = .closed
        abandonedSweepAt = nil
        awaiting.removeAll()
        closeDeadline = nil
        connectDeadline = nil
        reconnectAt = nil
    }
}
