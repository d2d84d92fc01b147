import TestSupport
import Foundation
import LocalRedis
import Reactor
@testable import RedisUtil
import Testing

/// Timers and loss callbacks reach their owners through links, not weak references (a
/// weak reference slows every retain of its object): what a weak reference promised, that
/// nothing lingering keeps a closed object alive, must hold through the links.
@Suite("Owner links: timers and callbacks release what they reach once it is done with")
struct OwnerLinkTests {
    final class Owner: Sendable {}

    @Test func aReleasedLinkLetsItsOwnerGo() {
        weak var reactorOwned: Owner?
        weak var sharedOwned: Owner?
        var links: (ReactorOwnerLink<Owner>, SharedOwnerLink<Owner>)
        do {
            let first = Owner(), second = Owner()
            reactorOwned = first
            sharedOwned = second
            let shared = SharedOwnerLink<Owner>()
            #expect(shared.owner == nil, "attached to nothing yet")
            shared.attach(second)
            links = (ReactorOwnerLink(first), shared)
        }
        // Held strongly while linked, as a body that still runs needs them.
        #expect(reactorOwned != nil && sharedOwned != nil)
        #expect(links.0.owner === reactorOwned && links.1.owner === sharedOwned)
        links.0.release()
        links.1.release()
        #expect(reactorOwned == nil && sharedOwned == nil)
        #expect(links.0.owner == nil && links.1.owner == nil)
    }

    @Test func aClosedClientsConnectionsAreFreedBeforeTheirTimersDeadlines() async throws {
        try await withServer { server async throws in
            // The caller's group, which runs on after the client: a client's own would
            // stop with it and free its timers' queue anyway.
            let group = try ReactorGroup(count: 1)
            defer { group.shutdown() }
            weak var connection: RedisConnection?
            do {
                // Every deadline (connecting, each command, liveness) a minute away: the
                // connection's timer is set to one of them.
                let configuration = RedisConfiguration(connectTimeout: .seconds(60), commandTimeout: .seconds(60),
                                                       livenessTimeout: .seconds(60), connections: 1)
                let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: configuration, group: group)
                for _ in 0..<10 { try await client.ping() }
                connection = client.connections.first
                #expect(connection != nil)
                await client.close()
            }
            // The cancelled timer sits in the reactor's queue for a minute; it must not
            // hold the connection (and its buffers) that long.
            #expect(try await waitUntil(limit: .seconds(10)) { connection == nil }, "the closed connection is still alive")
        }
    }
}
