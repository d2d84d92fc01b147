import RESP

/// Durations as the channel's Redis commands take them.
enum ChannelTimeout {
    /// Whole seconds use `EXPIRE key seconds`, exactly what the Python side sends;
    /// anything finer uses `PEXPIRE` (rounded up to a millisecond, since `PEXPIRE 0`
    /// would delete the list at once).
    static func expiry(_ timeout: Duration) throws(RedisChannelError) -> (command: String, amount: Int) {
        guard timeout > .zero else {
            throw .invalidArgument("a channel timeout must be positive, got \(timeout); EXPIRE with it would delete the list at once")
        }
        // Redis refuses expiries past about 9e15 s ("invalid expire time"), and would do so
        // only after the push: refused here, before anything is sent.
        guard timeout <= maxExpiry else {
            throw .invalidArgument("a channel timeout of \(timeout) is beyond what Redis can expire (at most \(maxExpiry))")
        }
        let (seconds, attoseconds) = timeout.components
        if attoseconds == 0 { return ("EXPIRE", Int(seconds)) }
        return ("PEXPIRE", try milliseconds(roundingUp: timeout))
    }

    /// The longest channel timeout: about 31 million years, well inside Redis' range.
    static let maxExpiry = Duration.seconds(1_000_000_000_000_000)

    /// The `BLPOP` timeout argument: `0` (forever) for `.zero`, whole seconds as an
    /// integer, finer ones as decimal seconds with millisecond precision, rounded up:
    /// Redis truncates to milliseconds, so `0.0004` would become `0`, which means
    /// forever. With it, how long the client waits (``BlockingCommand/grace`` past the
    /// server's timeout), as the client would read it from the command.
    static func blocking(_ timeout: Duration) throws(RedisChannelError) -> (argument: String, wait: BlockingWait) {
        guard timeout >= .zero else {
            throw .invalidArgument("a blocking timeout must not be negative, got \(timeout)")
        }
        guard timeout > .zero else { return ("0", .forever) }
        let (seconds, attoseconds) = timeout.components
        if attoseconds == 0 { return (String(seconds), .within(timeout + BlockingCommand.grace)) }
        let milliseconds = try milliseconds(roundingUp: timeout)
        return ((Double(milliseconds) / 1000).description, .within(.milliseconds(milliseconds) + BlockingCommand.grace))
    }

    private static func milliseconds(roundingUp duration: Duration) throws(RedisChannelError) -> Int {
        let (seconds, attoseconds) = duration.components
        let perMillisecond: Int64 = 1_000_000_000_000_000
        let (whole, rest) = attoseconds.quotientAndRemainder(dividingBy: perMillisecond)
        let (scaled, overflowed) = Int(seconds).multipliedReportingOverflow(by: 1000)
        let (total, overflowedAgain) = scaled.addingReportingOverflow(Int(whole) + (rest > 0 ? 1 : 0))
        guard !overflowed, !overflowedAgain else {
            throw .invalidArgument("a timeout of \(duration) does not fit in milliseconds")
        }
        return total
    }
}
