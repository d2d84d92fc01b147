import RESP

/// The commands that need more than an ordinary command, recognised by name.
enum SpecialCommand: Equatable {
    /// One of ``BlockingCommand``'s, whose table says where its timeout lies.
    case blocking(BlockingCommand)
    /// Its reply is the only copy of what it removes: `LPOP`, `RPOP`, `SPOP`, `LMPOP`,
    /// `ZMPOP`, `ZPOPMIN`, `ZPOPMAX`, `GETDEL`, `HGETDEL`. (`LMOVE` and the like move
    /// rather than remove: nothing is lost with their reply.)
    case removing
    case subscription
    case stream
    case select, auth, hello, reset, quit
    case client
    case multi, exec, discard, watch

    /// What a shared connection can do with this command.
    enum Rule {
        case allowed
        case blocking(BlockingCommand)
        case refused(RedisError)
    }

    /// The special command named at `name` in `bytes` (in any case), or `nil` for an
    /// ordinary command.
    ///
    /// A name of eight bytes or fewer (every special one but the subscriptions,
    /// `BRPOPLPUSH` and `XREADGROUP`) is read as one folded word and looked up in
    /// ``shortNames``: about 30 instructions for `RPUSH`, where a switch on the name's
    /// length and first letter and one failed comparison took 110, and a static function
    /// rather than an initialiser, whose owned `bytes` cost a retain and a release.
    @inline(__always)
    static func named(_ name: Range<Int>, in bytes: [UInt8]) -> SpecialCommand? {
        guard !name.isEmpty, name.lowerBound >= 0, name.upperBound <= bytes.count else { return nil }
        if name.count <= 8 {
            let word = bytes.withUnsafeBufferPointer { CommandNameWord.folded(in: $0, at: name.lowerBound, count: name.count) }
            return shortNames.command(word: word, count: name.count)
        }
        return longNamed(name, in: bytes)
    }

    /// ``named(_:in:)`` for a name of nine bytes or more.
    private static func longNamed(_ name: Range<Int>, in bytes: [UInt8]) -> SpecialCommand? {
        func named(_ candidate: StaticString) -> Bool {
            EncodedCommand.equalsIgnoringCase(bytes, name, candidate)
        }
        if named("SUBSCRIBE") || named("PSUBSCRIBE") || named("SSUBSCRIBE") || named("UNSUBSCRIBE")
            || named("PUNSUBSCRIBE") || named("SUNSUBSCRIBE") {
            return .subscription
        }
        // Blocking commands by their table's names, so that no name is spelled twice.
        return BlockingCommand.allCases.first { named($0.name) }.map { .blocking($0) }
    }

    /// The special commands whose names have eight bytes or fewer, by name: every one
    /// that is not blocking, and the blocking ones from ``BlockingCommand``'s table.
    static let shortNameList: [(name: StaticString, command: SpecialCommand)] = [
        ("AUTH", .auth), ("HELLO", .hello), ("SELECT", .select), ("RESET", .reset), ("QUIT", .quit),
        ("CLIENT", .client), ("MULTI", .multi), ("EXEC", .exec), ("DISCARD", .discard), ("WATCH", .watch),
        ("SYNC", .stream), ("PSYNC", .stream), ("MONITOR", .stream), ("REPLCONF", .stream),
        ("LPOP", .removing), ("RPOP", .removing), ("SPOP", .removing), ("LMPOP", .removing), ("ZMPOP", .removing),
        ("ZPOPMIN", .removing), ("ZPOPMAX", .removing), ("GETDEL", .removing), ("HGETDEL", .removing),
    ] + BlockingCommand.allCases.filter { $0.name.utf8CodeUnitCount <= 8 }.map { ($0.name, .blocking($0)) }

    /// ``shortNameList`` as a table by word.
    static let shortNames = ShortNameTable(shortNameList)

