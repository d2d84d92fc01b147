import DequeModule
import RESP

/// The life of one connection as a pure state machine: events in, actions out, no
/// sockets, so every transition is tested with plain values.
///
/// disconnected → connecting → handshaking → ready → (failure) → disconnected … → closed.
/// User commands are never written before the handshake (HELLO/AUTH/SELECT/CLIENT
/// SETNAME) has been answered; they wait in the outbound queue meanwhile.
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
        case hello, auth, select, setName
        var description: String {
            switch self {
            case .hello: "HELLO"
            case .auth: "AUTH"
            case .select: "SELECT"
            case .setName: "CLIENT SETNAME"
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

    private(set) var state: State = .disconnected
    /// The protocol the server agreed to.
    private(set) var negotiated: RedisConfiguration.ProtocolVersion = .resp2
    private var awaiting = Deque<HandshakeStep>()
    private let settings: Settings
    /// Consecutive failed connection attempts, for the backoff.
    private(set) var failedAttempts = 0

    /// The handshake-relevant part of the configuration.
    struct Settings: Equatable {
        var username: String?
        var password: String?
        var database: Int
        var clientName: String?
        var protocolVersion: RedisConfiguration.ProtocolVersion

        init(_ configuration: RedisConfiguration) {
            username = configuration.username
            password = configuration.password
            database = configuration.database
            clientName = configuration.clientName
            protocolVersion = configuration.protocolVersion
        }
    }

    init(settings: Settings) {
        self.settings = settings
    }

    /// A connection attempt begins. Returns `false` when one is already under way or the connection is closed.
    mutating func connectStarted() -> Bool {
        guard state == .disconnected else { return false }
        state = .connecting
        return true
    }

    /// The socket connected: returns the first handshake bytes, or `nil` when no
    /// handshake is needed and the connection is ready at once.
    mutating func connected() -> [UInt8]? {
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
            bytes = resp2Handshake(includingSelect: true)
        }
        if awaiting.isEmpty {
            state = .ready
            failedAttempts = 0
            return nil
        }
        state = .handshaking
        return bytes
    }

    /// A reply arrived while handshaking.
    mutating func handshakeReply(_ reply: RESPValue) -> HandshakeAction {
        precondition(state == .handshaking, "handshakeReply in state \(state)")
        guard let step = awaiting.popFirst() else {
            return .fail(.handshakeFailed(step: "handshake", message: "unexpected reply \(reply) with no handshake command pending"))
        }
        if let message = reply.errorMessage {
            if step == .hello && (message.hasPrefix("ERR unknown command") || message.hasPrefix("NOPROTO")) {
                // A server before Redis 6 (or one refusing RESP3): carry on in RESP2.
                negotiated = .resp2
                let bytes = resp2Handshake(includingSelect: true)
                return awaiting.isEmpty ? becomeReady() : .write(bytes)
            }
            // The client name is a label for CLIENT LIST. An ACL may refuse CLIENT (RESP3's
            // HELLO … SETNAME is not checked against it): the connection works without one.
            guard step == .setName else {
                // The server may quote the refused command, password and all.
                let redacted = SecretRedaction.redacting([settings.password].compactMap { $0 }, in: message)
                return .fail(.handshakeFailed(step: step.description, message: redacted))
            }
            return awaiting.isEmpty ? becomeReady() : .wait
        }
        if step == .hello {
            negotiated = .resp3
            if settings.database != 0 {
                var bytes: [UInt8] = []
                RESPEncoder.encodeCommand(into: &bytes, "SELECT", settings.database)
                awaiting.append(.select)
                return .write(bytes)
            }
        }
        return awaiting.isEmpty ? becomeReady() : .wait
    }

    private mutating func becomeReady() -> HandshakeAction {
        state = .ready
        failedAttempts = 0
        return .ready
    }

    /// AUTH, SELECT and CLIENT SETNAME pipelined; AUTH first so the others run authenticated.
    private mutating func resp2Handshake(includingSelect: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        if let password = settings.password {
            if let username = settings.username {
                RESPEncoder.encodeCommand(into: &bytes, "AUTH", username, password)
            } else {
                RESPEncoder.encodeCommand(into: &bytes, "AUTH", password)
            }
            awaiting.append(.auth)
        }
        if includingSelect && settings.database != 0 {
            RESPEncoder.encodeCommand(into: &bytes, "SELECT", settings.database)
            awaiting.append(.select)
        }
        if let name = settings.clientName {
            RESPEncoder.encodeCommand(into: &bytes, "CLIENT", "SETNAME", name)
            awaiting.append(.setName)
        }
        return bytes
    }

    /// The socket failed or closed. Returns `false` if the connection is closed for good.
    mutating func connectionLost(duringConnect: Bool) -> Bool {
        guard state != .closed else { return false }
        if duringConnect || state != .ready { failedAttempts += 1 }
        state = .disconnected
        awaiting.removeAll()
        return true
    }

    /// Closed by its owner; no reconnect follows.
    mutating func close() {
        state = .closed
        awaiting.removeAll()
    }
}
