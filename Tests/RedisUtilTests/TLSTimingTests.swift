import LocalRedis
import RedisUtil
import Testing
import TestSupport

/// The TLS test with a wall-clock bound: a protocol mismatch fails within its connect
/// timeout. A suite named *TimingTests, so that `make test` runs it in the step of the
/// timed suites, apart from the parallel run of the others, where stalls of two seconds
/// have been seen (the `.serialized` trait orders only a suite's own tests, not the
/// suites beside it).
@Suite("TLS, timed: protocol mismatches fail within the connect timeout")
struct TLSTimingTests {
    @Test("plaintext against a TLS port and TLS against a plaintext port fail clearly within the connect timeout")
    func protocolMismatch() async throws {
        try await withTLSServer { server, files async throws in
            try await Self.failsClearly(.tcp(host: server.host, port: server.port), tls: nil, mentioning: "rediss://")
            try await withServer { plain async throws in
                try await Self.failsClearly(.tcp(host: plain.host, port: plain.port), tls: trusting(files), mentioning: "TLS")
            }
        }
    }

    /// A PING on the wrong protocol fails, safe to retry, in words that name the
    /// cause, within its 1 s connect timeout (3 s: slack for a loaded machine).
    static func failsClearly(_ endpoint: RedisEndpoint, tls: RedisTLSConfiguration?, mentioning words: String) async throws {
        try await withClient(endpoint, configuration: .init(connectTimeout: .seconds(1), tls: tls)) { client async throws in
            let start = ContinuousClock.now
            do {
                try await client.ping()
                Issue.record("a PING on the wrong protocol succeeded")
            } catch let error as RedisError {
                #expect(error.isSafeToRetry)
                #expect("\(error)".contains(words), "\(error)")
            }
            #expect(ContinuousClock.now - start < .seconds(3))
        }
    }
}
