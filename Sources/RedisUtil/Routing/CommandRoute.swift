import RESP

/// Where a command may run, decided from its encoded bytes before anything is sent.
///
/// Every caller shares the client's multiplexed connections, so a command that changes
/// a connection's state for everybody (`SELECT`, `HELLO`, `CLIENT REPLY OFF`, a `MULTI`
/// left open), or turns it into a stream of unsolicited replies (`SUBSCRIBE`,
/// `MONITOR`), would hand other callers wrong replies or none. Those are refused with
/// ``RedisError/unsupportedCommand(command:reason:)``, and nothing is sent. Blocking
/// commands go to a dedicated connection. ``RedisDedicatedConnection`` allows the
/// transaction commands one by one, and nothing else more. A command whose reply is
/// the only copy of what it removes (`LPOP`, `GETDEL` …) is awaited, once sent, despite
/// a cancellation of the task, which would otherwise drop that reply and lose the data.
@usableFromInline
enum CommandRoute: Sendable {
    /// Any of the multiplexed connections.
    case shared
    /// Any of the multiplexed connections, for a command whose reply is the only copy
    /// of what it removes: once sent, it is awaited despite a cancellation.
    case removing
    /// A dedicated connection, waited on for as long as the command may block.
    case blocking(BlockingWait)
    /// Not sent; the caller gets this error.
    case refused(RedisError)

    /// The routes a caller can know without reading a command's bytes (``RedisChannel``'s
    /// own `RPUSH` and `LPOP`): plain values, which cost nothing to pass along where an
    /// optional ``CommandRoute`` (with its error payload) was copied through its value
    /// witnesses, about 100 instructions a command.
    enum Known: UInt8, Sendable {
        case shared, removing

        var route: CommandRoute { self == .removing ? .removing : .shared }
    }

    /// The route of the command `bytes`: the one its caller knows (`known`, or `blocking`
    /// for a command it knows blocks), else read from the bytes (``of(_:in:)``). The one
    /// place where a send on the shared connections chooses, for both facades.
    @inline(__always)
    static func of(_ bytes: [UInt8], known: Known?, blocking: BlockingWait?) -> CommandRoute {
        if let known { return known.route }
        if let blocking { return .blocking(blocking) }
        return of(bytes)
    }

    /// Whether the reply is awaited despite a cancellation (``removing``).
    var keepsReply: Bool {
        if case .removing = self { true } else { false }
    }

    /// Where a command is being sent.
    enum Context {
        /// The client's multiplexed connections, shared by every caller.
        case shared
        /// A connection of one caller's own (``RedisDedicatedConnection``): `WATCH`,
        /// `MULTI`, `EXEC` and `DISCARD` are fine there, one by one.
        case dedicated
        /// Inside ``RedisClient/transaction(_:)``, which adds its own `MULTI … EXEC`.
        case transaction
    }

    /// The route of the first command in `bytes`. Costs a few comparisons for an
    /// ordinary command: a switch on the name's length and first letter.
    static func of(_ bytes: [UInt8], in context: Context = .shared) -> CommandRoute {
        // A command without a name (`send()` with no arguments encodes `*0`) gets no
        // reply from the server, so its handler would take the next command's.
        guard let name = EncodedCommand.firstName(bytes) else { return .refused(nameless) }
        guard let special = SpecialCommand.named(name, in: bytes) else { return .shared }
        if case .removing = special { return .removing }
        guard let layout = EncodedCommand.layout(bytes, at: 0) else { return .refused(nameless) }
        switch special.rule(layout, in: bytes, context: context, insideMulti: false) {
        case .allowed: return .shared
        case .refused(let error): return .refused(error)
        case .blocking(let command):
            guard let wait = command.wait(encoded: bytes) else { return .shared }
            return .blocking(wait)
        }
    }

    /// `nil` when every command of a pipeline batch may be sent in `context`, else the
    /// error for the first that may not. A batch is contiguous on its connection, so
    /// on a shared one a `MULTI` closed by `EXEC` or `DISCARD` in the same batch is
    /// fine, and so is a blocking command inside it (the server does not block there).
    static func refusal(batch bytes: [UInt8], in context: Context = .shared) -> RedisError? {
        var removes = false
        return refusal(batch: bytes, in: context, removes: &removes)
    }

    /// ``refusal(batch:in:)``, also telling whether a command of the batch removes what
    /// only its reply holds (the batch is then awaited despite a cancellation).
    static func refusal(batch bytes: [UInt8], in context: Context, removes: inout Bool) -> RedisError? {
        var index = 0
        var openMulti: CommandLayout?
        while index < bytes.count {
            guard let layout = EncodedCommand.layout(bytes, at: index) else { return nameless }
            index = layout.end
            guard let special = SpecialCommand.named(layout.name, in: bytes) else { continue }
            switch (special, context) {
            case (.removing, _):
                removes = true
            case (.multi, .shared), (.multi, .dedicated):
                if openMulti != nil { return refused(layout, in: bytes, "MULTI calls cannot be nested") }
                openMulti = layout
            case (.exec, .shared), (.discard, .shared), (.exec, .dedicated), (.discard, .dedicated):
                openMulti = nil
            default:
                switch special.rule(layout, in: bytes, context: context, insideMulti: openMulti != nil) {
                case .allowed: continue
                case .refused(let error): return error
                case .blocking(let command):
                    // Only the arguments say whether XREAD blocks.
                    guard command.wait(encoded: Array(bytes[layout.start..<layout.end])) != nil else { continue }
                    return refused(layout, in: bytes, "in a pipeline it would hold the connection, and every command queued behind it, for its whole timeout; send it on its own, which runs it on a dedicated connection")
                }
            }
        }
        if let openMulti, context == .shared {
            return refused(openMulti, in: bytes, "without its EXEC or DISCARD in the same batch it would leave the shared connection inside a transaction")
        }
        return nil
    }

    static let nameless = RedisError.invalidArgument("a command needs at least its name")

    /// Whether `bytes` hold a `MULTI` or a `WATCH`, which leave state on the connection
    /// until an `EXEC`, `DISCARD` or `UNWATCH`.
    static func opensTransactionState(_ bytes: [UInt8]) -> Bool {
        var index = 0
        while index < bytes.count, let layout = EncodedCommand.layout(bytes, at: index) {
            index = layout.end
            switch SpecialCommand.named(layout.name, in: bytes) {
            case .multi?, .watch?: return true
            default: continue
            }
        }
        return false
    }

    static func refused(_ layout: CommandLayout, in bytes: [UInt8], _ reason: String) -> RedisError {
        .unsupportedCommand(command: String(decoding: bytes[layout.name], as: UTF8.self).uppercased(), reason: reason)
    }
}

/// Where one encoded command's parts lie in a buffer.
struct CommandLayout {
    /// The command's name (its first argument).
    var name: Range<Int>
    /// The second argument, if any (a subcommand such as `CLIENT REPLY`).
    var second: Range<Int>?
    /// The command's first byte, and the index just past its last.
    var start: Int
    var end: Int
}
