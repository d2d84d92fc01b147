import LocalRedis
@testable import RedisUtil
import Testing

extension ClusterClientTests {
    /// The Python module's way in, on a cluster: `RedisClient.shared` gives one client per
    /// cluster endpoint (the same one again, from a value or from a `redis+cluster://` URL
    /// of the same seeds), and channels made on the endpoint alone (`RedisChannel(endpoint,
    /// name, peer:)`) send, receive, wait and batch over it.
    @Test func sharedClientsAndChannelsMadeOnAClusterEndpoint() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let endpoint = clusterEndpoint(cluster)
        let url = try RedisEndpoint(url: "redis+cluster://" + cluster.seeds.map { "\($0.host):\($0.port)" }.joined(separator: ","))
        let shared = try RedisClient.shared(endpoint)
        #expect(try RedisClient.shared(endpoint) === shared)
        #expect(try RedisClient.shared(url) === shared)
        #expect(try await shared.ping() == "PONG")

        let names = (0..<6).map { "/shared/jobs-\($0)" }
        for name in names {
            let client = RedisChannel(endpoint, name, peer: .client)
            let server = RedisChannel(endpoint, name, peer: .server)
            try await client.send(["job": name])
            try await client.send(contentsOf: [["n": 1], ["n": 2]] as [[String: Int]])
            #expect(try await server.brecv(as: [String: String].self, timeout: .seconds(5)) == ["job": name])
            #expect(try await server.recv(as: [String: Int].self, max: 5) == [["n": 1], ["n": 2]])
            #expect(try await server.recv(as: [String: Int].self) == nil)
            try await server.send("done")
            #expect(try await client.brecv(as: String.self, timeout: .seconds(5)) == "done")
        }
        let listed = try await RedisChannel.listChannels(client: shared, prefix: "/shared/")
        #expect(listed.isEmpty, "every message was received: \(listed)")
        await shared.close()
        #expect(try RedisClient.shared(endpoint) !== shared, "a closed shared client is replaced")
        await (try RedisClient.shared(endpoint)).close()
    }
}
