extension RedisError {
    /// Error codes of replies common enough to be told apart in `error.type`.
    private static let knownServerCodes: Set<Substring> = [
        "ERR", "WRONGTYPE", "NOSCRIPT", "BUSY", "LOADING", "MOVED", "ASK", "TRYAGAIN", "CLUSTERDOWN",
        "MASTERDOWN", "READONLY", "NOAUTH", "NOPERM", "WRONGPASS", "EXECABORT", "OOM", "NOREPLICAS",
        "BUSYGROUP", "NOGROUP", "MISCONF", "UNKILLABLE", "NOTBUSY", "CROSSSLOT",
    ]

    /// The value of the `error.type` dimension and span attribute: the case's name in
    /// snake case, and for an error reply `server.` and its code when the code is a
    /// common one (`server.WRONGTYPE`), else `server`. A bounded set: never a message.
    var metricType: String {
        switch self {
        case .server(let message):
            let code = message.prefix { $0 != " " }
            return Self.knownServerCodes.contains(code) ? "server.\(code)" : "server"
        case .connectionFailed: return "connection_failed"
        case .connectionLost: return "connection_lost"
        case .timeout: return "timeout"
        case .noBlockingConnection: return "no_blocking_connection"
        case .descriptorLimit: return "descriptor_limit"
        case .protocolError: return "protocol_error"
        case .unexpectedReply: return "unexpected_reply"
        case .undecodable, .undecodableBatch: return "undecodable"
        case .handshakeFailed: return "handshake_failed"
        case .tlsFailed: return "tls_failed"
        case .invalidArgument: return "invalid_argument"
        case .unsupportedCommand: return "unsupported_command"
        case .crossSlot: return "cross_slot"
        case .tooManyRedirections: return "too_many_redirections"
        case .subscriptionEnded: return "subscription_ended"
        case .overloaded: return "overloaded"
        case .cancelled: return "cancelled"
        case .closed: return "closed"
        }
    }
}