    /// An open-addressed table of names of eight bytes or fewer by their folded word
    /// (``CommandNameWord``), built once: twice as many buckets as names, so that an
    /// ordinary command's look-up (nearly every one) ends at its first or second bucket.
    struct ShortNameTable: Sendable {
        private struct Bucket: Sendable {
            var word: UInt64 = 0
            var count = 0
            var command: SpecialCommand?
        }

        private var buckets: [Bucket]

        init(_ list: [(name: StaticString, command: SpecialCommand)]) {
            var capacity = 8
            while capacity < list.count * 2 { capacity *= 2 }
            buckets = [Bucket](repeating: Bucket(), count: capacity)
            for (name, command) in list {
                precondition(name.utf8CodeUnitCount > 0 && name.utf8CodeUnitCount <= 8, "\(name) is not a short name")
                let word = CommandNameWord.folded(name)
                var index = Int(truncatingIfNeeded: CommandNameWord.hash(word)) & (capacity - 1)
                while buckets[index].command != nil {
                    precondition(buckets[index].word != word || buckets[index].count != name.utf8CodeUnitCount, "\(name) twice")
                    index = (index + 1) & (capacity - 1)
                }
                buckets[index] = Bucket(word: word, count: name.utf8CodeUnitCount, command: command)
            }
        }

        /// The command named by `word` of `count` bytes, or `nil`.
        @inline(__always)
        func command(word: UInt64, count: Int) -> SpecialCommand? {
            let mask = buckets.count - 1
            var index = Int(truncatingIfNeeded: CommandNameWord.hash(word)) & mask
            while true {
                let bucket = buckets[index]
                guard let command = bucket.command else { return nil }
                if bucket.word == word, bucket.count == count { return command }
                index = (index + 1) & mask
            }
        }
    }

    /// The rule for one command (`layout`), outside a batch's own `MULTI` bookkeeping.
    func rule(_ layout: CommandLayout, in bytes: [UInt8], context: CommandRoute.Context, insideMulti: Bool) -> Rule {
        func refuse(_ reason: String) -> Rule { .refused(CommandRoute.refused(layout, in: bytes, reason)) }
        switch self {
        case .removing:
            return .allowed
        case .blocking(let command):
            return insideMulti || context == .transaction ? .allowed : .blocking(command)
        case .subscription:
            return refuse("a subscription needs a connection of its own, whose messages are pushed rather than replied; use client.subscribe(channels:patterns:shardChannels:), and close() the subscription to unsubscribe")
        case .stream:
            return refuse("the server would answer it with an endless stream of replies")
        case .select:
            return refuse("it would switch the database of one of the client's connections only; set RedisConfiguration.database (or the URL's /db), which every connection selects when it connects")
        case .auth:
            return refuse("it would authenticate one of the client's connections only; set RedisConfiguration.username and .password (or the URL's user:password@), which every connection sends when it connects")
        case .hello:
            return refuse("the client negotiates the protocol itself; set RedisConfiguration.protocolVersion")
        case .reset, .quit:
            return refuse("it would reset or end a connection under the client's feet; call close() to end the client")
        case .client:
            guard let subcommand = layout.second, EncodedCommand.equalsIgnoringCase(bytes, subcommand, "REPLY") else { return .allowed }
            return refuse("with replies switched off or skipped, the connection's replies would no longer match their commands")
        case .multi, .exec, .discard, .watch:
            switch context {
            case .dedicated:
                return .allowed
            case .transaction:
                return refuse("transaction() sends its own MULTI and EXEC, and WATCH must come before MULTI; use withDedicatedConnection for WATCH")
            case .shared where self == .watch:
                return refuse("WATCH holds for one connection until its next EXEC, which on a shared connection may be another caller's; use withDedicatedConnection { … } to WATCH, then run transaction { … } on that connection")
            case .shared:
                return refuse("a transaction must reach the shared connection in one piece; use transaction { … }, or a pipeline holding MULTI … EXEC (or withDedicatedConnection, to send them one by one)")
            }
        }
    }
}
