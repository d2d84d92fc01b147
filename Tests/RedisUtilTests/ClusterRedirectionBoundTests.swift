import Foundation
@testable import RedisUtil
import RESP
import Testing
import TestSupport

/// A `CLUSTER SHARDS` reply (RESP2) of one node at `port` owning every slot.
private func oneShard(port: Int) -> String {
    let fields = ["$2\r\nid\r\n$4\r\nfake\r\n", "$4\r\nport\r\n:\(port)\r\n", "$2\r\nip\r\n$9\r\n127.0.0.1\r\n",
                  "$8\r\nendpoint\r\n$9\r\n127.0.0.1\r\n", "$4\r\nrole\r\n$6\r\nmaster\r\n",
                  "$18\r\nreplication-offset\r\n:0\r\n", "$6\r\nhealth\r\n$6\r\nonline\r\n"]
    return "*1\r\n*4\r\n$5\r\nslots\r\n*2\r\n:0\r\n:16383\r\n$5\r\nnodes\r\n*1\r\n*14\r\n" + fields.joined()
}

/// A `COMMAND` reply that adds nothing to the built-in key table.
private let noCommands = "*0\r\n"

/// A cluster client of one connection in RESP2 (no handshake, so each chunk the fake
/// node reads is one command) on a fake node, which answers `CLUSTER SHARDS`, then
/// `COMMAND`, then the test's commands.
private func client(of fake: FakeServer, commandTimeout: Duration? = nil) throws -> RedisClient {
    try RedisClient(.cluster(seeds: [.tcp(host: "127.0.0.1", port: fake.port)]),
                    configuration: .init(protocolVersion: .resp2, commandTimeout: commandTimeout, connections: 1, clusterRefreshInterval: nil))
}

@Suite("Cluster client: the bounds on redirections and retries, on a fake node")
struct ClusterRedirectionBoundTests {
    @Test func aNodeThatKeepsRedirectingEndsInAnErrorNamingTheLastRedirection() async throws {
        let slot = HashSlot.of("looping")
        let fake = try FakeServer { port in [[oneShard(port: port), noCommands, "-MOVED \(slot) 127.0.0.1:\(port)\r\n"]] }
        defer { fake.stop() }
        let client = try client(of: fake)
        await #expect(throws: RedisError.tooManyRedirections(command: "GET", redirections: 5, last: "MOVED slot \(slot) to 127.0.0.1:\(fake.port)")) {
            try await client.send("GET", "looping")
        }
        let viaCallback = await withCheckedContinuation { (done: CheckedContinuation<Result<RESPValue, RedisError>, Never>) in
            client.send("GET", "looping") { done.resume(returning: $0) }
        }
        guard case .failure(.tooManyRedirections(_, 5, _)) = viaCallback else {
            Issue.record("\(viaCallback)")
            return
        }
        await client.close()
    }
}

/// The retry budget in wall-clock time: with the other *TimingTests, alone (`make test`
/// runs them after the parallel suites, whose load would stretch any pause).
@Suite("Cluster client: TRYAGAIN is retried within the command timeout")
struct ClusterRetryTimingTests {
    @Test func tryAgainIsRetriedUntilTheCommandTimeoutThenReported() async throws {
        let fake = try FakeServer { port in [[oneShard(port: port), noCommands, "-TRYAGAIN Multiple keys request during rehashing of slot\r\n"]] }
        defer { fake.stop() }
        let client = try client(of: fake, commandTimeout: .milliseconds(400))
        let started = ContinuousClock.now
        await #expect(throws: RedisError.server(message: "TRYAGAIN Multiple keys request during rehashing of slot")) {
            try await client.send("MGET", "{t}a", "{t}b")
        }
        let elapsed = ContinuousClock.now - started
        // 10 + 20 + 40 + 80 + 160 ms of pauses fit in 400 ms; a sixth (200 ms) would not.
        #expect(elapsed >= .milliseconds(300) && elapsed < .seconds(2), "\(elapsed)")
        await client.close()
    }
}
