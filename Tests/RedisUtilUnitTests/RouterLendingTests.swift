@testable import RedisUtil
import Testing

/// ``RedisClient/withRouter(_:)`` lends the client's own router, unretained, to the
/// callback paths; a client of one server has none to lend.
@Suite struct RouterLendingTests {
    @Test func aClusterClientLendsItsOwnRouter() async throws {
        // Nothing listens on port 1: discovery fails in the background, which is no
        // matter here (nothing is sent).
        let client = try RedisClient(.cluster(seeds: [1]))
        let router = try #require(client.router)
        #expect(client.withRouter { ObjectIdentifier($0) } == ObjectIdentifier(router))
        await client.close()
    }

    @Test func aClientOfOneServerHasNoRouterToLend() async throws {
        let client = try RedisClient(1)
        #expect(client.withRouter { _ in true } == nil)
        await client.close()
    }
}
