import LocalRedis
@testable import RedisUtil
import Testing

extension ClusterClientTests {
    /// A cluster that speaks TLS only (`tls-cluster yes`, no plaintext port), reached through
    /// a `rediss+cluster://` URL with the cluster's CA: the client finds each node's TLS port
    /// in `CLUSTER SHARDS` and routes over it. Commands over every primary with both facades,
    /// a pipeline split by node, a blocking command on a leased connection, a channel; and a
    /// plaintext client against the same nodes fails in words instead of hanging.
    @Test func aClusterOverTLS() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0, tls: .init())) }
        defer { cluster.stop() }
        let files = try #require(cluster.tlsFiles)
        let seeds = cluster.seeds.map { "\($0.host):\($0.port)" }.joined(separator: ",")
        let endpoint = try RedisEndpoint(url: "rediss+cluster://\(seeds)?cacert=\(files.caCertificate)")
        let client = try RedisClient(endpoint)
        try await blocking { try resetStats(cluster) }

        let keys = (0..<60).map { "tls:\($0)" }
        for key in keys { try await client.send("RPUSH", key, "async") }
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            let left = Counter(keys.count)
            for key in keys {
                client.send("RPUSH", key, "callback") { result in
                    if case .failure(let error) = result { Issue.record("callback RPUSH \(key): \(error)") }
                    if left.add(-1) == 0 { done.resume() }
                }
            }
        }
        let lengths = try await client.pipeline { pipeline in
            for key in keys { pipeline.send("LLEN", key) }
        }
        #expect(try lengths.map { try $0.get().int } == Array(repeating: 2, count: keys.count))
        let pushes = try await blocking { try statSum(cluster, section: "commandstats", line: "cmdstat_rpush", field: "calls") }
        #expect(pushes == 2 * keys.count)
        for primary in cluster.primaries {
            let stats = try await blocking { try cluster.command(["INFO", "commandstats"], on: primary).string ?? "" }
            #expect(stats.contains("cmdstat_rpush:"), "\(primary) saw no RPUSH over TLS")
        }

        // A blocking command on a leased TLS connection, woken by a push.
        async let popped = client.send("BLPOP", "tls:jobs", 5)
        try await Task.sleep(for: .milliseconds(100))
        try await client.send("RPUSH", "tls:jobs", "job")
        #expect(try await popped.array?.last?.string == "job")

        // A channel made from the same endpoint.
        let sender = RedisChannel(client: client, "/tls/jobs", peer: .client)
        let worker = RedisChannel(client: client, "/tls/jobs", peer: .server)
        try await sender.send(["n": 1])
        #expect(try await worker.brecv(as: [String: Int].self, timeout: .seconds(5)) == ["n": 1])
        await client.close()

        // Plaintext against the TLS-only nodes: a clear error within the connect timeout.
        let plain = try RedisClient(clusterEndpoint(cluster),
                                    configuration: RedisConfiguration(connectTimeout: .seconds(2)))
        await #expect(throws: RedisError.self) { try await plain.send("PING") }
        await plain.close()
    }
}
