import LocalRedis
import RESP
import RedisUtil
import Testing

/// The channel's wall-clock bounds. `make test` runs every suite named `…TimingTests`
/// in a second pass, alone, so that the million-command tests running in parallel
/// cannot starve them of the machine's cores.
@Suite struct ChannelTimingTests {
    @Test func brecvSubSecondTimeoutReturnsNilAfterAboutTheTimeout() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            let clock = ContinuousClock()
            let start = clock.now
            let message = try await s.brecv(as: JSONValue.self, timeout: .milliseconds(300))
            let elapsed = clock.now - start
            #expect(message == nil)
            #expect(elapsed >= .milliseconds(290) && elapsed < .milliseconds(1500), "took \(elapsed)")
        }
    }

    @Test func blockingReceiveDoesNotDelayOtherCommands() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            async let blocked = s.brecv(as: Int.self, timeout: .seconds(2))
            try await Task.sleep(for: .milliseconds(100))
            let clock = ContinuousClock()
            let start = clock.now
            try await s.send(1)
            #expect(clock.now - start < .seconds(1))
            #expect(try await blocked == nil)
        }
    }
}
