import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Testing
import TestSupport

extension ClusterClientTests {
    /// A million `RPUSH`es in pipelines of a thousand over a thousand keys on three
    /// primaries, half through each facade: every pipeline is split over the three nodes
    /// and its replies come back in the caller's order (each `RPUSH` answers its list's
    /// new length, so a reply out of place shows), and every list holds exactly what was
    /// pushed, in order. Eight chains run at once, each owning 125 keys and sending its
    /// next pipeline from the last one's completion; a pipeline pushes eight consecutive
    /// values to each of its keys, round by round.
    @Test func aMillionPipelinedPushesOverAThousandKeysLandInOrder() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let chains = 8
        let keysPerChain = 125
        let valuesPerPipeline = 8
        // 1,000 values a key (1 M pushes); a twentieth under the thread sanitizer.
        let perKey = TestScale.count(1_000, minimum: 2 * valuesPerPipeline) / valuesPerPipeline * valuesPerPipeline
        let keys = (0..<chains).map { chain in (0..<keysPerChain).map { "piped:\(chain):\($0)" } }

        /// The pipeline that pushes values `first ..< first + valuesPerPipeline` to `keys`.
        @Sendable func pipeline(_ keys: [String], from first: Int) -> RedisPipeline {
            var pipeline = RedisPipeline()
            for value in first..<(first + valuesPerPipeline) {
                for key in keys { pipeline.send("RPUSH", key, "\(value)") }
            }
            return pipeline
        }
        /// What is wrong with a pipeline's replies: each is its list's new length.
        @Sendable func misplaced(_ replies: [Result<RESPValue, RedisError>], keys: [String], from first: Int) -> String? {
            guard replies.count == keys.count * valuesPerPipeline else { return "\(replies.count) replies" }
            for (index, reply) in replies.enumerated() {
                let expected = first + index / keys.count + 1
                guard case .success(let value) = reply, value.int == expected else {
                    return "reply \(index) of the pipeline from \(first): \(reply), expected \(expected)"
                }
            }
            return nil
        }

        let started = ContinuousClock.now
        let problems = Locked<[String]>([])
        // Callbacks: the first half of the chains, each pipeline sent from the last one's completion.
        async let callbacks: Void = withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let done = Locked(0)
            for chain in 0..<(chains / 2) {
                @Sendable func send(from first: Int) {
                    guard first < perKey else {
                        if done.withLock({ $0 += 1; return $0 }) == chains / 2 { finished.resume() }
                        return
                    }
                    client.pipeline(pipeline(keys[chain], from: first)) { result in
                        switch result {
                        case .success(let replies):
                            if let problem = misplaced(replies, keys: keys[chain], from: first) { problems.withLock { $0.append(problem) } }
                        case .failure(let error):
                            problems.withLock { $0.append("pipeline from \(first): \(error)") }
                        }
                        send(from: first + valuesPerPipeline)
                    }
                }
                send(from: 0)
            }
        }
        // Awaited: the other half, a task each.
        await withTaskGroup(of: Void.self) { group in
            for chain in (chains / 2)..<chains {
                group.addTask {
                    for first in stride(from: 0, to: perKey, by: valuesPerPipeline) {
                        do {
                            let replies = try await client.pipeline(pipeline(keys[chain], from: first))
                            if let problem = misplaced(replies, keys: keys[chain], from: first) { problems.withLock { $0.append(problem) } }
                        } catch {
                            problems.withLock { $0.append("pipeline from \(first): \(error)") }
                        }
                    }
                }
            }
        }
        await callbacks
        print("cluster: \(chains * keysPerChain) keys × \(perKey) pipelined RPUSH in \(ContinuousClock.now - started)")
        #expect(problems.withLock { $0 }.isEmpty, "\(problems.withLock { $0.prefix(3) })")
        try await expectLists(client, keys: keys.flatMap { $0 }, count: perKey)
        // The keys really are spread: every primary holds some.
        let sizes = try await blocking { try cluster.primaries.map { try cluster.command(["DBSIZE"], on: $0).integer ?? 0 } }
        #expect(sizes.allSatisfy { $0 > 200 } && sizes.reduce(0, +) == chains * keysPerChain, "\(sizes)")
        await client.close()
    }
}
