import RESP

/// The commands that block, each with where its timeout argument lies: the one list
/// routing (``SpecialCommand``, which recognises them by these names) and the
/// client-side deadline both read, so a command cannot be recognised as blocking and
/// then lack a deadline, or the other way round.
enum BlockingCommand: CaseIterable, Sendable {
    case blpop, brpop, brpoplpush, blmove, bzpopmin, bzpopmax
    case blmpop, bzmpop
    case wait, waitaof
    case xread, xreadgroup

    /// Extra time past the server-side timeout before the client gives up, so that a
    /// 5 s `BLPOP` is never cut at 5 s by the client.
    static let grace = Duration.seconds(2)

    /// Where a command's server-side timeout is found among its arguments.
    enum TimeoutArgument: Equatable, Sendable {
        /// Seconds (a decimal) in the last argument.
        case secondsLast
        /// Seconds (a decimal) right after the name (`BLMPOP timeout numkeys …`).
        case secondsFirst
        /// Milliseconds (an integer) in the last argument.
        case millisecondsLast
        /// Milliseconds after a `BLOCK` option, which only the options before
        /// `STREAMS` may hold; without one the command does not block at all.
        /// `groupOption`: a `GROUP group consumer` option may come first.
        case blockOption(groupOption: Bool)
    }

    /// The table: each command's name (upper case) and where its timeout lies.
    var entry: (name: StaticString, timeout: TimeoutArgument) {
        switch self {
        case .blpop: ("BLPOP", .secondsLast)
        case .brpop: ("BRPOP", .secondsLast)
        case .brpoplpush: ("BRPOPLPUSH", .secondsLast)
        case .blmove: ("BLMOVE", .secondsLast)
        case .bzpopmin: ("BZPOPMIN", .secondsLast)
        case .bzpopmax: ("BZPOPMAX", .secondsLast)
        case .blmpop: ("BLMPOP", .secondsFirst)
        case .bzmpop: ("BZMPOP", .secondsFirst)
        case .wait: ("WAIT", .millisecondsLast)
        case .waitaof: ("WAITAOF", .millisecondsLast)
        case .xread: ("XREAD", .blockOption(groupOption: false))
        case .xreadgroup: ("XREADGROUP", .blockOption(groupOption: true))
        }
    }

    /// The command's name, upper case, as the recogniser compares it.
    var name: StaticString { entry.name }

    /// A command older than Redis 6.0, whose servers before it take its timeout only in
    /// whole seconds (the newer ones, `BLMOVE` 6.2, `BLMPOP` and `BZMPOP` 7.0, take decimals).
    var takesWholeSecondsBefore6: Bool {
        switch self {
        case .blpop, .brpop, .brpoplpush, .bzpopmin, .bzpopmax: true
        default: false
        }
    }

    /// How long the client waits for this command with `arguments` (the name first);
    /// `nil` when these arguments do not block (an `XREAD` without `BLOCK`).
    func wait(arguments: [[UInt8]]) -> BlockingWait? {
        timeoutIndex(arguments: arguments).map { wait(timeoutAt: $0, in: arguments) }
    }

    /// How long the client waits for this command, its timeout at `index` of `arguments`.
    private func wait(timeoutAt index: Int, in arguments: [[UInt8]]) -> BlockingWait {
        let text = arguments.indices.contains(index) ? String(decoding: arguments[index], as: UTF8.self) : nil
        switch entry.timeout {
        case .secondsLast, .secondsFirst:
            guard let value = text.flatMap({ Double($0) }), value > 0 else { return .forever }
            // Past Int64's milliseconds (`inf`, `1e300`, which converted would trap) no
            // deadline: the server refuses such a timeout as out of range, or holds the
            // command longer than anyone waits.
            guard value * 1000 < 9.2e18 else { return .forever }
            return .within(.milliseconds(Int64(value * 1000)) + Self.grace)
        case .millisecondsLast, .blockOption:
            guard let value = text.flatMap({ Int64($0) }), value > 0 else { return .forever }
            return .within(.milliseconds(value) + Self.grace)
        }
    }

