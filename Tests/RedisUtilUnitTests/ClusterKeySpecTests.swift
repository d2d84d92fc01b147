@testable import RedisUtil
import RESP
import Testing

private typealias KeyRule = ClusterKeySpec.KeyRule

/// `arguments` encoded as this package sends a command.
private func encoded(_ arguments: [any RESPArgument]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

/// The one value in `wire`, a whole RESP reply.
private func reply(_ wire: String) throws -> RESPValue {
    var parser = RESPParser()
    parser.feed(Array(wire.utf8))
    let value = try #require(try parser.next())
    #expect(parser.bufferedByteCount == 0, "the fixture holds more than one reply")
    return value
}

/// The table a fixture describes; fails the test if any entry is rejected.
private func parsedTable(_ wire: String) throws -> ClusterKeyTable {
    let (table, rejected) = try ClusterKeyTable.parse(commandReply: reply(wire))
    #expect(rejected.isEmpty)
    return table
}

/// The keys (and shard channels) `table` finds in the command, in the order the server
/// reports them; `nil` when the arguments do not fit the spec (the server then takes
/// the command for one without keys) or the command is unknown.
private func keys(_ arguments: [any RESPArgument], in table: ClusterKeyTable) -> [String]? {
    encoded(arguments).withUnsafeBufferPointer { buffer in
        ClusterKeyArguments.withArguments(of: buffer, at: 0) { command -> [String]? in
            guard let spec = table.spec(for: command) else { return nil }
            var found: [String] = []
            let fits = ClusterKeyFinder.forEachKey(of: spec, in: command) { found.append(command.text($0)) }
            return fits ? found : nil
        } ?? nil
    }
}

/// One `COMMAND INFO` entry in RESP3, Redis 7 shaped, with `specs` as its key specs
/// (each already encoded), for malformed-spec tests.
private func entry(_ name: String, flags: [String] = [], tips: [String] = [], specs: [String]) -> String {
    "*10\r\n$\(name.utf8.count)\r\n\(name)\r\n:-2\r\n~\(flags.count)\r\n" + flags.map { "+\($0)\r\n" }.joined()
        + ":0\r\n:0\r\n:0\r\n~0\r\n~\(tips.count)\r\n" + tips.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
        + "*\(specs.count)\r\n" + specs.joined() + "~0\r\n"
}

/// A key spec map in RESP3 from its begin_search and find_keys parts (type and spec fields).
private func keySpec(flags: [String] = ["RW"], begin: String, find: String) -> String {
    "%3\r\n$5\r\nflags\r\n~\(flags.count)\r\n" + flags.map { "+\($0)\r\n" }.joined()
        + "$12\r\nbegin_search\r\n" + begin + "$9\r\nfind_keys\r\n" + find
}

/// `%2 type <type> spec %n <fields>`, the fields as name and RESP-encoded value pairs.
private func search(_ type: String, _ fields: [(String, String)]) -> String {
    "%2\r\n$4\r\ntype\r\n$\(type.utf8.count)\r\n\(type)\r\n$4\r\nspec\r\n%\(fields.count)\r\n"
        + fields.map { "$\($0.0.utf8.count)\r\n\($0.0)\r\n\($0.1)" }.joined()
}

private let indexOne = search("index", [("index", ":1\r\n")])
private let rangeOne = search("range", [("lastkey", ":0\r\n"), ("keystep", ":1\r\n"), ("limit", ":0\r\n")])

@Suite("Key specs: reading COMMAND INFO, and finding keys as the server does")
struct ClusterKeySpecTests {
    // MARK: Reading the server's reply

    @Test("COMMAND INFO in RESP3: every key-spec form of Redis 7.0")
    func readsEveryForm() throws {
        let table = try parsedTable(Fixture.infoRESP3)
        #expect(table.count == 8)
        #expect(table["get"] == ClusterKeySpec(keyRules: [.key(at: 1)], isReadOnly: true))
        #expect(table["GET"] == table["get"])
        #expect(table["blmove"] == ClusterKeySpec(keyRules: [.key(at: 1), .key(at: 2)]))
        #expect(table["eval"] == ClusterKeySpec(keyRules: [.counted(at: 2)]))
        #expect(table["eval"]?.hasMovableKeys == true)
        #expect(table["xread"] == ClusterKeySpec(
            keyRules: [KeyRule(begin: .keyword(Array("STREAMS".utf8), startFrom: 1), find: .range(lastKey: -1, step: 1, limit: 2))],
            isReadOnly: true
        ))
        // SORT: the key, then two rules the server calls unknown (BY/GET patterns, STORE).
        #expect(table["sort"] == ClusterKeySpec(keyRules: [.key(at: 1), .unknown, .unknown], procedure: .sort))
        #expect(table["sort"]?.mayMissKeys == false)
        #expect(table["georadius"] == ClusterKeySpec(keyRules: [
            .key(at: 1), .after("STORE", from: 6), .after("STOREDIST", from: 6),
        ]))
        #expect(table["zunionstore"] == ClusterKeySpec(keyRules: [.key(at: 1), .counted(at: 2)]))
        #expect(table["zunionstore"]?.keyRules[1].find == .keyNum(keyNumIndex: 0, firstKey: 1, step: 1))
        let migrateKeys = KeyRule(
            begin: .keyword(Array("KEYS".utf8), startFrom: -2), find: .range(lastKey: -1, step: 1, limit: 0), isIncomplete: true
        )
        #expect(table["migrate"] == ClusterKeySpec(keyRules: [.key(at: 3), migrateKeys], procedure: .migrate))
        #expect(table["nosuch"] == nil)
    }

    @Test("RESP2 sends maps as flat arrays; the table is the same")
    func resp2MatchesResp3() throws {
        #expect(try parsedTable(Fixture.infoRESP2) == parsedTable(Fixture.infoRESP3))
    }

    @Test("subcommands, shard channels, tips, and a null for an unknown name")
    func subcommandsChannelsAndNulls() throws {
        let table = try parsedTable(Fixture.containersRESP3)
        // xinfo, object, spublish, blmpop, mset; `nosuchcommand` came back as a null.
        #expect(table.count == 5)
        #expect(table["xinfo"] == ClusterKeySpec())
        #expect(table["xinfo|stream"] == ClusterKeySpec(keyRules: [.key(at: 2)], isReadOnly: true))
        #expect(table["XINFO|Groups"] == ClusterKeySpec(keyRules: [.key(at: 2)], isReadOnly: true))
        #expect(table["xinfo|help"] == ClusterKeySpec())
        #expect(table["object|encoding"] == ClusterKeySpec(keyRules: [.key(at: 2)], isReadOnly: true))
        #expect(table["spublish"] == ClusterKeySpec(keyRules: [.channels(from: 1, lastKey: 0)]))
        #expect(table["blmpop"] == ClusterKeySpec(keyRules: [.counted(at: 2)]))
        #expect(table["mset"] == ClusterKeySpec(
            keyRules: [.keys(from: 1, step: 2)], requestPolicy: .multiShard, responsePolicy: .allSucceeded
        ))
    }

    @Test("request and response policies come from the tips")
    func tips() throws {
        let table = try parsedTable(Fixture.tipsRESP3)
        #expect(table["ping"] == ClusterKeySpec(requestPolicy: .allShards, responsePolicy: .allSucceeded))
        #expect(table["keys"] == ClusterKeySpec(isReadOnly: true, requestPolicy: .allShards))
        #expect(table["scan"] == ClusterKeySpec(isReadOnly: true, requestPolicy: .special))
        #expect(table["script|load"] == ClusterKeySpec(requestPolicy: .allNodes, responsePolicy: .allSucceeded))
        #expect(table["script|exists"] == ClusterKeySpec(requestPolicy: .allShards, responsePolicy: .logicalAnd))
        #expect(table["script|kill"] == ClusterKeySpec(requestPolicy: .allShards, responsePolicy: .oneSucceeded))
        #expect(table["script|debug"] == ClusterKeySpec())
        // Unknown tips and policies (a newer server's) are ignored, not errors.
        let policies = ClusterKeySpec.policies(tips: ["request_policy:everywhere", "nondeterministic_output", "response_policy:agg_max"].map { Array($0.utf8) })
        #expect(policies.request == nil)
        #expect(policies.response == .maximum)
    }

    @Test("the built-in table says what Redis 7.0 says of the same commands")
    func builtInAgreesWithTheFixtures() throws {
        let builtIn = ClusterKeyTable.builtIn
        let names = ["get", "blmove", "eval", "xread", "sort", "zunionstore", "migrate", "xinfo|stream",
                     "xinfo|groups", "xinfo|consumers", "object|encoding", "object|freq", "spublish", "blmpop",
                     "mset", "ping", "keys", "scan", "script|load", "script|exists", "script|flush", "script|kill"]
        let fixtures = try [Fixture.infoRESP3, Fixture.containersRESP3, Fixture.tipsRESP3].map(parsedTable)
        for name in names {
            let server = fixtures.lazy.compactMap { $0[name] }.first
            #expect(server != nil, "\(name) is in no fixture")
            #expect(builtIn[name] == server, "\(name)")
        }
    }

    @Test("an entry without key specs (Redis 6) gets rules from first key, last key and step")
    func legacyEntries() throws {
        let wire = "*5\r\n"
            + "*7\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*1\r\n+@read\r\n"
            + "*7\r\n$4\r\nmset\r\n:-3\r\n*2\r\n+write\r\n+denyoom\r\n:1\r\n:-1\r\n:2\r\n*0\r\n"
            + "*7\r\n$5\r\nblpop\r\n:-3\r\n*2\r\n+write\r\n+noscript\r\n:1\r\n:-2\r\n:1\r\n*0\r\n"
            + "*7\r\n$4\r\neval\r\n:-3\r\n*2\r\n+noscript\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n*0\r\n"
            // Redis 5 has no ACL categories: six fields.
            + "*6\r\n$6\r\nrename\r\n:3\r\n*1\r\n+write\r\n:1\r\n:2\r\n:1\r\n"
        let table = try parsedTable(wire)
        #expect(table["get"] == ClusterKeySpec(keyRules: [.key(at: 1)], isReadOnly: true))
        #expect(table["mset"] == ClusterKeySpec(keyRules: [.keys(from: 1, step: 2)]))
        #expect(table["blpop"] == ClusterKeySpec(keyRules: [.keys(from: 1, lastKey: -2)]))
        #expect(table["eval"] == ClusterKeySpec(keyRules: [.unknown]))
        #expect(table["eval"]?.mayMissKeys == true)
        #expect(table["rename"] == ClusterKeySpec(keyRules: [.keys(from: 1, lastKey: 1)]))
        #expect(keys(["RENAME", "a", "b"], in: table) == ["a", "b"])
        #expect(keys(["BLPOP", "a", "b", 0], in: table) == ["a", "b"])

        // Merged over the built-in table, the server's GET wins, but its EVAL, which
        // cannot say where its keys are, does not.
        let merged = ClusterKeyTable.builtIn.merging(table)
        #expect(merged["eval"] == ClusterKeyTable.builtIn["eval"])
        #expect(merged["mset"] == table["mset"])
        #expect(merged.count == ClusterKeyTable.builtIn.count)
    }

    @Test("merging keeps the built-in subcommands an older server's container lacks")
    func mergingContainers() throws {
        let server = try parsedTable(Fixture.containersRESP3)
        let merged = ClusterKeyTable.builtIn.merging(server)
        #expect(merged["xinfo|help"] == ClusterKeySpec())
        #expect(merged["xinfo|stream"] == server["xinfo|stream"])
        #expect(merged["client|setname"] == ClusterKeySpec())
        #expect(merged["object|refcount"] == server["object|refcount"])
    }

    // MARK: Finding keys

    @Test("index and range: GET, MSET (every other argument), BLPOP (all but the timeout), LCS")
    func indexAndRange() throws {
        let table = ClusterKeyTable.builtIn
        #expect(keys(["GET", "k"], in: table) == ["k"])
        #expect(keys(["get", "k"], in: table) == ["k"])
        #expect(keys(["MSET", "a", 1, "b", 2, "c", 3], in: table) == ["a", "b", "c"])
        // An odd count still takes every other argument to the end, as the server does
        // (MSET itself then refuses the command).
        #expect(keys(["MSET", "a", 1, "b"], in: table) == ["a", "b"])
        #expect(keys(["BLPOP", "a", "b", "c", 0], in: table) == ["a", "b", "c"])
        #expect(keys(["LCS", "a", "b", "LEN"], in: table) == ["a", "b"])
        #expect(keys(["SINTERSTORE", "d", "a", "b"], in: table) == ["d", "a", "b"])
        #expect(keys(["OBJECT", "ENCODING", "k"], in: table) == ["k"])
        #expect(keys(["XINFO", "stream", "s", "FULL"], in: table) == ["s"])
        // Too few arguments for the spec: the server takes it for a command without keys.
        #expect(keys(["GET"], in: table) == nil)
    }

    @Test("index and keynum: EVAL, ZUNIONSTORE, BLMPOP, LMPOP")
    func indexAndKeyNum() throws {
        let table = ClusterKeyTable.builtIn
        #expect(keys(["EVAL", "return 1", 2, "a", "b", "arg"], in: table) == ["a", "b"])
        #expect(keys(["EVALSHA", "abc", 1, "a"], in: table) == ["a"])
        #expect(keys(["FCALL", "f", 3, "a", "b", "c"], in: table) == ["a", "b", "c"])
        #expect(keys(["ZUNIONSTORE", "d", 2, "a", "b", "WEIGHTS", 1, 2], in: table) == ["d", "a", "b"])
        #expect(keys(["BLMPOP", 0, 2, "a", "b", "LEFT", "COUNT", 3], in: table) == ["a", "b"])
        #expect(keys(["LMPOP", 1, "a", "RIGHT"], in: table) == ["a"])
        // A count of 0, one that is no number or runs past the end: no keys, as the server says.
        #expect(keys(["EVAL", "return 1", 0], in: table) == nil)
        #expect(keys(["EVAL", "return 1", "x", "a"], in: table) == nil)
        #expect(keys(["EVAL", "return 1", "-1", "a"], in: table) == nil)
        #expect(keys(["EVAL", "return 1", "01", "a"], in: table) == nil)
        #expect(keys(["EVAL", "return 1", 3, "a", "b"], in: table) == nil)
        #expect(keys(["EVAL", "return 1", "99999999999999999999999", "a"], in: table) == nil)
        #expect(keys(["ZUNIONSTORE", "d", 0], in: table) == nil)
    }

    @Test("keyword and range: XREAD takes half of what follows STREAMS, XREADGROUP too")
    func keywordAndRange() throws {
        let table = ClusterKeyTable.builtIn
        #expect(keys(["XREAD", "STREAMS", "a", "0"], in: table) == ["a"])
        #expect(keys(["XREAD", "COUNT", 2, "BLOCK", 0, "streams", "a", "b", "c", "0", "0", "0"], in: table) == ["a", "b", "c"])
        // Odd: the server rounds down (and XREAD refuses the command).
        #expect(keys(["XREAD", "STREAMS", "a", "b", "0"], in: table) == ["a"])
        // No STREAMS: no keys, and nothing invalid.
        #expect(keys(["XREAD", "COUNT", 2], in: table) == [])
        // The keyword is never taken from the last argument.
        #expect(keys(["XREAD", "COUNT", "STREAMS"], in: table) == [])
        #expect(keys(["XREADGROUP", "GROUP", "g", "c", "STREAMS", "s1", "s2", ">", ">"], in: table) == ["s1", "s2"])
        // The search starts at argument 4: a group named STREAMS is not the keyword.
        #expect(keys(["XREADGROUP", "GROUP", "STREAMS", "c", "STREAMS", "s", ">"], in: table) == ["s"])
    }

    @Test("keyword from the start: GEORADIUS STORE and STOREDIST")
    func geoRadiusStore() throws {
        let table = try parsedTable(Fixture.infoRESP3)
        #expect(keys(["GEORADIUS", "g", 0, 0, 1, "km"], in: table) == ["g"])
        #expect(keys(["GEORADIUS", "g", 0, 0, 1, "km", "STORE", "d"], in: table) == ["g", "d"])
        #expect(keys(["GEORADIUS", "g", 0, 0, 1, "km", "COUNT", 3, "storedist", "d"], in: table) == ["g", "d"])
        #expect(keys(["GEORADIUS", "g", 0, 0, 1, "km", "STORE", "d1", "STOREDIST", "d2"], in: table) == ["g", "d1", "d2"])
        // STORE among the first six arguments is the member's coordinates, not the option.
        #expect(keys(["GEORADIUS", "g", "STORE", 0, 1, "km"], in: table) == ["g"])
    }

    @Test("movable keys the specs cannot find: SORT's STORE, MIGRATE's KEYS")
    func procedures() throws {
        let table = try parsedTable(Fixture.infoRESP3)
        #expect(keys(["SORT", "k"], in: table) == ["k"])
        #expect(keys(["SORT", "k", "BY", "w_*", "GET", "#", "STORE", "d"], in: table) == ["k", "d"])
        #expect(keys(["SORT", "k", "LIMIT", 0, 10, "ALPHA", "store", "d"], in: table) == ["k", "d"])
        // The last STORE counts; the values of BY, GET and LIMIT are skipped.
        #expect(keys(["SORT", "k", "STORE", "d1", "STORE", "d2"], in: table) == ["k", "d2"])
        #expect(keys(["SORT", "k", "BY", "STORE", "GET", "STORE"], in: table) == ["k"])
        #expect(keys(["SORT", "k", "LIMIT", "STORE", "x", "DESC"], in: table) == ["k"])
        #expect(keys(["SORT", "k", "STORE"], in: table) == ["k"])

        #expect(keys(["MIGRATE", "h", 6379, "k", 0, 5000], in: table) == ["k"])
        #expect(keys(["MIGRATE", "h", 6379, "", 0, 5000, "COPY", "KEYS", "a", "b"], in: table) == ["a", "b"])
        // AUTH's password and AUTH2's user and password are skipped, whatever they spell.
        #expect(keys(["MIGRATE", "h", 6379, "", 0, 5000, "AUTH", "keys", "KEYS", "a"], in: table) == ["a"])
        #expect(keys(["MIGRATE", "h", 6379, "", 0, 5000, "AUTH2", "keys", "keys", "KEYS", "a"], in: table) == ["a"])
        // KEYS with a key named too: the server takes it for a command without keys.
        #expect(keys(["MIGRATE", "h", 6379, "k", 0, 5000, "KEYS", "a"], in: table) == nil)
        // The built-in table has the same procedures.
        #expect(keys(["SORT", "k", "STORE", "d"], in: .builtIn) == ["k", "d"])
        #expect(keys(["MIGRATE", "h", 6379, "", 0, 5000, "KEYS", "a"], in: .builtIn) == ["a"])
    }

    @Test("shard channels count as keys for routing")
    func channels() throws {
        #expect(keys(["SPUBLISH", "ch", "hi"], in: .builtIn) == ["ch"])
        #expect(keys(["SSUBSCRIBE", "a", "b"], in: .builtIn) == ["a", "b"])
        #expect(keys(["PUBLISH", "ch", "hi"], in: .builtIn) == [])
    }

    // MARK: Malformed replies

    @Test("a reply that is no list of commands throws a typed error")
    func notAList() throws {
        #expect(throws: ClusterKeySpecError.notACommandList(.error)) {
            try ClusterKeyTable.parse(commandReply: .error(Array("ERR unknown command".utf8)))
        }
        #expect(throws: ClusterKeySpecError.notACommandList(.integer)) {
            try ClusterKeyTable.parse(commandReply: .integer(3))
        }
        #expect(ClusterKeySpecError.notACommandList(.error).description.contains("got a simple error"))
    }

    @Test("malformed entries are rejected one by one, with a reason, never a crash", arguments: [
        ("not an array", ":1\r\n", "expected an array"),
        ("too short", "*3\r\n$3\r\nget\r\n:2\r\n*0\r\n", "at least 6 fields"),
        ("name not a string", "*6\r\n:1\r\n:2\r\n*0\r\n:1\r\n:1\r\n:1\r\n", "name as a string"),
        ("flags not an array", "*6\r\n$3\r\nget\r\n:2\r\n:0\r\n:1\r\n:1\r\n:1\r\n", "flags"),
        ("legacy step 0", "*6\r\n$3\r\nget\r\n:2\r\n*0\r\n:1\r\n:1\r\n:0\r\n", "select no keys"),
        ("key specs not an array", "*10\r\n$1\r\nx\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~0\r\n~0\r\n:0\r\n~0\r\n", "key specs"),
        ("spec not a map", entry("x", specs: [":1\r\n"]), "expected a map"),
        ("no flags", entry("x", specs: ["%2\r\n$12\r\nbegin_search\r\n" + indexOne + "$9\r\nfind_keys\r\n" + rangeOne]), "flags"),
        ("index 0", entry("x", specs: [keySpec(begin: search("index", [("index", ":0\r\n")]), find: rangeOne)]), "index 0"),
        ("index missing", entry("x", specs: [keySpec(begin: search("index", []), find: rangeOne)]), "field index"),
        ("index not a number", entry("x", specs: [keySpec(begin: search("index", [("index", "$1\r\n1\r\n")]), find: rangeOne)]), "field index"),
        ("index huge", entry("x", specs: [keySpec(begin: search("index", [("index", ":9999999999\r\n")]), find: rangeOne)]), "out of range"),
        ("keyword empty", entry("x", specs: [keySpec(begin: search("keyword", [("keyword", "$0\r\n\r\n"), ("startfrom", ":1\r\n")]), find: rangeOne)]), "keyword"),
        ("startfrom 0", entry("x", specs: [keySpec(begin: search("keyword", [("keyword", "$1\r\nK\r\n"), ("startfrom", ":0\r\n")]), find: rangeOne)]), "startfrom 0"),
        ("keystep 0", entry("x", specs: [keySpec(begin: indexOne, find: search("range", [("lastkey", ":-1\r\n"), ("keystep", ":0\r\n"), ("limit", ":0\r\n")]))]), "never advance"),
        ("limit negative", entry("x", specs: [keySpec(begin: indexOne, find: search("range", [("lastkey", ":-1\r\n"), ("keystep", ":1\r\n"), ("limit", ":-2\r\n")]))]), "negative"),
        ("range field missing", entry("x", specs: [keySpec(begin: indexOne, find: search("range", [("lastkey", ":0\r\n")]))]), "keystep"),
        ("keynum step 0", entry("x", specs: [keySpec(begin: indexOne, find: search("keynum", [("keynumidx", ":0\r\n"), ("firstkey", ":1\r\n"), ("keystep", ":0\r\n")]))]), "never advance"),
        ("keynumidx negative", entry("x", specs: [keySpec(begin: indexOne, find: search("keynum", [("keynumidx", ":-1\r\n"), ("firstkey", ":1\r\n"), ("keystep", ":1\r\n")]))]), "negative"),
        ("no find_keys", entry("x", specs: ["%2\r\n$5\r\nflags\r\n~0\r\n$12\r\nbegin_search\r\n" + indexOne]), "find_keys"),
    ])
    func malformedEntries(_ label: String, _ wire: String, _ reason: String) throws {
        // A good entry after the bad one still makes it into the table.
        let good = entry("good", flags: ["readonly"], specs: [keySpec(begin: indexOne, find: rangeOne)])
        let (table, rejected) = try ClusterKeyTable.parse(commandReply: reply("*2\r\n" + wire + good))
        #expect(table.count == 1, "\(label)")
        #expect(table["good"] == ClusterKeySpec(keyRules: [.key(at: 1)], isReadOnly: true))
        #expect(rejected.count == 1, "\(label)")
        let description = rejected.first.map(String.init(describing:)) ?? ""
        #expect(description.contains(reason), "\(label): \(description)")
    }

    @Test("a malformed subcommand leaves out only itself")
    func malformedSubcommand() throws {
        let bad = entry("box|bad", specs: [keySpec(begin: search("index", [("index", ":0\r\n")]), find: rangeOne)])
        let good = entry("box|good", flags: ["readonly"], specs: [keySpec(begin: search("index", [("index", ":2\r\n")]), find: rangeOne)])
        let container = "*10\r\n$3\r\nbox\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~0\r\n~0\r\n~0\r\n*2\r\n" + bad + good
        let (table, rejected) = try ClusterKeyTable.parse(commandReply: reply("*1\r\n" + container))
        #expect(table["box|good"] == ClusterKeySpec(keyRules: [.key(at: 2)], isReadOnly: true))
        #expect(table["box|bad"] == nil)
        #expect(rejected == [.malformedKeySpec(command: "box|bad", index: 0, reason: "begin_search index 0 would point at or before the command's name")])
        #expect(keys(["BOX", "GOOD", "k"], in: table) == ["k"])
    }

    @Test("search types a newer server may add read as unknown, not as errors")
    func unknownSearchTypes() throws {
        let wire = "*1\r\n" + entry("x", flags: ["movablekeys"], specs: [
            keySpec(begin: indexOne, find: rangeOne),
            keySpec(begin: search("lookahead", [("depth", ":3\r\n")]), find: search("pattern", [])),
        ])
        let table = try parsedTable(wire)
        #expect(table["x"] == ClusterKeySpec(keyRules: [.key(at: 1), .unknown], hasMovableKeys: true))
        #expect(table["x"]?.mayMissKeys == true)
        #expect(keys(["X", "k", "more"], in: table) == ["k"])
    }

    // MARK: Locating arguments

    @Test("arguments are located in place; bytes that are not one whole command are refused")
    func locatingArguments() {
        func count(_ bytes: [UInt8]) -> Int? {
            bytes.withUnsafeBufferPointer { buffer in ClusterKeyArguments.withArguments(of: buffer, at: 0) { $0.count } }
        }
        #expect(count(encoded(["RPUSH", "k", "v"])) == 3)
        #expect(count(encoded(["PING"])) == 1)
        #expect(count(Array("*0\r\n".utf8)) == nil)
        #expect(count(Array("*2\r\n$3\r\nGET\r\n".utf8)) == nil)
        #expect(count(Array("*1\r\n$3\r\nGETX\r\n".utf8)) == nil)
        #expect(count(Array("*1\r\n$9\r\nGET\r\n".utf8)) == nil)
        #expect(count(Array("*1\r\n$\r\n\r\n".utf8)) == nil)
        #expect(count(Array("*1\r\n:3\r\n".utf8)) == nil)
        #expect(count(Array("garbage".utf8)) == nil)
        // A declared count the bytes cannot hold is refused before it sizes anything.
        #expect(count(Array("*999999999999\r\n$1\r\na\r\n".utf8)) == nil)
        #expect(count(Array("*99999999999999999999999\r\n".utf8)) == nil)

        let bytes = encoded(["EVAL", "s", 12, "", "0", "007"])
        bytes.withUnsafeBufferPointer { buffer in
            _ = ClusterKeyArguments.withArguments(of: buffer, at: 0) { arguments in
                #expect(arguments.end == bytes.count)
                #expect(arguments.text(1) == "s")
                #expect(arguments[3].isEmpty)
                #expect(arguments.count(at: 2) == 12)
                #expect(arguments.count(at: 3) == nil)
                #expect(arguments.count(at: 4) == 0)
                #expect(arguments.count(at: 5) == nil)
                #expect(arguments.equalsIgnoringCase(0, Array("eval".utf8)))
                #expect(!arguments.equalsIgnoringCase(0, Array("evals".utf8)))
            }
        }
    }
}

