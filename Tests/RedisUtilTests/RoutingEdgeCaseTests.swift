import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Synchronization
import Testing
import TestSupport

private func encodedCommand(_ arguments: [any RESPArgument]) -> [UInt8] {
    var bytes: [UInt8] = []
    RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
    return bytes
}

private final class WeakClient: @unchecked Sendable {
    // @unchecked: written once before it is read, from one task.
    weak var client: RedisClient?
}

/// A subscription whose client is released as soon as this returns (never closed).
private func subscriptionOfReleasedClient(_ server: LocalRedisServer, _ box: WeakClient, channel: String) async throws -> RedisSubscription {
    let client = try RedisClient(.tcp(host: server.host, port: server.port))
    box.client = client
    return try await client.subscribe(channels: [channel])
}

@Suite("Edge cases of routing, dedicated connections and subscriptions", .timeLimit(.minutes(4)))
struct RoutingEdgeCaseTests {
    // MARK: CommandRoute

    @Test("XREAD/XREADGROUP whose stream key or consumer is named \"block\" is not refused in a pipeline")
    func xreadOfAStreamNamedBlock() async throws {
        // Not blocking at all (no BLOCK option), yet "block" is taken for the option.
        #expect(CommandRoute.refusal(batch: encodedCommand(["XREAD", "COUNT", 1, "STREAMS", "block", "0"])) == nil)
        #expect(CommandRoute.refusal(batch: encodedCommand(["XREADGROUP", "GROUP", "g", "block", "COUNT", 1, "STREAMS", "s", ">"])) == nil)
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                try await client.send("XADD", "block", "1-1", "f", "v")
                let replies = try await client.pipeline { $0.send("XREAD", "COUNT", 1, "STREAMS", "block", "0") }
                #expect(replies.count == 1)
            }
        }
    }

    @Test("a command the router cannot parse (no arguments) is not sent: it would take the next caller's reply")
    func emptyCommandIsNotSent() async throws {
        // The router used to fail open: `*0\r\n` was routed .shared, and a batch stopped being
        // checked at it, so a SUBSCRIBE after it went out on the shared connection.
        let empty = Array("*0\r\n".utf8)
        if case .shared = CommandRoute.of(empty) { Issue.record("an empty command is routed to a shared connection") }
        #expect(CommandRoute.refusal(batch: empty + encodedCommand(["SUBSCRIBE", "c"])) != nil)
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(commandTimeout: .seconds(2), connections: 1)) { client async throws in
                // Redis ignores `*0\r\n` without a reply, so its handler takes ECHO's.
                let stolen = Locked<Result<[Result<RESPValue, RedisError>], RedisError>?>(nil)
                client.send(arguments: [] as [any RESPArgument]) { _ in }   // guarded: fails at once
                var pipeline = RedisPipeline()
                pipeline.send()
                client.pipeline(pipeline) { result in stolen.withLock { $0 = result } }
                let mine = try? await client.send("ECHO", "mine")
                #expect(mine?.string == "mine", "ECHO's reply went to the empty command: \(String(describing: stolen.withLock { $0 }))")
            }
        }
    }

    // MARK: subscribe

    @Test("a subscription keeps its client, and so the reactors its connection runs on, alive; dropping it lets both go")
    func subscriptionOutlivesItsClient() async throws {
        try await withServer { server async throws in
            try await withClient(server) { publisher async throws in
                let box = WeakClient()
                // Before the fix the caller's last reference to the client was the only
                // one: its deinit stopped the reactors and the subscription went silent.
                func receiveOne() async throws -> String? {
                    let subscription = try await subscriptionOfReleasedClient(server, box, channel: "orphan")
                    try await Task.sleep(for: .milliseconds(100))
                    #expect(box.client != nil, "the subscription does not hold its client")
                    #expect(try await publisher.send("PUBLISH", "orphan", "hello").int == 1)
                    var iterator = subscription.makeAsyncIterator()
                    return try await iterator.next()?.message?.string
                }
                #expect(try await receiveOne() == "hello")
                // The subscription is gone: it released the client, which closed nothing
                // more than its own connections.
                for _ in 0..<500 where box.client != nil { try await Task.sleep(for: .milliseconds(10)) }
                #expect(box.client == nil)
                for _ in 0..<500 where try await publisher.send("PUBSUB", "NUMSUB", "orphan").array?.last?.int != 0 {
                    try await Task.sleep(for: .milliseconds(10))
                }
                #expect(try await publisher.send("PUBSUB", "NUMSUB", "orphan").array?.last?.int == 0)
            }
        }
    }

    @Test("subscribe() fails, rather than hanging forever, when the server goes silent after the handshake")
    func subscribeToASilentServer() async throws {
        // Answers HELLO, then nothing at all (as a server stopped after accepting us).
        let fake = try FakeServer(scripts: [["+OK\r\n", ""]])
        defer { fake.stop() }
        let configuration = RedisConfiguration(livenessTimeout: .milliseconds(200), connections: 1)
        try await withClient(.tcp(host: "127.0.0.1", port: fake.port), configuration: configuration) { client async throws in
            // Before the fix this waited forever (the suite's time limit ends it).
            await #expect(throws: RedisError.self) { try await client.subscribe(channels: ["c"]) }
        }
    }

    // MARK: Malformed input and cancellation

    @Test("malformed and truncated bytes never crash the router")
    func malformedBytes() {
        let good = encodedCommand(["CLIENT", "REPLY", "OFF"]) + encodedCommand(["MULTI"]) + encodedCommand(["BLPOP", "k", 10])
        var generator = SeededGenerator(seed: 0x5EED)
        var inputs: [[UInt8]] = (0...good.count).map { Array(good.prefix($0)) }
        inputs += ["*", "*1", "*1\r", "*1\r\n", "*1\r\n$", "*1\r\n$9", "*1\r\n$9\r\n", "*1\r\n$99999999999999999999\r\nX",
                   "*9999999999999999\r\n$1\r\nA\r\n", "*-1\r\n", "*1\r\n$-1\r\n", "*1\r\n$4\r\nSYN", "*2\r\n$6\r\nCLIENT\r\n",
                   "*1\r\n$0\r\n\r\n", "*12\r\n$9\r\nSUBSCRIBE\r\n"].map { Array($0.utf8) }
        for _ in 0..<20_000 {
            var bytes = good
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                bytes[Int.random(in: 0..<bytes.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            }
            inputs.append(Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &generator))))
        }
        for input in inputs {
            _ = CommandRoute.of(input)
            _ = CommandRoute.of(input, in: .dedicated)
            _ = CommandRoute.refusal(batch: input)
            _ = CommandRoute.refusal(batch: input, in: .dedicated)
            _ = CommandRoute.refusal(batch: input, in: .transaction)
            _ = CommandRoute.opensTransactionState(input)
        }
        // Multi-digit counts and lengths take the slow path and are still recognised.
        let many: [any RESPArgument] = ["SUBSCRIBE"] + (0..<12).map { "channel\($0)" }
        if case .refused = CommandRoute.of(encodedCommand(many)) {} else { Issue.record("SUBSCRIBE of 12 channels not refused") }
        let long = encodedCommand(["psubscribe", String(repeating: "p", count: 300)])
        if case .refused = CommandRoute.of(long) {} else { Issue.record("PSUBSCRIBE not refused") }
    }

    @Test("a scope cancelled after WATCH closes the connection instead of handing it back, and frees its pool slot")
    func cancelledScopeAfterWatch() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(maxBlockingConnections: 1)) { client async throws in
                try await withClient(server) { other async throws in
                    let firstID = Locked<Int?>(nil)
                    let watched = Task {
                        try await client.withDedicatedConnection { connection in
                            let id = try await connection.send("CLIENT", "ID").int
                            firstID.withLock { $0 = id }
                            try await connection.send("WATCH", "k")
                            withUnsafeCurrentTask { $0?.cancel() }
                            try await connection.send("PING")
                        }
                    }
                    await #expect(throws: RedisError.cancelled) { try await watched.value }
                    let first = firstID.withLock { $0 }
                    try await other.send("SET", "k", "changed")
                    // The single slot is free again, and no WATCH survived into it.
                    let (id, count) = try await client.withDedicatedConnection { connection in
                        let id = try await connection.send("CLIENT", "ID").int
                        let replies = try await connection.transaction { $0.send("SET", "k", "mine") }
                        return (id, replies.count)
                    }
                    #expect(count == 1)
                    if let first { #expect(first != id) }
                }
            }
        }
    }
}
