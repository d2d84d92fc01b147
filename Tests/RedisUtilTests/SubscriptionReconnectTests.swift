import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Testing
import TestSupport

/// How a test takes a subscription's connection away.
enum SubscriptionDisruption: String, CaseIterable, Sendable, CustomTestStringConvertible {
    /// `LocalRedisServer.restart(downtime:holdingDownWhile:)`: the server is gone for a while, then empty.
    case restart
    /// `CLIENT KILL ID` of the subscribed connection, found in `CLIENT LIST`.
    case kill

    var testDescription: String { rawValue }

    func apply(to server: LocalRedisServer, probe: ServerProbe) async throws {
        switch self {
        case .restart:
            try await onOwnThread { () throws(LocalRedisError) in try server.restart(downtime: .milliseconds(300)) }
        case .kill:
            let subscribed = try await SubscriptionProbe.subscribedConnectionIDs(probe)
            try #require(subscribed.count == 1, "one subscribed connection, found \(subscribed)")
            #expect(try await probe.client.send("CLIENT", "KILL", "ID", subscribed[0]).int == 1)
        }
    }
}

/// What the server says of the subscriptions in these tests.
enum SubscriptionProbe {
    static let channel = "news", pattern = "alert.*", shardChannel = "orders"

    /// `CLIENT LIST` ids of the connections subscribed to any channel, pattern or shard channel.
    static func subscribedConnectionIDs(_ probe: ServerProbe) async throws -> [String] {
        try await probe.clientList()
            .filter { fields in ["sub", "psub", "ssub"].contains { (Int(fields[$0] ?? "") ?? 0) > 0 } }
            .compactMap { $0["id"] }
    }

    /// Whether the channel, the pattern and the shard channel each have exactly one subscriber
    /// (`false` while the server restarts).
    static func allSubscribed(_ probe: ServerProbe) async -> Bool {
        do {
            let channels = try await probe.client.send("PUBSUB", "NUMSUB", channel).array?.last?.int
            let patterns = try await probe.client.send("PUBSUB", "NUMPAT").int
            let shards = try await probe.client.send("PUBSUB", "SHARDNUMSUB", shardChannel).array?.last?.int
            return channels == 1 && patterns == 1 && shards == 1
        } catch {
            return false
        }
    }

    /// A server, a probe on it, and a subscription to the channel, the pattern and the
    /// shard channel from a client of its own, all closed after `body`.
    static func withSubscriptionToAll(
        onConnectionLoss policy: RedisSubscription.ConnectionLossPolicy,
        _ body: (LocalRedisServer, ServerProbe, RedisSubscription) async throws -> Void
    ) async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                try await withClient(server) { client async throws in
                    let subscription = try await client.subscribe(
                        channels: [channel], patterns: [pattern], shardChannels: [shardChannel], onConnectionLoss: policy
                    )
                    try await body(server, probe, subscription)
                }
            }
        }
    }

    /// Publishes one message to each, and returns the messages the subscription should see.
    static func publishToAll(_ probe: ServerProbe, _ text: String) async throws -> [RedisSubscription.Event] {
        #expect(try await probe.client.send("PUBLISH", channel, text).int == 1)
        #expect(try await probe.client.send("PUBLISH", "alert.fire", text).int == 1)
        #expect(try await probe.client.send("SPUBLISH", shardChannel, text).int == 1)
        return [
            .message(RedisPubSubMessage(channel: channel, pattern: nil, payload: Array(text.utf8))),
            .message(RedisPubSubMessage(channel: "alert.fire", pattern: pattern, payload: Array(text.utf8))),
            .message(RedisPubSubMessage(channel: shardChannel, pattern: nil, payload: Array(text.utf8))),
        ]
    }
}

@Suite("subscribe: a subscription survives reconnects", .timeLimit(.minutes(4)))
struct SubscriptionReconnectTests {
    /// A backoff long enough that a test acts while the subscription waits in it.
    static let longBackoff = RedisConfiguration(backoff: .init(initial: .seconds(60), maximum: .seconds(60), jitter: 0))

