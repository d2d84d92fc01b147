#if canImport(Glibc)
import Glibc
#endif
import Foundation
import LocalRedis
import Reactor
import RedisUtil
import RESP
import Testing
import TestSupport

@Suite("Client features: URL edge cases, handshake under ACLs, shared after close, waitServe bounds, typed helpers", .timeLimit(.minutes(4)))
struct ClientFeatureEdgeCaseTests {
    /// A RESP3 `HELLO` reply, as the fake servers below answer the handshake.
    static let hello = "%1\r\n$5\r\nproto\r\n:3\r\n"
    /// A loading server's reply to `PING`.
    static let loading = "-LOADING Redis is loading the dataset in memory\r\n"

    /// `waitServe` against `server` for 3 s must fail, its reason naming LOADING.
    static func expectNotServingWhileLoading(_ server: FakeServer) async throws {
        do {
            try await RedisClient.waitServe(.tcp(host: "127.0.0.1", port: server.port), timeout: .seconds(3))
            Issue.record("waitServe returned while the server answered LOADING")
        } catch RedisError.connectionFailed(_, let reason) {
            #expect(reason.contains("LOADING"), "\(reason)")
        }
    }
    static let protocols: [RedisConfiguration.ProtocolVersion] = [.resp3, .resp2]

    // MARK: Findings

    @Test("a URL mistyped without '://' never echoes its password in the error", arguments: [
        "redis:/alice:hunter2@h:6379",
        "redis:alice:hunter2@h",
        "redis//:hunter2@h",
    ])
    func malformedSchemeRedactsPassword(url: String) {
        do {
            let endpoint = try RedisEndpoint(url: url)
            Issue.record("parsed \(endpoint)")
        } catch {
            #expect(!error.description.contains("hunter2"), "\(error)")
        }
    }

    @Test("RedisClient.shared after the shared client was closed hands out a working client")
    func sharedAfterClose() async throws {
        try await withServer { server async throws in
            let endpoint = RedisEndpoint.tcp(host: server.host, port: server.port)
            let first = try RedisClient.shared(endpoint)
            #expect(try await first.ping() == "PONG")
            await first.close()
            let second = try RedisClient.shared(endpoint)
            #expect(!second.isClosed, "shared(_:) returned the closed client")
            do {
                #expect(try await second.ping() == "PONG")
            } catch {
                Issue.record("shared client unusable after close: \(error)")
            }
            await second.close()
        }
    }

