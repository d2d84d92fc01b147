import LocalRedis
@testable import RedisUtil
import Testing
import TestSupport

/// The user names of the client connections `node` lists (`CLIENT LIST`), its own
/// replication link and the harness's connection included.
private func connectedUsers(_ cluster: LocalRedisCluster, on node: LocalRedisCluster.Node) throws -> [String] {
    let list = try cluster.command(["CLIENT", "LIST"], on: node).string ?? ""
    return list.split(separator: "\n").compactMap { line in
        line.split(separator: " ").first { $0.hasPrefix("user=") }.map { String($0.dropFirst("user=".count)) }
    }
}

extension ClusterClientTests {
    /// An ACL user's credentials, given once (on the configuration, or in a
    /// `redis+cluster://` URL naming a single seed), reach every node the client finds
    /// from the map: each primary and, with reads on replicas, each replica holds
    /// connections of that user; writes, reads from replicas, a command for every
    /// primary and a pipeline over them all succeed, on both facades. A wrong password
    /// fails with `handshakeFailed` naming the server's `WRONGPASS`, and fails again on
    /// the next command rather than hanging.
    @Test func anACLUsersCredentialsReachEveryNode() async throws {
        let cluster = try await blocking {
            try LocalRedisCluster(configuration: .init(extraConfig: ["user worker on >s3cret ~* &* +@all"]))
        }
        defer { cluster.stop() }
        let seed = cluster.seeds[0]
        let keys = (0..<30).map { "auth:\($0)" }
        let configured = try RedisClient(.cluster(seeds: [.tcp(host: seed.host, port: seed.port)]),
                                         configuration: .init(username: "worker", password: "s3cret", readFrom: .replicaPreferred))
        let fromURL = try RedisClient(try RedisEndpoint(url: "redis+cluster://worker:s3cret@\(seed.host):\(seed.port)"),
                                      configuration: .init(readFrom: .replicaPreferred))
        for (name, client) in [("configuration", configured), ("URL", fromURL)] {
            #expect(try await client.send("ACL", "WHOAMI").string == "worker", "\(name)")
            for key in keys { try await client.send("SET", key, "\(name) \(key)") }
            for key in keys {
                // A replica may lag its primary by a moment: read until the value is there.
                var value: String?
                _ = try await waitUntil(limit: .seconds(2)) {
                    value = try await client.send("GET", key).string
                    return value == "\(name) \(key)"
                }
                #expect(value == "\(name) \(key)", "\(name): GET \(key)")
            }
            let replies = try await client.pipeline { pipeline in
                for key in keys { pipeline.send("SET", key, "again") }
            }
            #expect(replies.allSatisfy { (try? $0.get().string) == "OK" }, "\(name): \(replies.prefix(3))")
            #expect(try await client.send("DBSIZE").int == keys.count, "\(name)")
            let viaCallback = try await withCheckedThrowingContinuation { continuation in
                client.send("SET", keys[0], "callback") { continuation.resume(with: $0) }
            }
            #expect(viaCallback.string == "OK", "\(name)")
        }
        let users = try await blocking { try cluster.nodes.map { ($0, try connectedUsers(cluster, on: $0)) } }
        for (node, names) in users {
            #expect(names.filter { $0 == "worker" }.count >= 2, "\(node.port) (\(node.isPrimary ? "primary" : "replica")): \(names)")
        }
        await configured.close()
        await fromURL.close()

        let wrong = try RedisClient(.cluster(seeds: [.tcp(host: seed.host, port: seed.port)]),
                                    configuration: .init(username: "worker", password: "not-it"))
        for attempt in 0..<2 {
            do {
                _ = try await wrong.send("GET", keys[0])
                Issue.record("GET succeeded with a wrong password (attempt \(attempt))")
            } catch RedisError.handshakeFailed(_, let message) {
                #expect(message.hasPrefix("WRONGPASS"), "\(message)")
            } catch {
                Issue.record("attempt \(attempt): \(error)")
            }
        }
        await wrong.close()
    }
}
