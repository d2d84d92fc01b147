import LocalRedis
import MetricsTestKit
@testable import RedisUtil
import Testing

extension ClusterClientTests {
    /// A dedicated connection on a cluster client goes to the owner of the key's slot:
    /// WATCH … MULTI … EXEC works there (and aborts when another client changed the
    /// watched key), a blocking command blocks only it, a key of another slot gets the
    /// server's MOVED, and the keyless form says to name a key.
    @Test func aDedicatedConnectionGoesToTheOwnerOfItsKey() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        // With metrics: the dedicated connection's commands count once, at the cluster client.
        let metrics = TestMetrics()
        let client = try clusterClient(cluster, configuration: RedisConfiguration(observability: .init(metrics: .factory(metrics))))
        let balance = "{account:7}:balance"
        try await client.send("SET", balance, 10)
        try await blocking { try resetStats(cluster) }

        let added = try await client.withDedicatedConnection(forKey: balance) { connection in
            try await connection.send("WATCH", balance)
            let current = Int(try await connection.send("GET", balance).string ?? "") ?? 0
            let replies = try await connection.transaction { $0.send("SET", balance, current + 5) }
            return replies.count
        }
        #expect(added == 1)
        #expect(try await client.send("GET", balance).string == "15")
        let owner = try await blocking { try cluster.owner(ofKey: balance) }
        let watches = try await blocking { try statSum(cluster, section: "commandstats", line: "cmdstat_watch", field: "calls") }
        let ownerWatches = try await blocking {
            let info = try cluster.command(["INFO", "commandstats"], on: owner).string ?? ""
            return info.contains("cmdstat_watch:calls=1,")
        }
        #expect(watches == 1 && ownerWatches, "WATCH should reach the key's owner only")

        // Another client changes the watched key between WATCH and EXEC: aborted.
        await #expect(throws: RedisError.self) {
            try await client.withDedicatedConnection(slot: HashSlot.of(balance)) { connection in
                try await connection.send("WATCH", balance)
                try await client.send("INCR", balance)
                _ = try await connection.transaction { $0.send("SET", balance, 0) }
            }
        }
        #expect(try await client.send("GET", balance).string == "16")

        // A blocking command on it, woken by a push through the shared connections.
        let jobs = "{account:7}:jobs"
        async let popped = client.withDedicatedConnection(forKey: jobs) { connection in
            try await connection.send("BLPOP", jobs, 5).array?.last?.string
        }
        try await Task.sleep(for: .milliseconds(100))
        try await client.send("RPUSH", jobs, "job")
        #expect(try await popped == "job")

        // Not following redirections: a key of a slot another primary owns gets MOVED.
        let elsewhere = try await blocking {
            (0..<1000).map { "other:\($0)" }.first { (try? cluster.owner(ofKey: $0).id) != owner.id }!
        }
        await #expect {
            try await client.withDedicatedConnection(forKey: balance) { try await $0.send("GET", elsewhere) }
        } throws: { error in
            guard case .server(let message)? = error as? RedisError else { return false }
            return message.hasPrefix("MOVED")
        }
        await #expect {
            try await client.withDedicatedConnection { try await $0.send("PING") }
        } throws: { error in
            guard case .unsupportedCommand(_, let reason)? = error as? RedisError else { return false }
            return reason.contains("forKey")
        }
        await client.close()
        let observedWatches = metrics.counters(label: RedisMetricLabel.commandsSent)
            .filter { $0.dimensions.contains { $0 == (RedisMetricDimension.operationName, "WATCH") } }
        #expect(observedWatches.reduce(0) { $0 + $1.totalValue } == 2)
        #expect(!observedWatches.isEmpty && observedWatches.allSatisfy { $0.dimensions.contains { $0 == (RedisMetricDimension.serverAddress, "cluster") } })
    }
}
