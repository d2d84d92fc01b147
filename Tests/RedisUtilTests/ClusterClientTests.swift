import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Synchronization
import SystemCall
import Testing
import TestSupport

/// Each test starts its own cluster; the suite runs its tests one at a time, as six
/// nodes per test on two cores is load enough (a node starved of CPU past its
/// `cluster-node-timeout` would be failed over).
@Suite("Cluster client: routing, redirections and refreshes on a real cluster", .serialized, .timeLimit(.minutes(3)))
struct ClusterClientTests {
    @Test func slotFunctionAgreesWithClusterKeyslotOnRandomKeys() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        var generator = SeededGenerator(seed: 16)
        let alphabet = Array("abcXYZ019:{}-_ ")
        let keys = (0..<10_000).map { index -> String in
            let length = Int.random(in: 0...24, using: &generator)
            var key = String((0..<length).map { _ in alphabet.randomElement(using: &generator)! })
            // A quarter carry a well-formed hash tag somewhere, empty ones (`{}`) included.
            if index % 4 == 0 {
                let tag = String((0..<Int.random(in: 0...6, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
                let cut = key.index(key.startIndex, offsetBy: Int.random(in: 0...key.count, using: &generator))
                key.insert(contentsOf: "{\(tag)}", at: cut)
            }
            return key
        }
        let server = try await blocking { try cluster.keySlots(keys) }
        var mismatches: [String] = []
        for (key, slot) in zip(keys, server) {
            var bytes: [UInt8] = []
            RESPEncoder.encodeCommand(into: &bytes, "RPUSH", key, "v")
            let routed = ClusterCommandSlot.of(bytes, in: .builtIn)
            if HashSlot.of(key) != slot || routed != .slot(slot) { mismatches.append("\(key.debugDescription): ours \(HashSlot.of(key)), \(routed); server \(slot)") }
        }
        #expect(mismatches.isEmpty, "\(mismatches.count) keys disagree: \(mismatches.prefix(5))")
    }

    @Test func hundredThousandPushesOverAThousandKeysLandInOrderWithBothFacades() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let perKey = 100
        let asyncKeys = (0..<500).map { "async:\($0)" }
        let callbackKeys = (0..<500).map { "callback:\($0)" }

        let started = ContinuousClock.now
        // Callbacks: 500 chains at once, each push sent from the previous one's completion.
        let callbackErrors = Locked<[RedisError]>([])
        let callbacksDone = Locked(0)
        async let callbacks: Void = withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            for key in callbackKeys {
                pushInOrderWithCallbacks(client, key: key, count: perKey) { error in
                    if let error { callbackErrors.withLock { $0.append(error) } }
                    if callbacksDone.withLock({ $0 += 1; return $0 }) == callbackKeys.count { finished.resume() }
                }
            }
        }
        // Async: 16 tasks, each owning a share of the keys.
        let asyncErrors = await withTaskGroup(of: [RedisError].self) { group in
            for task in 0..<16 {
                group.addTask {
                    var errors: [RedisError] = []
                    for key in asyncKeys.enumerated().filter({ $0.offset % 16 == task }).map(\.element) {
                        if let error = await pushInOrder(client, key: key, count: perKey) { errors.append(error) }
                    }
                    return errors
                }
            }
            return await group.reduce(into: []) { $0 += $1 }
        }
        await callbacks
        print("cluster: \(asyncKeys.count + callbackKeys.count) keys × \(perKey) RPUSH in \(ContinuousClock.now - started)")
        #expect(asyncErrors.isEmpty, "\(asyncErrors.prefix(3))")
        #expect(callbackErrors.withLock { $0 }.isEmpty, "\(callbackErrors.withLock { $0.prefix(3) })")
        try await expectLists(client, keys: asyncKeys + callbackKeys, count: perKey)
        // The keys really are spread: every primary holds some.
        let sizes = try await blocking { try cluster.primaries.map { try cluster.command(["DBSIZE"], on: $0).integer ?? 0 } }
        #expect(sizes.allSatisfy { $0 > 200 } && sizes.reduce(0, +) == 1000, "\(sizes)")
        await client.close()
    }

