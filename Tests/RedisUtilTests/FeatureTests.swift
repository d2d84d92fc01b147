import TestSupport
import Foundation
import LocalRedis
import RedisUtil
import RESP
import Synchronization
import Testing

@Suite("Client features: pipelines, transactions, scripts, SCAN, typed helpers, shared, waitServe, close")
struct FeatureTests {
    @Test("a pipeline returns each outcome in order; one error reply fails only its command")
    func pipeline() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let replies = try await client.pipeline { p in
                    p.send("SET", "k", "v")
                    p.send("RPUSH", "k", "x")
                    p.send(arguments: ["GET", "k"])
                    p.send(arguments: [])
                    p.send("INCRBY", "n", 5)
                }
                #expect(replies.count == 4)
                #expect((try? replies[0].get())?.isOK == true)
                guard case .failure(.server(let message)) = replies[1] else { Issue.record("\(replies[1])"); return }
                #expect(message.hasPrefix("WRONGTYPE"))
                #expect((try? replies[2].get())?.string == "v")
                #expect((try? replies[3].get())?.int == 5)
                #expect(try await client.pipeline { _ in }.isEmpty)

                // The callback form.
                var batch = RedisPipeline()
                for index in 0..<100 { batch.send("ECHO", index) }
                let echoed: [Result<RESPValue, RedisError>] = try await withCheckedThrowingContinuation { continuation in
                    client.pipeline(batch) { continuation.resume(with: $0) }
                }
                #expect(echoed.map { (try? $0.get())?.string } == (0..<100).map { String($0) })
            }
        }
    }

    @Test("MULTI/EXEC: results per command, runtime errors inside, EXECABORT on a queueing error")
    func transactions() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let results = try await client.transaction { t in
                    t.send("SET", "a", "1")
                    t.send("INCR", "a")
                    t.send("LPUSH", "a", "x")
                    t.send("GET", "a")
                }
                #expect(results.count == 4)
                #expect((try? results[1].get())?.int == 2)
                guard case .failure(.server(let message)) = results[2] else { Issue.record("\(results[2])"); return }
                #expect(message.hasPrefix("WRONGTYPE"))
                #expect((try? results[3].get())?.string == "2")

                do {
                    _ = try await client.transaction { t in
                        t.send("SET", "b", "1")
                        t.send("NOSUCHCOMMAND", "x")
                    }
                    Issue.record("a transaction with an unknown command ran")
                } catch RedisError.server(let message) {
                    #expect(message.contains("transaction discarded"), "\(message)")
                    #expect(message.contains("unknown command"), "\(message)")
                }
                #expect(try await client.exists("b") == 0)
                #expect(try await client.transaction { _ in }.isEmpty)
            }
        }
    }

    @Test("transactions from many tasks never interleave")
    func concurrentTransactions() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<16 {
                        group.addTask {
                            for round in 0..<TestScale.count(50, minimum: 10) {
                                let results = try await client.transaction { t in
                                    t.send("DEL", "tx:\(task)")
                                    t.send("RPUSH", "tx:\(task)", "a", "b", "c")
                                    t.send("LRANGE", "tx:\(task)", 0, -1)
                                }
                                let range = try results[2].get().array?.compactMap(\.string)
                                #expect(range == ["a", "b", "c"], "task \(task) round \(round)")
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test("EVALSHA loads the script once and again after SCRIPT FLUSH (NOSCRIPT)")
    func scripts() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
                #expect(try await client.eval(script, keys: ["s"], arguments: [2]).int == 2)
                #expect(try await client.eval(script, keys: ["s"], arguments: [3]).int == 5)
                let sha = try await client.send("SCRIPT", "LOAD", script.source).string ?? ""
                #expect(try await client.send("SCRIPT", "EXISTS", sha).array?.first?.int == 1)
                try await client.send("SCRIPT", "FLUSH")
                #expect(try await client.send("SCRIPT", "EXISTS", sha).array?.first?.int == 0)
                #expect(try await client.eval(script, keys: ["s"], arguments: [1]).int == 6)
                #expect(try await client.send("SCRIPT", "EXISTS", sha).array?.first?.int == 1)
                #expect(try await client.eval(source: "return ARGV[1]", arguments: ["plain"]).string == "plain")
                await #expect(throws: RedisError.self) { try await client.eval(RedisScript("return redis.call('NOSUCH')")) }
            }
        }
    }

    @Test("SCAN as an AsyncSequence visits every matching key across pages")
    func scan() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let count = 1_000
                let replies = try await client.pipeline { p in
                    for index in 0..<count { p.send("SET", "scan:\(index)", index) }
                    p.send("SET", "other", 1)
                    p.send("RPUSH", "scan:list", "x")
                }
                #expect(replies.allSatisfy { (try? $0.get()) != nil })
                var seen = Set<String>()
                for try await key in client.scan(match: "scan:*", count: 50) { seen.insert(key) }
                #expect(seen.count == count + 1)
                #expect(!seen.contains("other"))
                var lists: [String] = []
                for try await key in client.scan(match: "scan:*", type: "list") { lists.append(key) }
                #expect(lists == ["scan:list"])
                var none = 0
                for try await _ in client.scan(match: "absent:*") { none += 1 }
                #expect(none == 0)
            }
        }
    }

    @Test("typed helpers decode their replies")
    func typedHelpers() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                #expect(try await client.ping() == "PONG")
                #expect(try await client.get("missing") == nil)
                try await client.set("k", "v")
                #expect(try await client.get("k") == "v")
                try await client.set("ttl", "v", expiration: .seconds(100))
                #expect((1...100).contains(try await client.ttl("ttl")))
                #expect(try await client.expire("k", seconds: 50))
                #expect(try await client.pexpire("k", milliseconds: 50_000))
                #expect(try await !client.expire("missing", seconds: 5))
                #expect(try await client.execute(.incr("counter", by: 7)) == 7)
                #expect(try await client.exists("k", "ttl", "missing") == 2)
                #expect(try await client.del("k", "ttl", "missing") == 2)
                #expect(try await client.rpush("l", "a", "b", "c") == 3)
                #expect(try await client.lpush("l", "z") == 4)
                #expect(try await client.lrange("l", 0, -1) == ["z", "a", "b", "c"])
                #expect(try await client.lindex("l", 1) == "a")
                #expect(try await client.llen("l") == 4)
                #expect(try await client.lpop("l") == "z")
                #expect(try await client.rpop("l") == "c")
                #expect(try await client.lpop("l", count: 5) == ["a", "b"])
                #expect(try await client.lpop("l") == nil)
                // One value takes the fixed-arity form; bytes are one value, not several.
                #expect(try await client.rpush("one", "a") == 1)
                #expect(try await client.rpush("one", Array("b c".utf8)) == 2)
                #expect(try await client.lpush("one", 7) == 3)
                #expect(try await client.lrange("one", 0, -1) == ["7", "a", "b c"])
                #expect(try await client.rpush("m", "1", "2") == 2)
                #expect(try await client.rpop("m", count: 1) == ["2"])
                #expect(try await client.lmove("m", "n", from: .left, to: .right) == "1")
                #expect(try await client.hset("h", [("a", "1"), ("b", "2")]) == 2)
                #expect(try await client.hget("h", "a") == "1")
                #expect(try await client.hget("h", "zz") == nil)
                #expect(try await client.hgetall("h") == ["a": "1", "b": "2"])
                #expect(try await client.hdel("h", "a", "zz") == 1)
                #expect(try await !client.clientUnblock(999_999))
                // A reply of the wrong type is a decode error, not a crash.
                try await client.set("str", "x")
                do {
                    _ = try await client.llen("h")
                    Issue.record("LLEN on a hash succeeded")
                } catch RedisError.server(let message) {
                    #expect(message.hasPrefix("WRONGTYPE"))
                }
                await #expect(throws: RedisError.self) { try await client.execute(.incr("str")) }
                // Callback form of a typed command.
                let value: String? = try await withCheckedThrowingContinuation { continuation in
                    client.execute(.get("str")) { continuation.resume(with: $0) }
                }
                #expect(value == "x")
                let mismatch: Result<Int, RedisError> = await withCheckedContinuation { continuation in
                    client.execute(RedisCommand<Int>("GET", "str") { v throws(RESPConversionError) in try v.asInt() }) {
                        continuation.resume(returning: $0)
                    }
                }
                guard case .failure(.unexpectedReply) = mismatch else { Issue.record("\(mismatch)"); return }
                await #expect(throws: RedisError.invalidArgument("a command needs at least its name")) {
                    try await client.send(arguments: [])
                }
            }
        }
    }

    @Test("RedisClient.shared returns one instance per endpoint, from many threads at once")
    func shared() async throws {
        try await withServer { server async throws in
            let endpoint = RedisEndpoint.tcp(host: server.host, port: server.port)
            let clients = try await withThrowingTaskGroup(of: ObjectIdentifier.self) { group in
                for _ in 0..<32 {
                    group.addTask { ObjectIdentifier(try RedisClient.shared(endpoint)) }
                }
                var ids = Set<ObjectIdentifier>()
                for try await id in group { ids.insert(id) }
                return ids
            }
            #expect(clients.count == 1)
            let client = try RedisClient.shared(endpoint)
            #expect(clients.first == ObjectIdentifier(client))
            #expect(try await client.ping() == "PONG")
            let other = try RedisClient.shared(.tcp(host: server.host, port: server.port + 1))
            #expect(other !== client)
            await client.close()
        }
    }

    @Test("waitServe returns for a live server and names the endpoint when a dead port times out")
    func waitServe() async throws {
        try await withServer { server async throws in
            try await RedisClient.waitServe(.tcp(host: server.host, port: server.port), timeout: .seconds(60))
            try RedisClient.waitServeBlocking(.tcp(host: server.host, port: server.port), timeout: .seconds(60))
        }
        let reserved = try ReservedPort()
        defer { withExtendedLifetime(reserved) {} }
        let deadPort = reserved.port
        let endpoint = RedisEndpoint.tcp(host: "127.0.0.1", port: deadPort)
        do {
            // Three seconds: several attempts of a second each (the step is the timeout, up
            // to one), so the reason is a refusal's even if one attempt's timer came first
            // on a loaded machine (at 300 ms, a single attempt, it did not always).
            try await RedisClient.waitServe(endpoint, timeout: .seconds(3))
            Issue.record("waitServe succeeded on a closed port")
        } catch let error as RedisError {
            guard case .connectionFailed(let named, _) = error else { Issue.record("\(error)"); return }
            #expect(named == "127.0.0.1:\(deadPort)")
            // The cause, and the endpoint once (it was named twice, or the cause was
            // hidden behind "PING got no reply").
            #expect(error.description.contains("refused"), "\(error)")
            #expect(error.description.components(separatedBy: "127.0.0.1:\(deadPort)").count == 2, "\(error)")
        }
    }

    @Test("close(): commands in flight finish, later ones fail with .closed; idempotent")
    func close() async throws {
        try await withServer(.init(extraConfig: ["enable-debug-command yes"])) { server async throws in
            let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 2))
            try await client.ping()
            let total = 2_000
            let outcomes = Locked<(ok: Int, other: [RedisError])>((0, []))
            let done = Counter()
            for index in 0..<total {
                client.send("ECHO", index) { result in
                    outcomes.withLock { state in
                        if case .success(let value) = result, value.string == String(index) { state.ok += 1 }
                        else if case .failure(let error) = result { state.other.append(error) }
                    }
                    done.add()
                }
            }
            // A slow command in flight: close waits for it. Submitted with a callback, so
            // it is queued before close() starts (a task given 20 ms to send it sometimes
            // had not started yet on the loaded machine, and its command failed .closed).
            let slow = Locked<Result<RESPValue, RedisError>?>(nil)
            client.send("DEBUG", "SLEEP", "0.2") { result in slow.withLock { $0 = result } }
            await client.close()
            #expect(client.isClosed)
            #expect(done.value == total)
            #expect(outcomes.withLock { $0.ok } == total)
            #expect(outcomes.withLock { $0.other }.isEmpty)
            #expect(try slow.withLock { $0 }?.get().isOK == true)

            await #expect(throws: RedisError.closed) { try await client.ping() }
            let callback: Result<RESPValue, RedisError> = await withCheckedContinuation { continuation in
                client.send("PING") { continuation.resume(returning: $0) }
            }
            #expect(callback == .failure(.closed))
            await #expect(throws: RedisError.closed) { try await client.blpop("x", timeout: .seconds(1)) }
            await #expect(throws: RedisError.closed) { try await client.pipeline { $0.send("PING") } }
            await client.close()

            // Commands submitted before the first connection is even up still finish.
            let fresh = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 1))
            let early = Counter()
            let earlyFailures = Locked<[RedisError]>([])
            for index in 0..<100 {
                fresh.send("ECHO", index) { result in
                    switch result {
                    case .success(let value) where value.string == String(index): early.add()
                    case .success(let value): earlyFailures.withLock { $0.append(.invalidArgument("wrong reply \(value)")) }
                    case .failure(let error): earlyFailures.withLock { $0.append(error) }
                    }
                }
            }
            await fresh.close()
            #expect(early.value == 100)
            #expect(earlyFailures.withLock { $0 }.isEmpty)
        }
    }
}