/// Replies of redis-server 7.0.15, byte for byte: `COMMAND INFO …` over a connection
/// after `HELLO 3` (RESP3), or without it (RESP2).
private enum Fixture {
    /// `COMMAND INFO get blmove eval xread sort georadius zunionstore migrate`, RESP3.
    static let infoRESP3 =
        """
        *8\r\n*10\r\n$3\r\nget\r\n:2\r\n~2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@read\r\n\
        +@string\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\n\
        begin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\n\
        find_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n\
        keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$6\r\nblmove\r\n:6\r\n~4\r\n+write\r\n\
        +denyoom\r\n+noscript\r\n+blocking\r\n:1\r\n:2\r\n:1\r\n~4\r\n+@write\r\n+@list\r\n+@slow\r\n\
        +@blocking\r\n~0\r\n~2\r\n%3\r\n$5\r\nflags\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n$12\r\n\
        begin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\n\
        find_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n\
        keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RW\r\n+insert\r\n$12\r\n\
        begin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\n\
        find_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n\
        keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$4\r\neval\r\n:-3\r\n~5\r\n+noscript\r\n\
        +stale\r\n+skip_monitor\r\n+no_mandatory_keys\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n\
        +@scripting\r\n~0\r\n~1\r\n%4\r\n$5\r\nnotes\r\n$78\r\n\
        We cannot tell how the keys will be used so we assume the worst, RW and UPDATE\r\n$5\r\nflags\r\n\
        ~3\r\n+RW\r\n+access\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\n\
        spec\r\n%3\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n~0\r\n*10\r\n\
        $5\r\nxread\r\n:-4\r\n~3\r\n+readonly\r\n+blocking\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n~4\r\n\
        +@read\r\n+@stream\r\n+@slow\r\n+@blocking\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n\
        +access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n%2\r\n$7\r\n\
        keyword\r\n$7\r\nSTREAMS\r\n$9\r\nstartfrom\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\n\
        range\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:2\r\n\
        ~0\r\n*10\r\n$4\r\nsort\r\n:-2\r\n~3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n\
        ~6\r\n+@write\r\n+@set\r\n+@sortedset\r\n+@list\r\n+@slow\r\n+@dangerous\r\n~0\r\n~3\r\n%3\r\n$5\r\n\
        flags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n\
        spec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%4\r\n$5\r\n\
        notes\r\n$120\r\n\
        For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort\r\n\
        $5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n\
        $4\r\nspec\r\n%0\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n\
        %4\r\n$5\r\nnotes\r\n$116\r\n\
        For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array\r\n\
        $5\r\nflags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n\
        $4\r\nspec\r\n%0\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n%0\r\n\
        ~0\r\n*10\r\n$9\r\ngeoradius\r\n:-6\r\n~3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n\
        :1\r\n~3\r\n+@write\r\n+@geo\r\n+@slow\r\n~0\r\n~3\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n\
        $12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:1\r\n\
        $9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n\
        $7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%3\r\n$5\r\nflags\r\n~2\r\n+OW\r\n+update\r\n$12\r\n\
        begin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n%2\r\n$7\r\nkeyword\r\n$5\r\n\
        STORE\r\n$9\r\nstartfrom\r\n:6\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n\
        spec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%3\r\n$5\r\n\
        flags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\n\
        spec\r\n%2\r\n$7\r\nkeyword\r\n$9\r\nSTOREDIST\r\n$9\r\nstartfrom\r\n:6\r\n$9\r\nfind_keys\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n\
        $5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$11\r\nzunionstore\r\n:-4\r\n~3\r\n+write\r\n+denyoom\r\n\
        +movablekeys\r\n:1\r\n:1\r\n:1\r\n~3\r\n+@write\r\n+@sortedset\r\n+@slow\r\n~0\r\n~2\r\n%3\r\n$5\r\n\
        flags\r\n~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n\
        spec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n%3\r\n$5\r\n\
        flags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\n\
        spec\r\n%3\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n~0\r\n*10\r\n\
        $7\r\nmigrate\r\n:-6\r\n~2\r\n+write\r\n+movablekeys\r\n:3\r\n:3\r\n:1\r\n~4\r\n+@keyspace\r\n\
        +@write\r\n+@slow\r\n+@dangerous\r\n~1\r\n$23\r\nnondeterministic_output\r\n~2\r\n%3\r\n$5\r\n\
        flags\r\n~3\r\n+RW\r\n+access\r\n+delete\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\n\
        index\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:3\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\n\
        range\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n\
        %3\r\n$5\r\nflags\r\n~4\r\n+RW\r\n+access\r\n+delete\r\n+incomplete\r\n$12\r\nbegin_search\r\n%2\r\n\
        $4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n%2\r\n$7\r\nkeyword\r\n$4\r\nKEYS\r\n$9\r\n\
        startfrom\r\n:-2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\n\
        lastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n
        """