    @Test("after a restart or a killed connection: a gap, then messages on every channel, pattern and shard channel", arguments: SubscriptionDisruption.allCases)
    func resubscribes(disruption: SubscriptionDisruption) async throws {
        try await SubscriptionProbe.withSubscriptionToAll(onConnectionLoss: .resubscribe) { server, probe, subscription async throws in
            var events = subscription.makeAsyncIterator()
            for expected in try await SubscriptionProbe.publishToAll(probe, "before") { #expect(try await events.next() == expected) }
            let before = try await SubscriptionProbe.subscribedConnectionIDs(probe)

            try await disruption.apply(to: server, probe: probe)
            #expect(try await waitUntil { await SubscriptionProbe.allSubscribed(probe) })
            if disruption == .kill {
                // (A restarted server numbers its connections from the start again.)
                #expect(try await SubscriptionProbe.subscribedConnectionIDs(probe) != before, "a new connection")
            }
            let after = try await SubscriptionProbe.publishToAll(probe, "after")

            guard case .gap(let gap) = try await events.next() else {
                Issue.record("no gap before the messages published after the resubscription")
                return
            }
            #expect(gap.reason.contains("lost"), "\(gap)")
            #expect(gap.attempts >= 1)
            for expected in after { #expect(try await events.next() == expected) }
            #expect(await subscription.session.phase == .live)
            subscription.close()
            #expect(try await events.next() == nil)
            #expect(try await waitUntil { try await probe.connectedClients() == 0 }, "every connection it opened is closed")
        }
    }

    @Test("a server that stops answering the liveness PING: resubscribed once it answers again, with the PING named in the gap")
    func silentServer() async throws {
        try await withServer { server async throws in
            // The subscribe request's own bound is the command timeout, else the liveness
            // timeout: 5 s, so that a loaded machine (the parallel suites) does not fail
            // the first request within the 200 ms that the liveness PING is given.
            let configuration = RedisConfiguration(connectTimeout: .seconds(1), commandTimeout: .seconds(5), livenessTimeout: .milliseconds(200))
            try await withClient(server, configuration: configuration) { client async throws in
                let subscription = try await client.subscribe(channels: ["quiet"])
                try server.pause()
                let noticed = try await waitUntil { await subscription.session.phase != .live }
                try server.resume()
                #expect(noticed, "the PING found the server silent")
                var events = subscription.makeAsyncIterator()
                guard case .gap(let gap) = try await events.next() else {
                    Issue.record("no gap after the server answered again")
                    return
                }
                #expect(gap.reason.contains("PING"), "\(gap)")
                // Live again: a message published now arrives. Published again after any
                // further gap: with a 200 ms liveness timeout, a loaded machine can make the
                // resubscribed connection's PING late too, which loses what it carried.
                var heard = false
                let guardEnd = ContinuousClock.now + .seconds(30)
                while !heard, ContinuousClock.now < guardEnd {
                    guard (try? await client.send("PUBLISH", "quiet", "back").int) == 1 else {
                        try await Task.sleep(for: .milliseconds(20))
                        continue
                    }
                    guard let event = try await events.next() else { break }
                    if case .gap = event { continue }
                    heard = true
                    #expect(event.message?.string == "back", "\(event)")
                }
                #expect(heard, "no message arrived after the resubscription")
            }
        }
    }

    @Test("with onConnectionLoss: .end, a restart or a killed connection ends the subscription with subscriptionEnded, and nothing reconnects", arguments: SubscriptionDisruption.allCases)
    func endsOnLoss(disruption: SubscriptionDisruption) async throws {
        try await SubscriptionProbe.withSubscriptionToAll(onConnectionLoss: .end) { server, probe, subscription async throws in
            try await disruption.apply(to: server, probe: probe)
            await #expect {
                for try await event in subscription { Issue.record("unexpected \(event)") }
            } throws: { error in
                guard case RedisError.subscriptionEnded(let reason) = error else { return false }
                return reason.contains("lost")
            }
            #expect(await subscription.session.phase == .ended)
            #expect(try await waitUntil { try await probe.connectedClients() == 0 })
        }
    }

    @Test("subscription.messages, which has no room for a gap, ends at one with subscriptionEnded and unsubscribes")
    func messagesEndAtAGap() async throws {
        try await SubscriptionProbe.withSubscriptionToAll(onConnectionLoss: .resubscribe) { server, probe, subscription async throws in
            try await SubscriptionDisruption.kill.apply(to: server, probe: probe)
            await #expect {
                for try await message in subscription.messages { Issue.record("unexpected \(message)") }
            } throws: { error in
                guard case RedisError.subscriptionEnded(let reason) = error else { return false }
                return reason.contains("may have been missed") && reason.contains("lost")
            }
            #expect(await subscription.session.phase == .ended)
            #expect(try await waitUntil { try await probe.connectedClients() == 0 })
        }
    }

    @Test("close() during the reconnect backoff ends the subscription at once, stops the backoff and leaks nothing")
    func closeDuringBackoff() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                try await withClient(server, configuration: Self.longBackoff) { client async throws in
                    var subscription: RedisSubscription? = try await client.subscribe(channels: ["c"])
                    weak let session = subscription?.session
                    try await SubscriptionDisruption.kill.apply(to: server, probe: probe)
                    #expect(try await waitUntil { await session?.phase == .waiting(attempt: 0) })

                    let closing = ContinuousClock.now
                    subscription?.close()
                    var events = subscription?.makeAsyncIterator()
                    #expect(try await events?.next() == nil)
                    #expect(ContinuousClock.now - closing < .seconds(10), "not after the 60 s backoff")
                    #expect(await session?.phase == .ended)
                    events = nil
                    subscription = nil
                    #expect(try await waitUntil { session == nil }, "the session, its timer and its connections are released")
                    #expect(try await waitUntil { try await probe.connectedClients() == 0 })
                }
            }
        }
    }

    @Test("the client's close during the reconnect backoff ends the subscription with .closed at once")
    func clientCloseDuringBackoff() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: Self.longBackoff)
                let subscription = try await client.subscribe(channels: ["c"])
                try await SubscriptionDisruption.kill.apply(to: server, probe: probe)
                #expect(try await waitUntil { await subscription.session.phase == .waiting(attempt: 0) })
                let closing = ContinuousClock.now
                await client.close()
                await #expect(throws: RedisError.closed) { for try await _ in subscription {} }
                #expect(ContinuousClock.now - closing < .seconds(10), "not after the 60 s backoff")
            }
        }
    }
}
