@testable import RedisUtil
import RESP
import Testing

private func encoded(_ arguments: [any RESPArgument]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

/// Where the built-in table sends the command `arguments` encode.
private func slot(_ arguments: [any RESPArgument], in table: ClusterKeyTable = .builtIn) -> ClusterCommandSlot {
    ClusterCommandSlot.of(encoded(arguments), in: table)
}

@Suite("Routing a command's bytes to a cluster slot")
struct ClusterCommandSlotTests {
    @Test("one key: its slot, whatever the case of the name")
    func oneKey() {
        #expect(slot(["RPUSH", "jobs", "a", "b"]) == .slot(HashSlot.of("jobs")))
        #expect(slot(["rpush", "jobs", "a"]) == .slot(HashSlot.of("jobs")))
        #expect(slot(["GET", "foo"]) == .slot(12182))
        #expect(slot(["XINFO", "STREAM", "s"]) == .slot(HashSlot.of("s")))
        #expect(slot(["SPUBLISH", "news", "hi"]) == .slot(HashSlot.of("news")))
    }

    @Test("many keys: one slot when their hash tags agree, else every key and its slot")
    func manyKeys() {
        #expect(slot(["MSET", "{user1}.a", 1, "{user1}.b", 2]) == .slot(HashSlot.of("user1")))
        #expect(slot(["MSET", "a", 1, "b", 2]) == .crossSlot(keys: ["a", "b"], slots: [15495, 3300]))
        #expect(slot(["DEL", "foo", "{bar}x", "bar"]) == .crossSlot(keys: ["foo", "{bar}x", "bar"], slots: [12182, 5061, 5061]))
        #expect(slot(["EVAL", "return 1", 2, "{t}1", "{t}2", "not-a-key"]) == .slot(HashSlot.of("t")))
        #expect(slot(["EVAL", "return 1", 2, "foo", "bar"]) == .crossSlot(keys: ["foo", "bar"], slots: [12182, 5061]))
        #expect(slot(["BLMOVE", "{q}src", "{q}dst", "LEFT", "RIGHT", 0]) == .slot(HashSlot.of("q")))
        #expect(slot(["ZUNIONSTORE", "{z}d", 2, "{z}a", "{z}b"]) == .slot(HashSlot.of("z")))
        #expect(slot(["XREAD", "STREAMS", "foo", "bar", "0", "0"]) == .crossSlot(keys: ["foo", "bar"], slots: [12182, 5061]))
        #expect(slot(["SORT", "foo", "STORE", "bar"]) == .crossSlot(keys: ["foo", "bar"], slots: [12182, 5061]))
    }

    @Test("keyless commands go to any primary; arguments that fit no spec too")
    func keyless() {
        #expect(slot(["ECHO", "hi"]) == .keyless)
        #expect(slot(["MULTI"]) == .keyless)
        #expect(slot(["PUBLISH", "ch", "hi"]) == .keyless)
        #expect(slot(["CLIENT", "SETNAME", "x"]) == .keyless)
        #expect(slot(["EVAL", "return 1", 0]) == .keyless)
        #expect(slot(["EVAL", "return 1", "x", "k"]) == .keyless)
        #expect(slot(["XREAD", "COUNT", 1]) == .keyless)
    }

    @Test("commands the tips send to many nodes, and how their replies combine")
    func fanOut() {
        #expect(slot(["KEYS", "*"]) == .fanOut(ClusterFanOut(request: .allShards, response: nil)))
        #expect(slot(["DBSIZE"]) == .fanOut(ClusterFanOut(request: .allShards, response: .sum)))
        #expect(slot(["FLUSHALL"]) == .fanOut(ClusterFanOut(request: .allShards, response: .allSucceeded)))
        #expect(slot(["SCAN", 0, "MATCH", "a*"]) == .fanOut(ClusterFanOut(request: .special, response: nil)))
        #expect(slot(["SCRIPT", "LOAD", "return 1"]) == .fanOut(ClusterFanOut(request: .allNodes, response: .allSucceeded)))
        #expect(slot(["script", "exists", "abc"]) == .fanOut(ClusterFanOut(request: .allShards, response: .logicalAnd)))
        #expect(slot(["PING"]) == .fanOut(ClusterFanOut(request: .allShards, response: .allSucceeded)))
        // multi_shard is for splitting keys, not for a keyless command.
        #expect(ClusterFanOut(ClusterKeySpec(requestPolicy: .multiShard)) == nil)
    }

    @Test("unknown commands and subcommands, and malformed bytes, go to any primary")
    func unknown() {
        #expect(slot(["NOSUCHCOMMAND", "k"]) == .unknownCommand)
        #expect(slot(["XINFO", "NOSUCH", "s"]) == .unknownCommand)
        #expect(ClusterCommandSlot.of(Array("*2\r\n$3\r\nGET\r\n".utf8), in: .builtIn) == .unknownCommand)
        #expect(ClusterCommandSlot.of([], in: .builtIn) == .unknownCommand)
        // A spec that may miss keys and found none (a Redis 6 EVAL) cannot say.
        let legacy = ClusterKeyTable([.init(name: Array("eval".utf8), spec: ClusterKeySpec(keyRules: [.unknown]))])
        #expect(slot(["EVAL", "return 1", 1, "k"], in: legacy) == .unknownCommand)
        // SORT_RO's unknown rule is the BY/GET patterns: the key still routes it.
        #expect(slot(["SORT_RO", "k", "BY", "w*"]) == .slot(HashSlot.of("k")))
    }

    @Test("the fixed-offset reading of the commonest shape agrees with the general one, whole, cut short or with any byte changed")
    func fastReadingAgreesWithTheGeneralOne() {
        // At offset 0 a command of the shape `*N\r\n$L\r\nNAME\r\n$K\r\nKEY…` is read at fixed
        // offsets; after another command it is read by the general cursor.
        let prefix = encoded(["PING"])
        let commands: [[any RESPArgument]] = [
            ["RPUSH", "callgrind-probe", "payload"], ["get", "k"], ["LPOP", ""], ["GeT", "{tag}x"],
            ["GET", String(repeating: "k", count: 9)], ["GET", String(repeating: "k", count: 10)],
            ["SET", String(repeating: "k", count: 123), "v"], ["XINFO", "STREAM", "s"], ["MSET", "a", 1, "b", 2],
            ["PING"], ["ECHO", "x"], ["GET"],
        ]
        var checked = 0
        for arguments in commands {
            let bytes = encoded(arguments)
            var variants = (0...bytes.count).map { Array(bytes.prefix($0)) }
            for position in bytes.indices {
                for replacement in Array("0\r\n$*x9".utf8) where bytes[position] != replacement {
                    var changed = bytes
                    changed[position] = replacement
                    variants.append(changed)
                }
            }
            for variant in variants {
                let fast = ClusterCommandSlot.of(variant, in: .builtIn)
                let general = ClusterCommandSlot.of(prefix + variant, at: prefix.count, in: .builtIn)
                #expect(fast == general, "\(String(decoding: variant, as: UTF8.self).debugDescription)")
                checked += 1
            }
        }
        #expect(checked > 2_000)
    }

    @Test("a command in the middle of a batch is read where it starts")
    func offset() {
        let bytes = encoded(["PING"]) + encoded(["GET", "foo"])
        #expect(ClusterCommandSlot.of(bytes, at: encoded(["PING"]).count, in: .builtIn) == .slot(12182))
    }

    @Test("a pipeline: each command's slot, in order")
    func pipeline() {
        let bytes = encoded(["SET", "foo", 1]) + encoded(["GET", "bar"]) + encoded(["PING"]) + encoded(["NOPE"])
        #expect(ClusterCommandSlot.ofEach(batch: bytes, in: .builtIn) == [
            .slot(12182), .slot(5061), .fanOut(ClusterFanOut(request: .allShards, response: .allSucceeded)), .unknownCommand,
        ])
        #expect(ClusterCommandSlot.ofEach(batch: [], in: .builtIn) == [])
        #expect(ClusterCommandSlot.ofEach(batch: bytes + Array("*1\r\n".utf8), in: .builtIn) == nil)
    }

    @Test("a transaction: one slot for every key of every command, or all its keys named")
    func transaction() {
        let same = encoded(["MULTI"]) + encoded(["SET", "{u}a", 1]) + encoded(["INCR", "{u}b"]) + encoded(["PING"]) + encoded(["EXEC"])
        #expect(ClusterCommandSlot.shared(batch: same, in: .builtIn) == .slot(HashSlot.of("u")))
        let spread = encoded(["MULTI"]) + encoded(["SET", "foo", 1]) + encoded(["MSET", "{foo}x", 1, "bar", 2]) + encoded(["EXEC"])
        #expect(ClusterCommandSlot.shared(batch: spread, in: .builtIn) == .crossSlot(keys: ["foo", "{foo}x", "bar"], slots: [12182, 12182, 5061]))
        #expect(ClusterCommandSlot.shared(batch: encoded(["MULTI"]) + encoded(["EXEC"]), in: .builtIn) == .keyless)
        #expect(ClusterCommandSlot.shared(batch: encoded(["MULTI"]) + encoded(["NOPE", "k"]) + encoded(["EXEC"]), in: .builtIn) == .unknownCommand)
        #expect(ClusterCommandSlot.shared(batch: encoded(["NOPE", "k"]) + encoded(["GET", "foo"]), in: .builtIn) == .slot(12182))
        #expect(ClusterCommandSlot.shared(batch: Array("*1\r\n".utf8), in: .builtIn) == nil)
    }

    @Test("the built-in table knows every command this library encodes")
    func builtInCoversTheLibrary() {
        let sent: [[any RESPArgument]] = [
            ["RPUSH", "k", "v"], ["LPUSH", "k", "v"], ["LPOP", "k"], ["RPOP", "k"], ["LLEN", "k"], ["LRANGE", "k", 0, -1],
            ["LINDEX", "k", 0], ["LREM", "k", 0, "v"], ["LTRIM", "k", 0, 1], ["BLPOP", "k", 0], ["BRPOP", "k", 0],
            ["BLMOVE", "k", "k", "LEFT", "RIGHT", 0], ["LMOVE", "k", "k", "LEFT", "RIGHT"], ["BLMPOP", 0, 1, "k", "LEFT"],
            ["LMPOP", 1, "k", "LEFT"], ["GET", "k"], ["SET", "k", "v"], ["DEL", "k"], ["UNLINK", "k"], ["EXISTS", "k"],
            ["EXPIRE", "k", 1], ["PEXPIRE", "k", 1], ["TTL", "k"], ["PTTL", "k"], ["TYPE", "k"], ["MGET", "k"],
            ["MSET", "k", "v"], ["INCRBY", "k", 1], ["HSET", "k", "f", "v"], ["HGET", "k", "f"], ["HGETALL", "k"],
            ["HDEL", "k", "f"], ["ZREM", "k", "m"], ["ZPOPMIN", "k"], ["ZPOPMAX", "k"], ["BZPOPMIN", "k", 0],
            ["BZPOPMAX", "k", 0], ["ZMPOP", 1, "k", "MIN"], ["BZMPOP", 0, 1, "k", "MIN"], ["SPOP", "k"], ["GETDEL", "k"],
            ["EVAL", "s", 1, "k"], ["EVALSHA", "d", 1, "k"], ["EVALSHA_RO", "d", 1, "k"], ["EVAL_RO", "s", 1, "k"],
            ["FCALL", "f", 1, "k"], ["FCALL_RO", "f", 1, "k"], ["XREAD", "STREAMS", "k", "0"],
            ["XREADGROUP", "GROUP", "g", "c", "STREAMS", "k", ">"], ["BRPOPLPUSH", "k", "k", 0], ["WATCH", "k"],
            ["SSUBSCRIBE", "k"], ["SPUBLISH", "k", "m"],
        ]
        for arguments in sent {
            #expect(slot(arguments) == .slot(HashSlot.of("k")), "\(arguments[0])")
        }
        for keyless: [any RESPArgument] in [["PUBLISH", "c", "m"], ["SUBSCRIBE", "c"], ["PSUBSCRIBE", "c*"], ["CLIENT", "ID"],
                                            ["CLIENT", "UNBLOCK", 1], ["HELLO", 3], ["AUTH", "p"], ["SELECT", 0], ["EXEC"],
                                            ["DISCARD"], ["UNWATCH"], ["ECHO", "x"]] {
            #expect(slot(keyless) == .keyless, "\(keyless[0])")
        }
        #expect(ClusterKeyTable.builtIn["get"]?.isReadOnly == true)
        #expect(ClusterKeyTable.builtIn["evalsha_ro"]?.isReadOnly == true)
        #expect(ClusterKeyTable.builtIn["eval"]?.isReadOnly == false)
        #expect(ClusterKeyTable.builtIn["xread"]?.isReadOnly == true)
        #expect(ClusterKeyTable.builtIn["xreadgroup"]?.isReadOnly == false)
    }

    @Test("read-only commands, for readFrom: the flag of the command, or of its subcommand")
    func readOnly() {
        let table = ClusterKeyTable.builtIn
        #expect(table.isReadOnly(encoded(["GET", "k"])))
        #expect(table.isReadOnly(encoded(["xinfo", "stream", "s"])))
        #expect(table.isReadOnly(encoded(["EVALSHA_RO", "d", 1, "k"])))
        #expect(!table.isReadOnly(encoded(["SET", "k", "v"])))
        #expect(!table.isReadOnly(encoded(["XGROUP", "CREATE", "s", "g", "$"])))
        #expect(!table.isReadOnly(encoded(["XINFO"])))
        #expect(!table.isReadOnly(encoded(["NOSUCHCOMMAND", "k"])))
        #expect(!table.isReadOnly(Array("*2\r\n$3\r\nGET\r\n".utf8)))
        #expect(table.isReadOnly(encoded(["PING"]) + encoded(["GET", "k"]), at: encoded(["PING"]).count))
        #expect(table.isReadOnly(batch: encoded(["GET", "a"]) + encoded(["MGET", "b", "c"]) + encoded(["HGETALL", "h"])))
        #expect(!table.isReadOnly(batch: encoded(["GET", "a"]) + encoded(["DEL", "b"])))
        #expect(!table.isReadOnly(batch: encoded(["GET", "a"]) + Array("*1\r\n".utf8)))
    }

    @Test("names up to eight bytes compare as words: case folds, a NUL after a name is another name, nine bytes compare by bytes")
    func wordLookups() {
        let table = ClusterKeyTable([
            .init(name: Array("get".utf8), spec: ClusterKeySpec(keyRules: [.key(at: 1)])),
            .init(name: Array("zrangestore".utf8), spec: ClusterKeySpec(keyRules: [.key(at: 1)])),
            .init(name: Array("getrange".utf8), spec: ClusterKeySpec(keyRules: [.key(at: 1)])),
        ])
        func knows(_ name: [UInt8]) -> Bool { name.withUnsafeBufferPointer { table.position(of: $0) != nil } }
        #expect(knows(Array("GET".utf8)) && knows(Array("gEt".utf8)) && knows(Array("GETRANGE".utf8)) && knows(Array("ZRANGESTORE".utf8)))
        #expect(!knows(Array("get".utf8) + [0]) && !knows(Array("ge".utf8)) && !knows(Array("getrang".utf8)) && !knows([]))
        #expect(!knows(Array("gET\u{7F}".utf8)) && !knows(Array("g\u{C3}\u{89}t".utf8)))
    }

    @Test("a table: later entries win, names fold case, lookups by bytes agree with lookups by name")
    func table() {
        let table = ClusterKeyTable([
            .init(name: Array("GET".utf8), spec: ClusterKeySpec(keyRules: [.key(at: 2)])),
            .init(name: Array("get".utf8), spec: ClusterKeySpec(keyRules: [.key(at: 1)], isReadOnly: true)),
        ])
        #expect(table.count == 1)
        #expect(table["Get"] == ClusterKeySpec(keyRules: [.key(at: 1)], isReadOnly: true))
        // Many names, so that probes wrap and collide.
        let many = ClusterKeyTable((0..<500).map { .init(name: Array("c\($0)".utf8), spec: ClusterKeySpec(keyRules: [.key(at: 1 + $0 % 3)])) })
        #expect(many.count == 500)
        for index in 0..<500 {
            #expect(many["C\(index)"]?.keyRules == [.key(at: 1 + index % 3)])
        }
        #expect(many["c500"] == nil)
        #expect(ClusterKeyTable([])["get"] == nil)
        #expect(ClusterKeyTable.builtIn == ClusterKeyTable.builtIn.merging(ClusterKeyTable([])))
    }
}
