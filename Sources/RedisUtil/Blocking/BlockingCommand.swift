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

    /// The client-side deadline of this command with `arguments` (the name first):
    /// `.some(nil)` when the server may hold it forever (timeout 0), `nil` when these
    /// arguments do not block (an `XREAD` without `BLOCK`).
    func deadline(arguments: [[UInt8]]) -> Duration?? {
        func text(at index: Int) -> String? {
            arguments.indices.contains(index) ? String(decoding: arguments[index], as: UTF8.self) : nil
        }
        func seconds(at index: Int) -> Duration? {
            guard let value = text(at: index).flatMap({ Double($0) }), value > 0 else { return nil }
            return .milliseconds(Int64(value * 1000)) + Self.grace
        }
        func milliseconds(at index: Int) -> Duration? {
            guard let value = text(at: index).flatMap({ Int64($0) }), value > 0 else { return nil }
            return .milliseconds(value) + Self.grace
        }
        switch entry.timeout {
        case .secondsLast:
            return .some(seconds(at: arguments.count - 1))
        case .secondsFirst:
            return .some(seconds(at: 1))
        case .millisecondsLast:
            return .some(milliseconds(at: arguments.count - 1))
        case .blockOption(let groupOption):
            // Options come before STREAMS, and only there is BLOCK an option: a stream
            // key, ID, group or consumer may be called "block" too.
            var index = 1
            while let option = text(at: index)?.uppercased() {
                switch option {
                case "BLOCK": return .some(milliseconds(at: index + 1))
                case "STREAMS": return nil
                case "GROUP" where groupOption: index += 3
                case "COUNT": index += 2
                default: index += 1
                }
            }
            return nil
        }
    }

    /// The client-side deadline of the first command in `bytes` (see
    /// ``deadline(arguments:)``); `nil` when its arguments cannot be read back.
    func deadline(encoded bytes: [UInt8]) -> Duration?? {
        guard let arguments = EncodedCommand.arguments(bytes) else { return nil }
        return deadline(arguments: arguments)
    }
}
