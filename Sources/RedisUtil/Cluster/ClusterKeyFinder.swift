/// Where a command's keys lie among its arguments, by its ``ClusterKeySpec``: the
/// server's `getKeysUsingKeySpecs`, and for `SORT` and `MIGRATE` their own
/// `getkeys_proc`, over encoded bytes.
///
/// Arguments that do not fit a rule the way the server reads them (a count that is
/// not a number, keys past the end, a count of 0) make the server give up on every
/// rule and take the command for one without keys; it is then refused on whichever
/// node gets it, so ``forEachKey(of:in:includingChannels:_:)`` reports them and visits nothing.
enum ClusterKeyFinder {
    /// What one rule selects in one command's arguments.
    enum Selection: Equatable {
        /// Every `step`th argument from `first` through `last`.
        case keys(first: Int, last: Int, step: Int)
        /// Nothing: the keyword is absent, or the rule is one the server cannot describe.
        case none
        /// The arguments do not fit the rule.
        case invalid
    }

    /// Calls `visit` with the position of each key (and, with `includingChannels`,
    /// each shard channel), rule by rule; returns `false`, having visited nothing, when
    /// the arguments do not fit the spec.
    static func forEachKey(
        of spec: ClusterKeySpec,
        in arguments: ClusterKeyArguments,
        includingChannels: Bool = true,
        _ visit: (Int) -> Void
    ) -> Bool {
        if let procedure = spec.procedure {
            return forEachKey(by: procedure, in: arguments, visit)
        }
        let rules = spec.keyRules
        if rules.count == 1 {
            // The common case: one rule, so one pass.
            if rules[0].isChannel, !includingChannels { return true }
            let selection = select(rules[0], in: arguments)
            if case .invalid = selection { return false }
            visitSelected(selection, visit)
            return true
        }
        for rule in rules where includingChannels || !rule.isChannel {
            if case .invalid = select(rule, in: arguments) { return false }
        }
        for rule in rules where includingChannels || !rule.isChannel {
            visitSelected(select(rule, in: arguments), visit)
        }
        return true
    }

    /// What `rule` selects in `arguments`.
    static func select(_ rule: ClusterKeySpec.KeyRule, in arguments: ClusterKeyArguments) -> Selection {
        let count = arguments.count
        var first: Int
        switch rule.begin {
        case .index(let index):
            first = index
        case .keyword(let keyword, let startFrom):
            // The server's loop, bounds and all: forward from `startFrom` to the
            // next-to-last argument, or backward from `count + startFrom` to argument 1.
            let start = startFrom > 0 ? startFrom : count + startFrom
            let end = startFrom > 0 ? count - 1 : 0
            let direction = start <= end ? 1 : -1
            first = 0
            var position = start
            while position != end, position < count, position >= 1 {
                if arguments.equalsIgnoringCase(position, keyword) {
                    first = position + 1
                    break
                }
                position += direction
            }
            if first == 0 { return .none }
        case .unknown:
            return .none
        }
        let last: Int
        let step: Int
        switch rule.find {
        case .range(let lastKey, let keyStep, let limit):
            step = keyStep
            if lastKey >= 0 {
                last = first + lastKey
            } else if limit == 0 {
                last = count + lastKey
            } else {
                guard limit > 0 else { return .invalid }
                last = first + ((count - first) / limit + lastKey)
            }
        case .keyNum(let keyNumIndex, let firstKey, let keyStep):
            step = keyStep
            guard keyNumIndex >= 0, first + keyNumIndex < count,
                  let keyCount = arguments.count(at: first + keyNumIndex),
                  keyCount <= count else { return .invalid }
            first += firstKey
            last = first + keyCount - 1
        case .unknown:
            return .none
        }
        guard step > 0, first >= 1, first < count, last < count, last >= first else { return .invalid }
        return .keys(first: first, last: last, step: step)
    }

    @inline(__always)
    private static func visitSelected(_ selection: Selection, _ visit: (Int) -> Void) {
        guard case .keys(let first, let last, let step) = selection else { return }
        var position = first
        while position <= last {
            visit(position)
            position += step
        }
    }

    /// The keys of a command whose spec cannot find them, found as the server's own
    /// code for that command finds them (`sortGetKeys`, `migrateGetKeys` in `db.c`).
    private static func forEachKey(
        by procedure: ClusterKeySpec.KeyProcedure,
        in arguments: ClusterKeyArguments,
        _ visit: (Int) -> Void
    ) -> Bool {
        let count = arguments.count
        switch procedure {
        case .sort:
            guard count > 1 else { return false }
            // Options take no value unless listed; only the last STORE counts, as in SORT itself.
            var store: Int?
            var position = 2
            while position < count {
                if arguments.equalsIgnoringCase(position, Keyword.limit) {
                    position += 2
                } else if arguments.equalsIgnoringCase(position, Keyword.store), position + 1 < count {
                    store = position + 1
                } else if arguments.equalsIgnoringCase(position, Keyword.get) || arguments.equalsIgnoringCase(position, Keyword.by) {
                    position += 1
                }
                position += 1
            }
            visit(1)
            if let store { visit(store) }
            return true
        case .migrate:
            guard count > 3 else { return false }
            var first = 3
            var last = 3
            var position = 6
            while position < count {
                if arguments.equalsIgnoringCase(position, Keyword.keys) {
                    // KEYS is only valid with the key argument empty; the server takes
                    // the command for one without keys otherwise.
                    guard arguments[3].isEmpty else { return false }
                    first = position + 1
                    last = count - 1
                    break
                }
                if arguments.equalsIgnoringCase(position, Keyword.auth) {
                    position += 1
                } else if arguments.equalsIgnoringCase(position, Keyword.auth2) {
                    position += 2
                }
                position += 1
            }
            var key = first
            while key <= last {
                visit(key)
                key += 1
            }
            return true
        }
    }

    /// The option names the procedures look for.
    private enum Keyword {
        static let limit = Array("LIMIT".utf8)
        static let store = Array("STORE".utf8)
        static let get = Array("GET".utf8)
        static let by = Array("BY".utf8)
        static let keys = Array("KEYS".utf8)
        static let auth = Array("AUTH".utf8)
        static let auth2 = Array("AUTH2".utf8)
    }
}
