import RESP

/// Every failure the client reports.
///
/// Connection failures say whether the command concerned reached the socket:
/// ``CommandDelivery/notSent`` is always safe to retry, ``CommandDelivery/written``
/// means the server may or may not have executed it.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Whether a failed command had been written to the server.
    public enum CommandDelivery: Sendable, Equatable, CustomStringConvertible {
        /// Never written: the server cannot have executed it; retrying is safe.
        case notSent
        /// Written but unanswered: the outcome is unknown.
        case written

        /// Whether retrying is safe, as error messages say it.
        public var description: String {
            switch self {
            case .notSent: "the command was never sent, so retrying is safe"
            case .written: "the command was written, its outcome is unknown"
            }
        }
    }

    /// The server could not be reached (refused, unreachable, name not resolved); the
    /// command was not sent. Queued commands fail with it once connecting has failed for
    /// ``RedisConfiguration/connectTimeout``, or earlier at their own timeout, which
    /// `reason` then names.
    case connectionFailed(endpoint: String, reason: String)
    /// The connection broke (EOF, reset, protocol error, liveness timeout) before the reply arrived.
    case connectionLost(endpoint: String, reason: String, delivery: CommandDelivery)
    /// No reply within the command's timeout (the configured one, or a blocking
    /// command's own plus a grace period): `command` is its name (`"BLPOP"`), `after`
    /// that timeout. The connection stays in use and the late reply is discarded when
    /// it arrives. The command may have run: not safe to retry blindly.
    case timeout(command: String, after: Duration)
    /// A blocking command found no dedicated connection within its timeout (plus the
    /// grace period, `waited`): every one of ``RedisConfiguration/maxBlockingConnections``
    /// stayed busy, or opening a new one did not finish in time. It was never sent, so
    /// retrying is safe.
    case noBlockingConnection(command: String, waited: Duration)
    /// The server answered with an error reply, e.g. `WRONGTYPE Operation against a key…`.
    case server(message: String)
    /// No connection could be opened for the command because the process is close to its
    /// limit of open files (`RLIMIT_NOFILE`, `limit`): the client leaves the last
    /// `reserved` descriptors to the rest of the process (Dispatch, files, logs) rather
    /// than take every one. The command was never sent, so retrying is safe; the
    /// connections already open keep serving. Raise the limit (`ulimit -n`) or configure
    /// fewer ``RedisConfiguration/connections``.
    case descriptorLimit(limit: Int, reserved: Int)
    /// The server sent bytes that are not valid RESP; the connection was closed.
    case protocolError(RESPError)
    /// A reply could not be converted to the requested Swift type.
    case unexpectedReply(RESPConversionError)
    /// A message could not be decoded as the requested type; it was already removed
    /// from `list`, so its raw bytes are handed back rather than lost.
    case undecodable(raw: [UInt8], list: String, reason: String)
    /// Messages popped together (a batch receive) include one at `index` that cannot be
    /// decoded; every one of them was removed from `list`, so all are handed back.
    case undecodableBatch(raw: [[UInt8]], list: String, index: Int, reason: String)
    /// The handshake (HELLO, AUTH, SELECT, CLIENT SETNAME) was refused (a wrong
    /// password, `max number of clients reached` …); the command was never sent. A
    /// cluster client reports it too when no node gave the slot map and one of them
    /// refused the handshake (the nodes share one ACL).
    case handshakeFailed(step: String, message: String)
    /// TLS failed with `endpoint`: the handshake (a certificate that does not verify, a
    /// name that does not match, a server that asked for a client certificate, a port
    /// that does not speak TLS), or the TLS settings themselves (an unreadable CA file
    /// or key). `reason` is OpenSSL's, in words. No command was sent: retrying is safe
    /// once the cause is fixed.
    case tlsFailed(endpoint: String, reason: String)
    /// An argument was rejected before anything was sent.
    case invalidArgument(String)
    /// The command cannot run on the client's shared, multiplexed connections, and was
    /// not sent: `reason` says why and what to use instead. These are the commands that
    /// change a connection's state for every caller on it (`SELECT`, `AUTH`, `HELLO`,
    /// `CLIENT REPLY`, `RESET`, `QUIT`, `WATCH`, a `MULTI` not closed in the same
    /// batch), or turn it into a stream of unsolicited replies (`SUBSCRIBE` and its
    /// kin, `MONITOR`, `SYNC`), and blocking commands inside a pipeline.
    case unsupportedCommand(command: String, reason: String)
    /// A cluster client's command names keys in more than one hash slot, which no node
    /// of a Redis Cluster serves together: `keys[i]` lies in `slots[i]`, in argument
    /// order. Nothing was sent. Keys meant to be used together share a slot when they
    /// share a hash tag: `{user1000}.following` and `{user1000}.followers`.
    case crossSlot(keys: [String], slots: [Int])
    /// A cluster client's command was redirected (`MOVED`, `ASK`) `redirections` times in
    /// a row without being answered (with no pause for a retry between them), the most a
    /// command is; `last` is the final
    /// redirection (`MOVED slot 3999 to 127.0.0.1:7002`). A redirection means the node
    /// did not run the command, so none of the nodes did: retrying is safe, once the
    /// cluster's slots stop moving.
    case tooManyRedirections(command: String, redirections: Int, last: String)
    /// A ``RedisSubscription`` ended without being closed: its connection was lost or
    /// stopped answering, or its reader fell too far behind. Messages published after
    /// that are not received (publish/subscribe delivers at most once); subscribe again.
    case subscriptionEnded(reason: String)
    /// Too many commands are pending or too many bytes unsent; nothing was sent.
    case overloaded(pending: Int, unsentBytes: Int)
    /// The task awaiting the reply was cancelled; the connection stays in use. A command
    /// that removes what only its reply holds (`LPOP` …), and under
    /// ``RedisConfiguration/CancellationPolicy/afterReply`` every command, ends this way
    /// only when it was cancelled before it was sent: once sent, its reply is returned.
    case cancelled
    /// The client was closed; nothing was sent.
    case closed

    /// What failed, where and why, in one sentence that names the command or endpoint.
    public var description: String {
        switch self {
        case .connectionFailed(let endpoint, let reason):
            "cannot connect to \(endpoint): \(reason)"
        case .connectionLost(let endpoint, let reason, let delivery):
            "connection to \(endpoint) lost (\(reason)); \(delivery)"
        case .timeout(let command, let after):
            "\(command) got no reply within \(after); a late reply, if any, will be discarded and the connection stays open"
        case .noBlockingConnection(let command, let waited):
            "\(command) was not sent: no connection for blocking commands came free within \(waited) (all of maxBlockingConnections busy, or opening one too slow); retrying is safe"
        case .descriptorLimit(let limit, let reserved):
            "no file descriptor for a new connection: the process is within \(reserved) of its limit of \(limit) open files (RLIMIT_NOFILE), which the client leaves to the rest of the process; the command was never sent, so retrying is safe (raise the limit with ulimit -n, or configure fewer connections)"
        case .server(let message):
            "server error: \(message)"
        case .protocolError(let error):
            "protocol error: \(error)"
        case .unexpectedReply(let error):
            "unexpected reply: \(error)"
        case .undecodable(let raw, let list, let reason):
            "undecodable message (\(raw.count) bytes) from \(list): \(reason)"
        case .undecodableBatch(let raw, let list, let index, let reason):
            "message \(index) of \(raw.count) popped together from \(list) is undecodable: \(reason); all \(raw.count) are in this error"
        case .handshakeFailed(let step, let message):
            "connection handshake failed at \(step): \(message)"
        case .tlsFailed(let endpoint, let reason):
            "TLS with \(endpoint) failed: \(reason); the command was never sent, so retrying is safe"
        case .invalidArgument(let message):
            "invalid argument: \(message)"
        case .unsupportedCommand(let command, let reason):
            "\(command) was not sent: \(reason)"
        case .crossSlot(let keys, let slots):
            "the keys lie in different cluster hash slots (\(zip(keys, slots).map { "\($0) in slot \($1)" }.joined(separator: ", "))); nothing was sent: a cluster runs a command only when all its keys share one slot (give them a common hash tag, as in {user1}.a and {user1}.b)"
        case .tooManyRedirections(let command, let redirections, let last):
            "\(command) was redirected \(redirections) times without an answer (last: \(last)); no node ran it, so retrying is safe once the cluster's slots stop moving"
        case .subscriptionEnded(let reason):
            "the subscription ended: \(reason); messages published since are not received"
        case .overloaded(let pending, let unsentBytes):
            "overloaded: \(pending) commands pending and \(unsentBytes) bytes unsent on the connection; nothing was sent"
        case .cancelled:
            "cancelled while waiting for the reply"
        case .closed:
            "the client is closed"
        }
    }

    /// Whether the command certainly did not reach the server, so that retrying cannot duplicate it.
    public var isSafeToRetry: Bool {
        switch self {
        case .connectionFailed, .overloaded, .closed, .invalidArgument, .unsupportedCommand, .handshakeFailed, .tlsFailed, .noBlockingConnection,
             .descriptorLimit, .crossSlot, .tooManyRedirections: true
        case .connectionLost(_, _, let delivery): delivery == .notSent
        default: false
        }
    }
}
