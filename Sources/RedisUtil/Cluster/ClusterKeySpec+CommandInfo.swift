import RESP

extension ClusterKeySpec {
    /// One command of a `COMMAND` / `COMMAND INFO` reply, read: its name (lower case,
    /// `xinfo|stream` for a subcommand), its spec, and its subcommands' entries, unread.
    ///
    /// The entry is an array, the same in RESP2 and RESP3 but for maps, which RESP2
    /// sends as flat arrays of pairs:
    ///
    ///     name, arity, flags, first key, last key, step,
    ///     ACL categories (Redis 6+), tips, key specs, subcommands (Redis 7+)
    ///
    /// A key spec is a map: `flags` (`RO`, `not_key`, `incomplete`, …), `begin_search`
    /// (`type` `index` / `keyword` / `unknown`, and a `spec` map: `index`, or `keyword`
    /// and `startfrom`) and `find_keys` (`type` `range` / `keynum` / `unknown`, `spec`:
    /// `lastkey`, `keystep`, `limit`, or `keynumidx`, `firstkey`, `keystep`). An entry
    /// without key specs (before Redis 7) gets one rule from first key, last key and
    /// step, plus an unknown one if it is `movablekeys`.
    ///
    /// A search type this version does not know becomes `unknown`, as a newer server's
    /// own `COMMAND` output would say of a spec it cannot describe; a missing field or
    /// a value that cannot be followed safely is an error.
    static func parse(commandInfo entry: RESPValue) throws(ClusterKeySpecError) -> (name: [UInt8], spec: ClusterKeySpec, subcommands: [RESPValue]) {
        guard let fields = entry.withoutAttributes.array else {
            throw .malformedEntry(command: nil, reason: "expected an array, got a \(entry.kind)")
        }
        guard fields.count >= 6 else {
            throw .malformedEntry(command: nil, reason: "expected at least 6 fields (name, arity, flags, first key, last key, step), got \(fields.count)")
        }
        guard let nameBytes = fields[0].bytes, !nameBytes.isEmpty else {
            throw .malformedEntry(command: nil, reason: "expected the name as a string, got \(fields[0])")
        }
        let name = nameBytes.map(ClusterKeyTable.folded)
        let command = String(decoding: name, as: UTF8.self)
        func malformed(_ reason: String) -> ClusterKeySpecError { .malformedEntry(command: command, reason: reason) }

        guard let flags = strings(fields[2]) else { throw malformed("expected the flags as an array of strings, got \(fields[2])") }
        let isReadOnly = flags.contains("readonly")
        let isMovable = flags.contains("movablekeys")
        var tips: [[UInt8]] = []
        if fields.count > 7 {
            guard let tipValues = fields[7].array else { throw malformed("expected the tips as an array, got \(fields[7])") }
            for tip in tipValues {
                guard let bytes = tip.bytes else { throw malformed("expected each tip as a string, got \(tip)") }
                tips.append(bytes)
            }
        }
        let (request, response) = policies(tips: tips)

        var rules: [KeyRule] = []
        if fields.count > 8 {
            guard let specs = fields[8].array else { throw malformed("expected the key specs as an array, got \(fields[8])") }
            for (index, spec) in specs.enumerated() {
                rules.append(try keyRule(spec, command: command, index: index))
            }
        } else {
            rules = try legacyRules(first: fields[3], last: fields[4], step: fields[5], movable: isMovable, command: command)
        }

        var subcommands: [RESPValue] = []
        if fields.count > 9, !fields[9].isNull {
            guard let entries = fields[9].array else { throw malformed("expected the subcommands as an array, got \(fields[9])") }
            subcommands = entries
        }

        let procedure: KeyProcedure? = switch (command, isMovable) {
        case ("sort", true): .sort
        case ("migrate", true): .migrate
        default: nil
        }
        let spec = ClusterKeySpec(
            keyRules: rules, isReadOnly: isReadOnly, hasMovableKeys: isMovable,
            procedure: procedure, requestPolicy: request, responsePolicy: response
        )
        return (name, spec, subcommands)
    }

