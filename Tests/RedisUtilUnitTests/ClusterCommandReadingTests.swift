@testable import RedisUtil
import RESP
import Testing

private func encoded(_ arguments: [any RESPArgument]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

/// The built-in table's reading of the command `arguments` encode.
private func reading(_ arguments: [any RESPArgument], blocking: BlockingWait? = nil,
                     readFrom: RedisConfiguration.ReadFrom = .primary) throws(RedisError) -> ClusterCommandReading {
    try ClusterCommandReading(encoded(arguments), blocking: blocking, table: nil, readFrom: readFrom)
}

/// The one reading of a command's bytes that both a first attempt and the general path
/// take (`ClusterCommandReading`), and the command value the general path makes of it.
@Suite("Reading a command once for a cluster: how it is sent, its slot, the errors that send nothing")
struct ClusterCommandReadingTests {
    @Test("how a command is sent: shared, removing (its reply kept), blocking (read, or the caller's wait)")
    func route() throws {
        #expect(try reading(["RPUSH", "jobs", "a"]).route == .shared)
        #expect(try reading(["LPOP", "jobs"]).route == .removing)
        #expect(try reading(["BLPOP", "jobs", 2]).route == .blocking(.within(.seconds(2) + BlockingCommand.grace)))
        #expect(try reading(["BLPOP", "jobs", 0]).route == .blocking(.forever))
        #expect(try reading(["RPUSH", "jobs", "a"], blocking: .within(.seconds(1))).route == .blocking(.within(.seconds(1))))
    }

    @Test("its keys: one slot, none, any primary for an unknown command, or every primary")
    func keys() throws {
        #expect(try reading(["RPUSH", "jobs", "a"]).keys == .slot(HashSlot.of("jobs")))
        #expect(try reading(["MSET", "{u}a", 1, "{u}b", 2]).keys == .slot(HashSlot.of("u")))
        #expect(try reading(["ECHO", "hi"]).keys == .keyless)
        #expect(try reading(["NOSUCHCOMMAND", "k"]).keys == .unknownCommand)
        #expect(try reading(["DBSIZE"]).keys == .fanOut(ClusterFanOut(request: .allShards, response: .sum)))
    }

    @Test("a read goes to a replica only when readFrom lets it, it has a slot and does not block")
    func readsFromReplicas() throws {
        #expect(try !reading(["GET", "k"]).readsFromReplicas)
        #expect(try reading(["GET", "k"], readFrom: .replicaPreferred).readsFromReplicas)
        #expect(try reading(["GET", "k"], readFrom: .any).readsFromReplicas)
        #expect(try !reading(["SET", "k", "v"], readFrom: .replicaPreferred).readsFromReplicas)
        #expect(try !reading(["ECHO", "hi"], readFrom: .replicaPreferred).readsFromReplicas)
        #expect(try !reading(["XREAD", "BLOCK", 10, "STREAMS", "s", "0"], readFrom: .replicaPreferred).readsFromReplicas)
    }

    @Test("the one-pass reading of a plain command agrees with the general one, for every command of the built-in table")
    func plainReading() throws {
        let table = try ClusterRouteTable(topology: ClusterTopology(source: "test", shards: []), generation: 1, primaries: [], keyTable: .builtIn)
        var plain = 0
        var keyless = 0
        for entry in ClusterKeyTable.builtIn.entries {
            let name = String(decoding: entry.name, as: UTF8.self)
            for arguments: [any RESPArgument] in [[name.uppercased(), "jobs", "a"], [name, "{t}x"], [name.uppercased()],
                                                  [name, "{t}x", "{t}y", "{t}z"], [name, "{t}x", "v", "{t}y", "w"],
                                                  [name, "s", 2, "{t}x", "{t}y", "a"], [name, 1, "{t}x", "LEFT"], [name, "s", 0, "a"]] {
                let bytes = encoded(arguments)
                for readFrom: RedisConfiguration.ReadFrom in [.primary, .replicaPreferred, .any] {
                    guard let fast = ClusterCommandReading.plain(bytes, table: table, readFrom: readFrom) else { continue }
                    plain += 1
                    if fast.keys == .keyless { keyless += 1 }
                    // What it accepts, the general reading reads the same and does not refuse.
                    let general = try ClusterCommandReading(bytes, blocking: nil, table: table, readFrom: readFrom)
                    #expect(fast.route == general.route && fast.keys == general.keys && fast.readsFromReplicas == general.readsFromReplicas, "\(name)")
                }
            }
        }
        #expect(plain > 300)
        #expect(keyless >= 12, "\(keyless) readings without keys (ECHO and PUBLISH at least, two shapes, three readFrom modes)")
        // Without keys, in one pass: a command of one argument or more whose spec names no
        // key and whose tips send it to one node; not a fan-out, nor a container's subcommand.
        for keylessCommand: [any RESPArgument] in [["ECHO", "hi"], ["publish", "news", "m"]] {
            let fast = ClusterCommandReading.plain(encoded(keylessCommand), table: table, readFrom: .any)
            #expect(fast?.keys == .keyless && fast?.route == .shared && fast?.readsFromReplicas == false, "\(keylessCommand)")
        }
        for notPlain: [any RESPArgument] in [["PING", "x"], ["KEYS", "*"], ["DBSIZE"], ["CLIENT", "ID"], ["SUBSCRIBE", "news"], ["SELECT", 1], ["NOSUCH", "k"]] {
            #expect(ClusterCommandReading.plain(encoded(notPlain), table: table, readFrom: .primary) == nil, "\(notPlain)")
        }
        // Removing commands go with their kept reply; special and blocking ones, and a
        // caller's blocking wait, are left to the general reading.
        #expect(ClusterCommandReading.plain(encoded(["LPOP", "jobs"]), table: table, readFrom: .primary)?.route == .removing)
        #expect(ClusterCommandReading.plain(encoded(["GETDEL", "k"]), table: table, readFrom: .primary)?.route == .removing)
        #expect(ClusterCommandReading.plain(encoded(["RPUSH", "jobs", "a"]), table: table, readFrom: .primary)?.route == .shared)
        for special: [any RESPArgument] in [["BLPOP", "jobs", 0], ["SSUBSCRIBE", "ch"], ["XREAD", "BLOCK", 0, "STREAMS", "s", "0"], ["SELECT", 1], ["WAIT", 0, 0]] {
            #expect(ClusterCommandReading.plain(encoded(special), table: table, readFrom: .primary) == nil, "\(special)")
        }
    }

    @Test("commands whose keys are all their arguments, or every other one, in one pass when the keys share a slot")
    func plainReadingOfManyKeys() throws {
        let table = try ClusterRouteTable(topology: ClusterTopology(source: "test", shards: []), generation: 1, primaries: [], keyTable: .builtIn)
        let tag = HashSlot.of("t")
        for command: [any RESPArgument] in [["DEL", "{t}a"], ["EXISTS", "{t}a", "{t}b", "{t}c"], ["mget", "{t}a", "{t}b"], ["UNLINK", "{t}a", "{t}b"],
                                            ["MSET", "{t}a", "x", "{t}b", "y"], ["MSETNX", "{t}a", "1", "{t}b", "2"]] {
            let fast = ClusterCommandReading.plain(encoded(command), table: table, readFrom: .primary)
            #expect(fast?.keys == .slot(tag) && fast?.route == .shared, "\(command)")
        }
        #expect(ClusterCommandReading.plain(encoded(["MGET", "{t}a", "{t}b"]), table: table, readFrom: .any)?.readsFromReplicas == true)
        #expect(ClusterCommandReading.plain(encoded(["DEL", "{t}a", "{t}b"]), table: table, readFrom: .any)?.readsFromReplicas == false)
        // Keys in several slots are left to the general reading, which refuses them.
        for crossing: [any RESPArgument] in [["DEL", "a", "b"], ["MGET", "{t}a", "{t}b", "c"], ["MSET", "{t}a", "1", "b", "2"]] {
            #expect(ClusterCommandReading.plain(encoded(crossing), table: table, readFrom: .primary) == nil, "\(crossing)")
            #expect(throws: RedisError.self) { try reading(crossing) }
        }
        // A value is no key: MSET's values may hash anywhere.
        #expect(HashSlot.of("x") != tag)
        // A later argument that is not a well-formed bulk string: left to the general reading.
        var broken = encoded(["DEL", "{t}a", "{t}b"])
        broken[broken.count - 2] = UInt8(ascii: "x")
        #expect(ClusterCommandReading.plain(broken, table: table, readFrom: .primary) == nil)
        var badLength = encoded(["DEL", "{t}a", "{t}b"])
        let lastHeader = try #require(badLength.lastIndex(of: UInt8(ascii: "$")))
        badLength[lastHeader + 1] = UInt8(ascii: "9")
        #expect(ClusterCommandReading.plain(badLength, table: table, readFrom: .primary) == nil)
    }

    @Test("a pipeline's later commands get the slot they would get alone")
    func slotsWithinABatch() {
        let commands: [[any RESPArgument]] = [["RPUSH", "jobs", "a"], ["DEL", "{t}a", "{t}b"], ["MSET", "{t}a", "1", "{t}b", "2"], ["ECHO", "x"],
                                              ["DEL", "a", "b"], ["GET", "user:1000"], ["EVAL", "return 1", 1, "k"], ["PING"], ["MGET", "{u}1", "{u}2", "{u}3"]]
        var batch: [UInt8] = []
        var starts: [Int] = []
        for command in commands {
            starts.append(batch.count)
            RESPEncoder.encodeCommand(into: &batch, arguments: command)
        }
        for (index, start) in starts.enumerated() {
            let end = index + 1 < starts.count ? starts[index + 1] : batch.count
            #expect(ClusterCommandSlot.of(batch, at: start, in: .builtIn) == ClusterCommandSlot.of(Array(batch[start..<end]), in: .builtIn), "\(commands[index])")
        }
        #expect(ClusterCommandSlot.of(batch, at: starts[1], in: .builtIn) == .slot(HashSlot.of("t")))
        #expect(ClusterCommandSlot.of(batch, at: batch.count, in: .builtIn) == .unknownCommand)
    }

    @Test("commands whose keys follow a count, in one pass when the keys share a slot")
    func plainReadingOfCountedKeys() throws {
        let table = try ClusterRouteTable(topology: ClusterTopology(source: "test", shards: []), generation: 1, primaries: [], keyTable: .builtIn)
        let tag = HashSlot.of("t")
        for command: [any RESPArgument] in [["EVAL", "return 1", 1, "{t}a"], ["evalsha", "abc", 2, "{t}a", "{t}b", "x", "y"],
                                            ["FCALL", "f", 1, "{t}a", "x"], ["EVAL_RO", "s", 3, "{t}a", "{t}b", "{t}c"], ["LMPOP", 1, "{t}a", "LEFT"]] {
            let fast = ClusterCommandReading.plain(encoded(command), table: table, readFrom: .primary)
            #expect(fast?.keys == .slot(tag), "\(command)")
            #expect(fast?.keys == (try reading(command)).keys, "\(command)")
            #expect(ClusterCommandSlot.plainCommand(encoded(command), at: 0, in: .builtIn)?.slot == tag, "\(command)")
        }
        #expect(ClusterCommandReading.plain(encoded(["EVAL_RO", "s", 1, "{t}a"]), table: table, readFrom: .replicaPreferred)?.readsFromReplicas == true)
        // No key, a count beyond the arguments, one that is no number, keys in two slots:
        // the general reading's (keyless, refused or keyless, refused).
        for other: [any RESPArgument] in [["EVAL", "s", 0], ["EVAL", "s", 0, "x"], ["EVAL", "s", 3, "{t}a", "{t}b"], ["EVAL", "s", "x", "k"],
                                          ["EVAL", "s", "01", "k"], ["EVAL", "s", 2, "a", "b"], ["FCALL", "f", -1, "k"]] {
            #expect(ClusterCommandReading.plain(encoded(other), table: table, readFrom: .primary) == nil, "\(other)")
            #expect(ClusterCommandSlot.plainCommand(encoded(other), at: 0, in: .builtIn) == nil, "\(other)")
        }
        #expect(throws: RedisError.self) { try reading(["EVAL", "s", 2, "a", "b"]) }
    }

    @Test("a pipeline's split reads a command's slot and end in one pass as the two readings find them")
    func plainCommandAgreesWithLayoutAndSlot() throws {
        let commands: [[any RESPArgument]] = [["RPUSH", "jobs", "a"], ["DEL", "{t}a", "{t}b"], ["MSET", "{t}a", "1", "{t}b", "2"], ["ECHO", "x"],
                                              ["DEL", "a", "b"], ["GET", "user:1000"], ["EVAL", "return 1", 1, "k"], ["PING"], ["MULTI"],
                                              ["MGET", "{u}1", "{u}2", "{u}3"], ["SET", "k", String(repeating: "v", count: 300)], ["EXEC"],
                                              ["LPUSH", "q", "1", "2", "3", "4", "5", "6", "7"], ["HSET", "h", "f", "v"],
                                              ["FCALL", "f", 2, "{a}1", "{a}2", "x"], ["EVALSHA", "abc", 0, "x"], ["EVAL", "s", 2, "a", "b"],
                                              ["LMPOP", 2, "{q}1", "{q}2", "LEFT"], ["EVAL", "s", 3, "{a}1", "{a}2"], ["EVAL", "s", "x", "k"]]
        var generator = SystemRandomNumberGenerator()
        var taken = 0
        for _ in 0..<300 {
            var batch: [UInt8] = []
            var starts: [Int] = []
            for _ in 0..<Int.random(in: 1...8, using: &generator) {
                starts.append(batch.count)
                RESPEncoder.encodeCommand(into: &batch, arguments: commands.randomElement(using: &generator)!)
            }
            for start in starts {
                let layout = try #require(EncodedCommand.layout(batch, at: start))
                if let plain = ClusterCommandSlot.plainCommand(batch, at: start, in: .builtIn) {
                    taken += 1
                    #expect(plain.end == layout.end)
                    #expect(ClusterCommandSlot.of(batch, at: start, in: .builtIn) == .slot(plain.slot))
                    #expect(!["MULTI", "EXEC", "DISCARD"].contains(String(decoding: batch[layout.name], as: UTF8.self)))
                }
            }
            // Cut or corrupted: never an end beyond the bytes, nor one the layout disagrees with.
            var corrupted = batch
            corrupted[Int.random(in: 0..<corrupted.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            for bytes in [Array(batch.prefix(Int.random(in: 0..<batch.count, using: &generator))), corrupted] {
                if let plain = ClusterCommandSlot.plainCommand(bytes, at: 0, in: .builtIn) {
                    #expect(plain.end <= bytes.count)
                    #expect(plain.end == EncodedCommand.layout(bytes, at: 0)?.end)
                }
            }
        }
        // Most everyday commands take it; a command without keys, a fan-out and a transaction's words do not.
        #expect(taken > 300)
        for keyless: [any RESPArgument] in [["ECHO", "x"], ["PING"], ["MULTI"], ["EXEC"], ["DEL", "a", "b"]] {
            #expect(ClusterCommandSlot.plainCommand(encoded(keyless), at: 0, in: .builtIn) == nil, "\(keyless)")
        }
        #expect(ClusterCommandSlot.plainCommand(encoded(["GET", "k"]), at: -1, in: .builtIn) == nil)
    }

    @Test("a first attempt: a slot's primary, or any primary without keys; none for a fan-out, a blocking command or a replica's read")
    func firstAttempt() throws {
        #expect(try reading(["RPUSH", "jobs", "a"]).firstAttempt == .slot(HashSlot.of("jobs")))
        #expect(try reading(["ECHO", "hi"]).firstAttempt == .anyPrimary)
        #expect(try reading(["PUBLISH", "news", "m"]).firstAttempt == .anyPrimary)
        #expect(try reading(["NOSUCHCOMMAND", "k"]).firstAttempt == .anyPrimary)
        #expect(try reading(["DBSIZE"]).firstAttempt == nil)
        #expect(try reading(["SCAN", 0]).firstAttempt == nil)
        #expect(try reading(["BLPOP", "jobs", 0]).firstAttempt == nil)
        #expect(try reading(["ECHO", "hi"], blocking: .forever).firstAttempt == nil)
        #expect(try reading(["GET", "k"], readFrom: .replicaPreferred).firstAttempt == nil)
        #expect(try reading(["GET", "k"], readFrom: .primary).firstAttempt == .slot(HashSlot.of("k")))
    }

    @Test("a command without keys goes to the first shard from its start that has a primary, spread by successive starts")
    func anyPrimary() throws {
        // Shard 1 without a primary's connection set (its TLS settings failed, or the cluster flags it failed).
        let primaries: [String?] = ["a", nil, "c"]
        #expect((0..<7).map { ClusterRouteTable.firstPresent(from: UInt($0), in: primaries) } == [0, 2, 2, 0, 2, 2, 0])
        #expect(ClusterRouteTable.firstPresent(from: UInt.max, in: primaries) == 0, "UInt.max % 3 == 0")
        #expect(ClusterRouteTable.firstPresent(from: 1, in: ["a", "b", "c", "d"]) == 1)
        #expect(ClusterRouteTable.firstPresent(from: 5, in: [String?](repeating: nil, count: 3)) == nil)
        #expect(ClusterRouteTable.firstPresent(from: 5, in: [String?]()) == nil)
        let empty = ClusterRouteTable(topology: try ClusterTopology(source: "test", shards: []), generation: 1, primaries: [], keyTable: .builtIn)
        #expect(empty.anyPrimaryIndex(from: 7) == nil)
    }

    @Test("a slot without an owner, or whose shard has no primary connection set, lends no client")
    func noClientToLend() throws {
        let node = ClusterTopology.Node(id: "a", host: "127.0.0.1", port: 7000, plaintextPort: 7000, tlsPort: nil, role: .primary,
                                        health: .online, replicationOffset: nil)
        let topology = try ClusterTopology(source: "test", shards: [(ClusterTopology.Shard(primary: node, replicas: []), [0...100])])
        let table = ClusterRouteTable(topology: topology, generation: 1, primaries: [nil], keyTable: .builtIn)
        #expect(table.primaryIndex(ofSlot: 50) == nil && table.withPrimaryClient(ofShard: 0) { _ in true } == nil)
        #expect(table.primaryIndex(ofSlot: 101) == nil)
        #expect(table.primaryIndex(ofSlot: 16384) == nil)
    }

    @Test("what sends nothing is thrown by the reading: a refused command, keys in several slots")
    func errors() {
        #expect(throws: RedisError.crossSlot(keys: ["a", "b"], slots: [15495, 3300])) { try reading(["MSET", "a", 1, "b", 2]) }
        for refused: [any RESPArgument] in [["MULTI"], ["SUBSCRIBE", "ch"], ["SSUBSCRIBE", "ch"]] {
            #expect(throws: RedisError.self) { try reading(refused) }
        }
        // The refusal comes first, as on one server: a refused command's keys are not its error.
        do {
            _ = try reading(["SSUBSCRIBE", "a", "b"])
            Issue.record("SSUBSCRIBE on shared connections was not refused")
        } catch {
            if case .crossSlot = error { Issue.record("a refused command reported its keys: \(error)") }
        }
    }

    @Test("the command value made from a reading: slot, kept reply, wait, fan-out, SCAN's walk, INFO refused")
    func command() throws {
        let push = try ClusterCommand.make(encoded(["RPUSH", "jobs", "a"]), reading(["RPUSH", "jobs", "a"])).get()
        #expect(push.slot == HashSlot.of("jobs") && !push.keepsReply && push.blocking == nil && push.fanOut == nil)
        let pop = try ClusterCommand.make(encoded(["LPOP", "jobs"]), reading(["LPOP", "jobs"])).get()
        #expect(pop.keepsReply)
        let wait = try ClusterCommand.make(encoded(["BLPOP", "jobs", 2]), reading(["BLPOP", "jobs", 2])).get()
        #expect(wait.blocking == .within(.seconds(2) + BlockingCommand.grace) && wait.slot == HashSlot.of("jobs"))
        let read = try ClusterCommand.make(encoded(["GET", "k"]), reading(["GET", "k"], readFrom: .replicaPreferred)).get()
        #expect(read.readsFromReplicas)
        let echo = try ClusterCommand.make(encoded(["ECHO", "hi"]), reading(["ECHO", "hi"])).get()
        #expect(echo.slot == nil && echo.fanOut == nil && !echo.walksShards)
        let size = try ClusterCommand.make(encoded(["DBSIZE"]), reading(["DBSIZE"])).get()
        #expect(size.fanOut == ClusterFanOut(request: .allShards, response: .sum))
        let scan = try ClusterCommand.make(encoded(["SCAN", 0]), reading(["SCAN", 0])).get()
        #expect(scan.walksShards && scan.fanOut == nil)
        let info = ClusterCommand.make(encoded(["INFO"]), try reading(["INFO"]))
        guard case .failure(.unsupportedCommand(let name, _)) = info else {
            Issue.record("INFO on a cluster: \(info)")
            return
        }
        #expect(name == "INFO")
    }
}
