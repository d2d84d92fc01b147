/// What ``RedisClient/connectionForCallback()`` finds: a connection with room, or why
/// there is none, in plain values. The `Result<RedisConnection, RedisError>` it replaced
/// cost every callback command an outlined destroy of the error's many cases, about 60
/// instructions, though the error is all but never there.
enum CallbackConnection {
    case ready(RedisConnection)
    case refused(Refusal)

    /// Why a callback command gets no connection.
    enum Refusal {
        /// The client is closed.
        case closed
        /// The picked connection is past twice its limits.
        case overloaded(pending: Int, unsentBytes: Int)

        /// The error the command completes with.
        var error: RedisError {
            switch self {
            case .closed: .closed
            case .overloaded(let pending, let unsentBytes): .overloaded(pending: pending, unsentBytes: unsentBytes)
            }
        }
    }
}
