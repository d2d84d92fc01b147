import COpenSSL
import Foundation
import LocalRedis
import Reactor
import RedisUtil
import RESP
import Testing
import TestSupport

/// A private redis-server serving TLS only (`port 0`, `tls-port`), with LocalRedis'
/// throw-away CA.
func withTLSServer<T>(
    _ options: LocalRedisServer.TLSOptions = .init(),
    stopGracePeriod: Duration = .seconds(2),
    _ body: (LocalRedisServer, LocalRedisServer.TLSFiles) async throws -> T
) async throws -> T {
    try await withServer(.init(stopGracePeriod: stopGracePeriod, tls: options)) { server async throws in
        try await body(server, try #require(server.tlsFiles))
    }
}

/// The client settings that trust the server's CA.
func trusting(_ files: LocalRedisServer.TLSFiles, _ configure: (inout RedisTLSConfiguration) -> Void = { _ in }) -> RedisTLSConfiguration {
    var tls = RedisTLSConfiguration(trustRoots: .caFile(files.caCertificate))
    configure(&tls)
    return tls
}

/// The TLS error a command gets, or a recorded issue.
private func tlsFailure(_ endpoint: RedisEndpoint, _ configuration: RedisConfiguration) async throws -> String {
    try await withClient(endpoint, configuration: configuration) { client async throws in
        do {
            try await client.ping()
            Issue.record("PING succeeded")
            return ""
        } catch let error as RedisError {
            guard case .tlsFailed(_, let reason) = error else {
                Issue.record("not a TLS error: \(error)")
                return "\(error)"
            }
            #expect(error.isSafeToRetry)
            // Nothing stays pending: the next command fails the same way, at once.
            await #expect(throws: RedisError.self) { try await client.ping() }
            return reason
        }
    }
}

@Suite("TLS: every connection kind over OpenSSL, and each failure in words", .timeLimit(.minutes(4)))
struct TLSTests {
    @Test("multiplexed commands, pipelines, leased blocking commands, dedicated connections and subscriptions")
    func everyConnectionKind() async throws {
        try await withTLSServer { server, files async throws in
            let configuration = RedisConfiguration(tls: trusting(files))
            try await withClient(server, configuration: configuration) { client async throws in
                try await client.set("k", "v")
                #expect(try await client.get("k") == "v")

                var pipeline = RedisPipeline()
                for index in 0..<100 { pipeline.send("RPUSH", "list", index) }
                let pushed = try await client.pipeline(pipeline)
                #expect(pushed.count == 100)
                #expect(try await client.send("LLEN", "list").int == 100)

                // A leased blocking connection, woken by a push on the shared one.
                async let popped = client.blpop("queue", timeout: .seconds(5))
                try await Task.sleep(for: .milliseconds(50))
                try await client.rpush("queue", "job")
                #expect(try await popped?.value == "job")

                let committed = try await client.withDedicatedConnection { connection in
                    try await connection.send("WATCH", "k")
                    return try await connection.transaction { $0.send("SET", "k", "w") }
                }
                #expect(committed.count == 1)

                let subscription = try await client.subscribe(channels: ["news"])
                try await client.send("PUBLISH", "news", "hello")
                for try await message in subscription.messages {
                    #expect(message.string == "hello")
                    break
                }
            }
        }
    }

    /// OpenSSL reads ahead (`read_ahead`): one socket read can take many small records at
    /// once, more than a readable callback's bounded reads return, and the socket then has
    /// nothing left to wake the connection for the rest. Here a hundred messages, each its
    /// own record, wait in the subscriber's socket while its only reactor is held; once
    /// free, every one must arrive, with nothing more coming from the server (no liveness
    /// PING within the wait).
    @Test("records read ahead beyond one readable callback's reads are read without waiting for more input")
    func readAheadRecordsAreAllRead() async throws {
        try await withTLSServer { server, files async throws in
            let group = try ReactorGroup(count: 1, name: "tls-read-ahead")
            defer { group.shutdown() }
            let subscriber = try RedisClient(.tcp(host: server.host, port: server.port),
                                             configuration: .init(livenessTimeout: .seconds(600), connections: 1, tls: trusting(files)), group: group)
            try await withClient(server, configuration: .init(tls: trusting(files))) { publisher async throws in
                let subscription = try await subscriber.subscribe(channels: ["burst"])
                let received = Counter()
                let reading = Task {
                    for try await _ in subscription.messages { received.add() }
                }
                let held = DispatchSemaphore(value: 0)
                group.reactors[0].execute { held.wait() }
                // One at a time: each in its own server iteration, so its own TLS record.
                for index in 0..<100 { try await publisher.send("PUBLISH", "burst", index) }
                held.signal()
                #expect(try await waitUntil(limit: .seconds(20)) { received.value == 100 }, "\(received.value) of 100 messages")
                await subscriber.close()
                _ = await reading.result
            }
        }
    }

    @Test("a cancelled blocking command is unblocked with CLIENT UNBLOCK over TLS, and its connection serves again")
    func cancelledBlockingCommand() async throws {
        try await withTLSServer { server, files async throws in
            try await withClient(server, configuration: .init(maxBlockingConnections: 1, tls: trusting(files))) { client async throws in
                let waiting = Task { try await client.blpop("never", timeout: .seconds(30)) }
                try await Task.sleep(for: .milliseconds(100))
                waiting.cancel()
                await #expect(throws: RedisError.cancelled) { try await waiting.value }
                async let popped = client.blpop("later", timeout: .seconds(5))
                try await client.rpush("later", "x")
                #expect(try await popped?.value == "x")
            }
        }
    }

    @Test("rediss:// URLs: waitServe, RedisClient.shared and a RedisChannel that a second one answers")
    func urls() async throws {
        try await withTLSServer { server, files async throws in
            let url = "rediss://127.0.0.1:\(server.port)?cacert=\(files.caCertificate)"
            let endpoint = try RedisEndpoint(url: url)
            try await RedisClient.waitServe(endpoint, timeout: .seconds(5))
            let shared = try RedisClient.shared(endpoint)
            try await shared.ping()
            let client = RedisChannel(endpoint, "/tls/job", peer: .client)
            let worker = RedisChannel(endpoint, "/tls/job", peer: .server)
            try await client.send(["n": 1])
            let request = try await worker.recv(as: [String: Int].self)
            #expect(request == ["n": 1])
            await shared.close()
        }
    }

    @Test("mutual TLS: a client certificate, also with an encrypted key and its passphrase")
    func mutualTLS() async throws {
        try await withTLSServer(.init(clientAuthentication: .required)) { server, files async throws in
            let plainKey = trusting(files) {
                $0.clientCertificate = .init(certificateFile: files.clientCertificate, keyFile: files.clientKey)
            }
            try await withClient(server, configuration: .init(tls: plainKey)) { try await $0.ping() }
            let encrypted = trusting(files) {
                $0.clientCertificate = .init(certificateFile: files.clientCertificate, keyFile: files.encryptedClientKey,
                                             keyPassphrase: files.clientKeyPassphrase)
            }
            try await withClient(server, configuration: .init(tls: encrypted)) { try await $0.ping() }
            // A wrong passphrase fails when the client is made, and is never printed.
            let wrong = trusting(files) {
                $0.clientCertificate = .init(certificateFile: files.clientCertificate, keyFile: files.encryptedClientKey,
                                             keyPassphrase: "not-the-passphrase")
            }
            do {
                _ = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(tls: wrong))
                Issue.record("a wrong passphrase was accepted")
            } catch let error as RedisError {
                guard case .tlsFailed(_, let reason) = error else { throw error }
                #expect(reason.lowercased().contains("passphrase") && !reason.contains("not-the-passphrase"), "\(reason)")
            }
            // So does a CA file that is not there.
            do {
                _ = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(tls: .init(trustRoots: .caFile("/nonexistent/ca.crt"))))
                Issue.record("a missing CA file was accepted")
            } catch let error as RedisError {
                guard case .tlsFailed(_, let reason) = error else { throw error }
                #expect(reason.contains("/nonexistent/ca.crt"), "\(reason)")
            }
            #expect(!"\(wrong)".contains("not-the-passphrase") && !String(reflecting: wrong).contains("not-the-passphrase"))
        }
    }

    @Test("a server certificate the client does not trust, a name it does not match, one that expired: each in words")
    func verificationFailures() async throws {
        let quick = { (tls: RedisTLSConfiguration) in RedisConfiguration(connectTimeout: .seconds(2), tls: tls) }
        try await withTLSServer { server, files async throws in
            let endpoint = RedisEndpoint.tcp(host: server.host, port: server.port)
            let wrongCA = try await tlsFailure(endpoint, quick(RedisTLSConfiguration(trustRoots: .caFile(files.otherCACertificate))))
            // OpenSSL's words for a chain it cannot complete from these roots.
            #expect(wrongCA.contains("certificate verify failed: self-signed certificate in certificate chain")
                || wrongCA.contains("certificate verify failed: unable to get local issuer certificate"), "\(wrongCA)")
            // The system's roots do not include a throw-away CA either.
            let system = try await tlsFailure(endpoint, quick(RedisTLSConfiguration()))
            #expect(system.contains("certificate verify failed"), "\(system)")
            // Verification off: encrypted, unverified.
            try await withClient(endpoint, configuration: quick(RedisTLSConfiguration(verification: .insecureNoVerification))) { try await $0.ping() }
        }
        try await withTLSServer(.init(serverCertificate: .forHost("elsewhere.example"))) { server, files async throws in
            let byName = try await tlsFailure(.tcp(host: "localhost", port: server.port), quick(trusting(files)))
            #expect(byName.contains("hostname mismatch"), "\(byName)")
            let byAddress = try await tlsFailure(.tcp(host: server.host, port: server.port), quick(trusting(files)))
            #expect(byAddress.contains("mismatch"), "\(byAddress)")
            // The name the certificate was issued for, sent as SNI and verified.
            try await withClient(.tcp(host: server.host, port: server.port), configuration: quick(trusting(files) { $0.serverName = "elsewhere.example" })) {
                try await $0.ping()
            }
        }
        try await withTLSServer(.init(serverCertificate: .expired)) { server, files async throws in
            let expired = try await tlsFailure(.tcp(host: server.host, port: server.port), quick(trusting(files)))
            #expect(expired.contains("certificate has expired"), "\(expired)")
        }
    }

    @Test("a server that requires a client certificate refuses a client without one, in words")
    func missingClientCertificate() async throws {
        try await withTLSServer(.init(clientAuthentication: .required)) { server, files async throws in
            let reason = try await tlsFailure(.tcp(host: server.host, port: server.port), .init(connectTimeout: .seconds(2), tls: trusting(files)))
            #expect(reason.contains("certificate required") || reason.contains("handshake failure"), "\(reason)")
        }
    }

    @Test("a server restart mid-stream: the client reconnects with TLS, never-sent commands go out, written ones say so")
    func restartMidStream() async throws {
        try await withTLSServer(stopGracePeriod: .milliseconds(100)) { server, files async throws in
            try await withClient(server, configuration: .init(connections: 1, tls: trusting(files))) { client async throws in
                try await client.ping()
                try server.pause()
                let written = Task { try await client.send("INCR", "written") }
                try await Task.sleep(for: .milliseconds(100))
                kill(try #require(server.pid), SIGKILL)
                try await onOwnThread { () throws(LocalRedisError) in try server.restart() }
                do {
                    _ = try await written.value
                } catch let error as RedisError {
                    #expect(error.isLostAfterWrite, "\(error)")
                }
                // The next command reconnects, with a new TLS session.
                #expect(try await client.send("INCR", "after").int == 1)
            }
        }
    }

    @Test("a command timeout and a task cancelled in flight behave as in plaintext")
    func timeoutsAndCancellation() async throws {
        try await withTLSServer { server, files async throws in
            // 500 ms, not less: its first PING (the handshake's client) must not time out on a loaded machine.
            try await withClient(server, configuration: .init(commandTimeout: .milliseconds(500), tls: trusting(files))) { client async throws in
                // The cancellation on a client of its own, with the default command timeout:
                // on a loaded machine a short timeout could beat the cancel (CI saw it).
                try await withClient(server, configuration: .init(tls: trusting(files))) { patient async throws in
                    try await client.ping()
                    try await patient.ping()
                    try server.pause()
                    await #expect(throws: RedisError.timeout(command: "PING", after: .milliseconds(500))) { try await client.ping() }
                    let cancelled = Task { try await patient.send("GET", "x") }
                    try await Task.sleep(for: .milliseconds(20))
                    cancelled.cancel()
                    await #expect(throws: RedisError.cancelled) { try await cancelled.value }
                    try server.resume()
                    // The short-timeout client recovers (retried: each try is still bounded
                    // by its 500 ms, which a just-resumed server on a loaded machine can miss).
                    #expect(try await answersEcho(client), "no ECHO answered after the resume")
                    try await patient.ping()
                }
            }
        }
    }
}

