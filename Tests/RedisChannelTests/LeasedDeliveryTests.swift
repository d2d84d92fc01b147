import Foundation
import LocalRedis
import RESP
import RedisUtil
import Synchronization
import Testing

/// A job as the worker-pool tests send it.
struct LeaseJob: Codable, Sendable, Equatable {
    var id: Int
    var name: String = "job"
}

/// Leased receive: a message stays in Redis until acked, and comes back when its lease ends.
@Suite("Leased delivery: receiveLeased, ack, release, extend, dead letters", .timeLimit(.minutes(2)))
struct LeasedDeliveryTests {
    private let keys = (inflight: "{/test/jobs/client}/inflight", leases: "{/test/jobs/client}/leases",
                        pending: "{/test/jobs/client}/pending", dead: "{/test/jobs/client}/dead")

    /// Leases held now (the in-flight hash without its id counter).
    private func held(_ client: RedisClient) async throws -> Int {
        try await client.send("ZCARD", keys.leases).asInt()
    }

    @Test("a leased message stays in Redis until acked, and an acked one is never delivered again")
    func ackRemovesForGood() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            try await sender.send(LeaseJob(id: 1))
            let delivery = try #require(try await worker.receiveLeased(as: LeaseJob.self))
            #expect(delivery.message == LeaseJob(id: 1))
            #expect(delivery.deliveryCount == 1 && !delivery.isRedelivery)
            #expect(try await held(client) == 1)
            #expect(try await client.send("LLEN", "/test/jobs/client").asInt() == 0)
            try await delivery.ack()
            #expect(try await held(client) == 0)
            #expect(try await client.send("HLEN", keys.inflight).asInt() == 1, "only the id counter is left")
            #expect(try await worker.receiveLeased(as: LeaseJob.self) == nil)
            // A second ack finds no lease: nothing is changed, and it says so.
            await #expect(throws: RedisChannelError.self) { try await delivery.ack() }
        }
    }

    @Test("an expired lease is handed back to the head of the list and redelivered, marked as such; the old holder's ack fails")
    func expiredLeaseIsRedelivered() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            try await sender.send(contentsOf: [LeaseJob(id: 1), LeaseJob(id: 2)])
            let first = try #require(try await worker.receiveLeased(as: LeaseJob.self, lease: .milliseconds(100)))
            try await Task.sleep(for: .milliseconds(250))
            // The next receive hands the expired lease back first: job 1 comes before job 2.
            let again = try #require(try await worker.receiveLeased(as: LeaseJob.self))
            #expect(again.message == LeaseJob(id: 1))
            #expect(again.deliveryCount == 2 && again.isRedelivery)
            await #expect(throws: RedisChannelError.self) { try await first.ack() }
            try await again.ack()
            let second = try #require(try await worker.receiveLeased(as: LeaseJob.self))
            #expect(second.message == LeaseJob(id: 2) && second.deliveryCount == 1)
            try await second.ack()
            #expect(try await held(client) == 0)
        }
    }

    @Test("release hands the message back at once, to the head, with its count")
    func releaseHandsBack() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            try await sender.send(contentsOf: [LeaseJob(id: 1), LeaseJob(id: 2)])
            let first = try #require(try await worker.receiveLeased(as: LeaseJob.self))
            try await first.release()
            let again = try #require(try await worker.receiveLeased(as: LeaseJob.self))
            #expect(again.message == LeaseJob(id: 1) && again.deliveryCount == 2)
            // A plain receive (a Python peer's) sees the handed-back message as it was sent.
            try await again.release()
            let plain: LeaseJob? = try await worker.recv()
            #expect(plain == LeaseJob(id: 1))
        }
    }

    @Test("extend keeps a long job from redelivery")
    func extendKeepsTheLease() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            try await sender.send(LeaseJob(id: 7))
            // A lease of three seconds, so that the extension reaches the server before it
            // ends even on a loaded machine (one of 200 ms did not, once, in CI, and the
            // parallel run has stalled a task for over two seconds); the wait runs from
            // after the receive returned, so the first lease has surely ended by then.
            let delivery = try #require(try await worker.receiveLeased(as: LeaseJob.self, lease: .seconds(3)))
            let received = ContinuousClock.now
            try await delivery.extend(by: .seconds(30))
            try await Task.sleep(until: received + .milliseconds(3_500))
            #expect(try await worker.receiveLeased(as: LeaseJob.self) == nil, "an extended lease must not be handed back")
            try await delivery.ack()
        }
    }

    @Test("a blocking leased receive wakes on a push, and the message it waited for stays in Redis until leased")
    func blockingReceiveWakesOnPush() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            async let delivery = worker.receiveLeased(as: LeaseJob.self, timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(100))
            try await sender.send(LeaseJob(id: 3))
            let received = try #require(try await delivery)
            #expect(received.message == LeaseJob(id: 3))
            #expect(try await client.send("LLEN", keys.pending).asInt() == 0)
            try await received.ack()
            // Timing out returns nil.
            #expect(try await worker.receiveLeased(as: LeaseJob.self, timeout: .milliseconds(100)) == nil)
        }
    }

    @Test("a consumer blocked waiting hands back a lease another consumer abandoned, once it ends")
    func waitingConsumerReclaims() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            try await sender.send(LeaseJob(id: 9))
            // Leased and abandoned (a worker that died): no ack, no release.
            _ = try #require(try await worker.receiveLeased(as: LeaseJob.self, lease: .milliseconds(500)))
            let start = ContinuousClock.now
            let again = try #require(try await worker.receiveLeased(as: LeaseJob.self, timeout: .seconds(30), lease: .seconds(60)))
            #expect(again.message == LeaseJob(id: 9) && again.isRedelivery)
            // It waited for the abandoned lease's end (0.5 s), not for its own 60 s lease
            // nor its 30 s timeout; the bound leaves slack for the parallel suites' load,
            // which once stretched the 0.5 s to 5.2 s.
            #expect(ContinuousClock.now - start < .seconds(15))
            try await again.ack()
        }
    }

    @Test("an undecodable message goes to the dead letters with its bytes, and can be re-queued")
    func undecodableIsDeadLettered() async throws {
        try await withRedis { _, client in
            let (_, worker) = channelPair(client)
            let bad: [UInt8] = Array("not json {".utf8)
            let invalidUTF8: [UInt8] = [0x22, 0xFF, 0x22]
            try await client.send("RPUSH", "/test/jobs/client", bad, invalidUTF8)
            for raw in [bad, invalidUTF8] {
                await #expect {
                    _ = try await worker.receiveLeased(as: LeaseJob.self)
                } throws: { error in
                    (error as? RedisChannelError)?.rawMessage == raw
                }
            }
            let letters = try await worker.deadLetters()
            #expect(letters.map(\.raw) == [bad, invalidUTF8])
            #expect(letters.allSatisfy { $0.reason.contains("undecodable") && $0.deliveries == 1 })
            #expect(try await held(client) == 0)
            #expect(try await worker.requeueDeadLetters(letters) == 2)
            #expect(try await worker.requeueDeadLetters(letters) == 0, "a letter is re-queued once")
            #expect(try await rawList(client, "/test/jobs/client") == [bad, invalidUTF8])
            #expect(try await worker.deadLetters().isEmpty)
        }
    }

    @Test("the state keys are not channels for listChannels, and expire with the channel's timeout (never under a lease)")
    func keysAreHiddenAndExpire() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client, timeout: .seconds(60))
            // Two messages: the list, and so the channel, still exists after one is leased.
            try await sender.send(contentsOf: [LeaseJob(id: 1), LeaseJob(id: 2)])
            let leasing = ContinuousClock.now
            let delivery = try #require(try await worker.receiveLeased(as: LeaseJob.self, lease: .seconds(45)))
            #expect(try await worker.listChannels(prefix: "/test/") == ["/test/jobs"])
            let inflightTTL = try await client.send("PTTL", keys.inflight).asInt()
            let leasesTTL = try await client.send("PTTL", keys.leases).asInt()
            // max(timeout, 2 × lease) = 90 s, set by the lease script, which ran after
            // `leasing`: at least 90 s less the time since then, however slow the run.
            let since = Int((ContinuousClock.now - leasing) / .milliseconds(1)) + 1
            #expect(inflightTTL >= 90_000 - since && inflightTTL <= 90_000, "PTTL \(inflightTTL) ms, \(since) ms after the lease")
            #expect(leasesTTL >= 90_000 - since && leasesTTL <= 90_000, "PTTL \(leasesTTL) ms, \(since) ms after the lease")
            try await delivery.ack()
        }
    }

    @Test("bad arguments fail before anything is sent")
    func badArguments() async throws {
        try await withRedis { _, client in
            let (_, worker) = channelPair(client)
            await #expect(throws: RedisChannelError.self) { try await worker.receiveLeased(as: LeaseJob.self, lease: .zero) }
            await #expect(throws: RedisChannelError.self) { try await worker.receiveLeased(as: LeaseJob.self, timeout: .seconds(-1)) }
        }
    }
}