    /// The same, RESP2: sets and maps become arrays, maps flat ones of pairs.
    static let infoRESP2 =
        """
        *8\r\n*10\r\n$3\r\nget\r\n:2\r\n*2\r\n+readonly\r\n+fast\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@read\r\n\
        +@string\r\n+@fast\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\n\
        begin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\n\
        find_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n\
        keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n*10\r\n$6\r\nblmove\r\n:6\r\n*4\r\n+write\r\n\
        +denyoom\r\n+noscript\r\n+blocking\r\n:1\r\n:2\r\n:1\r\n*4\r\n+@write\r\n+@list\r\n+@slow\r\n\
        +@blocking\r\n*0\r\n*2\r\n*6\r\n$5\r\nflags\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n$12\r\n\
        begin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\n\
        find_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n\
        keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RW\r\n+insert\r\n$12\r\n\
        begin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\n\
        find_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n\
        keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n*10\r\n$4\r\neval\r\n:-3\r\n*5\r\n+noscript\r\n\
        +stale\r\n+skip_monitor\r\n+no_mandatory_keys\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@slow\r\n\
        +@scripting\r\n*0\r\n*1\r\n*8\r\n$5\r\nnotes\r\n$78\r\n\
        We cannot tell how the keys will be used so we assume the worst, RW and UPDATE\r\n$5\r\nflags\r\n\
        *3\r\n+RW\r\n+access\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\n\
        spec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n*0\r\n*10\r\n\
        $5\r\nxread\r\n:-4\r\n*3\r\n+readonly\r\n+blocking\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n*4\r\n\
        +@read\r\n+@stream\r\n+@slow\r\n+@blocking\r\n*0\r\n*1\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n\
        +access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\n\
        keyword\r\n$7\r\nSTREAMS\r\n$9\r\nstartfrom\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\n\
        range\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:2\r\n\
        *0\r\n*10\r\n$4\r\nsort\r\n:-2\r\n*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n:1\r\n\
        *6\r\n+@write\r\n+@set\r\n+@sortedset\r\n+@list\r\n+@slow\r\n+@dangerous\r\n*0\r\n*3\r\n*6\r\n$5\r\n\
        flags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n\
        spec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*8\r\n$5\r\n\
        notes\r\n$120\r\n\
        For the optional BY/GET keyword. It is marked 'unknown' because the key names derive from the content of the key we sort\r\n\
        $5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nunknown\r\n\
        $4\r\nspec\r\n*0\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n*0\r\n\
        *8\r\n$5\r\nnotes\r\n$116\r\n\
        For the optional STORE keyword. It is marked 'unknown' because the keyword can appear anywhere in the argument array\r\n\
        $5\r\nflags\r\n*2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nunknown\r\n\
        $4\r\nspec\r\n*0\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$7\r\nunknown\r\n$4\r\nspec\r\n*0\r\n\
        *0\r\n*10\r\n$9\r\ngeoradius\r\n:-6\r\n*3\r\n+write\r\n+denyoom\r\n+movablekeys\r\n:1\r\n:1\r\n\
        :1\r\n*3\r\n+@write\r\n+@geo\r\n+@slow\r\n*0\r\n*3\r\n*6\r\n$5\r\nflags\r\n*2\r\n+RO\r\n+access\r\n\
        $12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:1\r\n\
        $9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n\
        $7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*6\r\n$5\r\nflags\r\n*2\r\n+OW\r\n+update\r\n$12\r\n\
        begin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\nkeyword\r\n$5\r\n\
        STORE\r\n$9\r\nstartfrom\r\n:6\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n\
        spec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*6\r\n$5\r\n\
        flags\r\n*2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\n\
        spec\r\n*4\r\n$7\r\nkeyword\r\n$9\r\nSTOREDIST\r\n$9\r\nstartfrom\r\n:6\r\n$9\r\nfind_keys\r\n*4\r\n\
        $4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n\
        $5\r\nlimit\r\n:0\r\n*0\r\n*10\r\n$11\r\nzunionstore\r\n:-4\r\n*3\r\n+write\r\n+denyoom\r\n\
        +movablekeys\r\n:1\r\n:1\r\n:1\r\n*3\r\n+@write\r\n+@sortedset\r\n+@slow\r\n*0\r\n*2\r\n*6\r\n$5\r\n\
        flags\r\n*2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n*2\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n\
        spec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*6\r\n$5\r\n\
        flags\r\n*2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n*2\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\n\
        spec\r\n*6\r\n$9\r\nkeynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n*0\r\n*10\r\n\
        $7\r\nmigrate\r\n:-6\r\n*2\r\n+write\r\n+movablekeys\r\n:3\r\n:3\r\n:1\r\n*4\r\n+@keyspace\r\n\
        +@write\r\n+@slow\r\n+@dangerous\r\n*1\r\n$23\r\nnondeterministic_output\r\n*2\r\n*6\r\n$5\r\n\
        flags\r\n*3\r\n+RW\r\n+access\r\n+delete\r\n$12\r\nbegin_search\r\n*4\r\n$4\r\ntype\r\n$5\r\n\
        index\r\n$4\r\nspec\r\n*2\r\n$5\r\nindex\r\n:3\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\n\
        range\r\n$4\r\nspec\r\n*6\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n\
        *6\r\n$5\r\nflags\r\n*4\r\n+RW\r\n+access\r\n+delete\r\n+incomplete\r\n$12\r\nbegin_search\r\n*4\r\n\
        $4\r\ntype\r\n$7\r\nkeyword\r\n$4\r\nspec\r\n*4\r\n$7\r\nkeyword\r\n$4\r\nKEYS\r\n$9\r\n\
        startfrom\r\n:-2\r\n$9\r\nfind_keys\r\n*4\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n*6\r\n$7\r\n\
        lastkey\r\n:-1\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n*0\r\n
        """

