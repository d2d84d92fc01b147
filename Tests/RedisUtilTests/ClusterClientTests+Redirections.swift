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
        let keys = ["{half}a", "{half}b"]
        let slot = HashSlot.of(keys[0])
        let client = try clusterClient(cluster, configuration: .init(commandTimeout: .seconds(10)))
        try await client.send("MSET", keys[0], "va", keys[1], "vb")
        let source = try await blocking { try cluster.owner(ofSlot: slot) }
        let target = try #require(cluster.primaries.first { $0.id != source.id })
        let migration = try await blocking {
            let migration = try cluster.beginMigration(ofSlot: slot, to: target)
            try cluster.moveKeys([keys[1]], of: migration)
            return migration
        }
        try await blocking { try resetStats(cluster) }

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
}
