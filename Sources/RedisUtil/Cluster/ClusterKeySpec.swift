/// How to find the keys of one command among its arguments, and what else a cluster
/// router must know of it: whether it only reads (so it may go to a replica), and where
/// it goes when it names no key.
///
/// Modeled on Redis 7's key specifications (`COMMAND INFO`, `COMMAND DOCS`): each
/// ``KeyRule`` first finds where its keys begin (``KeyRule/Begin``), then which arguments
/// from there are keys (``KeyRule/Find``). Positions count the command's name as
/// argument 0 and a subcommand's name as argument 1, as the server's do: in
/// `XINFO STREAM s` the key `s` is argument 2.
///
/// A table of these (``ClusterKeyTable``) comes from the server's `COMMAND` reply
/// (``ClusterKeyTable/parse(commandReply:)``) or, before that arrives, from the built-in
/// ``ClusterKeyTable/builtIn``; ``ClusterCommandSlot`` applies one to encoded bytes.
struct ClusterKeySpec: Sendable, Equatable {
    /// The rules, in the server's order; a keyless command has none.
    var keyRules: [KeyRule]
    /// The command flag `readonly`: it never writes, so `readFrom` may send it to a replica.
    var isReadOnly: Bool
    /// The command flag `movablekeys`: where the keys lie depends on the other
    /// arguments (a `numkeys`, a keyword), not on the count of arguments alone.
    var hasMovableKeys: Bool
    /// Set for the commands whose keys the rules cannot find exactly (``KeyProcedure``).
    var procedure: KeyProcedure?
    /// The command tip `request_policy:…`, if the server gave one.
    var requestPolicy: RequestPolicy?
    /// The command tip `response_policy:…`, if the server gave one.
    var responsePolicy: ResponsePolicy?

    /// A spec whose `movablekeys` flag is what its rules imply, as it is for every
    /// command of Redis 7.0 (the built-in table's entries are made this way).
    init(
        keyRules: [KeyRule] = [],
        isReadOnly: Bool = false,
        hasMovableKeys: Bool? = nil,
        procedure: KeyProcedure? = nil,
        requestPolicy: RequestPolicy? = nil,
        responsePolicy: ResponsePolicy? = nil
    ) {
        self.keyRules = keyRules
        self.isReadOnly = isReadOnly
        self.hasMovableKeys = hasMovableKeys ?? (procedure != nil || keyRules.contains(where: \.isMovable))
        self.procedure = procedure
        self.requestPolicy = requestPolicy
        self.responsePolicy = responsePolicy
    }

    /// Whether the command never names a key (nor a shard channel).
    var isKeyless: Bool { keyRules.isEmpty && procedure == nil }

    /// Whether the rules may miss keys: a rule the server marks `unknown` or
    /// `incomplete`, with no ``procedure`` to stand in. The keys found are then a best
    /// guess, which a `MOVED` reply corrects.
    var mayMissKeys: Bool {
        procedure == nil && keyRules.contains { $0.begin == .unknown || $0.find == .unknown || $0.isIncomplete }
    }

    /// One key specification: where its keys begin, then which arguments are keys.
    struct KeyRule: Sendable, Equatable {
        /// `begin_search`: the argument at which the keys begin.
        enum Begin: Sendable, Equatable {
            /// `index`: at argument `index` (1 or more).
            case index(Int)
            /// `keyword`: right after the first argument equal to `keyword` (ignoring
            /// ASCII case), searched from argument `startFrom` toward the end, or, when
            /// `startFrom` is negative, from argument `count + startFrom` back toward
            /// the name. The last argument is never taken for the keyword (nothing could
            /// follow it), nor is the name. The rule finds nothing without the keyword.
            case keyword([UInt8], startFrom: Int)
            /// `unknown`: the server cannot say (SORT's `STORE` may be anywhere).
            case unknown
        }

        /// `find_keys`: which arguments, from the first one, are keys.
        enum Find: Sendable, Equatable {
            /// `range`: every `step`th argument from the first up to the first plus
            /// `lastKey`; a negative `lastKey` counts from the end of the arguments
            /// (`-1` the last) when `limit` is 0, and otherwise takes the `limit`th part
            /// of the arguments left (`XREAD … STREAMS k1 k2 id1 id2`: `lastKey` -1,
            /// `limit` 2, so half of them are keys).
            case range(lastKey: Int, step: Int, limit: Int)
            /// `keynum`: the argument at `keyNumIndex` after the first holds the number
            /// of keys, which begin `firstKey` arguments after the first, every
            /// `step`th (`EVAL script numkeys k1 k2 …`).
            case keyNum(keyNumIndex: Int, firstKey: Int, step: Int)
            /// `unknown`: the server cannot say.
            case unknown
        }

        var begin: Begin
        var find: Find
        /// The spec flag `not_key`: the arguments are shard channels (`SPUBLISH`,
        /// `SSUBSCRIBE`), which the server does not report as keys but which a cluster
        /// routes by slot all the same.
        var isChannel: Bool = false
        /// The spec flag `incomplete`: the rule may miss keys or take other arguments
        /// for them (`MIGRATE … KEYS`, found by searching back from the end).
        var isIncomplete: Bool = false

        /// Whether the positions depend on the other arguments, not on their count alone.
        var isMovable: Bool {
            switch (begin, find) {
            case (.index, .range): false
            default: true
            }
        }
    }

    /// A command whose keys no rule of its spec finds exactly, found instead the way the
    /// server's own code for it (`getkeys_proc`) finds them.
    enum KeyProcedure: Sendable, Equatable {
        /// `SORT key … [STORE destination]`: the key, and the last `STORE`'s destination;
        /// the patterns of `BY` and `GET` are not keys the server routes by.
        case sort
        /// `MIGRATE host port key|"" db timeout … [KEYS key …]`: the key, or, when it
        /// is empty, the arguments after `KEYS` (skipping `AUTH`'s and `AUTH2`'s values).
        case migrate
    }
}

extension ClusterKeySpec.KeyRule {
    /// One key at `index` (`GET key`: `.key(at: 1)`).
    static func key(at index: Int) -> Self {
        Self(begin: .index(index), find: .range(lastKey: 0, step: 1, limit: 0))
    }

    /// Keys from `index`, every `step`th, up to `lastKey` (negative: from the end).
    static func keys(from index: Int, lastKey: Int = -1, step: Int = 1) -> Self {
        Self(begin: .index(index), find: .range(lastKey: lastKey, step: step, limit: 0))
    }

    /// Keys counted by the argument at `index`, which they follow (`EVAL s 2 k1 k2`: `.counted(at: 2)`).
    static func counted(at index: Int) -> Self {
        Self(begin: .index(index), find: .keyNum(keyNumIndex: 0, firstKey: 1, step: 1))
    }

    /// Keys after `keyword`, searched from `startFrom`.
    static func after(_ keyword: StaticString, from startFrom: Int, lastKey: Int = 0, limit: Int = 0) -> Self {
        let bytes = keyword.withUTF8Buffer { Array($0) }
        return Self(begin: .keyword(bytes, startFrom: startFrom), find: .range(lastKey: lastKey, step: 1, limit: limit))
    }

    /// Shard channels from `index` up to `lastKey` (negative: from the end).
    static func channels(from index: Int, lastKey: Int) -> Self {
        Self(begin: .index(index), find: .range(lastKey: lastKey, step: 1, limit: 0), isChannel: true)
    }

    /// A rule the server marks `unknown` for both searches.
    static let unknown = Self(begin: .unknown, find: .unknown)
}