    /// Where the server-side timeout lies among `arguments` (the name first; the index
    /// may lie past them, for a command missing it, which the server refuses); `nil` when
    /// these arguments do not block (an `XREAD` without `BLOCK`).
    private func timeoutIndex(arguments: [[UInt8]]) -> Int? {
        switch entry.timeout {
        case .secondsLast, .millisecondsLast:
            return arguments.count - 1
        case .secondsFirst:
            return 1
        case .blockOption(let groupOption):
            // Options come before STREAMS, and only there is BLOCK an option: a stream
            // key, ID, group or consumer may be called "block" too. The server reads
            // them all, a later BLOCK replacing an earlier one: so does this.
            var found: Int?
            var index = 1
            while arguments.indices.contains(index) {
                switch String(decoding: arguments[index], as: UTF8.self).uppercased() {
                case "BLOCK":
                    found = index + 1
                    index += 2
                case "STREAMS": return found
                case "GROUP" where groupOption: index += 3
                case "COUNT": index += 2
                default: index += 1
                }
            }
            return found
        }
    }

    /// The blocking command `bytes` with its server-side timeout set to `left` instead,
    /// for a command sent again after part of its wait went by (on a cluster: the
    /// server's `MOVED` to a client blocked on a slot that moved, a `CLUSTERDOWN`, a
    /// retry after `ASK` or a pause for `TRYAGAIN`): else a `BLPOP k 4` whose slot moved
    /// after 2.5 s would block 4 s more on the new owner. The time left in the argument's
    /// own form, rounded up (a short wait, not an early end): milliseconds, at least one
    /// (`0` blocks forever), for a timeout in milliseconds (`WAIT`, `XREAD … BLOCK`) or in
    /// decimal seconds (written with three places, as Redis takes them since 6.0, and as
    /// the channel's own are, ``ChannelTimeout/blocking(_:)``); whole seconds, at least
    /// one, for a command older than 6.0 given whole seconds, which is all a server
    /// before 6.0 takes (up to a second longer than the time left). With it, how long the client then waits.
    /// `nil` when `bytes` is not one blocking command with a positive timeout (one that
    /// blocks forever is sent again as it is).
    static func resending(_ bytes: [UInt8], timeLeft left: Duration) -> (bytes: [UInt8], wait: BlockingWait)? {
        guard let name = EncodedCommand.firstName(bytes), case .blocking(let command)? = SpecialCommand.named(name, in: bytes),
              var arguments = EncodedCommand.arguments(bytes),
              let index = command.timeoutIndex(arguments: arguments), index > 0, arguments.indices.contains(index),
              case .within = command.wait(timeoutAt: index, in: arguments)
        else { return nil }
        // `left` is at most the command's own timeout, which fits in Int64 milliseconds.
        let (seconds, attoseconds) = max(left, .zero).components
        var milliseconds = max(1, seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000)
        switch command.entry.timeout {
        case .secondsLast, .secondsFirst:
            if command.takesWholeSecondsBefore6, arguments[index].allSatisfy({ $0 &- UInt8(ascii: "0") < 10 }) {
                milliseconds = (milliseconds + 999) / 1000 * 1000
                arguments[index] = Array(String(milliseconds / 1000).utf8)
            } else {
                let fraction = String(milliseconds % 1000)
                arguments[index] = Array("\(milliseconds / 1000).\(String(repeating: "0", count: 3 - fraction.count))\(fraction)".utf8)
            }
        case .millisecondsLast, .blockOption:
            arguments[index] = Array(String(milliseconds).utf8)
        }
        var rewritten: [UInt8] = []
        RESPEncoder.encodeCommand(into: &rewritten, arguments: arguments)
        return (rewritten, .within(.milliseconds(milliseconds) + grace))
    }

    /// How long the client waits for the first command in `bytes` (see
    /// ``wait(arguments:)``); `nil` when its arguments cannot be read back.
    func wait(encoded bytes: [UInt8]) -> BlockingWait? {
        guard let arguments = EncodedCommand.arguments(bytes) else { return nil }
        return wait(arguments: arguments)
    }
}

/// How long the client waits for a blocking command's reply before it gives up and
/// unblocks the connection: the server's own timeout plus ``BlockingCommand/grace``.
@usableFromInline
package enum BlockingWait: Sendable, Equatable {
    /// The server may hold the command forever (timeout `0`): no client-side deadline.
    case forever
    /// Give up after this long.
    case within(Duration)

    /// The deadline as the blocking machines take it: `nil` for none.
    package var limit: Duration? {
        switch self {
        case .forever: nil
        case .within(let duration): duration
        }
    }
}