extension SerialTests {
    /// The TLS tests that load one reactor with a thousand handshakes or move 64 MiB: in
    /// the serialized tree, one after the other and after its other heavy tests (other
    /// suites still run beside them; the timed test is in ``TLSTimingTests``).
    @Suite("TLS, heavy: large values, 1,000 handshakes on one reactor")
    struct TLSHeavyTests {
        @Test("1 MiB and 64 MiB values both ways (partial SSL_writes, reads across records), and 10,000 small replies")
        func largeAndSmall() async throws {
            try await withTLSServer { server, files async throws in
                try await withClient(server, configuration: .init(connections: 1, tls: trusting(files))) { client async throws in
                    for size in [1 << 20, 64 << 20] {
                        // A 251-byte cycle: a record dropped, doubled or reordered shows.
                        let cycle = (0..<251).map { UInt8($0) }
                        var value: [UInt8] = []
                        value.reserveCapacity(size)
                        while value.count < size { value += cycle.prefix(size - value.count) }
                        try await client.send("SET", "big", value)
                        let back = try await client.send("GET", "big")
                        #expect(back.bytes == value, "\(size) bytes came back different")
                    }
                    var pipeline = RedisPipeline()
                    for _ in 0..<10_000 { pipeline.send("INCR", "counter") }
                    let replies = try await client.pipeline(pipeline)
                    #expect(replies.count == 10_000)
                    #expect(try replies.last?.get().int == 10_000)
                }
            }
        }

