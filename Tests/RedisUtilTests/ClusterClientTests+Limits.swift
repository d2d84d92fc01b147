import LocalRedis
@testable import RedisUtil
import RESP
import Testing
import TestSupport

/// A client with `configuration` on a cluster of three primaries, a key of one primary's
/// (`held`) and a key of another's (`free`), the first primary holding every write
/// (`CLIENT PAUSE … WRITE`) when `body` starts; `release` lets it go. The cluster stops
/// after `body`.
private func withAHeldPrimary(
    _ configuration: RedisConfiguration,
    _ body: (_ client: RedisClient, _ held: String, _ free: String, _ release: @escaping () async throws -> Void) async throws -> Void
) async throws {
    let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
    defer { cluster.stop() }
    let held = "{held}:list"
    let heldNode = try await blocking { try cluster.owner(ofKey: held) }
    let free = try await blocking {
        try #require(try (0..<100).map { "{free\($0)}:list" }.first { try cluster.owner(ofKey: $0).id != heldNode.id })
    }
    try await withClient(clusterEndpoint(cluster), configuration: configuration) { client in
        #expect(try await client.send("PING").string == "PONG")
        try await blocking { _ = try cluster.command(["CLIENT", "PAUSE", "60000", "WRITE"], on: heldNode) }
        try await body(client, held, free) { try await blocking { _ = try cluster.command(["CLIENT", "UNPAUSE"], on: heldNode) } }
    }
}

extension ClusterClientTests {
    /// `maxPendingCommands` on a cluster: each node's connections have their own limit.
    /// With one primary holding every write (`CLIENT PAUSE … WRITE`), awaited commands for
    /// it wait for room and callbacks past the limit fail fast with `.overloaded`, while
    /// another primary's commands are answered meanwhile, on both facades; once the
    /// primary lets go, every waiting command is sent and answered, each exactly once.
    @Test func backpressureHoldsOnlyTheCallersOfTheNodeThatIsFull() async throws {
        try await withAHeldPrimary(.init(connections: 1, maxPendingCommands: 8)) { client, held, free, release in
            let released = Locked(false)
            let awaited = (0..<100).map { index in
                Task { () -> Result<RESPValue, RedisError> in
                    do { return .success(try await client.send("RPUSH", held, "awaited \(index)")) } catch let error as RedisError { return .failure(error) }
                    catch { return .failure(.invalidArgument("\(error)")) }
                }
            }
            // (outcome, whether the primary had been released when it came)
            let callbacks = Locked<[(Result<RESPValue, RedisError>, Bool)]>([])
            for index in 0..<40 {
                client.send("RPUSH", held, "callback \(index)") { result in
                    let late = released.withLock { $0 }
                    callbacks.withLock { $0.append((result, late)) }
                }
            }
            // The other primary answers, whatever waits for the held one.
            #expect(try await client.send("RPUSH", free, "a").int == 1)
            let freeByCallback = try await withCheckedThrowingContinuation { continuation in
                client.send("RPUSH", free, "b") { continuation.resume(with: $0) }
            }
            #expect(freeByCallback.int == 2)
            // A refusal's completion runs on a reactor after the refusal was decided (one
            // hop; a second pass for margin): two passes through every reactor's queue run
            // those already decided, so that the counts below see them and `late` tells a
            // refusal decided after the release, not one a busy reactor delivered after it.
            for _ in 0..<2 {
                for reactor in client.reactors {
                    await withCheckedContinuation { (passed: CheckedContinuation<Void, Never>) in reactor.execute { passed.resume() } }
                }
            }
            let overloadedEarly = callbacks.withLock { $0.filter { if case .failure(.overloaded) = $0.0 { !$0.1 } else { false } }.count }
            #expect(overloadedEarly > 0, "no callback was refused while the primary held every write: \(callbacks.withLock { $0.map(\.0) })")
            #expect(callbacks.withLock { $0.allSatisfy { if case .success = $0.0 { false } else { true } } }, "a write answered while held")

            released.withLock { $0 = true }
            try await release()
            var pushed = 0
            for task in awaited {
                let result = await task.value
                #expect(result.map(\.int).failureValue == nil, "\(result)")
                pushed += 1
            }
            #expect(try await waitUntil { callbacks.withLock { $0.count } == 40 })
            let outcomes = callbacks.withLock { $0 }
            let refused = outcomes.filter { if case .failure(.overloaded) = $0.0 { true } else { false } }
            let answered = outcomes.filter { if case .success = $0.0 { true } else { false } }
            print("backpressure on one primary: of 40 callbacks \(refused.count) refused, \(answered.count) answered once released")
            #expect(refused.count + answered.count == 40, "\(outcomes.map(\.0))")
            #expect(refused.allSatisfy { !$0.1 }, "a callback refused after the primary let go")
            let list = try await client.lrange(held, 0, -1)
            #expect(list.count == pushed + answered.count)
            #expect(Set(list).count == list.count, "a command sent twice")
            #expect((0..<100).allSatisfy { list.contains("awaited \($0)") })
        }
    }

    /// `commandTimeout` on a cluster: a write that its primary holds past the timeout
    /// fails with `.timeout` on both facades and is not sent again (it was written, so its
    /// outcome is unknown: the primary runs it once it lets go), while another primary's
    /// commands are answered meanwhile.
    @Test func aCommandHeldPastItsTimeoutFailsOnceAndIsNotResent() async throws {
        try await withAHeldPrimary(.init(commandTimeout: .milliseconds(300))) { client, held, free, release in
            await #expect(throws: RedisError.timeout(command: "RPUSH", after: .milliseconds(300))) {
                try await client.send("RPUSH", held, "awaited")
            }
            let byCallback = await withCheckedContinuation { continuation in
                client.send("RPUSH", held, "callback") { continuation.resume(returning: $0) }
            }
            #expect(byCallback.failureValue == .timeout(command: "RPUSH", after: .milliseconds(300)), "\(byCallback)")
            #expect(try await client.send("RPUSH", free, "meanwhile").int == 1)
            try await release()
            // The primary ran each held write once when it let go; the client sent neither again.
            var list: [String] = []
            _ = try await waitUntil(limit: .seconds(2)) {
                list = try await client.lrange(held, 0, -1)
                return list.count >= 2
            }
            #expect(list == ["awaited", "callback"])
            #expect(try await client.send("RPUSH", held, "after").int == 3)
        }
    }
}