    /// `COMMAND INFO xinfo object spublish blmpop mset nosuchcommand`, RESP3.
    static let containersRESP3 =
        """
        *6\r\n*10\r\n$5\r\nxinfo\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n*4\r\n*10\r\n\
        $12\r\nxinfo|groups\r\n:3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@read\r\n+@stream\r\n\
        +@slow\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n\
        $5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$15\r\nxinfo|consumers\r\n:4\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n\
        :1\r\n~3\r\n+@read\r\n+@stream\r\n+@slow\r\n~1\r\n$23\r\nnondeterministic_output\r\n~1\r\n%3\r\n\
        $5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n\
        $4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n\
        $4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n\
        $12\r\nxinfo|stream\r\n:-3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@read\r\n+@stream\r\n\
        +@slow\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~2\r\n+RO\r\n+access\r\n$12\r\nbegin_search\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n\
        $5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$10\r\nxinfo|help\r\n:2\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n\
        :0\r\n:0\r\n~2\r\n+@stream\r\n+@slow\r\n~0\r\n~0\r\n~0\r\n*10\r\n$6\r\nobject\r\n:-2\r\n~0\r\n:0\r\n\
        :0\r\n:0\r\n~1\r\n+@slow\r\n~0\r\n~0\r\n*5\r\n*10\r\n$15\r\nobject|idletime\r\n:3\r\n~1\r\n\
        +readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n~1\r\n$23\r\n\
        nondeterministic_output\r\n~1\r\n%3\r\n$5\r\nflags\r\n~1\r\n+RO\r\n$12\r\nbegin_search\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n\
        $5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$11\r\nobject|help\r\n:2\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n\
        :0\r\n:0\r\n~2\r\n+@keyspace\r\n+@slow\r\n~0\r\n~0\r\n~0\r\n*10\r\n$15\r\nobject|encoding\r\n:3\r\n\
        ~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n~1\r\n$23\r\n\
        nondeterministic_output\r\n~1\r\n%3\r\n$5\r\nflags\r\n~1\r\n+RO\r\n$12\r\nbegin_search\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n\
        $4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n\
        $5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$11\r\nobject|freq\r\n:3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n\
        ~3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n~1\r\n$23\r\nnondeterministic_output\r\n~1\r\n%3\r\n$5\r\n\
        flags\r\n~1\r\n+RO\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n\
        $5\r\nindex\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n\
        $7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$15\r\n\
        object|refcount\r\n:3\r\n~1\r\n+readonly\r\n:2\r\n:2\r\n:1\r\n~3\r\n+@keyspace\r\n+@read\r\n\
        +@slow\r\n~1\r\n$23\r\nnondeterministic_output\r\n~1\r\n%3\r\n$5\r\nflags\r\n~1\r\n+RO\r\n$12\r\n\
        begin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\nindex\r\n:2\r\n$9\r\n\
        find_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\n\
        keystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$8\r\nspublish\r\n:3\r\n~4\r\n+pubsub\r\n\
        +loading\r\n+stale\r\n+fast\r\n:1\r\n:1\r\n:1\r\n~2\r\n+@pubsub\r\n+@fast\r\n~0\r\n~1\r\n%3\r\n\
        $5\r\nflags\r\n~1\r\n+not_key\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\n\
        spec\r\n%1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\n\
        spec\r\n%3\r\n$7\r\nlastkey\r\n:0\r\n$7\r\nkeystep\r\n:1\r\n$5\r\nlimit\r\n:0\r\n~0\r\n*10\r\n$6\r\n\
        blmpop\r\n:-5\r\n~3\r\n+write\r\n+blocking\r\n+movablekeys\r\n:0\r\n:0\r\n:0\r\n~4\r\n+@write\r\n\
        +@list\r\n+@slow\r\n+@blocking\r\n~0\r\n~1\r\n%3\r\n$5\r\nflags\r\n~3\r\n+RW\r\n+access\r\n\
        +delete\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n%1\r\n$5\r\n\
        index\r\n:2\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$6\r\nkeynum\r\n$4\r\nspec\r\n%3\r\n$9\r\n\
        keynumidx\r\n:0\r\n$8\r\nfirstkey\r\n:1\r\n$7\r\nkeystep\r\n:1\r\n~0\r\n*10\r\n$4\r\nmset\r\n:-3\r\n\
        ~2\r\n+write\r\n+denyoom\r\n:1\r\n:-1\r\n:2\r\n~3\r\n+@write\r\n+@string\r\n+@slow\r\n~2\r\n$26\r\n\
        request_policy:multi_shard\r\n$29\r\nresponse_policy:all_succeeded\r\n~1\r\n%3\r\n$5\r\nflags\r\n\
        ~2\r\n+OW\r\n+update\r\n$12\r\nbegin_search\r\n%2\r\n$4\r\ntype\r\n$5\r\nindex\r\n$4\r\nspec\r\n\
        %1\r\n$5\r\nindex\r\n:1\r\n$9\r\nfind_keys\r\n%2\r\n$4\r\ntype\r\n$5\r\nrange\r\n$4\r\nspec\r\n\
        %3\r\n$7\r\nlastkey\r\n:-1\r\n$7\r\nkeystep\r\n:2\r\n$5\r\nlimit\r\n:0\r\n~0\r\n_\r\n
        """

