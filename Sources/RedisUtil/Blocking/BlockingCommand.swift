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

    /// How long the client waits for this command with `arguments` (the name first);
    /// `nil` when these arguments do not block (an `XREAD` without `BLOCK`).
    func wait(arguments: [[UInt8]]) -> BlockingWait? {
        func text(at index: Int) -> String? {
            arguments.indices.contains(index) ? String(decoding: arguments[index], as: UTF8.self) : nil
        }
        func seconds(at index: Int) -> BlockingWait {
            guard let value = text(at: index).flatMap({ Double($0) }), value > 0 else { return .forever }
            return .within(.milliseconds(Int64(value * 1000)) + Self.grace)
        }
        func milliseconds(at index: Int) -> BlockingWait {
            guard let value = text(at: index).flatMap({ Int64($0) }), value > 0 else { return .forever }
            return .within(.milliseconds(value) + Self.grace)
        }
        switch entry.timeout {
        case .secondsLast:
            return seconds(at: arguments.count - 1)
        case .secondsFirst:
            return seconds(at: 1)
        case .millisecondsLast:
            return milliseconds(at: arguments.count - 1)
        case .blockOption(let groupOption):
            // Options come before STREAMS, and only there is BLOCK an option: a stream
            // key, ID, group or consumer may be called "block" too.
            var index = 1
            while let option = text(at: index)?.uppercased() {
                switch option {
                case "BLOCK": return milliseconds(at: index + 1)
                case "STREAMS": return nil
                case "GROUP" where groupOption: index += 3
                case "COUNT": index += 2
                default: index += 1
                }
            }
            return nil
        }
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
