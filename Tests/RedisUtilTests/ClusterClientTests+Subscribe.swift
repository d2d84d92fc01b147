import LocalRedis
@testable import RedisUtil
import Testing

extension ClusterClientTests {
    /// A subscription on a cluster client: shard channels on their slot's owner (SPUBLISH
    /// reaches them), channels on any primary (PUBLISH reaches every node). When a shard
    /// channel's slot moves, the server drops it; the subscription yields a gap, subscribes
    /// again on the new owner, and the next SPUBLISH arrives from there. The channel part
    /// is untouched.
    @Test func aShardSubscriptionFollowsItsSlotWhenItMoves() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let moving = "news:{a}"
        let staying = "prices:{b}"
        let (slot, source) = try await blocking { (try cluster.keySlot(moving), try cluster.owner(ofKey: moving)) }

        let subscription = try await client.subscribe(channels: ["global"], shardChannels: [moving, staying])
        var events = subscription.makeAsyncIterator()
        try await client.send("SPUBLISH", moving, "1")
        try await client.send("SPUBLISH", staying, "s1")
        try await client.send("PUBLISH", "global", "g1")
        var received: [String] = []
        for _ in 0..<3 { received.append(try #require(try await events.next()?.message).string) }
        #expect(Set(received) == ["1", "s1", "g1"])
        let sourceCount = try await blocking { try cluster.command(["PUBSUB", "SHARDNUMSUB", moving], on: source).array?.last?.integer }
        #expect(sourceCount == 1)

        let target = try #require(cluster.primaries.first { $0.id != source.id })
        try await blocking { _ = try cluster.migrate(slot: slot, to: target) }

        // The gap, in place: after it the channel is subscribed on the new owner.
        let gap = try #require(try await events.next())
        guard case .gap(let detail) = gap else {
            Issue.record("expected a gap after the slot moved, got \(gap)")
            return
        }
        #expect(detail.reason.contains(moving), "\(detail)")
        let targetCount = try await blocking { try cluster.command(["PUBSUB", "SHARDNUMSUB", moving], on: target).array?.last?.integer }
        #expect(targetCount == 1, "the new owner should hold the subscription")

        try await client.send("SPUBLISH", moving, "2")
        try await client.send("PUBLISH", "global", "g2")
        try await client.send("SPUBLISH", staying, "s2")
        received = []
        for _ in 0..<3 { received.append(try #require(try await events.next()?.message).string) }
        #expect(Set(received) == ["2", "g2", "s2"])
        subscription.close()
        await client.close()
    }

    /// A primary killed under a subscription: each part on it loses its connection,
    /// subscribes again on the replica the cluster promotes (the map fetched again meanwhile)
    /// and yields a gap; messages flow again on both parts.
    @Test func aSubscriptionMovesToThePromotedReplicaWhenItsPrimaryDies() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let victim = cluster.primaries[0]
        let replica = try #require(cluster.replicas(of: victim).first)
        let channel = try #require((0..<1000).map { "alerts:\($0)" }.first { name in victim.slots.contains { $0.contains(HashSlot.of(name)) } })
        let subscription = try await client.subscribe(shardChannels: [channel])
        var events = subscription.makeAsyncIterator()
        try await client.send("SPUBLISH", channel, "before")
        #expect(try await events.next()?.message?.string == "before")

        try await blocking { try cluster.kill(victim) }
        _ = try await blocking { try cluster.waitForPromotion(of: replica) }
        let gap = try #require(try await events.next())
        guard case .gap = gap else {
            Issue.record("expected a gap after the primary died, got \(gap)")
            return
        }
        try await client.send("SPUBLISH", channel, "after")
        #expect(try await events.next()?.message?.string == "after")
        subscription.close()
        await client.close()
    }
}
