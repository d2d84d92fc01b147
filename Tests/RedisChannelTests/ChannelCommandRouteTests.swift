import Testing
@testable import RedisUtil

/// The routes a channel hands the client with its own `RPUSH` and `LPOP` (so that the
/// client need not read them back out of the bytes) are the client's own reading of them.
@Suite struct ChannelCommandRouteTests {
    @Test func theRoutesAChannelPassesAreWhatTheClientWouldRead() throws {
        for (channel, peer) in [("/x", RedisChannel.Peer.client), ("/test/jobs", .server), ("/é/深", .client)] {
            let pop = RedisChannel(1, channel, peer: peer).popCommand()
            guard case .removing = CommandRoute.of(pop), case .removing = RedisChannel.popRoute.route else {
                Issue.record("LPOP of \(channel) is not routed as removing")
                continue
            }
            let push = try MessageCodec.pushCommand(head: MessageCodec.pushHead(key: channel + "/client"), message: ["k": 1])
            guard case .shared = CommandRoute.of(push), case .shared = RedisChannel.pushRoute.route else {
                Issue.record("RPUSH to \(channel) is not routed as shared")
                continue
            }
        }
    }

    /// A callback receive names the list a message came from by reading it back out of
    /// its own `LPOP` (it keeps no string of the channel's): every name comes back whole.
    @Test func theListIsReadBackFromThePopCommand() {
        for (channel, peer) in [("/x", RedisChannel.Peer.client), ("/test/jobs", .server), ("/é/深/🙂", .client), ("/a b/c\r\n", .server)] {
            let receiver = RedisChannel(1, channel, peer: peer)
            #expect(RedisChannel.list(poppedBy: receiver.popCommand()) == receiver.receiveKey, "\(channel)")
        }
    }

    /// ``RedisChannel/withClient(_:)`` lends a channel's own client unretained: the very
    /// object, alive for as long as a copy of the channel is, whatever became of the
    /// caller's reference; a channel on an endpoint lends the shared client.
    @Test func aChannelLendsItsClient() async throws {
        var client: RedisClient? = try RedisClient(1)
        weak var watched = client
        let identity = ObjectIdentifier(client!)
        let channel = RedisChannel(client: client!, "/lent", peer: .client)
        client = nil
        let copy = channel
        #expect(try copy.withClient { ObjectIdentifier($0) } == identity)
        #expect(watched != nil, "the channel holds its client")
        #expect(try copy.withClient { $0.endpoint } == 1)
        await watched?.close()
        let onEndpoint = RedisChannel(1, "/lent", peer: .client)
        let shared = try RedisClient.shared(1)
        #expect(try onEndpoint.withClient { ObjectIdentifier($0) } == ObjectIdentifier(shared))
        await shared.close()
    }
}