        /// The client reads and writes without emptying the thread's OpenSSL error queue
        /// first: an error another OpenSSL user left there (here a file BIO that failed,
        /// as application code in a callback might) must not make a read or write that
        /// waits for the socket look like a broken session.
        @Test("an OpenSSL error left on the reactor's thread by someone else breaks nothing")
        func staleOpenSSLErrors() async throws {
            try await withTLSServer { server, files async throws in
                let group = try ReactorGroup(count: 1, name: "tls-stale")
                defer { group.shutdown() }
                let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 1, tls: trusting(files)), group: group)
                try await client.ping()
                let value = [UInt8](repeating: 0x61, count: 4 << 20)
                for _ in 0..<3 {
                    let left = await withCheckedContinuation { (done: CheckedContinuation<Bool, Never>) in
                        group.reactors[0].execute {
                            #expect(BIO_new_file("/nonexistent/redisutil-test", "r") == nil)
                            done.resume(returning: ERR_peek_error() != 0)
                        }
                    }
                    #expect(left, "the failed BIO left no error to test with")
                    // Reads across many records and partial writes: calls that want the socket.
                    try await client.send("SET", "big", value)
                    #expect(try await client.send("GET", "big").bytes == value)
                }
                await client.close()
            }
        }

        @Test("1,000 TLS connections on one reactor")
        func manyConnections() async throws {
            let count = TestScale.count(1000, minimum: 50)
            try await withTLSServer { server, files async throws in
                let group = try ReactorGroup(count: 1, name: "tls-many")
                defer { group.shutdown() }
                let client = try RedisClient(.tcp(host: server.host, port: server.port),
                                             configuration: .init(connectTimeout: .seconds(60), connections: count, tls: trusting(files)), group: group)
                try await withThrowingTaskGroup(of: Void.self) { tasks in
                    for _ in 0..<(count * 2) { tasks.addTask { try await client.ping() } }
                    try await tasks.waitForAll()
                }
                let probe = ServerProbe(client: client)
                #expect(try await probe.connectedClients() >= count - 1)
                await client.close()
            }
        }
    }
}
