import Foundation
import Dispatch
import Glibc
import Reactor
import RedisUtil
import RESP
import Synchronization
import Testing
import TestSupport

/// The client's own background work (a callback's blocking command, unblocking a
/// cancelled one, a subscription's heartbeat) runs on its reactors, never on Swift's
/// global pool, which an application may fill with blocking work.
@Suite("The client's own work never waits for Swift's global pool", .serialized, .timeLimit(.minutes(2)))
struct GlobalPoolIndependenceTests {
    /// Before the fix: a callback `BLPOP` with no idle blocking connection ran in a task
    /// on the global pool, so with the pool's threads all blocked it never went out, and
    /// its completion, when it came, ran on a pool thread rather than a reactor thread.
    @Test("a callback BLPOP completes, on a reactor thread, while every thread of the global pool is blocked")
    func callbackBlockingCommandWithThePoolBlocked() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                try await client.ping()
                let observed = await onOwnThread { () -> (value: String?, onReactor: Bool)? in
                    withGlobalPoolBlocked {
                        let done = DispatchSemaphore(value: 0)
                        let outcome = Mutex<(value: String?, onReactor: Bool)?>(nil)
                        client.send("BLPOP", "queue", "5") { reply in
                            let value = (try? reply.get())?.array?.last?.string
                            outcome.withLock { $0 = (value, Reactor.isReactorThread) }
                            done.signal()
                        }
                        client.send("RPUSH", "queue", "job") { _ in }
                        guard done.wait(timeout: .now() + 10) == .success else { return nil }
                        return outcome.withLock { $0 }
                    }
                }
                let result = try #require(observed, "the callback BLPOP did not complete within 10 s while the global pool was blocked")
                #expect(result.value == "job")
                #expect(result.onReactor, "the completion ran off the reactor threads")
            }
        }
    }

    /// Before the fix: unblocking a cancelled `BLPOP` (`CLIENT UNBLOCK`, repeated until
    /// answered) ran in a task on the global pool, so with the pool's threads all blocked
    /// a task that prefers a reactor stayed blocked on the server, cancelled or not.
    @Test("a cancelled BLPOP of a task on a reactor ends while every thread of the global pool is blocked")
    func cancelledBlockingCommandWithThePoolBlocked() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                let group = try ReactorGroup(count: 1)
                defer { group.shutdown() }
                let client = try RedisClient(.tcp(host: server.host, port: server.port), group: group)
                do {
                    let ended = DispatchSemaphore(value: 0)
                    let outcome = Mutex<Result<RESPValue, RedisError>?>(nil)
                    let waiting = Task(executorPreference: group.reactors[0]) {
                        let result: Result<RESPValue, RedisError>
                        do { result = .success(try await client.send("BLPOP", "never", 0)) }
                        catch { result = .failure(error as? RedisError ?? .cancelled) }
                        outcome.withLock { $0 = result }
                        ended.signal()
                    }
                    #expect(try await probe.eventually { try await probe.infoClients("blocked_clients") == 1 })
                    let endedInTime = await onOwnThread {
                        withGlobalPoolBlocked {
                            waiting.cancel()
                            return ended.wait(timeout: .now() + 10) == .success
                        }
                    }
                    #expect(endedInTime, "the cancelled BLPOP was still blocked 10 s later, with the global pool busy")
                    await waiting.value
                    #expect(outcome.withLock { $0 } == .failure(.cancelled))
                }
                await client.close()
            }
        }
    }

    /// A continuation resumes on the generic executor: for an actor whose executor is a
    /// reactor, that is the global pool unless its task prefers the reactor too (the
    /// README's recipe), whose commands then never wait for that pool.
    @Test("an actor on a reactor, called from a task preferring that reactor, awaits its commands while every thread of the global pool is blocked")
    func reactorActorWithThePoolBlocked() async throws {
        try await withServer { server async throws in
            let group = try ReactorGroup(count: 1)
            defer { group.shutdown() }
            let client = try RedisClient(.tcp(host: server.host, port: server.port), group: group)
            let pusher = ReactorPusher(group.reactors[0])
            let outcome = await onOwnThread { () -> (pushed: Int, onReactor: Bool)? in
                withGlobalPoolBlocked {
                    let done = DispatchSemaphore(value: 0)
                    let result = Mutex<(pushed: Int, onReactor: Bool)?>(nil)
                    Task(executorPreference: group.reactors[0]) {
                        let pushed = await pusher.push(10, to: "actor-list", on: client)
                        result.withLock { $0 = pushed }
                        done.signal()
                    }
                    guard done.wait(timeout: .now() + 10) == .success else { return nil }
                    return result.withLock { $0 }
                }
            }
            let pushed = try #require(outcome, "the actor's commands did not complete within 10 s while the global pool was blocked")
            #expect(pushed.pushed == 10)
            #expect(pushed.onReactor, "the actor's code ran off its reactor after an await")
            #expect(try await client.send("LLEN", "actor-list").int == 10)
            await client.close()
        }
    }

    /// Before the fix: the pool's fetch loop and its lease script ran on the global pool,
    /// so a pool whose application had filled that pool with other work stopped taking
    /// requests (a loaded test run saw a pool serve none of 50 requests in 10 s).
    @Test("a channel serve pool keeps serving requests while every thread of the global pool is blocked")
    func servePoolWithThePoolBlocked() async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let worker = RedisChannel(client: client, "/pool/blocked", peer: .server)
                let pool = RedisChannelServer(worker, as: String.self, concurrency: 2) { "done " + $0.message }
                let running = Task { try await pool.run() }
                // Serving: one request answered before the pool is blocked.
                try await client.send("RPUSH", "/pool/blocked/client", "\"warm\"")
                #expect(try await client.send("BLPOP", "/pool/blocked/server", 10).array?.last?.string == "\"done warm\"")
                let reply = await onOwnThread { () -> String? in
                    withGlobalPoolBlocked {
                        let done = DispatchSemaphore(value: 0)
                        let outcome = Mutex<String?>(nil)
                        client.send("RPUSH", "/pool/blocked/client", "\"cold\"") { _ in }
                        client.send("BLPOP", "/pool/blocked/server", "10") { reply in
                            outcome.withLock { $0 = (try? reply.get())?.array?.last?.string }
                            done.signal()
                        }
                        guard done.wait(timeout: .now() + 10) == .success else { return nil }
                        return outcome.withLock { $0 }
                    }
                }
                #expect(reply == "\"done cold\"", "the pool did not answer within 10 s while the global pool was blocked")
                pool.stop()
                try await running.value
            }
        }
    }

    /// Before the fix: `waitServeBlocking` ran its wait in a task on the global pool and
    /// blocked its caller; with the pool's threads all blocked (two callers on them are
    /// enough, on two cores) the wait never ran.
    @Test("waitServeBlocking returns while every thread of the global pool is blocked")
    func waitServeBlockingWithThePoolBlocked() async throws {
        try await withServer { server async throws in
            let endpoint = RedisEndpoint.tcp(host: server.host, port: server.port)
            let returned = await onOwnThread { () -> Bool in
                withGlobalPoolBlocked {
                    let done = DispatchSemaphore(value: 0)
                    Thread.detachNewThread {
                        if (try? RedisClient.waitServeBlocking(endpoint, timeout: .seconds(5))) != nil { done.signal() }
                    }
                    return done.wait(timeout: .now() + 10) == .success
                }
            }
            #expect(returned, "waitServeBlocking did not return within 10 s while the global pool was blocked")
        }
    }
}