    @Test("an out-of-range port on a programmatic endpoint is an error, not a crash")
    func outOfRangePortDoesNotTrap() {
        // Before the fix UInt16(port) trapped on the reactor thread at the first command.
        #expect(throws: RedisError.invalidArgument("port 70000 is outside 1…65535")) {
            try RedisClient(.tcp(host: "127.0.0.1", port: 70_000))
        }
        #expect(throws: RedisError.self) { try RedisClient(0) }
        #expect(throws: RedisError.self) { try RedisClient(.tcp(host: "localhost", port: -1)) }
    }

    @Test("an IPv6 zone ID written %25 in a URL (RFC 6874) reaches the resolver as '%'")
    func ipv6ZoneIsPercentDecoded() async throws {
        // Every host has "lo"; glibc resolves "fe80::1%lo" but not "fe80::1%25lo".
        let endpoint = try RedisEndpoint(url: "redis://[fe80::1%25lo]:6379")
        #expect(endpoint.address == .tcp(host: "fe80::1%lo", port: 6379))
        let configuration = RedisConfiguration(connectTimeout: .milliseconds(300), connections: 1)
        try await withClient(endpoint, configuration: configuration) { client async throws in
            do {
                try await client.ping()
            } catch RedisError.connectionFailed(_, let reason) {
                // Nobody listens there; the point is that the address resolves at all.
                #expect(!reason.contains("cannot resolve"), "\(reason)")
            } catch {}
        }
    }

    @Test("a percent-encoded unix socket path is decoded, as redis-py's from_url does")
    func unixPathIsPercentDecoded() async throws {
        try await withServer(.init(unixSocket: true)) { server async throws in
            let path = try #require(server.unixSocketPath)
            // "redis.sock" with its first letter escaped.
            let encoded = path.replacingOccurrences(of: "/redis.sock", with: "/%72edis.sock")
            let endpoint = try RedisEndpoint(url: "unix://\(encoded)")
            #expect(endpoint.address == .unix(path: path))
        }
    }

    @Test("an ACL user without CLIENT may still connect with a client name, as it does in RESP3", arguments: protocols)
    func clientNameRefusedByACL(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withServer(.init(extraConfig: ["user app on >pw ~* +@all -client"])) { server async throws in
            let configuration = RedisConfiguration(username: "app", password: "pw", clientName: "worker-1", protocolVersion: version, connections: 1)
            try await withClient(server, configuration: configuration) { client async throws in
                do {
                    #expect(try await client.ping() == "PONG")
                    #expect(try await client.send("ACL", "WHOAMI").string == "app")
                } catch {
                    Issue.record("\(version): \(error)")
                }
            }
        }
    }

    @Test("SCAN and keys that are not UTF-8: scanBytes reads them, scan says which method to use, listChannels skips them")
    func scanWithBinaryKey() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let binary: [UInt8] = [0x6B, 0xFF, 0xFE]
                try await client.send("SET", RESPBytesArgument(binary), "binary")
                try await client.set("k:text", "text")
                var bytes: [[UInt8]] = []
                for try await key in client.scanBytes(match: "k*") { bytes.append(key) }
                #expect(Set(bytes) == [binary, Array("k:text".utf8)])
                // The String form cannot hold the key: a clear error naming the way out, not
                // a lossy name that would address another key.
                await #expect {
                    for try await _ in client.scan(match: "k*") {}
                } throws: { error in
                    guard case RedisError.unexpectedReply(let conversion) = error else { return false }
                    return "\(conversion)".contains("scanBytes")
                }
                // Before the fix, listChannels stopped at such a key.
                try await client.send("RPUSH", RESPBytesArgument(Array("/jobs/".utf8) + [0xFF] + Array("/client".utf8)), "x")
                try await client.send("RPUSH", "/jobs/a/client", "x")
                #expect(try await RedisChannel.listChannels(client: client, prefix: "/jobs/") == ["/jobs/a"])
            }
        }
    }

    @Test("waitServe honours its timeout when the handshake is answered but PING never completes")
    func waitServeStalledPing() async throws {
        // HELLO is answered; the reply to PING stops half-way, as from a server that stalls.
        let fake = try FakeServer(scripts: [[Self.hello, "$10\r\nPON"]])
        defer { fake.stop() }
        // waitServe in a task preferring a reactor of its own and the hang guard on a
        // thread of its own: the suites running beside this one can keep Swift's global
        // pool (two threads) busy for many seconds, which is not what this measures (with
        // both on that pool, this test took 10 to 30 s, and failed once under TSan).
        let group = try ReactorGroup(count: 1)
        defer { group.shutdown() }
        let ended = DispatchSemaphore(value: 0)
        let outcome = Locked<Result<Void, RedisError>?>(nil)
        let waiting = Task(executorPreference: group.reactors[0]) {
            let result: Result<Void, RedisError>
            do {
                try await RedisClient.waitServe(.tcp(host: "127.0.0.1", port: fake.port), timeout: .milliseconds(500))
                result = .success(())
            } catch {
                result = .failure(error as? RedisError ?? .cancelled)
            }
            outcome.withLock { $0 = result }
            ended.signal()
        }
        // A hang guard 20 times the timeout asked for, not a speed bound.
        let endedInTime = await onOwnThread { ended.wait(timeout: .now() + 10) == .success }
        if !endedInTime { waiting.cancel() }
        #expect(endedInTime, "waitServe(timeout: 500 ms) still waiting after 10 s (it waits for the 30 s liveness timeout)")
        await waiting.value
        guard case .failure(RedisError.connectionFailed)? = outcome.withLock({ $0 }) else {
            Issue.record("expected connectionFailed, got \(String(describing: outcome.withLock { $0 }))")
            return
        }
    }

    // MARK: Coverage no existing test has

    @Test("IPv6 loopback: redis://[::1]:port and .tcp(host: \"::1\") connect")
    func ipv6Loopback() async throws {
        try await withServer(.init(extraConfig: ["bind 127.0.0.1 ::1"])) { server async throws in
            try await withClient(try RedisEndpoint(url: "redis://[::1]:\(server.port)/1")) { client async throws in
                try await client.set("v6", "yes")
                let info = try await client.send("CLIENT", "INFO").string ?? ""
                #expect(info.contains("addr=[::1]") || info.contains("addr=::1"), "\(info)")
                #expect(info.contains(" db=1 "), "\(info)")
            }
            try await withClient(.tcp(host: "::1", port: server.port), configuration: .init(database: 1)) { client async throws in
                #expect(try await client.get("v6") == "yes")
            }
        }
    }

    @Test("passwords with spaces, CR LF, ':' '@' '/' and non-ASCII survive the handshake, configured or percent-encoded in a URL", arguments: protocols)
    func awkwardPassword(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withServer { server async throws in
            let password = "p w\r\n:@/?#%é\u{0}end"
            try await withClient(server) { admin async throws in
                try await admin.send("ACL", "SETUSER", "odd", "on", ">" + password, "~*", "+@all")
            }
            try await withClient(server, configuration: .init(username: "odd", password: password, protocolVersion: version, connections: 1)) { client async throws in
                #expect(try await client.send("ACL", "WHOAMI").string == "odd")
            }
            let escaped = password.utf8.map { String(format: "%%%02X", $0) }.joined()
            let url = try RedisEndpoint(url: "redis://odd:\(escaped)@127.0.0.1:\(server.port)")
            #expect(url.password == password)
            try await withClient(url, configuration: .init(protocolVersion: version, connections: 1)) { client async throws in
                #expect(try await client.send("ACL", "WHOAMI").string == "odd")
            }
        }
    }

    @Test("waitServe against a port that accepts but never answers gives up with connectionFailed naming the endpoint")
    func waitServeSilentServer() async throws {
        try await withServer { server async throws in
            try server.pause()
            defer { try? server.resume() }
            let endpoint = RedisEndpoint.tcp(host: server.host, port: server.port)
            do {
                try await RedisClient.waitServe(endpoint, timeout: .milliseconds(500))
                Issue.record("waitServe returned for a silent server")
            } catch RedisError.connectionFailed(let named, let reason) {
                #expect(named == endpoint.description)
                #expect(reason.contains("not serving"), "\(reason)")
            }
            try server.resume()
            try await RedisClient.waitServe(endpoint, timeout: .seconds(30))
        }
    }

    @Test("waitServe keeps waiting while the server answers LOADING, and returns once it answers PONG")
    func waitServeLoading() async throws {
        let stillLoading = try FakeServer(scripts: [[Self.hello, Self.loading]])
        defer { stillLoading.stop() }
        // 3 s: long enough for a PING's LOADING to come back on a loaded machine and under
        // the thread sanitizer (at 300 ms, in a clean-clone run of the parallel suites and
        // under the sanitizer, the PING itself timed out first). A later PING that times
        // out in a stall keeps the LOADING in the reason (the test below).
        try await Self.expectNotServingWhileLoading(stillLoading)
        let recovering = try FakeServer(scripts: [[Self.hello, Self.loading, Self.loading, Self.loading, "+PONG\r\n"]])
        defer { recovering.stop() }
        try await RedisClient.waitServe(.tcp(host: "127.0.0.1", port: recovering.port), timeout: .seconds(30))
    }

    @Test("waitServe's error keeps the server's LOADING answer when the PINGs after it time out")
    func waitServeKeepsTheLastAnswer() async throws {
        // On every connection, LOADING to the first PING, then silence (an empty reply to
        // every later input). A LOADING comes back at once and a silent attempt takes its
        // whole second, so the deadline falls on a silent attempt (almost always: after a
        // long stall the one attempt may be a LOADING one, and the test then shows less);
        // and each reconnection gets a LOADING again, so a stall cannot keep every answer away.
        let thenSilent = try FakeServer(scripts: [[Self.hello, Self.loading, ""]])
        defer { thenSilent.stop() }
        try await Self.expectNotServingWhileLoading(thenSilent)
    }

    @Test("RedisClient.shared from many threads with different endpoints: one instance per endpoint")
    func sharedManyEndpoints() async throws {
        try await withServer { server async throws in
            let endpoints: [RedisEndpoint] = [
                .tcp(host: server.host, port: server.port),
                try RedisEndpoint(url: "redis://127.0.0.1:\(server.port)/1"),
                try RedisEndpoint(url: "redis://127.0.0.1:\(server.port)/2"),
                try RedisEndpoint(url: "redis://:pw@127.0.0.1:\(server.port)/3"),
            ]
            let ids = try await withThrowingTaskGroup(of: (Int, ObjectIdentifier).self) { group in
                for round in 0..<32 {
                    let index = round % endpoints.count
                    group.addTask { (index, ObjectIdentifier(try RedisClient.shared(endpoints[index]))) }
                }
                var ids: [Int: Set<ObjectIdentifier>] = [:]
                for try await (index, id) in group { ids[index, default: []].insert(id) }
                return ids
            }
            #expect(ids.values.allSatisfy { $0.count == 1 })
            #expect(Set(ids.values.flatMap { $0 }).count == endpoints.count)
            for (index, endpoint) in endpoints.enumerated() {
                let client = try RedisClient.shared(endpoint)
                let info = try await client.send("CLIENT", "INFO").string ?? ""
                #expect(info.contains(" db=\(index) "), "\(info)")
                await client.close()
            }
        }
    }

    @Test("typed helpers decode RESP2 replies (flat HGETALL, *-1 nulls, integer booleans) like RESP3 ones", arguments: protocols)
    func typedHelpersBothProtocols(version: RedisConfiguration.ProtocolVersion) async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(protocolVersion: version)) { client async throws in
                #expect(try await client.hset("h", [("a", "1"), ("b", "2")]) == 2)
                #expect(try await client.hgetall("h") == ["a": "1", "b": "2"])
                #expect(try await client.hgetall("missing") == [:])
                #expect(try await client.lpop("missing", count: 3) == [])
                #expect(try await client.rpop("missing", count: 3) == [])
                #expect(try await client.lpop("missing") == nil)
                #expect(try await client.hget("h", "zz") == nil)
                #expect(try await client.blpop("missing", timeout: .milliseconds(50)) == nil)
                #expect(try await client.blmove("missing", "dst", from: .left, to: .right, timeout: .milliseconds(50)) == nil)
                try await client.set("k", "v")
                #expect(try await client.expire("k", seconds: 100))
                #expect(try await !client.expire("missing", seconds: 100))
                #expect(try await client.ttl("missing") == -2)
                #expect(try await client.rpush("q", "x") == 1)
                #expect(try await client.blpop("q", timeout: .seconds(1)).map { [$0.key, $0.value] } == ["q", "x"])
                var keys: [String] = []
                for try await key in client.scan(match: "[hk]", count: 1) { keys.append(key) }
                #expect(keys.sorted() == ["h", "k"])
            }
        }
    }
}
