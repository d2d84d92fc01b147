import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Testing
import TestSupport

/// The number of subscribers the server counts for `channel`.
private func subscribers(_ channel: String, _ client: RedisClient) async throws -> Int {
    try await client.send("PUBSUB", "NUMSUB", channel).array?.last?.int ?? -1
}

@Suite("subscribe: publish/subscribe on a connection of its own", .timeLimit(.minutes(4)))
struct SubscriptionTests {
    @Test("channels, patterns and shard channels: every message after subscribe returns, in order, bytes intact")
    func messages() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let subscription = try await client.subscribe(channels: ["news", "sport"], patterns: ["alert.*"])
                let payload: [UInt8] = [0, 13, 10, 255, 36, 42]
                #expect(try await client.send("PUBLISH", "news", "first").int == 1)
                #expect(try await client.send("PUBLISH", "alert.fire", payload).int == 1)
                #expect(try await client.send("PUBLISH", "elsewhere", "unseen").int == 0)
                #expect(try await client.send("PUBLISH", "sport", "last").int == 1)
                let sharded = try await client.subscribe(shardChannels: ["orders"])
                #expect(try await client.send("SPUBLISH", "orders", "o-1").int == 1)
                var shardIterator = sharded.makeAsyncIterator()
                #expect(try await shardIterator.next() == .message(RedisPubSubMessage(channel: "orders", pattern: nil, payload: Array("o-1".utf8))))
                var iterator = subscription.makeAsyncIterator()
                #expect(try await iterator.next() == .message(RedisPubSubMessage(channel: "news", pattern: nil, payload: Array("first".utf8))))
                #expect(try await iterator.next() == .message(RedisPubSubMessage(channel: "alert.fire", pattern: "alert.*", payload: payload)))
                let last = try await iterator.next()?.message
                #expect(last?.channel == "sport")
                #expect(last?.string == "last")
                subscription.close()
                #expect(try await iterator.next() == nil)
            }
        }
    }

    @Test("20,000 messages from 4 publishers arrive complete and in each publisher's order")
    func manyMessages() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let subscription = try await client.subscribe(channels: ["bulk"])
                let publishers = 4, each = 5_000
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for publisher in 0..<publishers {
                        group.addTask {
                            for index in 0..<each { try await client.send("PUBLISH", "bulk", "\(publisher):\(index)") }
                        }
                    }
                    try await group.waitForAll()
                }
                var next = [Int](repeating: 0, count: publishers)
                var received = 0
                for try await message in subscription.messages {
                    let parts = message.string.split(separator: ":").compactMap { Int($0) }
                    #expect(parts.count == 2 && parts[1] == next[parts[0]], "\(message.string)")
                    next[parts[0]] = parts[1] + 1
                    received += 1
                    if received == publishers * each { break }
                }
                #expect(next == [Int](repeating: each, count: publishers))
            }
        }
    }

    @Test("close(), leaving the loop, or dropping the subscription unsubscribes (the server counts no subscriber)")
    func unsubscribing() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let closed = try await client.subscribe(channels: ["a"])
                #expect(try await subscribers("a", client) == 1)
                closed.close()
                #expect(try await waitUntil { try await subscribers("a", client) == 0 })

                let publisher = Task {
                    #expect(try await waitUntil { try await subscribers("b", client) == 1 })
                    try await client.send("PUBLISH", "b", "x")
                }
                for try await _ in try await client.subscribe(channels: ["b"]) { break }
                try await publisher.value
                #expect(try await waitUntil { try await subscribers("b", client) == 0 })

                _ = try await client.subscribe(channels: ["c"])
                #expect(try await waitUntil { try await subscribers("c", client) == 0 })
            }
        }
    }

    @Test("the client's close ends a subscription with .closed; a lost connection, with onConnectionLoss: .end, with .subscriptionEnded")
    func endings() async throws {
        try await withServer { server async throws in
            let client = try RedisClient(.tcp(host: server.host, port: server.port))
            let killed = try await client.subscribe(channels: ["k"], onConnectionLoss: .end)
            try await client.send("CLIENT", "KILL", "TYPE", "pubsub")
            await #expect {
                for try await _ in killed {}
            } throws: { error in
                guard case RedisError.subscriptionEnded(let reason) = error else { return false }
                return reason.contains("lost")
            }
            let open = try await client.subscribe(channels: ["o"])
            await client.close()
            await #expect(throws: RedisError.closed) { for try await _ in open {} }
            await #expect(throws: RedisError.closed) { try await client.subscribe(channels: ["x"]) }
        }
    }

    @Test("a reader that falls maxBufferedMessages behind gets what was buffered, then an error, never a silent gap; nothing resubscribes")
    func fallingBehind() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let subscription = try await client.subscribe(channels: ["fast"], maxBufferedMessages: 10)
                for index in 0..<50 { try await client.send("PUBLISH", "fast", index) }
                // Nothing is read until the overflow has closed the subscriber's connection.
                #expect(try await waitUntil { try await subscribers("fast", client) == 0 })
                // Not a connection problem: the subscription ended rather than resubscribe.
                #expect(await subscription.session.phase == .ended)
                var received: [String] = []
                await #expect {
                    for try await message in subscription.messages { received.append(message.string) }
                } throws: { error in
                    guard case RedisError.subscriptionEnded(let reason) = error else { return false }
                    return reason.contains("behind")
                }
                #expect(received == (0..<10).map(String.init))
            }
        }
    }

    @Test("a server that stops answering ends an onConnectionLoss: .end subscription through the liveness PING")
    func silentServer() async throws {
        try await withServer { server async throws in
            // A second: at 200 ms, a SUBSCRIBE answered late on a loaded machine would end the
            // connection before the test's pause does.
            try await withClient(server, configuration: .init(livenessTimeout: .seconds(1))) { client async throws in
                let subscription = try await client.subscribe(channels: ["quiet"], onConnectionLoss: .end)
                try server.pause()
                defer { try? server.resume() }
                await #expect {
                    for try await _ in subscription {}
                } throws: { error in
                    guard case RedisError.subscriptionEnded(let reason) = error else { return false }
                    return reason.contains("PING")
                }
            }
        }
    }

    @Test("refusals: an ACL without the channel, no channel at all, RESP2")
    func refusals() async throws {
        try await withServer { server async throws in
            try await withClient(server) { admin async throws in
                try await admin.send("ACL", "SETUSER", "reader", "on", ">pw", "~*", "&allowed*", "+@all")
                let url = "redis://reader:pw@\(server.host):\(server.port)"
                try await withClient(try RedisEndpoint(url: url)) { reader async throws in
                    await #expect {
                        try await reader.subscribe(channels: ["secret"])
                    } throws: { error in
                        guard case RedisError.server(let message) = error else { return false }
                        return message.hasPrefix("NOPERM")
                    }
                    let allowed = try await reader.subscribe(channels: ["allowed.1"])
                    try await admin.send("PUBLISH", "allowed.1", "hi")
                    var iterator = allowed.makeAsyncIterator()
                    #expect(try await iterator.next()?.message?.string == "hi")
                }
                await #expect(throws: RedisError.self) { try await admin.subscribe() }
            }
            try await withClient(server, configuration: .init(protocolVersion: .resp2)) { client async throws in
                await #expect {
                    try await client.subscribe(channels: ["x"])
                } throws: { error in
                    guard case RedisError.unsupportedCommand("SUBSCRIBE", _) = error else { return false }
                    return true
                }
            }
        }
    }
}