    /// One key spec (a map), as a rule.
    private static func keyRule(_ value: RESPValue, command: String, index: Int) throws(ClusterKeySpecError) -> KeyRule {
        func malformed(_ reason: String) -> ClusterKeySpecError { .malformedKeySpec(command: command, index: index, reason: reason) }
        guard let spec = fieldsByName(value) else { throw malformed("expected a map, got \(value)") }
        guard let flagValue = spec["flags"], let flags = strings(flagValue) else {
            throw malformed("expected flags as an array of strings, got \(spec["flags"].map(String.init(describing:)) ?? "none")")
        }
        guard let beginValue = spec["begin_search"], let begin = fieldsByName(beginValue),
              let beginType = begin["type"]?.string else {
            throw malformed("expected begin_search as a map with a type, got \(spec["begin_search"].map(String.init(describing:)) ?? "none")")
        }
        guard let findValue = spec["find_keys"], let find = fieldsByName(findValue),
              let findType = find["type"]?.string else {
            throw malformed("expected find_keys as a map with a type, got \(spec["find_keys"].map(String.init(describing:)) ?? "none")")
        }
        /// The integer `field` of `search`'s `spec` map.
        func integer(_ search: [String: RESPValue], _ field: String, _ part: String) throws(ClusterKeySpecError) -> Int {
            guard let parameters = search["spec"].flatMap(fieldsByName), let number = parameters[field]?.int else {
                throw malformed("expected \(part) spec field \(field) as an integer, got \(search["spec"].map(String.init(describing:)) ?? "no spec")")
            }
            // The server keeps these in C ints; anything larger is no position.
            guard Int(Int32.min)...Int(Int32.max) ~= number else { throw malformed("\(part) \(field) \(number) is out of range") }
            return number
        }

        let beginSearch: KeyRule.Begin
        switch beginType.lowercased() {
        case "index":
            let position = try integer(begin, "index", "begin_search")
            guard position >= 1 else { throw malformed("begin_search index \(position) would point at or before the command's name") }
            beginSearch = .index(position)
        case "keyword":
            guard let parameters = begin["spec"].flatMap(fieldsByName), let keyword = parameters["keyword"]?.bytes, !keyword.isEmpty else {
                throw malformed("expected begin_search spec field keyword as a non-empty string, got \(begin["spec"].map(String.init(describing:)) ?? "no spec")")
            }
            let startFrom = try integer(begin, "startfrom", "begin_search")
            guard startFrom != 0 else { throw malformed("begin_search startfrom 0 would search from the command's name") }
            beginSearch = .keyword(keyword, startFrom: startFrom)
        default:
            beginSearch = .unknown
        }

        let findKeys: KeyRule.Find
        switch findType.lowercased() {
        case "range":
            let lastKey = try integer(find, "lastkey", "find_keys")
            let step = try integer(find, "keystep", "find_keys")
            let limit = try integer(find, "limit", "find_keys")
            guard step >= 1 else { throw malformed("find_keys keystep \(step) would never advance") }
            guard limit >= 0 else { throw malformed("find_keys limit \(limit) is negative") }
            findKeys = .range(lastKey: lastKey, step: step, limit: limit)
        case "keynum":
            let keyNumIndex = try integer(find, "keynumidx", "find_keys")
            let firstKey = try integer(find, "firstkey", "find_keys")
            let step = try integer(find, "keystep", "find_keys")
            guard keyNumIndex >= 0 else { throw malformed("find_keys keynumidx \(keyNumIndex) is negative") }
            guard firstKey >= 0 else { throw malformed("find_keys firstkey \(firstKey) is negative") }
            guard step >= 1 else { throw malformed("find_keys keystep \(step) would never advance") }
            findKeys = .keyNum(keyNumIndex: keyNumIndex, firstKey: firstKey, step: step)
        default:
            findKeys = .unknown
        }
        return KeyRule(
            begin: beginSearch, find: findKeys,
            isChannel: flags.contains("not_key"), isIncomplete: flags.contains("incomplete")
        )
    }

    /// The rules of an entry without key specs, from its first key, last key and step.
    private static func legacyRules(first: RESPValue, last: RESPValue, step: RESPValue, movable: Bool, command: String) throws(ClusterKeySpecError) -> [KeyRule] {
        guard let first = first.int, let last = last.int, let step = step.int else {
            throw .malformedEntry(command: command, reason: "expected first key, last key and step as integers, got \(first), \(last), \(step)")
        }
        var rules: [KeyRule] = []
        if first > 0 {
            guard step >= 1, last < 0 || last >= first, first <= Int(Int32.max), last >= Int(Int32.min) else {
                throw .malformedEntry(command: command, reason: "first key \(first), last key \(last) and step \(step) select no keys")
            }
            // A negative last key counts from the end, as a range's lastkey does without a limit.
            rules.append(.keys(from: first, lastKey: last >= 0 ? last - first : last, step: step))
        }
        if movable { rules.append(.unknown) }
        return rules
    }

    /// The strings of an array or set (flags, in lower case).
    private static func strings(_ value: RESPValue) -> Set<String>? {
        guard let elements = value.array else { return nil }
        var strings = Set<String>()
        for element in elements {
            guard let text = element.string else { return nil }
            strings.insert(text.lowercased())
        }
        return strings
    }

    /// A map (RESP3) or flat array of pairs (RESP2) by its keys' names, in lower case.
    private static func fieldsByName(_ value: RESPValue) -> [String: RESPValue]? {
        guard let pairs = value.map else { return nil }
        var fields: [String: RESPValue] = [:]
        for (key, value) in pairs {
            guard let name = key.string else { return nil }
            fields[name.lowercased()] = value
        }
        return fields
    }
}