    @Test func crossSlotCommandsFailBeforeAnythingIsSent() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        try await blocking { try resetStats(cluster) }
        let slots = (HashSlot.of("a"), HashSlot.of("b"))
        #expect(slots.0 != slots.1)
        await #expect(throws: RedisError.crossSlot(keys: ["a", "b"], slots: [slots.0, slots.1])) {
            try await client.send("MSET", "a", "1", "b", "2")
        }
        let failure = await withCheckedContinuation { (done: CheckedContinuation<Result<RESPValue, RedisError>, Never>) in
            client.send("DEL", "a", "b", "{t}c") { done.resume(returning: $0) }
        }
        guard case .failure(.crossSlot(let keys, let keySlots)) = failure else {
            Issue.record("expected crossSlot, got \(failure)")
            return
        }
        #expect(keys == ["a", "b", "{t}c"] && keySlots == [slots.0, slots.1, HashSlot.of("t")])
        #expect(RedisError.crossSlot(keys: keys, slots: keySlots).description.contains("a in slot \(slots.0)"))
        // Nothing reached any node: no MSET or DEL counted anywhere, and no key made.
        let stats = try await blocking {
            try cluster.primaries.map { try cluster.command(["INFO", "commandstats"], on: $0).string ?? "" }
        }
        #expect(stats.allSatisfy { !$0.contains("cmdstat_mset") && !$0.contains("cmdstat_del") })
        // Keys that share a hash tag are fine together.
        try await client.send("MSET", "{user1}.a", "1", "{user1}.b", "2")
        #expect(try await client.send("MGET", "{user1}.a", "{user1}.b").array?.compactMap(\.string) == ["1", "2"])

        // Commands the built-in key table does not know (HyperLogLog's) route by the
        // server's own key specs once read: straight to their owner, cross-slot caught.
        let router = try #require(client.router)
        // The route table lends each slot's primary client, the one its node holds.
        let table = try #require(router.snapshot())
        for slot in [0, slots.0, slots.1, 8000, 16383] {
            let lent = table.primaryIndex(ofSlot: slot).flatMap { table.withPrimaryClient(ofShard: $0) { ObjectIdentifier($0) } }
            #expect(lent != nil && lent == table.primary(ofSlot: slot).map { ObjectIdentifier($0.client) })
        }
        // A transaction over two slots fails whole before it is sent, whether one primary
        // serves both slots (a pipeline it serves whole is otherwise sent as it is) or two do.
        let owner = { (key: String) in table.primary(ofSlot: HashSlot.of(key)).map { ObjectIdentifier($0) } }
        let sameOwner = try #require((0..<1000).map { "tx:\($0)" }.first { HashSlot.of($0) != slots.0 && owner($0) == owner("a") })
        let otherOwner = try #require((0..<1000).map { "tx:\($0)" }.first { owner($0) != owner("a") })
        try await blocking { try resetStats(cluster) }
        for second in [sameOwner, otherOwner] {
            await #expect(throws: RedisError.crossSlot(keys: ["a", second], slots: [slots.0, HashSlot.of(second)])) {
                try await client.transaction { transaction in
                    transaction.send("INCR", "a")
                    transaction.send("INCR", second)
                }
            }
            let refused = await withCheckedContinuation { (done: CheckedContinuation<Result<[Result<RESPValue, RedisError>], RedisError>, Never>) in
                var pipeline = RedisPipeline()
                for command in [["MULTI"], ["INCR", "a"], ["INCR", second], ["EXEC"]] { pipeline.send(arguments: command) }
                client.pipeline(pipeline) { done.resume(returning: $0) }
            }
            #expect(throws: RedisError.crossSlot(keys: ["a", second], slots: [slots.0, HashSlot.of(second)])) { try refused.get() }
        }
        let sent = try await blocking {
            try cluster.primaries.map { try cluster.command(["INFO", "commandstats"], on: $0).string ?? "" }
        }
        #expect(sent.allSatisfy { !$0.contains("cmdstat_incr") && !$0.contains("cmdstat_multi") })
        // On one slot, the transaction runs (sent whole to its primary).
        let together = try await client.transaction { transaction in
            transaction.send("INCR", "{a}x")
            transaction.send("INCR", "{a}y")
        }
        #expect(together.map { try? $0.get().int } == [1, 1])
        for _ in 0..<200 where router.currentKeyTable()["pfadd"] == nil { try await Task.sleep(for: .milliseconds(10)) }
        #expect(router.currentKeyTable()["pfadd"] != nil, "the server's COMMAND table was not read")
        try await blocking { try resetStats(cluster) }
        for index in 0..<50 { try await client.send("PFADD", "hll:\(index)", "a", "b") }
        #expect(try await blocking { try statSum(cluster, section: "errorstats", line: "errorstat_MOVED", field: "count") } == 0)
        await #expect(throws: RedisError.crossSlot(keys: ["hll:0", "hll:1"], slots: [HashSlot.of("hll:0"), HashSlot.of("hll:1")])) {
            try await client.send("PFCOUNT", "hll:0", "hll:1")
        }
        await client.close()
    }

    /// Two slots, 32 keys each, each migrated to another primary and back in turn while
    /// 64 tasks push to their own keys, one after another.
    @Test func twoSlotsMigratedBackAndForthWhileSixtyFourTasksSendLoseNothing() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let tags = ["moving", "shifting"]
        #expect(HashSlot.of(tags[0]) != HashSlot.of(tags[1]))
        let keys = tags.flatMap { tag in (0..<32).map { "{\(tag)}:\($0)" } }
        // Every key exists before the migration starts, so that the source has it to move.
        for key in keys { try await client.send("RPUSH", key, "0") }

        let sending = Locked(true)
        let counts = Locked([Int](repeating: 1, count: keys.count))
        let senders = Task {
            await withTaskGroup(of: RedisError?.self) { group in
                for (index, key) in keys.enumerated() {
                    group.addTask {
                        var next = 1
                        while sending.withLock({ $0 }) {
                            // Half through the callback facade, whose first attempts meet
                            // ASK and MOVED on another path (ReplyHandler.routed).
                            let error = if index.isMultiple(of: 2) {
                                await pushInOrder(client, key: key, from: next, count: 1)
                            } else {
                                await pushWithCallback(client, key: key, value: next)
                            }
                            if let error { return error }
                            next += 1
                        }
                        counts.withLock { $0[index] = next }
                        return nil
                    }
                }
                return await group.compactMap { $0 }.reduce(into: []) { $0.append($1) }
            }
        }
        for tag in tags {
            try await migrateThereAndBack(cluster, slot: HashSlot.of(tag), keys: keys.filter { $0.hasPrefix("{\(tag)}") })
        }
        sending.withLock { $0 = false }
        let errors = await senders.value
        #expect(errors.isEmpty, "\(errors.prefix(3))")
        let sent = counts.withLock { $0 }
        for (key, count) in zip(keys, sent) {
            #expect(try await client.lrange(key, 0, -1) == (0..<count).map(String.init), "\(key)")
        }
        #expect(sent.reduce(0, +) > keys.count * 10, "the tasks sent too little to cover the migration: \(sent)")
        // The client met both redirections, and followed ASK with ASKING.
        let redirections = try await blocking {
            (ask: try statSum(cluster, section: "errorstats", line: "errorstat_ASK", field: "count"),
             moved: try statSum(cluster, section: "errorstats", line: "errorstat_MOVED", field: "count"),
             asking: try statSum(cluster, section: "commandstats", line: "cmdstat_asking", field: "calls"))
        }
        print("migration under load: \(sent.reduce(0, +)) pushes, \(redirections)")
        #expect(redirections.ask > 0 && redirections.moved > 0 && redirections.asking >= redirections.ask, "\(redirections)")
        await client.close()
    }

    @Test func aManualFailoverUnderLoadLosesAndDoublesNothing() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let keys = (0..<64).map { "failover:\($0)" }
        let sending = Locked(true)
        let counts = Locked([Int](repeating: 0, count: keys.count))
        let senders = Task {
            await withTaskGroup(of: RedisError?.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        let mine = keys.indices.filter { $0 % 16 == task }
                        var next = [Int](repeating: 0, count: mine.count)
                        var round = 0
                        while sending.withLock({ $0 }) {
                            let slot = round % mine.count
                            if let error = await pushInOrder(client, key: keys[mine[slot]], from: next[slot], count: 1) { return error }
                            next[slot] += 1
                            round += 1
                        }
                        counts.withLock { for (slot, index) in mine.enumerated() { $0[index] = next[slot] } }
                        return nil
                    }
                }
                return await group.compactMap { $0 }.reduce(into: []) { $0.append($1) }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let replica = cluster.replicas[0]
        let promoted = try await blocking { try cluster.failover(replica) }
        #expect(promoted.isPrimary)
        try await Task.sleep(for: .milliseconds(500))
        sending.withLock { $0 = false }
        let errors = await senders.value
        #expect(errors.isEmpty, "\(errors.prefix(3))")
        let sent = counts.withLock { $0 }
        for (key, count) in zip(keys, sent) {
            #expect(try await client.lrange(key, 0, -1) == (0..<count).map(String.init), "\(key)")
        }
        // The promoted node serves its keys now, and the client found it.
        let promotedKeys = keys.filter { key in promoted.slots.contains { $0.contains(HashSlot.of(key)) } }
        #expect(!promotedKeys.isEmpty)
        let moved = try await blocking { try statSum(cluster, section: "errorstats", line: "errorstat_MOVED", field: "count") }
        print("failover under load: \(sent.reduce(0, +)) pushes, \(moved) MOVED")
        #expect(moved > 0, "no command met the failover")
        await client.close()
    }

    @Test func manyCallersShareOneTopologyFetch() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        try await blocking { try resetStats(cluster) }
        let client = try clusterClient(cluster)
        // 200 first commands at once, half of them callbacks: one discovery for all.
        let failures = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<100 {
                group.addTask {
                    do { try await client.send("SET", "coalesce:\(index)", "\(index)") } catch { failures.withLock { $0 += 1 } }
                }
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        client.send("SET", "coalesce:cb:\(index)", "\(index)") { result in
                            if case .failure = result { failures.withLock { $0 += 1 } }
                            done.resume()
                        }
                    }
                }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        #expect(try await blocking { try clusterShardsCalls(cluster) } == 1)

        // A slot moved behind the client's back: 200 commands for it meet MOVED, and the
        // map is fetched once more, not once per command.
        let slot = HashSlot.of("coalesce")
        let source = try cluster.owner(ofSlot: slot)
        let target = try #require(cluster.primaries.first { $0.id != source.id })
        _ = try await blocking { try cluster.migrate(slot: slot, to: target) }
        try await blocking { try resetStats(cluster) }
        await withTaskGroup(of: Void.self) { group in
            for index in 0..<200 {
                group.addTask {
                    do { try await client.send("SET", "{coalesce}:\(index)", "\(index)") } catch { failures.withLock { $0 += 1 } }
                }
            }
        }
        #expect(failures.withLock { $0 } == 0)
        // The background refresh may still be on its way; once it is in, a moment more for a
        // second one (a MOVED read after the new map was applied must not start another).
        let fetched = try await waitUntil(limit: .seconds(2)) { try await blocking { try clusterShardsCalls(cluster) } > 0 }
        #expect(fetched)
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await blocking { try clusterShardsCalls(cluster) } == 1)
        await client.close()
    }

    @Test func pipelinesSplitByNodeAndAnswerInTheCallersOrderWithBothFacades() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        // 300 keys over every primary, ten rounds of one RPUSH each: each reply is the
        // list's new length, so a reply out of the caller's order shows.
        let keys = (0..<300).map { "pipe:\($0)" }
        var pipeline = RedisPipeline()
        for round in 0..<10 {
            for key in keys { pipeline.send("RPUSH", key, "\(round)") }
            pipeline.send("ECHO", "round \(round)")
        }
        let replies = try await client.pipeline(pipeline)
        var expected: [Int?] = []
        for round in 0..<10 { expected += Array(repeating: round + 1, count: keys.count) + [nil] }
        #expect(replies.count == expected.count)
        let lengths = replies.map { try? $0.get().int }
        #expect(lengths == expected)
        #expect(try replies[keys.count].get().string == "round 0")
        let viaCallback = await withCheckedContinuation { (done: CheckedContinuation<Result<[Result<RESPValue, RedisError>], RedisError>, Never>) in
            client.pipeline(pipeline) { done.resume(returning: $0) }
        }
        var again: [Int?] = []
        for round in 0..<10 { again += Array(repeating: round + 11, count: keys.count) + [nil] }
        #expect(try viaCallback.get().map { try? $0.get().int } == again)
        try await expectLists(client, keys: keys, count: 0, values: (0..<20).map { String($0 % 10) })
        // A command whose keys cross slots fails the whole batch before anything is sent.
        await #expect(throws: RedisError.crossSlot(keys: ["a", "b"], slots: [HashSlot.of("a"), HashSlot.of("b")])) {
            try await client.pipeline { p in
                p.send("SET", "pipe:x", "1")
                p.send("MSET", "a", "1", "b", "2")
            }
        }
        #expect(try await client.send("EXISTS", "pipe:x").int == 0)
        await client.close()
    }

    /// One pipeline meets `ASK` on one slot and `MOVED` on another, so that its second
    /// round goes to two nodes at once, an `ASKING` in one batch and not in the other:
    /// every reply still lands at its command's place (`PipelineCollector`'s mapped
    /// handlers, the `ASKING`'s reply past the pipeline's), with both facades.
    @Test(arguments: [false, true]) func aRoundWithAnAskedAndAMovedUnitGoesToTwoNodesAtOnce(callbacks: Bool) async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let (asked, moved) = ("{asked}:list", "{moved}:list")
        #expect(HashSlot.of("asked") != HashSlot.of("moved"))
        for key in [asked, moved] { try await client.send("RPUSH", key, "0") }
        let askSource = try cluster.owner(ofSlot: HashSlot.of("asked"))
        let askTarget = try #require(cluster.primaries.first { $0.id != askSource.id })
        let moveSource = try cluster.owner(ofSlot: HashSlot.of("moved"))
        let moveTarget = try #require(cluster.primaries.first { $0.id != askTarget.id && $0.id != moveSource.id })
        try await blocking { try resetStats(cluster) }
        // Behind the client's back: one slot moved whole, the other half-way (its key on the target).
        _ = try await blocking { try cluster.migrate(slot: HashSlot.of("moved"), to: moveTarget) }
        let migration = try await blocking { try cluster.beginMigration(ofSlot: HashSlot.of("asked"), to: askTarget) }
        try await blocking { try cluster.moveKeys([asked], of: migration) }
        var pipeline = RedisPipeline()
        for value in 1...3 {
            pipeline.send("RPUSH", asked, "\(value)")
            pipeline.send("RPUSH", moved, "\(value)")
        }
        let replies = if callbacks {
            try await withCheckedThrowingContinuation { done in client.pipeline(pipeline) { done.resume(with: $0) } }
        } else {
            try await client.pipeline(pipeline)
        }
        #expect(replies.map { try? $0.get().int } == [2, 2, 3, 3, 4, 4])
        let redirections = try await blocking {
            (ask: try statSum(cluster, section: "errorstats", line: "errorstat_ASK", field: "count"),
             moved: try statSum(cluster, section: "errorstats", line: "errorstat_MOVED", field: "count"))
        }
        #expect(redirections.ask > 0 && redirections.moved > 0, "\(redirections)")
        _ = try await blocking { try cluster.finishMigration(migration) }
        for key in [asked, moved] { #expect(try await client.lrange(key, 0, -1) == ["0", "1", "2", "3"], "\(key)") }
        await client.close()
    }

    @Test func transactionsRunOnTheirSlotsOwnerAndFollowItWhenItMoves() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let first = try await client.transaction { t in
            t.send("RPUSH", "{account}:log", "opened")
            t.send("INCRBY", "{account}:balance", 10)
        }
        #expect(first.map { try? $0.get().int } == [1, 10])
        await #expect(throws: RedisError.crossSlot(keys: ["{a}x", "{b}y"], slots: [HashSlot.of("a"), HashSlot.of("b")])) {
            try await client.transaction { t in
                t.send("SET", "{a}x", "1")
                t.send("SET", "{b}y", "1")
            }
        }
        // The slot moves behind the client's back: the queued commands meet MOVED, EXEC
        // aborts, and the whole block is sent again to the new owner.
        let slot = HashSlot.of("account")
        let source = try cluster.owner(ofSlot: slot)
        let target = try #require(cluster.primaries.first { $0.id != source.id })
        _ = try await blocking { try cluster.migrate(slot: slot, to: target) }
        let second = try await client.transaction { t in
            t.send("RPUSH", "{account}:log", "moved")
            t.send("INCRBY", "{account}:balance", 5)
        }
        #expect(second.map { try? $0.get().int } == [2, 15])
        // Mid-migration: the log has moved to the target, the balance has not. A block
        // that touches only the moved key goes to the target after ASKING.
        let migration = try await blocking { try cluster.beginMigration(ofSlot: slot, to: source) }
        try await blocking { try cluster.moveKeys(["{account}:log"], of: migration) }
        let third = try await client.transaction { t in
            t.send("RPUSH", "{account}:log", "asked")
        }
        #expect(third.map { try? $0.get().int } == [3])
        _ = try await blocking { try cluster.finishMigration(migration) }
        #expect(try await client.lrange("{account}:log", 0, -1) == ["opened", "moved", "asked"])
        #expect(try await client.get("{account}:balance") == "15")
        await client.close()
    }

    /// With both facades: a callback pipeline's first round goes out without a task, and
    /// the rounds after a redirection continue in one.
    /// `split`: each pipeline also pushes to a key of its own slot (mostly on other
    /// nodes), between the pushes to the migrating slot, so that its rounds go to several
    /// nodes at once, an `ASKING` in one node's batch and not in another's.
    @Test(arguments: [false, true], [false, true]) func pipelinesToASlotMigratedBackAndForthStayInOrder(callbacks: Bool, split: Bool) async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let keys = (0..<16).map { "{piped}:\($0)" }
        let sides = (0..<16).map { "side:\($0)" }
        let slot = HashSlot.of("piped")
        for key in keys + (split ? sides : []) { try await client.send("RPUSH", key, "0") }
        let sending = Locked(true)
        let counts = Locked([Int](repeating: 1, count: keys.count))
        let senders = Task {
            await withTaskGroup(of: String?.self) { group in
                for (index, key) in keys.enumerated() {
                    group.addTask {
                        var next = 1
                        while sending.withLock({ $0 }) {
                            // Ten pushes to the task's key in one batch: each reply says where the list stood.
                            var pipeline = RedisPipeline()
                            for value in next..<(next + 10) {
                                pipeline.send("RPUSH", key, "\(value)")
                                if split { pipeline.send("RPUSH", sides[index], "\(value)") }
                            }
                            do {
                                let replies = if callbacks {
                                    try await withCheckedThrowingContinuation { done in client.pipeline(pipeline) { done.resume(with: $0) } }
                                } else {
                                    try await client.pipeline(pipeline)
                                }
                                let lengths = replies.map { try? $0.get().int }
                                let expected = (next..<(next + 10)).flatMap { Array(repeating: $0 + 1, count: split ? 2 : 1) }
                                guard lengths == expected else { return "\(key): replies \(lengths) after \(next)" }
                            } catch {
                                return "\(key): \(error)"
                            }
                            next += 10
                        }
                        counts.withLock { $0[index] = next }
                        return nil
                    }
                }
                return await group.compactMap { $0 }.reduce(into: []) { $0.append($1) }
            }
        }
        try await migrateThereAndBack(cluster, slot: slot, keys: keys)
        sending.withLock { $0 = false }
        let errors = await senders.value
        #expect(errors.isEmpty, "\(errors.prefix(3))")
        let sent = counts.withLock { $0 }
        for (index, count) in sent.enumerated() {
            for key in [keys[index]] + (split ? [sides[index]] : []) {
                #expect(try await client.lrange(key, 0, -1) == (0..<count).map(String.init), "\(key)")
            }
        }
        let asks = try await blocking { try statSum(cluster, section: "errorstats", line: "errorstat_ASK", field: "count") }
        print("pipelines under migration: \(sent.reduce(0, +)) pushes, \(asks) ASK")
        #expect(asks > 0)
        await client.close()
    }

    @Test func commandsForEveryNodeAreCombinedAndChannelsAndBlockingCommandsWork() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let endpoint = clusterEndpoint(cluster)
        try await RedisClient.waitServe(endpoint)
        let client = try RedisClient(endpoint)
        #expect(try await client.ping() == "PONG")
        for index in 0..<100 { try await client.send("SET", "fan:\(index)", "\(index)") }
        #expect(try await client.send("DBSIZE").int == 100)
        #expect(Set(try await client.send("KEYS", "fan:*").array?.compactMap(\.string) ?? []) == Set((0..<100).map { "fan:\($0)" }))
        // SCRIPT LOAD reaches every node, so EVALSHA works wherever its key lives.
        let sha = try #require(try await client.send("SCRIPT", "LOAD", "return redis.call('GET', KEYS[1])").string)
        for index in [0, 37, 99] { #expect(try await client.send("EVALSHA", sha, 1, "fan:\(index)").string == "\(index)") }
        #expect(try await client.send("SCRIPT", "EXISTS", sha, "0000000000000000000000000000000000000000").array?.map(\.int) == [1, 0])
        // SCAN walks the primaries in turn (its own test below): one page here.
        #expect(try await client.send("SCAN", 0).array?.count == 2)
        #expect(try await client.send("FLUSHALL").isOK)
        #expect(try await client.send("DBSIZE").int == 0)

        // Commands without keys take a first attempt on a primary, spread over them, with
        // both facades; an error reply comes back once, as the server gave it.
        try await blocking { try resetStats(cluster) }
        for index in 0..<60 { #expect(try await client.send("ECHO", "e\(index)").string == "e\(index)") }
        let echoed = await withCheckedContinuation { (done: CheckedContinuation<[String], Never>) in
            // Completions run on several reactors: a lock the thread sanitizer sees.
            let replies = SanitizedMutex<[String]>([])
            for index in 0..<60 {
                client.send("ECHO", "c\(index)") { result in
                    let count = replies.withLock { replies in
                        replies.append((try? result.get().string) ?? "\(result)")
                        return replies.count
                    }
                    if count == 60 { done.resume(returning: replies.withLock { $0 }) }
                }
            }
        }
        #expect(Set(echoed) == Set((0..<60).map { "c\($0)" }))
        let echoes = try await blocking {
            try cluster.nodes.map { node in
                let stats = try cluster.command(["INFO", "commandstats"], on: node).string ?? ""
                let line = stats.split(separator: "\r\n").first { $0.hasPrefix("cmdstat_echo:calls=") }
                return (node, line.flatMap { Int($0.dropFirst("cmdstat_echo:calls=".count).prefix { $0.isNumber }) } ?? 0)
            }
        }
        #expect(echoes.reduce(0) { $0 + $1.1 } == 120, "\(echoes)")
        for (node, calls) in echoes {
            #expect(cluster.primaries.contains(node) ? calls > 0 : calls == 0, "\(node): \(calls) ECHO")
        }
        await #expect { try await client.send("PUBLISH", "only-a-channel") } throws: { error in
            if case RedisError.server(let message) = error { message.contains("wrong number of arguments") } else { false }
        }
        let published = await withCheckedContinuation { (done: CheckedContinuation<Result<RESPValue, RedisError>, Never>) in
            client.send("PUBLISH", "only-a-channel") { done.resume(returning: $0) }
        }
        if case .failure(.server(let message)) = published { #expect(message.contains("wrong number of arguments")) } else { Issue.record("\(published)") }
        #expect(try await client.send("PUBLISH", "news", "m").int == 0)

        // A blocking command waits on the owner of its key, and wakes when another caller pushes.
        async let popped = client.blpop("jobs:{blocking}", timeout: .seconds(5))
        try await Task.sleep(for: .milliseconds(100))
        try await client.send("RPUSH", "jobs:{blocking}", "job 1")
        let first = try await popped
        #expect(first?.key == "jobs:{blocking}" && first?.value == "job 1")

        // A channel's operations each touch one key, so they route like any command.
        let client1 = RedisChannel(client: client, "/cluster/channel", peer: .client)
        let server = RedisChannel(client: client, "/cluster/channel", peer: .server)
        try await client1.send(["n": 1])
        try await client1.send(contentsOf: [["n": 2], ["n": 3]])
        #expect(try await server.recv(as: [String: Int].self) == ["n": 1])
        #expect(try await server.recv(as: [String: Int].self, max: 5) == [["n": 2], ["n": 3]])
        await client.close()
    }

    @Test func theMapIsRefreshedPeriodicallyOnlyWhenConfigured() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let periodic = try clusterClient(cluster, configuration: .init(clusterRefreshInterval: .milliseconds(200)))
        let never = try clusterClient(cluster, configuration: .init(clusterRefreshInterval: nil))
        try await periodic.send("SET", "periodic", "1")
        try await never.send("SET", "never", "1")
        try await blocking { try resetStats(cluster) }
        let reset = ContinuousClock.now
        // Six refreshes, however late a loaded machine runs the timers, and no more than one
        // client refreshing every 200 ms can make in the time they took (two would make six
        // in about 0.6 s, past that bound): so the periodic client refreshes, the other not.
        // (A fixed 1.1 s with 3 to 6 expected raced the timers.)
        let reached = try await waitUntil(limit: .seconds(30)) { try await blocking { try clusterShardsCalls(cluster) } >= 6 }
        let elapsed = ContinuousClock.now - reset
        let calls = try await blocking { try clusterShardsCalls(cluster) }
        #expect(reached, "\(calls) CLUSTER SHARDS in 30 s")
        #expect(calls <= Int(elapsed / .milliseconds(200)) + 2, "\(calls) CLUSTER SHARDS in \(elapsed)")
        await periodic.close()
        await never.close()
        try await blocking { try resetStats(cluster) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await blocking { try clusterShardsCalls(cluster) } == 0, "a closed client still refreshes")

        // A client nobody closes ends when released: its router with it (the refresh timer
        // and the nodes' loss callbacks must not keep it), and the refreshes stop.
        weak var router: ClusterRouter?
        do {
            let dropped = try clusterClient(cluster, configuration: .init(clusterRefreshInterval: .milliseconds(200)))
            try await dropped.send("SET", "dropped", "1")
            router = dropped.router
            #expect(router != nil)
        }
        #expect(try await waitUntil(limit: .seconds(10)) { router == nil }, "a released cluster client's router lives on")
        try await blocking { try resetStats(cluster) }
        try await Task.sleep(for: .milliseconds(500))
        #expect(try await blocking { try clusterShardsCalls(cluster) } == 0, "a released client still refreshes")
    }

    @Test func aKilledPrimaryIsReplacedAndOnlyWrittenCommandsReportAnUnknownOutcome() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let keys = (0..<64).map { "crash:\($0)" }
        let sending = Locked(true)
        // Per key: the values acknowledged, and those whose outcome is unknown.
        let acknowledged = Locked([[Int]](repeating: [], count: keys.count))
        let unknown = Locked([[Int]](repeating: [], count: keys.count))
        let otherErrors = Locked([String]())
        let senders = Task {
            await withTaskGroup(of: Void.self) { group in
                for task in 0..<16 {
                    group.addTask {
                        let mine = keys.indices.filter { $0 % 16 == task }
                        var next = [Int](repeating: 0, count: mine.count)
                        var round = 0
                        while sending.withLock({ $0 }) {
                            let slot = round % mine.count
                            let index = mine[slot]
                            do {
                                try await client.send("RPUSH", keys[index], "\(next[slot])")
                                acknowledged.withLock { $0[index].append(next[slot]) }
                            } catch RedisError.connectionLost(_, _, .written) {
                                unknown.withLock { $0[index].append(next[slot]) }
                            } catch {
                                otherErrors.withLock { $0.append("\(keys[index]) \(next[slot]): \(error)") }
                            }
                            next[slot] += 1
                            round += 1
                        }
                    }
                }
            }
        }
        try await Task.sleep(for: .milliseconds(300))
        let victim = cluster.primaries[0]
        let replica = try #require(cluster.replicas(of: victim).first)
        let onVictim = keys.indices.filter { index in victim.slots.contains { $0.contains(HashSlot.of(keys[index])) } }
        let victimAcks: @Sendable () -> Int = { acknowledged.withLock { acks in onVictim.map { acks[$0].count }.reduce(0, +) } }
        // What the crashed shard's keys got, every 100 ms from the kill: printed on a failure.
        let timeline = Locked([String]())
        let killed = ContinuousClock.now
        let sampler = Task {
            while !Task.isCancelled {
                timeline.withLock { $0.append("\((ContinuousClock.now - killed).formatted(.units(allowed: [.milliseconds])))=\(victimAcks())") }
                try? await Task.sleep(for: .milliseconds(100))
            }
        }
        try await blocking { try cluster.kill(victim) }
        let promoted = try await blocking { try cluster.waitForPromotion(of: replica) }
        let promotedAt = ContinuousClock.now
        timeline.withLock { $0.append("promoted") }
        #expect(promoted.isPrimary)
        // The crashed shard's keys are served again within 2 s of the promotion.
        let before = victimAcks()
        try await Task.sleep(for: .seconds(2))
        let after = victimAcks()
        sampler.cancel()
        sending.withLock { $0 = false }
        await senders.value
        print("crash under load: promotion \(promotedAt - killed) after the kill; \(after - before) pushes to the crashed shard's \(onVictim.count) keys acknowledged in the 2 s after it; unknown outcomes: \(unknown.withLock { $0.map(\.count).reduce(0, +) })")
        #expect(otherErrors.withLock { $0 }.isEmpty, "\(otherErrors.withLock { $0.prefix(5) })")
        #expect(!onVictim.isEmpty && after - before > 100,
                "the crashed shard's keys were not served again within 2 s of the promotion: \(timeline.withLock { $0 }.joined(separator: " "))")
        // No value doubled or out of order; every acknowledged value present, except on the
        // crashed shard, where the primary may have acknowledged writes it had not yet
        // replicated (Redis' asynchronous replication).
        let victimSlots = victim.slots
        let acked = acknowledged.withLock { $0 }
        let unsure = unknown.withLock { $0 }
        for (index, key) in keys.enumerated() {
            let list = try await client.lrange(key, 0, -1).compactMap(Int.init)
            #expect(list == list.sorted() && Set(list).count == list.count, "\(key): \(list.prefix(20))")
            #expect(Set(list).isSubset(of: Set(acked[index] + unsure[index])), "\(key) holds a value never sent")
            let onCrashedShard = victimSlots.contains { $0.contains(HashSlot.of(key)) }
            if !onCrashedShard {
                #expect(Set(acked[index]).isSubset(of: Set(list)), "\(key) lost acknowledged values")
            }
        }
        await client.close()
    }

    @Test func anIdleClientLearnsOfACrashedPrimaryWithoutACommandFailing() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let victim = cluster.primaries[0]
        let replica = try #require(cluster.replicas(of: victim).first)
        let key = try #require((0..<1000).map { "idle:\($0)" }.first { key in victim.slots.contains { $0.contains(HashSlot.of(key)) } })
        // Connections to every primary are open and idle when the victim dies: no command
        // is in flight to fail, only the lost connection tells.
        for index in 0..<30 { try await client.send("SET", "idle:\(index)", "before") }
        try await blocking { try cluster.kill(victim) }
        _ = try await blocking { try cluster.waitForPromotion(of: replica) }
        let started = ContinuousClock.now
        try await client.send("SET", key, "after")
        let elapsed = ContinuousClock.now - started
        // Without the watch, the command would queue for the dead node until the connect
        // timeout (5 s) before being routed to the replacement.
        #expect(elapsed < .seconds(2), "the first command after the promotion took \(elapsed)")
        #expect(try await client.get(key) == "after")
        await client.close()
    }
}
