import LocalRedis
@testable import RedisUtil
import RESP
import Testing

/// Limits a user sets on what the client holds: idle blocking connections and the
/// largest value a reply may carry.
@Suite struct ResourceLimitTests {
    /// A burst of blocking commands opens a dedicated connection each; once idle for
    /// `blockingConnectionIdleTimeout` they close (before, they stayed until `close()`:
    /// 10,000 cancelled `BLPOP`s left 33 extra server connections).
    @Test func idleBlockingConnectionsClose() async throws {
        try await withServer { server in
            try await withProbe(server) { probe in
                let configuration = RedisConfiguration(connections: 1, blockingConnectionIdleTimeout: .milliseconds(300))
                try await withClient(server, configuration: configuration) { client in
                    _ = try await client.send("PING")
                    let before = try await probe.connectedClients()
                    // Blocked until released, so the count cannot race the idle timeout.
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        for index in 0..<5 {
                            group.addTask { _ = try await client.blpop("idle-test-\(index)", timeout: .zero) }
                        }
                        let opened = try await probe.eventually { try await probe.connectedClients() == before + 5 }
                        #expect(opened, "each concurrent BLPOP has a connection of its own")
                        for index in 0..<5 { try await client.send("RPUSH", "idle-test-\(index)", "x") }
                        try await group.waitForAll()
                    }
                    let closed = try await probe.eventually { try await probe.connectedClients() == before }
                    let left = try await probe.connectedClients() - before
                    #expect(closed, "idle blocking connections still open: \(left)")
                    // The next blocking command opens a connection again.
                    try await client.send("RPUSH", "idle-test-0", "x")
                    #expect(try await client.blpop("idle-test-0", timeout: .seconds(1))?.value == "x")
                }
            }
        }
    }

    /// `nil` keeps them, as before, until the client closes.
    @Test func aNilIdleTimeoutKeepsThem() async throws {
        try await withServer { server in
            try await withProbe(server) { probe in
                let configuration = RedisConfiguration(connections: 1, blockingConnectionIdleTimeout: nil)
                try await withClient(server, configuration: configuration) { client in
                    _ = try await client.send("PING")
                    let before = try await probe.connectedClients()
                    _ = try await client.blpop("idle-kept", timeout: .milliseconds(50))
                    try await Task.sleep(for: .milliseconds(300))
                    #expect(try await probe.connectedClients() == before + 1)
                }
            }
        }
    }

    /// A reply value longer than `maxBulkLength` is a protocol error naming the limit;
    /// the connection reconnects and serves what fits.
    @Test func maxBulkLengthIsConfigurable() async throws {
        try await withServer { server in
            try await withClient(server, configuration: .init(connections: 1, maxBulkLength: 1024)) { client in
                try await client.send("SET", "big", String(repeating: "x", count: 2048))
                try await client.send("SET", "small", String(repeating: "y", count: 1024))
                do {
                    _ = try await client.send("GET", "big")
                    Issue.record("a 2048-byte value passed a 1024-byte limit")
                } catch RedisError.protocolError(let error) {
                    #expect(error.kind == .bulkTooLarge, "\(error)")
                    #expect("\(error)".contains("1024"), "\(error)")
                }
                #expect(try await client.send("GET", "small").string?.count == 1024)
            }
            // Up, past the default, is allowed too; zero or less is refused.
            try await withClient(server, configuration: .init(maxBulkLength: 1 << 30)) { client in
                let big = try await client.send("GET", "big").string
                #expect(big?.count == 2048)
            }
            #expect(throws: RedisError.self) { try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(maxBulkLength: 0)) }
        }
    }
}
