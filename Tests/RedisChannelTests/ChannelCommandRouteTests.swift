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
}
