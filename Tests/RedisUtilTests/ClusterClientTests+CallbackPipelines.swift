import LocalRedis
import Reactor
@testable import RedisUtil
import RESP
import TestSupport
import Testing

extension ClusterClientTests {
    /// Callback pipelines over every primary: each node gets its share in the caller's
    /// order, replies come back in the caller's order, each completion runs once on a
    /// reactor thread; a pipeline sent before the map is known waits for it, and keys in
    /// several slots within one transaction are refused without sending anything.
    @Test func callbackPipelinesSpreadOverEveryPrimary() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let keys = (0..<30).map { "spread:\($0)" }
        let owners = try await blocking { try Set(keys.map { try cluster.owner(ofKey: $0).id }) }
        #expect(owners.count == 3, "the keys should lie on every primary")
        // Before any map: the pipeline waits for one (in a task), then goes.
        var first = RedisPipeline()
        for key in keys { first.send("RPUSH", key, "0") }
        let started = try await pipelineWithCallback(client, first)
        #expect(started.replies.map { try? $0.get().int } == Array(repeating: 1, count: keys.count))
        // Then 20 chains of 10 pipelines each, all at once: every pipeline pushes the next
        // value to every key, so each list must end 0, 1, …, 10 per chain in order.
        let failures = Locked<[String]>([])
        let offReactor = Locked(0)
        await withTaskGroup(of: Void.self) { group in
            for chain in 0..<20 {
                group.addTask {
                    for step in 1...10 {
                        var pipeline = RedisPipeline()
                        for key in keys { pipeline.send("RPUSH", "\(key):\(chain)", "\(step)") }
                        do {
                            let outcome = try await pipelineWithCallback(client, pipeline)
                            if !outcome.onReactor { offReactor.withLock { $0 += 1 } }
                            let lengths = outcome.replies.map { try? $0.get().int }
                            if lengths != Array(repeating: step, count: keys.count) {
                                failures.withLock { $0.append("chain \(chain) step \(step): \(lengths)") }
                            }
                        } catch {
                            failures.withLock { $0.append("chain \(chain) step \(step): \(error)") }
                        }
                    }
                }
            }
        }
        #expect(failures.withLock { $0 }.isEmpty, "\(failures.withLock { $0.prefix(3) })")
        #expect(offReactor.withLock { $0 } == 0)
        for chain in [0, 7, 19] {
            for key in keys.prefix(5) {
                #expect(try await client.lrange("\(key):\(chain)", 0, -1) == (1...10).map(String.init), "\(key):\(chain)")
            }
        }
        // The first commands to one node, the rest to others (the first node's batch is
        // the start of the pipeline, and only that), with both facades.
        let firstOwner = try await blocking { try cluster.owner(ofKey: keys[0]).id }
        let ownerOf = try await blocking { try Dictionary(uniqueKeysWithValues: keys.map { ($0, try cluster.owner(ofKey: $0).id) }) }
        let onFirst = keys.filter { ownerOf[$0] == firstOwner }
        let elsewhere = keys.filter { ownerOf[$0] != firstOwner }
        try await blocking { try resetStats(cluster) }
        for callbacks in [true, false] {
            var split = RedisPipeline()
            for key in onFirst { split.send("RPUSH", "{\(key)}:split:\(callbacks)", "a") }
            for key in elsewhere { split.send("RPUSH", "{\(key)}:split:\(callbacks)", "b") }
            let replies = callbacks ? try await pipelineWithCallback(client, split).replies : try await client.pipeline(split)
            #expect(replies.map { try? $0.get().int } == Array(repeating: 1, count: keys.count), "callbacks: \(callbacks)")
            for key in onFirst + elsewhere {
                #expect(try await client.lrange("{\(key)}:split:\(callbacks)", 0, -1) == [onFirst.contains(key) ? "a" : "b"])
            }
        }
        // Each node got its own commands only: none was redirected.
        #expect(try await blocking { try statSum(cluster, section: "errorstats", line: "errorstat_MOVED", field: "count") } == 0)
        // A server error is one command's outcome, not the pipeline's: here on one slot,
        // where the pipeline goes out whole and is split only for its answer.
        for callbacks in [true, false] {
            var mixed = RedisPipeline()
            mixed.send("SET", "{w}s:\(callbacks)", "x")
            mixed.send("LPUSH", "{w}s:\(callbacks)", "y")
            mixed.send("GET", "{w}s:\(callbacks)")
            let replies = callbacks ? try await pipelineWithCallback(client, mixed).replies : try await client.pipeline(mixed)
            #expect(try replies[0].get().isOK)
            if case .failure(.server(let message)) = replies[1] { #expect(message.hasPrefix("WRONGTYPE")) } else { Issue.record("\(replies[1])") }
            #expect(try replies[2].get().string == "x")
        }
        // A transaction over two slots is refused before anything is sent.
        var crossing = RedisPipeline()
        crossing.send("MULTI")
        crossing.send("SET", "a", "1")
        crossing.send("SET", "b", "2")
        crossing.send("EXEC")
        await #expect(throws: RedisError.self) { try await pipelineWithCallback(client, crossing) }
        #expect(try await client.send("EXISTS", "a").int == 0)
        await client.close()
    }
}

/// A callback pipeline's replies and whether its completion ran on a reactor thread.
private func pipelineWithCallback(_ client: RedisClient, _ pipeline: RedisPipeline) async throws -> (replies: [Result<RESPValue, RedisError>], onReactor: Bool) {
    try await withCheckedThrowingContinuation { done in
        client.pipeline(pipeline) { result in done.resume(with: result.map { ($0, Reactor.current != nil) }) }
    }
}
