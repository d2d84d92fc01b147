import LocalRedis
@testable import RedisUtil
import RESP
import Testing

extension ClusterClientTests {
    /// SCAN on a cluster client walks every primary in turn with a cursor of its own
    /// (`"<slot>-<node cursor>"`), so `scan()`, a raw SCAN loop and `listChannels` (both
    /// facades) see the keys of every primary, the channels merged without duplicates.
    @Test func scanAndListChannelsWalkEveryPrimary() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        let keys = (0..<300).map { "scan:\($0)" }
        for key in keys { try await client.send("SET", key, "1") }
        // Channels with one list or both (a channel with both must be listed once).
        let names = (0..<40).map { "/cl/jobs-\($0)" }
        for (index, name) in names.enumerated() {
            try await RedisChannel(client: client, name, peer: .client).send(["n": index])
            if index % 2 == 0 { try await RedisChannel(client: client, name, peer: .server).send(["n": index]) }
        }
        let owners = try await blocking { try Set(keys.map { try cluster.owner(ofKey: $0).id }) }
        #expect(owners.count == 3, "the keys should lie on every primary")

        var scanned: [String] = []
        for try await key in client.scan(match: "scan:*", count: 50) { scanned.append(key) }
        #expect(Set(scanned) == Set(keys))
        #expect(scanned.count >= keys.count)

        // A raw loop: the cursor names a shard until the last primary is done.
        var cursor = "0"
        var pages = 0
        var raw: Set<String> = []
        repeat {
            let page = try #require(try await client.send("SCAN", cursor, "MATCH", "scan:*", "COUNT", 1000).array)
            cursor = try #require(page[0].string)
            raw.formUnion(page[1].array?.compactMap(\.string) ?? [])
            pages += 1
            #expect(cursor == "0" || cursor.contains("-"), "cursor \(cursor)")
        } while cursor != "0" && pages < 100
        #expect(raw == Set(keys))
        #expect(pages >= 3, "one page or more per primary, got \(pages)")

        // A cursor this client did not make is refused before anything is sent.
        await #expect {
            try await client.send("SCAN", "17")
        } throws: { error in
            guard case .invalidArgument(let message)? = error as? RedisError else { return false }
            return message.contains("cluster SCAN cursor")
        }

        let expected = names.sorted { Array($0.utf8).lexicographicallyPrecedes(Array($1.utf8)) }
        let listed = try await RedisChannel.listChannels(client: client, prefix: "/cl/")
        #expect(listed == expected)
        let viaCallbacks = try await withCheckedThrowingContinuation { continuation in
            RedisChannel.listChannels(client: client, prefix: "/cl/") { continuation.resume(with: $0) }
        }
        #expect(viaCallbacks == expected)
        await client.close()
    }
}
