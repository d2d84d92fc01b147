import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Testing
import TestSupport

// The redirection bound and TRYAGAIN's retry on a real cluster (ClusterRedirectionBoundTests
// and ClusterRetryTimingTests hold the same bounds on a fake node, where every reply is
// chosen; here the nodes make them).
extension ClusterClientTests {
    /// Two real nodes that disagree about a slot: its owner marks it migrating to another
    /// primary that was never told to import it, so the owner answers `ASK` for a key it
    /// does not hold and the other, after `ASKING`, `MOVED` back to the owner. The client
    /// follows five redirections, then ends the command with the typed error naming the
    /// last one, with both facades; once the owner's slot is stable again, the same client
    /// serves the key.
    @Test func twoNodesThatRedirectToEachOtherEndInTheRedirectionBound() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let key = "looping"
        let slot = HashSlot.of(key)
        let owner = try await blocking { try cluster.owner(ofSlot: slot) }
        let other = try #require(cluster.primaries.first { $0.id != owner.id })
        let client = try clusterClient(cluster)
        // The client has its map, and the owner no key: it will answer ASK for it.
        try await client.send("SET", key, "before")
        _ = try await client.send("DEL", key)

        _ = try await blocking { try cluster.command(["CLUSTER", "SETSLOT", "\(slot)", "MIGRATING", other.id], on: owner) }
        // Redirections 1, 3 and 5 are the owner's ASK, 2 and 4 the other's MOVED; the
        // other's third MOVED would be the sixth.
        let last = "ASK slot \(slot) to \(other.host):\(other.port)"
        await #expect(throws: RedisError.tooManyRedirections(command: "GET", redirections: 5, last: last)) {
            try await client.send("GET", key)
        }
        let viaCallback = await withCheckedContinuation { (done: CheckedContinuation<Result<RESPValue, RedisError>, Never>) in
            client.send("GET", key) { done.resume(returning: $0) }
        }
        #expect(viaCallback == .failure(.tooManyRedirections(command: "GET", redirections: 5, last: last)))
        // Each GET met three ASKs and three MOVEDs (the sixth redirection is read, not followed).
        #expect(try await blocking { try statSum(cluster, node: owner, section: "errorstats", line: "errorstat_ASK", field: "count") } == 6)
        #expect(try await blocking { try statSum(cluster, node: other, section: "errorstats", line: "errorstat_MOVED", field: "count") } == 6)

        _ = try await blocking { try cluster.command(["CLUSTER", "SETSLOT", "\(slot)", "STABLE"], on: owner) }
        try await client.send("SET", key, "after")
        #expect(try await client.send("GET", key).string == "after")
        await client.close()
    }

    /// A multi-key command on a slot half migrated: the source has one key, the target the
    /// other, and the source answers `TRYAGAIN`. The client retries with its backoff
    /// within the command's timeout; when the migration ends meanwhile (the last key moved,
    /// the slot given to the target), the source answers `MOVED`, and the command succeeds
    /// there with both values: the caller sees no error, the source counted the retries.
    @Test func aMultiKeyCommandOnAHalfMigratedSlotIsRetriedUntilTheMigrationEnds() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let (client, keys, migration) = try await halfMigrated(cluster, tag: "half", moving: 1)
        let (slot, source, target) = (migration.slot, migration.source, migration.target)

        async let values = client.send("MGET", keys[0], keys[1])
        // Ends the migration once the source has refused the command a few times.
        let retried = try await waitUntil(limit: .seconds(10)) {
            let refusals = try? await blocking { try statSum(cluster, node: source, section: "errorstats", line: "errorstat_TRYAGAIN", field: "count") }
            return (refusals ?? 0) >= 2
        }
        #expect(retried, "the source answered TRYAGAIN fewer than twice")
        _ = try await blocking {
            try cluster.moveKeys([keys[0]], of: migration)
            return try cluster.finishMigration(migration)
        }
        let reply = try await values
        #expect(reply.array?.map(\.string) == ["va", "vb"])
        #expect(try await blocking { try cluster.owner(ofSlot: slot).id } == target.id)
        await client.close()
    }

    /// A blocking command on a slot mid-migration, its key on neither node: the source
    /// answers `ASK`, and the command goes to the target with `ASKING` before it in one
    /// write on a leased connection, where it blocks (an importing node serves an asking
    /// client's single-key command). A push of the key, itself sent on by `ASK`, wakes it
    /// there before the migration ends, with both facades. Retried on the source instead
    /// (as before: the `ASK` taken for a `TRYAGAIN`), the command never blocked on the
    /// target and failed at the sixth `ASK` (five followed) with ``RedisError/tooManyRedirections(command:redirections:last:)``.
    @Test(arguments: [false, true]) func aBlockingCommandSentAnAskBlocksOnTheImportingNode(callbacks: Bool) async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let key = "{asked-to-block}:queue"
        let (client, slot, source, target) = try await absentKey(key, of: cluster)
        let migration = try await blocking { try cluster.beginMigration(ofSlot: slot, to: target) }
        try await blocking { try resetStats(cluster) }

        let popped = blpop(client, key, timeout: "10", callbacks: callbacks)
        #expect(try await blocksOne(cluster, on: target, within: .seconds(5)), "the BLPOP never blocked on the importing node")
        #expect(try await blocking { try statSum(cluster, node: source, section: "errorstats", line: "errorstat_ASK", field: "count") } >= 1)
        #expect(try await blocking { try blockedClients(cluster, node: source) } == 0)

        try await client.send("RPUSH", key, "job")
        let reply = try await popped.value
        #expect(reply.array?.map(\.string) == [key, "job"])
        // Still mid-migration: the slot is the source's until the migration ends. The
        // target's one leased connection, back in its pool, carries no `ASKING` into its
        // next command: a `BLPOP` sent there without one is sent back to the source (with
        // the flag left over, the importing target would have served it and blocked).
        #expect(try await blocking { try cluster.owner(ofSlot: slot).id } == source.id)
        let router = try #require(client.router)
        let targetClient = try router.node(at: ClusterNodeAddress(host: target.host, port: target.port)).get().client
        #expect(targetClient.blocking.connectionsOpen.count == 1)
        var again: [UInt8] = []
        RESPEncoder.encodeCommand(into: &again, "BLPOP", key, 1)
        await #expect(throws: RedisError.server(message: "MOVED \(slot) \(source.host):\(source.port)")) {
            try await targetClient.sendBlocking(again, deadline: .seconds(1))
        }
        #expect(targetClient.blocking.connectionsOpen.count == 1)
        _ = try await blocking { try cluster.finishMigration(migration) }
        try await client.send("RPUSH", key, "next")
        #expect(try await client.send("BLPOP", key, 1).array?.map(\.string) == [key, "next"])
        await client.close()
    }

    /// A blocking command whose slot moves while it blocks: the source answers it `MOVED`,
    /// and the client sends it to the new owner with what is left of its timeout (its
    /// argument rewritten), so a `BLPOP k 4.0` whose slot moved after 2 s times out about
    /// 4 s after it was sent, with both facades. Sent again as it was, it blocked its whole
    /// 4 s again on the new owner and returned after about 6 s (2 s left for the move to
    /// reach it before the source's own timeout). (A timeout in decimal
    /// seconds, kept to the millisecond; one in whole seconds is rounded up to them.)
    @Test(arguments: [false, true]) func aBlockingCommandMovedMidWaitKeepsItsTimeout(callbacks: Bool) async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let key = "{moved-mid-wait}:queue"
        let (client, slot, source, target) = try await absentKey(key, of: cluster)

        let clock = ContinuousClock()
        let sent = clock.now
        let popped = blpop(client, key, timeout: "4.0", callbacks: callbacks)
        #expect(try await blocksOne(cluster, on: source, within: .seconds(3)), "the BLPOP never blocked on the slot's owner")
        try await Task.sleep(until: sent + .milliseconds(2000), clock: clock)
        _ = try await blocking { try cluster.migrate(slot: slot, to: target) }
        let movedAt = clock.now - sent
        #expect(try await popped.value.isNull, "timed out, nothing popped")
        let elapsed = clock.now - sent
        // About 4 s; sent again with its whole timeout, 4 s after the move (6 s or more).
        #expect(elapsed >= .milliseconds(3900) && elapsed < .milliseconds(5500),
                "returned after \(elapsed), the slot moved after \(movedAt)")
        #expect(try await blocking { try statSum(cluster, node: source, section: "errorstats", line: "errorstat_MOVED", field: "count") } >= 1)
        await client.close()
    }

    /// A blocking command on two keys of a slot mid-migration, neither on either node: the
    /// source answers `ASK`, and the target, asked, `TRYAGAIN` (an importing node serves a
    /// command on several keys only when it has them all). The client waits, retrying
    /// with its backoff past six `ASK`s (where it failed with
    /// ``RedisError/tooManyRedirections(command:redirections:last:)`` before a pause started
    /// the count again); once the migration ends it follows `MOVED`, blocks on the new
    /// owner, and a push wakes it there.
    @Test func aBlockingCommandOnTwoKeysWaitsForItsSlotToFinishMoving() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let (from, to) = ("{moving}:from", "{moving}:to")
        let slot = HashSlot.of(from)
        let client = try clusterClient(cluster)
        _ = try await client.send("DEL", from, to)
        let source = try await blocking { try cluster.owner(ofSlot: slot) }
        let target = try #require(cluster.primaries.first { $0.id != source.id })
        let migration = try await blocking { try cluster.beginMigration(ofSlot: slot, to: target) }
        try await blocking { try resetStats(cluster) }

        let moved = Task { try await client.send("BLMOVE", from, to, "LEFT", "RIGHT", 10) }
        // More `ASK`s than the bound lets one command follow in a row and the one that
        // ended it then: five followed and a sixth read.
        let askedOften = try await askedPastTheBound(cluster, by: source)
        #expect(askedOften, "the source answered ASK no more than six times")
        #expect(try await blocking { try statSum(cluster, node: target, section: "errorstats", line: "errorstat_TRYAGAIN", field: "count") } >= 1)
        _ = try await blocking { try cluster.finishMigration(migration) }
        let blockedOnTarget = try await waitUntil(limit: .seconds(5)) {
            (try? await blocking { try blockedClients(cluster, node: target) }) == 1
        }
        #expect(blockedOnTarget, "the BLMOVE never blocked on the slot's new owner")
        try await client.send("RPUSH", from, "job")
        #expect(try await moved.value.string == "job")
        #expect(try await client.lrange(to, 0, -1) == ["job"])
        await client.close()
    }

    /// The same `BLMOVE` with a timeout of 1 s, on a slot whose migration does not end:
    /// its retries stop with its wait (its 1 s and the client's 2 s of grace since the
    /// call), and the caller gets the target's `TRYAGAIN` about 3 s after the call, with
    /// both facades; with the client's retry budget (10 s without a command timeout) it
    /// came after about 10 s.
    @Test(arguments: [false, true]) func aBlockingCommandsRetriesEndWithItsWait(callbacks: Bool) async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let (from, to) = ("{unfinished}:from", "{unfinished}:to")
        let (client, slot, _, target) = try await absentKey(from, of: cluster)
        _ = try await client.send("DEL", to)
        _ = try await blocking { try cluster.beginMigration(ofSlot: slot, to: target) }

        let clock = ContinuousClock()
        let sent = clock.now
        let result: Result<RESPValue, RedisError>
        if callbacks {
            result = await withCheckedContinuation { done in client.send("BLMOVE", from, to, "LEFT", "RIGHT", 1) { done.resume(returning: $0) } }
        } else {
            do { result = .success(try await client.send("BLMOVE", from, to, "LEFT", "RIGHT", 1)) } catch { result = .failure(error as? RedisError ?? .cancelled) }
        }
        let elapsed = clock.now - sent
        guard case .failure(.server(let message)) = result else {
            Issue.record("expected the target's TRYAGAIN, got \(result)")
            return
        }
        #expect(message.hasPrefix("TRYAGAIN"), "\(message)")
        #expect(elapsed > .milliseconds(2500) && elapsed < .milliseconds(6000), "ended after \(elapsed)")
        await client.close()
    }

    /// A pipeline on a half-migrated slot: its `GET` of the key already moved meets `ASK`,
    /// its `MGET` of both keys `TRYAGAIN` (the source has one of them), round after round,
    /// the `GET` held back with its slot's `MGET` at every pause. Each pause starts the
    /// `GET`'s count of redirections again, as for a command of its own: both wait for the
    /// migration and are answered once it ends (the `GET` failed with
    /// ``RedisError/tooManyRedirections(command:redirections:last:)`` after six rounds before).
    @Test func aPipelineCommandHeldBackByItsSlotsPausesIsNotFailedForItsRedirections() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let (client, keys, migration) = try await halfMigrated(cluster, tag: "held", moving: 0)
        let source = migration.source
        var pipeline = RedisPipeline()
        pipeline.send("GET", keys[0])
        pipeline.send("MGET", keys[0], keys[1])
        let replies = Task { try await client.pipeline(pipeline) }
        // More rounds than the GET's five redirections in a row would have lasted.
        let heldLong = try await askedPastTheBound(cluster, by: source)
        #expect(heldLong, "the source answered ASK no more than six times")
        _ = try await blocking {
            try cluster.moveKeys([keys[1]], of: migration)
            return try cluster.finishMigration(migration)
        }
        let results = try await replies.value
        #expect(try results[0].get().string == "va")
        #expect(try results[1].get().array?.map(\.string) == ["va", "vb"])
        await client.close()
    }

    /// A pipeline whose `MGET` waits out `TRYAGAIN` on a half-migrated slot, round after
    /// round, beside a `GET` on another slot caught between two nodes that redirect to
    /// each other (its owner marked migrating to a node that was never told to import it:
    /// `ASK` one way, `MOVED` back). Only the units held back with a paused unit of their
    /// own slot start their count of redirections again: the `GET` ends at the bound, after
    /// three `ASK`s, with ``RedisError/tooManyRedirections(command:redirections:last:)``,
    /// while the `MGET` goes on waiting and is answered once the migration ends. (With
    /// every waiting unit's count restarted at each pause, as `129e9ac` had it before
    /// `a64956a`, the `GET` went past the bound: a fourth `ASK` here, in one run.)
    @Test func aPipelineUnitOfAnotherSlotStillEndsAtTheRedirectionBoundWhileOneWaitsOutAPause() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let (client, keys, migration) = try await halfMigrated(cluster, tag: "waiting", moving: 1)
        let looping = "looping-beside"
        let loopSlot = HashSlot.of(looping)
        #expect(loopSlot != migration.slot)
        let owner = try await blocking { try cluster.owner(ofSlot: loopSlot) }
        let other = try #require(cluster.primaries.first { $0.id != owner.id })
        _ = try await client.send("DEL", looping)
        _ = try await blocking { try cluster.command(["CLUSTER", "SETSLOT", "\(loopSlot)", "MIGRATING", other.id], on: owner) }
        try await blocking { try resetStats(cluster) }
        let stat = { (node: LocalRedisCluster.Node, line: String) in
            try await blocking { try statSum(cluster, node: node, section: "errorstats", line: line, field: "count") }
        }

        var pipeline = RedisPipeline()
        pipeline.send("MGET", keys[0], keys[1])
        pipeline.send("GET", looping)
        let replies = Task { try await client.pipeline(pipeline) }
        // Rounds enough for the GET to have met an ASK in each, had its count restarted.
        #expect(try await waitUntil(limit: .seconds(8)) { try await stat(migration.source, "errorstat_TRYAGAIN") >= 8 })
        let asks = try await stat(owner, "errorstat_ASK")
        #expect(asks == 3, "the GET's owner answered ASK \(asks) times (three before the bound ends it)")
        _ = try await blocking {
            try cluster.moveKeys([keys[0]], of: migration)
            return try cluster.finishMigration(migration)
        }
        let results = try await replies.value
        #expect(try results[0].get().array?.map(\.string) == ["va", "vb"])
        let last = "ASK slot \(loopSlot) to \(other.host):\(other.port)"
        #expect(results[1] == .failure(.tooManyRedirections(command: "GET", redirections: 5, last: last)))
        _ = try await blocking { try cluster.command(["CLUSTER", "SETSLOT", "\(loopSlot)", "STABLE"], on: owner) }
        await client.close()
    }

    /// A pipeline is awaited to its end despite a cancellation, and so are the pauses
    /// between its retries: cancelled while its `MGET` meets `TRYAGAIN` on a half-migrated
    /// slot, it goes on retrying at its backoff's pace (a pause of 200 ms by then), not at
    /// round-trip speed (a cancelled task's sleep ends at once: thousands of retries a
    /// second before), and answers once the migration ends.
    @Test func aCancelledPipelineKeepsThePaceOfItsRetries() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let (client, keys, migration) = try await halfMigrated(cluster, tag: "paced", moving: 1)
        let tryAgains = { try await blocking { try statSum(cluster, node: migration.source, section: "errorstats", line: "errorstat_TRYAGAIN", field: "count") } }
        var pipeline = RedisPipeline()
        pipeline.send("MGET", keys[0], keys[1])
        let replies = Task { try await client.pipeline(pipeline) }
        // Six refusals: the pauses (10, 20, 40, 80, 160 ms) have reached their longest.
        #expect(try await waitUntil(limit: .seconds(5)) { try await tryAgains() >= 6 })
        replies.cancel()
        let before = try await tryAgains()
        try await Task.sleep(for: .seconds(1))
        let inASecond = try await tryAgains() - before
        #expect(inASecond <= 10, "\(inASecond) retries in the second after the cancellation")
        _ = try await blocking {
            try cluster.moveKeys([keys[0]], of: migration)
            return try cluster.finishMigration(migration)
        }
        let results = try await replies.value
        #expect(try results[0].get().array?.map(\.string) == ["va", "vb"])
        await client.close()
    }
}

