import LocalRedis
import RedisUtil
import Testing
import TestSupport

/// The Swift channel on a cluster client beside the real Python `k3redisutil` pointed at
/// one node of the same cluster, as the README's Redis Cluster section describes: Python
/// (a plain client of one node, no cluster support) reaches the channels whose lists live
/// on that node, and is told `MOVED` for the others; its `list_channel` lists that node's
/// channels, Swift's `listChannels` every primary's. `make test` runs it with the cluster
/// suites.
@Suite(.enabled(if: PythonPeer.isAvailable, "\(PythonPeer.skipMessage)"), .serialized, .timeLimit(.minutes(2)))
struct ClusterPythonInteropTests {
    @Test func pythonOnOneNodeAndSwiftOnTheClusterShareTheChannelsOfThatNode() async throws {
        let cluster = try await onOwnThread { Result { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) } }.get()
        defer { cluster.stop() }
        let node = cluster.primaries[0]
        let slots = try cluster.keySlots((0..<400).flatMap { ["/ci/job-\($0)/client", "/ci/job-\($0)/server"] })
        func onNode(_ slot: Int) -> Bool { node.slots.contains { $0.contains(slot) } }
        // A channel whose two lists both live on Python's node, and one whose lists do not.
        let here = try #require((0..<400).first { onNode(slots[2 * $0]) && onNode(slots[2 * $0 + 1]) }).description
        let away = try #require((0..<400).first { !onNode(slots[2 * $0]) && !onNode(slots[2 * $0 + 1]) }).description
        let client = try RedisClient(.cluster(seeds: cluster.seeds.map { .tcp(host: $0.host, port: $0.port) }))

        // Swift (server peer, on the cluster) → Python (client peer, on its node), and back.
        let swift = RedisChannel(client: client, "/ci/job-\(here)", peer: .server)
        try await swift.send(contentsOf: [["n": 1], ["n": 2]] as [JSONValue])
        for expected in [1, 2] {
            let received = try await PythonPeer.call(port: node.port, channel: "/ci/job-\(here)", peer: "client", op: "recv_msg")
            #expect(received == ["n": .number(Double(expected))])
        }
        _ = try await PythonPeer.call(port: node.port, channel: "/ci/job-\(here)", peer: "client", op: "send_many", args: [["reply 中文"]])
        #expect(try await swift.recv(as: String.self) == "reply 中文")

        // A channel elsewhere: Swift follows the map, Python gets the node's MOVED
        // (redis-py's MovedError).
        try await RedisChannel(client: client, "/ci/job-\(away)", peer: .server).send("x")
        await #expect {
            _ = try await PythonPeer.call(port: node.port, channel: "/ci/job-\(away)", peer: "client", op: "recv_msg")
        } throws: { error in
            (error as? PythonPeer.PeerError)?.message.contains("MovedError") == true
        }

        // Python lists its node's channels; Swift, every primary's. (A channel exists while
        // one of its lists holds a message: one left in each.)
        try await swift.send("left")
        let python = try await PythonPeer.call(port: node.port, channel: "/ci/job-\(here)", peer: "client", op: "list_channel", args: ["/ci/"])
        let all = try await RedisChannel.listChannels(client: client, prefix: "/ci/")
        #expect(Set(all) == ["/ci/job-\(here)", "/ci/job-\(away)"])
        #expect(python == .array([.string("/ci/job-\(here)")]))
        await client.close()
    }
}
