import Foundation
import LocalRedis
@testable import RedisUtil
import Testing
import TestSupport

/// A job of the leased-delivery tests on a cluster.
private struct ClusterJob: Codable, Sendable, Equatable {
    var id: Int
}

extension ClusterClientTests {
    /// Leased delivery on a cluster: its scripts touch the channel's list and the lease
    /// keys beside it (`{list}/leases`, …), which a hash tag keeps in the list's slot. On
    /// channels whose lists lie on every primary: a leased message is acked, one released
    /// comes back at once with its count, one whose lease ends comes back on the next
    /// receive, one dead-lettered is listed and requeued; and a serve pool answers every
    /// request once. Nothing is left leased, nothing refused as cross-slot.
    @Test func leasedDeliveryAndAServePoolWorkOnChannelsOfEveryPrimary() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        // Two channels on each primary (by their receive lists' owners).
        let candidates = (0..<60).map { "/cluster/jobs-\($0)" }
        let owners = try await blocking { try candidates.map { try cluster.owner(ofKey: "\($0)/client").id } }
        let names = cluster.primaries.flatMap { primary in
            zip(candidates, owners).filter { $0.1 == primary.id }.prefix(2).map(\.0)
        }
        try #require(names.count == 6, "\(names)")

        for name in names {
            let sender = RedisChannel(client: client, name, peer: .client)
            let worker = RedisChannel(client: client, name, peer: .server)
            try await sender.send(contentsOf: (1...4).map { ClusterJob(id: $0) })

            let acked = try #require(try await worker.receiveLeased(as: ClusterJob.self))
            #expect(acked.message == ClusterJob(id: 1) && acked.deliveryCount == 1, "\(name)")
            try await acked.ack()

            let released = try #require(try await worker.receiveLeased(as: ClusterJob.self))
            try await released.release()
            let again = try #require(try await worker.receiveLeased(as: ClusterJob.self, lease: .milliseconds(100)))
            #expect(again.message == ClusterJob(id: 2) && again.deliveryCount == 2, "\(name)")
            // Its lease ends: the next receive hands it back first.
            try await Task.sleep(for: .milliseconds(250))
            let expired = try #require(try await worker.receiveLeased(as: ClusterJob.self))
            #expect(expired.message == ClusterJob(id: 2) && expired.deliveryCount == 3, "\(name)")
            try await expired.ack()

            let doomed = try #require(try await worker.receiveLeased(as: ClusterJob.self))
            try await doomed.deadLetter(reason: "test")
            let letters = try await worker.deadLetters()
            #expect(letters.count == 1, "\(name)")
            #expect(try await worker.requeueDeadLetters(letters) == 1, "\(name)")
            for expected in [4, 3] {
                let delivery = try #require(try await worker.receiveLeased(as: ClusterJob.self), "\(name)")
                #expect(delivery.message.id == expected, "\(name)")
                try await delivery.ack()
            }
            #expect(try await worker.receiveLeased(as: ClusterJob.self) == nil, "\(name)")
            #expect(try await client.send("ZCARD", "{\(name)/client}/leases").int == 0, "\(name)")
        }

        // A serve pool per channel, 50 requests each, every reply once.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for name in names {
                group.addTask {
                    let sender = RedisChannel(client: client, name, peer: .client)
                    let server = RedisChannelServer(RedisChannel(client: client, name, peer: .server), as: ClusterJob.self, concurrency: 4) { delivery in
                        delivery.message
                    }
                    let running = Task { try await server.run() }
                    defer { server.stop() }
                    try await sender.send(contentsOf: (0..<50).map { ClusterJob(id: $0) })
                    var ids: [Int] = []
                    while ids.count < 50, let reply = try await sender.brecv(as: ClusterJob.self, timeout: .seconds(10)) { ids.append(reply.id) }
                    server.stop()
                    try await running.value
                    #expect(ids.sorted() == Array(0..<50), "\(name)")
                    #expect(server.handledCount == 50, "\(name)")
                }
            }
            try await group.waitForAll()
        }
        for name in names {
            #expect(try await client.send("ZCARD", "{\(name)/client}/leases").int == 0, "\(name)")
        }
        await client.close()
    }
}
