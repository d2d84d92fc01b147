import LocalRedis
@testable import RedisUtil
import RESP
import Testing

private func encodedCommand(_ arguments: [String]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

/// The keys `table` finds in `arguments` (shard channels left out, as the server does),
/// `[]` when the arguments fit no spec; `nil` for a command the table does not know.
private func keys(_ arguments: [String], in table: ClusterKeyTable) -> [String]? {
    encodedCommand(arguments).withUnsafeBufferPointer { buffer in
        ClusterKeyArguments.withArguments(of: buffer, at: 0) { command -> [String]? in
            guard let spec = table.spec(for: command) else { return nil }
            var found: [String] = []
            let fits = ClusterKeyFinder.forEachKey(of: spec, in: command, includingChannels: false) { found.append(command.text($0)) }
            return fits ? found : []
        } ?? nil
    }
}

/// The server's keys for `arguments` (`COMMAND GETKEYS`), `[]` when it says the
/// command has none or its arguments fit no spec (the two ways a cluster node, too,
/// finds no keys in a command).
private func serverKeys(_ arguments: [String], client: RedisClient) async throws -> [String] {
    // Redis 7.0 refuses GETKEYS of a command without arguments (`PING`) as an arity
    // error of its own; such a command has no key to name.
    guard arguments.count > 1 else { return [] }
    do {
        let reply = try await client.send(arguments: ["COMMAND", "GETKEYS"] + arguments)
        return try #require(reply.array).map { $0.string ?? "" }
    } catch RedisError.server(let message) where message.contains("no key arguments") || message.contains("Invalid arguments") {
        return []
    }
}

/// Each command of `table` (subcommands as `container|name`) with its spec.
private func everyCommand(_ table: ClusterKeyTable) -> [(name: String, spec: ClusterKeySpec)] {
    table.entries.flatMap { entry in
        let name = String(decoding: entry.name, as: UTF8.self)
        return [(name, entry.spec)] + (entry.subcommands.map(everyCommand) ?? []).map { ("\(name)|\($0.name)", $0.spec) }
    }
}

/// Commands with arguments that exercise every form of key spec, and the procedures.
private let samples: [[String]] = [
    ["GET", "k"], ["SET", "k", "v", "EX", "10"], ["SET", "k", "v", "GET"], ["MGET", "a", "b", "c"],
    ["MSET", "a", "1", "b", "2"], ["MSETNX", "a", "1", "b", "2"], ["DEL", "a", "b"], ["UNLINK", "a"],
    ["EXISTS", "a", "b", "a"], ["TOUCH", "a"], ["EXPIRE", "k", "10"], ["TTL", "k"], ["RENAME", "a", "b"],
    ["COPY", "a", "b", "DB", "1", "REPLACE"], ["LCS", "a", "b", "LEN"], ["GETEX", "k", "PERSIST"],
    ["BITFIELD", "k", "GET", "u8", "0"], ["BITFIELD_RO", "k", "GET", "u8", "0"], ["BITOP", "AND", "d", "a", "b"],
    ["PFMERGE", "d", "a", "b"], ["PFCOUNT", "a", "b"], ["OBJECT", "ENCODING", "k"], ["object", "freq", "k"],
    ["MEMORY", "USAGE", "k"], ["DUMP", "k"], ["WATCH", "a", "b"],
    ["RPUSH", "k", "a", "b"], ["LPOP", "k", "2"], ["LMOVE", "a", "b", "LEFT", "RIGHT"],
    ["BLMOVE", "a", "b", "LEFT", "RIGHT", "0"], ["BLPOP", "a", "b", "0"], ["BRPOP", "a", "0"],
    ["BRPOPLPUSH", "a", "b", "0"], ["LMPOP", "2", "a", "b", "LEFT", "COUNT", "2"], ["BLMPOP", "0", "2", "a", "b", "RIGHT"],
    ["HSET", "k", "f", "v"], ["HMGET", "k", "f", "g"], ["HSCAN", "k", "0"], ["SMOVE", "a", "b", "m"],
    ["SINTERSTORE", "d", "a", "b"], ["SINTERCARD", "2", "a", "b", "LIMIT", "1"],
    ["ZUNIONSTORE", "d", "2", "a", "b", "WEIGHTS", "1", "2"], ["ZINTERSTORE", "d", "1", "a"], ["ZDIFFSTORE", "d", "2", "a", "b"],
    ["ZUNION", "2", "a", "b", "WITHSCORES"], ["ZINTER", "1", "a"], ["ZDIFF", "2", "a", "b"], ["ZINTERCARD", "2", "a", "b"],
    ["ZRANGESTORE", "d", "s", "0", "-1"], ["ZMPOP", "2", "a", "b", "MIN"], ["BZMPOP", "0", "1", "a", "MAX", "COUNT", "2"],
    ["BZPOPMIN", "a", "b", "0"],
    ["XADD", "s", "*", "f", "v"], ["XREAD", "COUNT", "1", "STREAMS", "a", "b", "0", "0"], ["XREAD", "BLOCK", "0", "STREAMS", "a", "$"],
    ["XREAD", "STREAMS", "a", "b", "0"], ["XREAD", "streams", "a", "0"],
    ["XREADGROUP", "GROUP", "g", "c", "COUNT", "1", "STREAMS", "a", "b", ">", ">"],
    ["XREADGROUP", "GROUP", "STREAMS", "c", "STREAMS", "s", ">"],
    ["XGROUP", "CREATE", "s", "g", "$", "MKSTREAM"], ["XGROUP", "CREATECONSUMER", "s", "g", "c"], ["XINFO", "STREAM", "s", "FULL"],
    ["XINFO", "GROUPS", "s"], ["XAUTOCLAIM", "s", "g", "c", "0", "0"], ["XPENDING", "s", "g"],
    ["GEORADIUS", "g", "0", "0", "1", "km"], ["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d"],
    ["GEORADIUS", "g", "0", "0", "1", "km", "STOREDIST", "d"], ["GEORADIUS", "g", "0", "0", "1", "km", "STORE", "d1", "STOREDIST", "d2"],
    ["GEORADIUS", "g", "0", "0", "1", "km", "COUNT", "3", "store", "d"], ["GEORADIUSBYMEMBER", "g", "m", "1", "km", "STORE", "d"],
    ["GEORADIUS_RO", "g", "0", "0", "1", "km"], ["GEOSEARCHSTORE", "d", "s", "FROMMEMBER", "m", "BYRADIUS", "1", "km"],
    ["EVAL", "return 1", "2", "a", "b", "x"], ["EVAL", "return 1", "0"], ["EVAL", "return 1", "x", "a"], ["EVAL", "return 1", "3", "a", "b"],
    ["EVALSHA", "abc", "1", "a"], ["EVAL_RO", "return 1", "1", "a"], ["FCALL", "f", "2", "a", "b"], ["FCALL_RO", "f", "0"],
    ["SORT", "k"], ["SORT", "k", "BY", "w_*", "GET", "#", "STORE", "d"], ["SORT", "k", "LIMIT", "0", "1", "STORE", "d"],
    ["SORT", "k", "STORE", "d1", "STORE", "d2"], ["SORT", "k", "BY", "STORE", "GET", "STORE"], ["SORT_RO", "k", "BY", "w", "GET", "#"],
    ["MIGRATE", "h", "6379", "k", "0", "1000"], ["MIGRATE", "h", "6379", "", "0", "1000", "KEYS", "a", "b"],
    ["MIGRATE", "h", "6379", "", "0", "1000", "COPY", "REPLACE", "AUTH", "keys", "KEYS", "a"],
    ["MIGRATE", "h", "6379", "", "0", "1000", "AUTH2", "u", "p", "KEYS", "a", "b"], ["MIGRATE", "h", "6379", "k", "0", "1000", "KEYS", "a"],
    ["PING"], ["KEYS", "*"], ["SCAN", "0"], ["DBSIZE"], ["PUBLISH", "c", "m"], ["SPUBLISH", "c", "m"], ["SSUBSCRIBE", "a", "b"],
    ["ECHO", "x"], ["INFO"], ["CLIENT", "ID"], ["SCRIPT", "LOAD", "return 1"], ["FLUSHALL"],
]

@Suite("Key specs against redis-server 7's own COMMAND reply and COMMAND GETKEYS")
struct ClusterKeySpecServerTests {
    @Test("COMMAND reads whole in RESP3 and RESP2, alike, and the built-in table agrees with it")
    func commandReply() async throws {
        try await withServer { server in
            let resp3 = try await withClient(server) { client in
                let count = try #require(try await client.send("COMMAND", "COUNT").int)
                let (table, rejected) = try ClusterKeyTable.parse(commandReply: try await client.send("COMMAND"))
                #expect(rejected.isEmpty, "\(rejected)")
                #expect(table.count == count)
                return table
            }
            let resp2 = try await withClient(server, configuration: RedisConfiguration(protocolVersion: .resp2)) { client in
                try ClusterKeyTable.parse(commandReply: try await client.send("COMMAND")).table
            }
            #expect(resp3 == resp2)

            // Every command's movablekeys flag is what its rules imply: the model loses nothing.
            for (name, spec) in everyCommand(resp3) {
                let implied = ClusterKeySpec(keyRules: spec.keyRules, procedure: spec.procedure)
                #expect(implied.hasMovableKeys == spec.hasMovableKeys, "\(name)")
            }
            // The few whose rules may miss keys are the ones the procedures cover, and SORT_RO,
            // whose unknown rule is its BY/GET patterns.
            let missing = everyCommand(resp3).filter { $0.spec.mayMissKeys }.map(\.name).sorted()
            #expect(missing == ["sort_ro"])

            for (name, builtIn) in everyCommand(.builtIn) {
                #expect(resp3[name] == builtIn, "built-in \(name)")
            }
        }
    }

    @Test("the keys found equal COMMAND GETKEYS, for a sample of every form and for every command")
    func keysMatchTheServer() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                let table = try ClusterKeyTable.parse(commandReply: try await client.send("COMMAND")).table
                var compared = 0
                var withKeys = 0
                for arguments in samples {
                    let ours = try #require(keys(arguments, in: table), "\(arguments[0]) is not in the server's table")
                    let theirs = try await serverKeys(arguments, client: client)
                    #expect(ours == theirs, "\(arguments)")
                    #expect(keys(arguments, in: .builtIn).map { $0 == ours } ?? true, "built-in \(arguments)")
                    compared += 1
                    withKeys += theirs.isEmpty ? 0 : 1
                }
                // Every command and subcommand, with placeholder arguments, as many as its
                // arity asks (and two more when it takes more); then with a count where a
                // keynum rule reads one, and with the keyword where a keyword rule looks.
                for (name, spec) in everyCommand(table) where spec.isKeyless == false {
                    let words = name.split(separator: "|").map(String.init)
                    let arity = try #require(try await arity(of: words, client: client))
                    for count in arity > 0 ? [arity] : [-arity, -arity + 2, -arity + 5] {
                        let placeholders = words + (words.count..<count).map { "k\($0)" }
                        var variants = [placeholders]
                        for rule in spec.keyRules {
                            var variant = placeholders
                            switch (rule.begin, rule.find) {
                            case (.index(let index), .keyNum(let keyNumIndex, _, _)) where index + keyNumIndex < count:
                                variant[index + keyNumIndex] = "2"
                            case (.keyword(let keyword, let startFrom), _):
                                let position = startFrom > 0 ? startFrom : count + startFrom
                                guard position >= words.count, position < count - 1 else { continue }
                                variant[position] = String(decoding: keyword, as: UTF8.self)
                            default:
                                continue
                            }
                            variants.append(variant)
                        }
                        for arguments in variants {
                            let theirs = try await serverKeys(arguments, client: client)
                            #expect(keys(arguments, in: table) == theirs, "\(arguments)")
                            compared += 1
                            withKeys += theirs.isEmpty ? 0 : 1
                        }
                    }
                }
                #expect(withKeys > 250)
                #expect(compared > 300)
            }
        }
    }

    @Test("a slot for the server's own keys: CROSSSLOT exactly when they spread")
    func slotsOfTheServersKeys() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                let table = ClusterKeyTable.builtIn.merging(try ClusterKeyTable.parse(commandReply: try await client.send("COMMAND")).table)
                // Shard channels route by slot, but the server reports no keys for them.
                for arguments in samples where !["SPUBLISH", "SSUBSCRIBE"].contains(arguments[0]) {
                    let bytes = encodedCommand(arguments)
                    let expected = try await serverKeys(arguments, client: client)
                    let slots = expected.map { HashSlot.of($0) }
                    switch ClusterCommandSlot.of(bytes, in: table) {
                    case .slot(let slot):
                        #expect(slots.allSatisfy { $0 == slot }, "\(arguments)")
                    case .crossSlot(let keys, let crossed):
                        #expect(keys == expected && crossed == slots && Set(slots).count > 1, "\(arguments)")
                    case .keyless, .fanOut:
                        #expect(expected.isEmpty, "\(arguments)")
                    case .unknownCommand:
                        Issue.record("\(arguments) is unknown")
                    }
                }
                #expect(ClusterCommandSlot.of(encodedCommand(["SPUBLISH", "foo", "m"]), in: table) == .slot(12182))
                #expect(ClusterCommandSlot.of(encodedCommand(["SSUBSCRIBE", "foo", "bar"]), in: table) == .crossSlot(keys: ["foo", "bar"], slots: [12182, 5061]))
            }
        }
    }

    @Test("the one-pass reading agrees with the general one over the server's whole table; where it finds no keys, the server finds none")
    func plainReadingOfTheServersTable() async throws {
        try await withServer { server in
            try await withClient(server) { client in
                let table = ClusterKeyTable.builtIn.merging(try ClusterKeyTable.parse(commandReply: try await client.send("COMMAND")).table)
                let routes = ClusterRouteTable(topology: try ClusterTopology(source: "test", shards: []), generation: 1, primaries: [], keyTable: table)
                var plain = 0
                var keyless = 0
                for (name, _) in everyCommand(table) {
                    let words = name.split(separator: "|").map { $0.uppercased() }
                    for extra in 1...3 {
                        let arguments = words + (0..<extra).map { "{t}a\($0)" }
                        let bytes = encodedCommand(arguments)
                        guard let fast = ClusterCommandReading.plain(bytes, table: routes, readFrom: .replicaPreferred) else { continue }
                        plain += 1
                        let general = try ClusterCommandReading(bytes, blocking: nil, table: routes, readFrom: .replicaPreferred)
                        #expect(fast.route == general.route && fast.keys == general.keys && fast.readsFromReplicas == general.readsFromReplicas,
                                "\(arguments)")
                        if fast.keys == .keyless {
                            keyless += 1
                            #expect(try await serverKeys(arguments, client: client).isEmpty, "\(arguments)")
                        }
                    }
                }
                #expect(plain > 300)
                #expect(keyless > 20, "\(keyless) readings without keys")
            }
        }
    }

    /// The arity of a command or subcommand, from `COMMAND INFO`.
    private func arity(of words: [String], client: RedisClient) async throws -> Int? {
        let info = try await client.send("COMMAND", "INFO", words.joined(separator: "|"))
        return info.array?.first?.array?[1].int
    }
}