/// Runs `body` (on the calling thread, which must not be one of the pool's) while more
/// tasks than the global pool has threads block, so that no task queued meanwhile can
/// run; releases them when `body` returns.
private func withGlobalPoolBlocked<T>(_ body: () -> T) -> T {
    let blockers = 64
    let pool = PoolBlockers()
    for _ in 0..<blockers { Task.detached { pool.hold() } }
    defer { for _ in 0..<blockers { pool.release.signal() } }
    // Until the pool's threads have each taken a blocker, and a moment more for any
    // thread that starts late: the others stay queued behind them.
    while pool.running.load(ordering: .relaxed) == 0 { usleep(1_000) }
    usleep(200_000)
    return body()
}

/// An actor whose executor is a reactor.
private actor ReactorPusher {
    let reactor: Reactor
    init(_ reactor: Reactor) { self.reactor = reactor }
    nonisolated var unownedExecutor: UnownedSerialExecutor { reactor.asUnownedSerialExecutor() }

    /// Pushes `count` items one awaited `RPUSH` at a time: how many succeeded, and whether
    /// the actor's code was back on the reactor thread after every one.
    func push(_ count: Int, to key: String, on client: RedisClient) async -> (pushed: Int, onReactor: Bool) {
        var pushed = 0
        var onReactor = true
        for item in 0..<count {
            if (try? await client.send("RPUSH", key, item)) != nil { pushed += 1 }
            onReactor = onReactor && Reactor.isReactorThread
        }
        return (pushed, onReactor)
    }
}

/// Tasks that take a pool thread each and hold it until released.
private final class PoolBlockers: Sendable {
    let release = DispatchSemaphore(value: 0)
    let running = Atomic<Int>(0)

    func hold() {
        running.add(1, ordering: .relaxed)
        release.wait()
    }
}