    /// `COMMAND INFO ping keys scan script`, RESP3.
    static let tipsRESP3 =
        """
        *4\r\n*10\r\n$4\r\nping\r\n:-1\r\n~1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@fast\r\n+@connection\r\n\
        ~2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:all_succeeded\r\n~0\r\n~0\r\n\
        *10\r\n$4\r\nkeys\r\n:2\r\n~1\r\n+readonly\r\n:0\r\n:0\r\n:0\r\n~4\r\n+@keyspace\r\n+@read\r\n\
        +@slow\r\n+@dangerous\r\n~2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\n\
        nondeterministic_output_order\r\n~0\r\n~0\r\n*10\r\n$4\r\nscan\r\n:-2\r\n~1\r\n+readonly\r\n:0\r\n\
        :0\r\n:0\r\n~3\r\n+@keyspace\r\n+@read\r\n+@slow\r\n~2\r\n$23\r\nnondeterministic_output\r\n$22\r\n\
        request_policy:special\r\n~0\r\n~0\r\n*10\r\n$6\r\nscript\r\n:-2\r\n~0\r\n:0\r\n:0\r\n:0\r\n~1\r\n\
        +@slow\r\n~0\r\n~0\r\n*6\r\n*10\r\n$11\r\nscript|load\r\n:3\r\n~2\r\n+noscript\r\n+stale\r\n:0\r\n\
        :0\r\n:0\r\n~2\r\n+@slow\r\n+@scripting\r\n~2\r\n$24\r\nrequest_policy:all_nodes\r\n$29\r\n\
        response_policy:all_succeeded\r\n~0\r\n~0\r\n*10\r\n$12\r\nscript|debug\r\n:3\r\n~1\r\n+noscript\r\n\
        :0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n+@scripting\r\n~0\r\n~0\r\n~0\r\n*10\r\n$13\r\nscript|exists\r\n\
        :-3\r\n~1\r\n+noscript\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n+@scripting\r\n~2\r\n$25\r\n\
        request_policy:all_shards\r\n$31\r\nresponse_policy:agg_logical_and\r\n~0\r\n~0\r\n*10\r\n$12\r\n\
        script|flush\r\n:-2\r\n~1\r\n+noscript\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n+@scripting\r\n~2\r\n\
        $24\r\nrequest_policy:all_nodes\r\n$29\r\nresponse_policy:all_succeeded\r\n~0\r\n~0\r\n*10\r\n\
        $11\r\nscript|kill\r\n:2\r\n~2\r\n+noscript\r\n+allow_busy\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@slow\r\n\
        +@scripting\r\n~2\r\n$25\r\nrequest_policy:all_shards\r\n$29\r\nresponse_policy:one_succeeded\r\n\
        ~0\r\n~0\r\n*10\r\n$11\r\nscript|help\r\n:2\r\n~2\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~2\r\n\
        +@slow\r\n+@scripting\r\n~0\r\n~0\r\n~0\r\n
        """
}
