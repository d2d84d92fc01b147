import LocalRedis
@testable import RedisUtil
import Testing

/// `GET` calls counted by `node` since its last `CONFIG RESETSTAT` (replicated writes are
/// counted on replicas too, so reads are what tells where commands went).
private func getCalls(_ cluster: LocalRedisCluster, on node: LocalRedisCluster.Node) throws -> Int {
    let info = try cluster.command(["INFO", "commandstats"], on: node).string ?? ""
    guard let line = info.split(separator: "\r\n").first(where: { $0.hasPrefix("cmdstat_get:") }),
          let calls = line.dropFirst("cmdstat_get:calls=".count).split(separator: ",").first else { return 0 }
    return Int(calls) ?? 0
}

extension ClusterClientTests {
    /// `readFrom`: by default reads stay on primaries; `.replicaPreferred` sends them to
    /// replicas (their own command stats count the GETs, the primaries' none), with
    /// READONLY on the connections; `.any` spreads them over both. Writes go to primaries
    /// whatever it says, on both facades.
    @Test func readsReachReplicasWhenReadFromSaysSo() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let keys = (0..<60).map { "read:\($0)" }
        let writer = try clusterClient(cluster)
        for key in keys { try await writer.send("SET", key, key) }
        await writer.close()

        for readFrom in [RedisConfiguration.ReadFrom.primary, .replicaPreferred, .any] {
            try await blocking { try resetStats(cluster) }
            let client = try clusterClient(cluster, configuration: .init(readFrom: readFrom))
            for key in keys {
                // A replica may lag its primary by a moment: read until the value is there.
                var value = try await client.send("GET", key).string
                var attempts = 1
                while value == nil && attempts < 200 {
                    try await Task.sleep(for: .milliseconds(10))
                    value = try await client.send("GET", key).string
                    attempts += 1
                }
                #expect(value == key, "\(readFrom): GET \(key)")
            }
            for key in keys.prefix(10) {
                let value = try await withCheckedThrowingContinuation { continuation in
                    client.send("GET", key) { continuation.resume(with: $0) }
                }
                #expect(value.string == key, "\(readFrom), callbacks: GET \(key)")
            }
            // A write with reads on replicas still goes to the primary (a replica would answer MOVED).
            try await client.send("SET", "read:written:\(readFrom)", "1")
            let onPrimaries = try await blocking { try cluster.primaries.map { try getCalls(cluster, on: $0) }.reduce(0, +) }
            let onReplicas = try await blocking { try cluster.replicas.map { try getCalls(cluster, on: $0) }.reduce(0, +) }
            switch readFrom {
            case .primary:
                #expect(onReplicas == 0 && onPrimaries >= 70, "primary: \(onPrimaries) GET on primaries, \(onReplicas) on replicas")
            case .replicaPreferred:
                #expect(onPrimaries == 0 && onReplicas >= 70, "replicaPreferred: \(onPrimaries) GET on primaries, \(onReplicas) on replicas")
            case .any:
                #expect(onPrimaries > 0 && onReplicas > 0 && onPrimaries + onReplicas >= 70,
                        "any: \(onPrimaries) GET on primaries, \(onReplicas) on replicas")
            }
            await client.close()
        }
    }
}