/// Whether `node` answers `ASK` more often than a command could meet it before the
/// redirection bound ended it (five followed, a sixth read), within 8 s.
private func askedPastTheBound(_ cluster: LocalRedisCluster, by node: LocalRedisCluster.Node) async throws -> Bool {
    try await waitUntil(limit: .seconds(8)) {
        let asks = try? await blocking { try statSum(cluster, node: node, section: "errorstats", line: "errorstat_ASK", field: "count") }
        return (asks ?? 0) > ClusterRetryMachine.maxRedirections + 1
    }
}

/// A client of a two-primary `cluster` that has its map, `key` deleted, the key's slot,
/// its owner and the other primary.
private func absentKey(_ key: String, of cluster: LocalRedisCluster) async throws
    -> (client: RedisClient, slot: Int, source: LocalRedisCluster.Node, target: LocalRedisCluster.Node) {
    let slot = HashSlot.of(key)
    let client = try clusterClient(cluster)
    _ = try await client.send("DEL", key)
    let source = try await blocking { try cluster.owner(ofSlot: slot) }
    let target = try #require(cluster.primaries.first { $0.id != source.id })
    return (client, slot, source, target)
}

/// A `BLPOP key timeout` of `client`'s, through its callback or its async facade, in a task.
private func blpop(_ client: RedisClient, _ key: String, timeout: String, callbacks: Bool) -> Task<RESPValue, any Error> {
    Task {
        if callbacks {
            try await withCheckedThrowingContinuation { done in client.send("BLPOP", key, timeout) { done.resume(with: $0) } }
        } else {
            try await client.send("BLPOP", key, timeout)
        }
    }
}

