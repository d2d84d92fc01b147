import Foundation
import LocalRedis
@testable import RedisUtil
import Testing
import TestSupport

// Finding the cluster's map on real nodes: through the seeds that answer, past one that
// refuses connections (at once, not after the fetch's timeout) and back to it once it
// serves; by `CLUSTER SLOTS` from a node that refuses `CLUSTER SHARDS`; and a server
// without cluster support reported as such.
extension ClusterClientTests {
    /// The first seed refuses connections (nothing listens on its port); the client finds
    /// the cluster through the next one, and every command works. A client whose one seed
    /// refuses fails at the refusal, not at the end of the map fetch's timeout (the
    /// connection retries meanwhile, which held the fetch for its 2 s).
    @Test func aClusterIsFoundThroughTheSeedsThatAnswer() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        // Bound and not listening: a connection is refused, and no one else takes the port.
        let refusing = try ReservedPort()
        defer { withExtendedLifetime(refusing) {} }
        let seeds: [RedisEndpoint] = [.tcp(host: "127.0.0.1", port: refusing.port)] + clusterSeeds(cluster)
        let client = try RedisClient(.cluster(seeds: seeds))
        let keys = (0..<20).map { "seeded:\($0)" }
        for key in keys { try await client.send("RPUSH", key, "1") }
        for key in keys { #expect(try await client.send("LLEN", key).int == 1) }
        // The keys lie on both primaries: the map came from a node that answered.
        let owners = try await blocking { Set(try keys.map { try cluster.owner(ofKey: $0).id }) }
        #expect(owners.count == 2)
        await client.close()

        try await expectNoMap(from: .tcp(host: "127.0.0.1", port: refusing.port), saying: "its attempt to connect failed")
    }

    /// A user who may not run `CLUSTER SHARDS` (`NOPERM`) but may run `CLUSTER SLOTS`, as
    /// a managed service's user may be: the client learns the map from the latter, and
    /// routes by it to every primary.
    @Test func aUserRefusedClusterShardsFindsTheMapThroughClusterSlots() async throws {
        let cluster = try await blocking {
            try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0,
                                                       extraConfig: ["user slotsonly on >pw ~* &* +@all -cluster|shards"]))
        }
        defer { cluster.stop() }
        let client = try clusterClient(cluster, configuration: .init(username: "slotsonly", password: "pw"))
        let keys = (0..<20).map { "slots:\($0)" }
        for key in keys { try await client.send("SET", key, key) }
        for key in keys { #expect(try await client.send("GET", key).string == key) }
        let owners = try await blocking { Set(try keys.map { try cluster.owner(ofKey: $0).id }) }
        #expect(owners.count == 2)
        // Every node's CLUSTER SHARDS was refused; the map came from CLUSTER SLOTS.
        #expect(try await blocking { try statSum(cluster, section: "errorstats", line: "errorstat_NOPERM", field: "count") } >= 1)
        #expect(try await blocking { try statSum(cluster, section: "commandstats", line: "cmdstat_cluster|slots", field: "calls") } >= 1)
        await client.close()
    }

    /// A cluster client seeded with a server that is no cluster: both map commands are
    /// refused, and the command fails with the first refusal, which says why.
    @Test func aServerWithoutClusterSupportIsReportedAsSuch() async throws {
        try await withServer { server async throws in
            try await expectNoMap(from: .tcp(host: server.host, port: server.port), saying: "cluster support disabled")
        }
    }

    /// A client's only seed is down: its command fails at the refusal. Once the node is
    /// back, the same client's next command finds the map through it: the refusals seen
    /// before do not mark the node for good (only failures after a fetch's command was
    /// queued end that fetch early).
    @Test func aSeedRefusedOnceIsAskedAgainOnceItServes() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let seed = cluster.primaries[0]
        try await blocking { try cluster.stopNode(seed) }
        // One connection a node: the fetch after the restart uses the one that was refused.
        let client = try RedisClient(.cluster(seeds: [.tcp(host: seed.host, port: seed.port)]), configuration: .init(connections: 1))
        await #expect(throws: RedisError.self) { try await client.send("SET", "back", "1") }
        try await blocking { try cluster.restartNode(seed) }
        try await client.send("SET", "back", "2")
        #expect(try await client.send("GET", "back").string == "2")
        await client.close()
    }
}

/// A cluster client seeded with `seed` alone fails its first command with an error whose
/// text says `why`.
private func expectNoMap(from seed: RedisEndpoint, saying why: String, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let client = try RedisClient(.cluster(seeds: [seed]))
    do {
        _ = try await client.send("GET", "k")
        Issue.record("a GET through \(seed) succeeded", sourceLocation: sourceLocation)
    } catch let error as RedisError {
        #expect(error.description.contains(why), "\(error)", sourceLocation: sourceLocation)
    }
    await client.close()
}
