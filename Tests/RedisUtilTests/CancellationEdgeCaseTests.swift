import TestSupport
import Foundation
import LocalRedis
import Reactor
import RedisUtil
import RESP
import Synchronization
import Testing

/// A review of the fixes in e58557b, 73bcbbf, c46b2d5 and 86f771a. Tests whose comment
/// starts "Before the fix" failed on the code as reviewed; "Coverage" ones guard a promise no
/// other test checks.
@Suite("Cancelled blocking commands, dropped clients, reactor teardown", .timeLimit(.minutes(4)))
struct CancellationEdgeCaseTests {
    /// `calls` of `CLIENT UNBLOCK` in `INFO commandstats` (0 when never called).
    static func unblockCalls(_ probe: ServerProbe) async throws -> Int {
        let text = try await probe.client.send("INFO", "commandstats").string ?? ""
        for line in text.split(whereSeparator: \.isNewline) where line.hasPrefix("cmdstat_client|unblock:") {
            if let field = line.split(separator: ":", maxSplits: 1).last?.split(separator: ",").first(where: { $0.hasPrefix("calls=") }) {
                return Int(field.dropFirst("calls=".count)) ?? -1
            }
        }
        return 0
    }

    // MARK: Blocking calls

    /// Before the fix: a task already cancelled when it reaches its blocking call never
    /// sends its BLPOP, yet the cancellation handler (run at once by
    /// `withTaskCancellationHandler`) starts the polling task, which never sees the
    /// reply finish: it sends CLIENT UNBLOCK for a command that does not exist and
    /// lives on for the whole liveness timeout.
    @Test("a BLPOP cancelled before it is sent sends no CLIENT UNBLOCK")
    func preCancelledBlockingCommandSendsNoUnblock() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                try await withClient(server, configuration: .init(maxBlockingConnections: 1)) { client async throws in
                    // An idle leased connection, so the cancelled call gets as far as its BlockingCall.
                    #expect(try await client.send("BLPOP", "warm", "0.01").isNull)
                    let before = try await Self.unblockCalls(probe)
                    let cancelled = Task {
                        withUnsafeCurrentTask { $0?.cancel() }
                        return try await client.send("BLPOP", "nothing", 0)
                    }
                    await #expect(throws: RedisError.cancelled) { try await cancelled.value }
                    // Past the poller's 400 ms unblocking window (not a timing assertion: none should ever come).
                    try await Task.sleep(for: .milliseconds(800))
                    let after = try await Self.unblockCalls(probe)
                    #expect(after == before, "\(after - before) CLIENT UNBLOCK sent for a BLPOP that was never sent")
                }
            }
        }
    }

    /// Before the fix (consequence of the above): the cancelled call's lease goes straight back
    /// to the pool, and its stray CLIENT UNBLOCKs, aimed at that connection's client id,
    /// hit the next caller's BLPOP on it: a `BLPOP … 0` from a task nobody cancelled
    /// returns nil (a timeout) although it may only return an element.
    @Test("a BLPOP cancelled before it is sent does not unblock the next BLPOP on its connection")
    func preCancelledBlockingCommandDoesNotUnblockTheNextOne() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(maxBlockingConnections: 1)) { client async throws in
                #expect(try await client.send("BLPOP", "warm", "0.01").isNull)
                let cancelled = Task {
                    withUnsafeCurrentTask { $0?.cancel() }
                    return try await client.send("BLPOP", "nothing", 0)
                }
                await #expect(throws: RedisError.cancelled) { try await cancelled.value }
                // Nobody cancels this one; timeout 0 waits for ever.
                let waiting = Task { try await client.blpop("queue", timeout: .zero) }
                try await Task.sleep(for: .milliseconds(800))
                try await client.rpush("queue", "job")
                let popped = try await waiting.value
                #expect(popped?.value == "job", "BLPOP 0 returned \(String(describing: popped)): unblocked by another call's cancellation")
                _ = try await client.lpop("queue")
            }
        }
    }

    /// Before the fix: the poller sends CLIENT UNBLOCK only during its first 400 ms. When the
    /// BLPOP reaches the server later (here it is queued on a dedicated connection behind a
    /// 2 s script; the server answers others BUSY meanwhile), nothing unblocks it: the
    /// cancelled caller waits for the liveness timeout (30 s), or for ever if no element
    /// ever comes.
    @Test("a dedicated BLPOP cancelled before the server registered it still ends")
    func cancelledBeforeRegisteredEnds() async throws {
        try await withServer(.init(extraConfig: ["busy-reply-threshold 100"])) { server async throws in
            try await withProbe(server) { probe async throws in
                try await withClient(server, configuration: .init(maxBlockingConnections: 2)) { client async throws in
                    try await client.ping()
                    try await client.withDedicatedConnection { connection async throws in
                        let busy = """
                            local s = redis.call('TIME')
                            local t
                            repeat t = redis.call('TIME') until (t[1] - s[1]) * 1000000 + (t[2] - s[2]) > 2000000
                            return 1
                            """
                        // Until the server is inside the script (it answers BUSY). On a loaded
                        // machine this task can miss the whole 2 s window; the script is then
                        // run again, so the BLPOP below always queues behind a running one.
                        var script: Task<RESPValue, any Error>?
                        var insideScript = false
                        for _ in 0..<5 where !insideScript {
                            let ended = Atomic<Bool>(false)
                            script = Task {
                                defer { ended.store(true, ordering: .releasing) }
                                return try await connection.send("EVAL", busy, 0)
                            }
                            _ = try await probe.eventually(limit: .seconds(10)) {
                                do { _ = try await probe.client.send("PING") } catch { insideScript = "\(error)".contains("BUSY") }
                                return insideScript || ended.load(ordering: .acquiring)
                            }
                            if !insideScript { _ = try await script?.value }
                        }
                        try #require(insideScript, "never saw the server inside the script in five tries")
                        let blpop = Task { try await connection.send("BLPOP", "never", 0) }
                        try await Task.sleep(for: .milliseconds(50))
                        blpop.cancel()
                        _ = try await script?.value
                        // Hang guard only: the cancelled caller must end once the server is free.
                        let ended = try await probe.eventually(limit: .seconds(15)) { try await probe.infoClients("blocked_clients") == 0 }
                        #expect(ended, "the cancelled BLPOP is still blocked on the server 15 s after the script ended")
                        if !ended { try await client.send("RPUSH", "never", "release") }
                        _ = try? await blpop.value
                    }
                }
            }
        }
    }

    /// Before the fix: cancelling a BLPOP while `close(gracePeriod:)` runs: CLIENT UNBLOCK now
    /// goes through the closed client and fails, so the cancelled caller waits out the
    /// whole grace period (then gets connectionLost, not .cancelled). Before 73bcbbf it
    /// returned .cancelled at once.
    @Test("a BLPOP cancelled while the client closes ends without waiting out the grace period")
    func cancelDuringClose() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                let client = try RedisClient(.tcp(host: server.host, port: server.port))
                try await client.ping()
                let blpop = Task { try await client.send("BLPOP", "never", 0) }
                #expect(try await probe.eventually { try await probe.infoClients("blocked_clients") == 1 })
                let closing = Task { await client.close(gracePeriod: .seconds(25)) }
                #expect(try await probe.eventually { client.isClosed })
                blpop.cancel()
                let outcome = Locked<Result<RESPValue, any Error>?>(nil)
                let watcher = Task {
                    let result = await blpop.result
                    outcome.withLock { $0 = result }
                }
                // Hang guard: well under the 25 s grace period.
                let ended = try await probe.eventually(limit: .seconds(10)) { outcome.withLock { $0 } != nil }
                #expect(ended, "the cancelled BLPOP waited for close's grace period")
                await closing.value
                await watcher.value
                if case .failure(let error)? = outcome.withLock({ $0 }) {
                    #expect(error as? RedisError == .cancelled, "cancelled BLPOP ended with \(error)")
                }
            }
        }
    }

    /// Before the fix: the blocking call tells "unblocked" from "took something" by a null
    /// reply, but CLIENT UNBLOCK makes WAIT (and WAITAOF) answer a count, not null: a
    /// cancelled `WAIT 1 0` returns 0 as if it had finished, instead of throwing
    /// .cancelled as `send` documents.
    @Test("a cancelled WAIT throws .cancelled")
    func cancelledWaitThrowsCancelled() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                try await withClient(server) { client async throws in
                    try await client.send("SET", "k", "v")
                    let wait = Task { try await client.send("WAIT", 1, 0) }
                    #expect(try await probe.eventually { try await probe.infoClients("blocked_clients") == 1 })
                    wait.cancel()
                    await #expect(throws: RedisError.cancelled) { try await wait.value }
                }
            }
        }
    }

    /// Coverage: repeated cancellations of registered BLPOPs (each racing a push to its
    /// key) reuse one connection, never lose an element, and leave no BLPOP blocked.
    @Test("50 cancel-while-pushing rounds: every element is either returned or still in its list")
    func repeatedCancellationsLoseNothing() async throws {
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                try await withClient(server, configuration: .init(maxBlockingConnections: 1)) { client async throws in
                    var returned = 0
                    var left = 0
                    for round in 0..<50 {
                        let key = "q\(round)"
                        let blpop = Task { try await client.send("BLPOP", key, 0) }
                        #expect(try await probe.eventually { try await probe.infoClients("blocked_clients") == 1 })
                        let push = Task { try await client.send("RPUSH", key, "e") }
                        blpop.cancel()
                        switch await blpop.result {
                        case .success(let reply): if !reply.isNull { returned += 1 }
                        case .failure(let error): #expect(error as? RedisError == .cancelled)
                        }
                        _ = try await push.value
                        left += try await client.send("LLEN", key).int ?? 0
                    }
                    #expect(try await probe.eventually { try await probe.infoClients("blocked_clients") == 0 })
                    #expect(returned + left == 50, "returned \(returned), left \(left): lost \(50 - returned - left)")
                    #expect(try await probe.connectedClients() <= 3, "the pool's one connection was reused")
                }
            }
        }
    }

    // MARK: RedisClient.deinit

    /// Coverage: the last reference to a client that owns its reactors, dropped inside a
    /// callback completion (so deinit runs on one of those reactor threads), and a client
    /// on a caller's group that was shut down first: no crash, no deadlock, and the owned
    /// threads stop. Existing tests drop clients only from a task.
    @Test("a client released inside its own completion, or after its caller's group shut down")
    func clientReleasedOnItsReactor() async {
        await #expect(processExitsWith: .success) {
            func redisThreads() -> Int {
                let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
                return tasks.filter { ((try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8)) ?? "").hasPrefix("redis-") }.count
            }
            let server = try LocalRedisServer()
            defer { server.stop() }
            let holder = Locked<RedisClient?>(try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 2)))
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                let client = holder.withLock { $0! }
                client.send("PING") { _ in
                    let last = holder.withLock { stored -> RedisClient? in
                        defer { stored = nil }
                        return stored
                    }
                    // Released here, on the reactor thread, at the end of this closure.
                    _ = last?.isClosed
                    done.resume()
                }
            }
            let stopped = ContinuousClock.now + .seconds(10)
            while redisThreads() > 0 && ContinuousClock.now < stopped { try await Task.sleep(for: .milliseconds(10)) }
            if redisThreads() > 0 { print("owned reactor threads still running"); exit(1) }

            let group = try ReactorGroup(count: 1, name: "caller")
            do {
                let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: .init(connections: 1), group: group)
                try await client.ping()
                group.shutdown()
            }
            try await Task.sleep(for: .milliseconds(300))
        }
    }

    // MARK: Reactor teardown

    /// Before the fix: teardown drops pending timers with `timers = TimerQueue()`; a timer body
    /// holding the last reference to an object whose deinit schedules a timer (legal: the
    /// thread still passes for the reactor) runs that deinit inside the assignment, and
    /// `armTimer` then modifies `timers` during it: the child aborts with "Simultaneous
    /// accesses … modification requires exclusive access".
    @Test("a timer dropped at shutdown whose captured object schedules a timer in deinit")
    func teardownTimerDeinitSchedules() async {
        await #expect(processExitsWith: .success) {
            final class Rearm: @unchecked Sendable {
                unowned let reactor: Reactor
                let remaining: Int
                init(_ reactor: Reactor, _ remaining: Int) { self.reactor = reactor; self.remaining = remaining }
                deinit {
                    guard remaining > 0 else { return }
                    let next = Rearm(reactor, remaining - 1)
                    reactor.schedule(after: .seconds(3600)) { _ = next }
                }
            }
            let reactor = try Reactor(name: "review-timers")
            try reactor.start()
            let armed = DispatchSemaphore(value: 0)
            reactor.execute {
                let first = Rearm(reactor, 3)
                reactor.schedule(after: .seconds(3600)) { _ = first }
                armed.signal()
            }
            armed.wait()
            reactor.shutdown()
        }
    }

    /// Before the fix: a resource registered while teardown releases the others (a watcher's
    /// captured object that, in deinit, starts watching another fd) is dropped by
    /// `resources.removeAll()` without `releaseOnShutdown()`; when its own callback
    /// holds such an object, that deinit runs inside `removeAll` and registers into
    /// `resources` during the mutation: the same exclusivity abort.
    @Test("a watcher released at shutdown whose captured object watches again in deinit, twice")
    func teardownWatcherDeinitWatches() async {
        await #expect(processExitsWith: .success) {
            final class Rewatch: @unchecked Sendable {
                unowned let reactor: Reactor
                let fd: Int32
                let remaining: Int
                init(_ reactor: Reactor, _ fd: Int32, _ remaining: Int) { self.reactor = reactor; self.fd = fd; self.remaining = remaining }
                deinit {
                    guard remaining > 0 else { return }
                    let next = Rewatch(reactor, fd, remaining - 1)
                    _ = reactor.watch(fd: fd, interest: .read, onReadable: { _ = next })
                }
            }
            var fds: [Int32] = [0, 0]
            guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &fds) == 0 else { exit(3) }
            let reactor = try Reactor(name: "review-watch")
            try reactor.start()
            let armed = DispatchSemaphore(value: 0)
            let fd = fds[0]
            reactor.execute {
                let first = Rewatch(reactor, fd, 3)
                _ = reactor.watch(fd: fd, interest: .read, onReadable: { _ = first })
                armed.signal()
            }
            armed.wait()
            reactor.shutdown()
        }
    }
}