/// Whether one client blocks on `node` within `limit`.
private func blocksOne(_ cluster: LocalRedisCluster, on node: LocalRedisCluster.Node, within limit: Duration) async throws -> Bool {
    try await waitUntil(limit: limit) { (try? await blocking { try blockedClients(cluster, node: node) }) == 1 }
}

/// `blocked_clients` of `node`'s `INFO clients`.
private func blockedClients(_ cluster: LocalRedisCluster, node: LocalRedisCluster.Node) throws -> Int {
    let info = try cluster.command(["INFO", "clients"], on: node).string ?? ""
    let line = info.split(separator: "\r\n").first { $0.hasPrefix("blocked_clients:") }
    return line.flatMap { Int($0.dropFirst("blocked_clients:".count)) } ?? 0
}

/// A slot of `cluster` half migrated to another primary: `{tag}a` and `{tag}b` set to `va`
/// and `vb` through a client of the cluster (10 s command timeout), the slot marked moving
/// and the key `moving` (0 or 1) moved to the target, the other left on the source; the
/// nodes' stats reset.
private func halfMigrated(_ cluster: LocalRedisCluster, tag: String, moving: Int) async throws
    -> (client: RedisClient, keys: [String], migration: LocalRedisCluster.SlotMigration) {
    let keys = ["{\(tag)}a", "{\(tag)}b"]
    let client = try clusterClient(cluster, configuration: .init(commandTimeout: .seconds(10)))
    try await client.send("MSET", keys[0], "va", keys[1], "vb")
    let source = try await blocking { try cluster.owner(ofSlot: HashSlot.of(tag)) }
    let target = try #require(cluster.primaries.first { $0.id != source.id })
    let migration = try await blocking {
        let migration = try cluster.beginMigration(ofSlot: HashSlot.of(tag), to: target)
        try cluster.moveKeys([keys[moving]], of: migration)
        return migration
    }
    try await blocking { try resetStats(cluster) }
    return (client, keys, migration)
}
