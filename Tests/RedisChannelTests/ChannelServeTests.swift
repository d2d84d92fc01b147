import Foundation
import LocalRedis
import Reactor
import RESP
import RedisUtil
import Synchronization
import Testing
import TestSupport

/// Counts handlers running at once, and the most ever seen.
private final class Gauge: Sendable {
    private let state = Mutex((now: 0, peak: 0, total: 0))
    func enter() { state.withLock { $0.now += 1; $0.total += 1; $0.peak = max($0.peak, $0.now) } }
    func leave() { state.withLock { $0.now -= 1 } }
    var peak: Int { state.withLock { $0.peak } }
    var total: Int { state.withLock { $0.total } }
}

private struct Failure: Error, CustomStringConvertible {
    var description: String
}

/// The worker pool on a channel (`RedisChannelServer`, `serve`).
@Suite("Channel serve: bounded concurrency, replies with acks, retries, dead letters, drain", .timeLimit(.minutes(3)))
struct ChannelServeTests {
    private let leases = "{/test/jobs/client}/leases"

    /// Runs `server` in a task, `body`, then stops it and waits for the drain.
    private func serving<Request, Reply>(_ server: RedisChannelServer<Request, Reply>, _ body: () async throws -> Void) async throws {
        let running = Task { try await server.run() }
        do {
            try await body()
        } catch {
            server.stop()
            _ = try? await running.value
            throw error
        }
        server.stop()
        try await running.value
    }

    @Test("200 jobs through a pool of 4: every reply once, never more than 4 handlers at once, nothing left in flight")
    func concurrencyBoundAndReplies() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            let gauge = Gauge()
            let server = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 4) { delivery in
                gauge.enter()
                defer { gauge.leave() }
                try await Task.sleep(for: .milliseconds(2))
                return delivery.message
            }
            try await serving(server) {
                try await sender.send(contentsOf: (0..<200).map { LeaseJob(id: $0) })
                var ids: [Int] = []
                while ids.count < 200, let reply = try await sender.brecv(as: LeaseJob.self, timeout: .seconds(10)) { ids.append(reply.id) }
                #expect(ids.sorted() == Array(0..<200))
            }
            #expect(gauge.peak == 4, "observed at most \(gauge.peak) at once")
            #expect(server.peakConcurrency == 4)
            #expect(server.handledCount == 200)
            #expect(try await client.send("ZCARD", leases).asInt() == 0)
            #expect(try await client.send("LLEN", "/test/jobs/server").asInt() == 0)
        }
    }

    @Test("handlers run on the client's reactors unless given an executor; on one, only the handler moves there and every reply is acked", arguments: [false, true])
    func handlerExecutor(ownExecutor: Bool) async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            let onReactor = Gauge()
            let server = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 4,
                                            handlerExecutor: ownExecutor ? globalConcurrentExecutor : nil) { delivery in
                if Reactor.current != nil { onReactor.enter() }
                // A command of the handler's own: its reply comes back to the handler's executor.
                _ = try await client.send("PING")
                if Reactor.current != nil { onReactor.enter() }
                return delivery.message
            }
            try await serving(server) {
                try await sender.send(contentsOf: (0..<40).map { LeaseJob(id: $0) })
                var ids: [Int] = []
                while ids.count < 40, let reply = try await sender.brecv(as: LeaseJob.self, timeout: .seconds(10)) { ids.append(reply.id) }
                #expect(ids.sorted() == Array(0..<40))
            }
            #expect(onReactor.total == (ownExecutor ? 0 : 80), "\(onReactor.total) of 80 handler steps on a reactor")
            #expect(server.handledCount == 40)
            #expect(try await client.send("ZCARD", leases).asInt() == 0)
        }
    }

    @Test("a pool waits through the client's bounded blocking pool, down to a bound of 1; it serves, stops and hands the connection back", arguments: [1, 2, 4])
    func waitingConnectionWithinTheClientsBound(maxBlockingConnections: Int) async throws {
        let server = try await startServer()
        defer { stopInBackground(server) }
        let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: RedisConfiguration(maxBlockingConnections: maxBlockingConnections))
        // The requests come from a client of their own: with a bound of 1, the pool's
        // waits hold its client's only blocking connection nearly all the time.
        let requests = try RedisClient(.tcp(host: server.host, port: server.port))
        let sender = RedisChannel(client: requests, "/test/jobs", peer: .client)
        let worker = RedisChannel(client: client, "/test/jobs", peer: .server)
        let pool = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 8) { $0.message }
        try await serving(pool) {
            try await sender.send(contentsOf: (0..<50).map { LeaseJob(id: $0) })
            var ids: [Int] = []
            while ids.count < 50, let reply = try await sender.brecv(as: LeaseJob.self, timeout: .seconds(10)) { ids.append(reply.id) }
            #expect(ids.sorted() == Array(0..<50))
        }
        // The pool's connections are back (or closed): a blocking receive on its client
        // gets one.
        #expect(try await worker.brecv(as: LeaseJob.self, timeout: .milliseconds(100)) == nil)
        await client.close()
        await requests.close()
    }

    @Test("a stop before run() makes it return at once; a second run() throws; a pool with no slots fails before anything is sent")
    func runOnceAndStopFirst() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            let early = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 2) { $0.message }
            early.stop()
            try await early.run()
            let pool = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 2) { $0.message }
            try await serving(pool) {
                try await sender.send(LeaseJob(id: 7))
                #expect(try await sender.brecv(as: LeaseJob.self, timeout: .seconds(10)) == LeaseJob(id: 7))
            }
            await #expect(throws: RedisChannelError.self) { try await pool.run() }
            await #expect(throws: RedisChannelError.self) { try await RedisChannelServer(worker, as: LeaseJob.self, concurrency: 0) { $0.message }.run() }
            #expect(try await client.send("ZCARD", leases).asInt() == 0)
        }
    }

    @Test("a failing handler is retried up to maxAttempts, then its request is dead-lettered with the last error; re-queued, it is served")
    func poisonToDeadLettersAndBack() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            let attempts = Mutex<[Int]>([])
            let healed = Atomic<Bool>(false)
            let server = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 2, maxAttempts: 3) { delivery in
                attempts.withLock { $0.append(delivery.deliveryCount) }
                if delivery.message.id == 13 && !healed.load(ordering: .relaxed) { throw Failure(description: "poison \(delivery.deliveryCount)") }
                return delivery.message
            }
            try await serving(server) {
                try await sender.send(contentsOf: [LeaseJob(id: 13), LeaseJob(id: 1)])
                #expect(try await sender.brecv(as: LeaseJob.self, timeout: .seconds(10)) == LeaseJob(id: 1))
                var letters: [RedisChannelDeadLetter] = []
                for _ in 0..<200 where letters.isEmpty {
                    letters = try await worker.deadLetters()
                    if letters.isEmpty { try await Task.sleep(for: .milliseconds(10)) }
                }
                let letter = try #require(letters.first)
                #expect(letters.count == 1)
                #expect(letter.reason == "poison 3" && letter.deliveries == 3)
                #expect(try JSONDecoder().decode(LeaseJob.self, from: Data(letter.raw)) == LeaseJob(id: 13))
                #expect(attempts.withLock { $0.filter { $0 > 0 } }.sorted() == [1, 1, 2, 3])
                healed.store(true, ordering: .relaxed)
                #expect(try await worker.requeueDeadLetters(letters) == 1)
                #expect(try await sender.brecv(as: LeaseJob.self, timeout: .seconds(10)) == LeaseJob(id: 13))
            }
            #expect(try await worker.deadLetters().isEmpty)
        }
    }

    @Test("an undecodable request goes to the dead letters with its bytes; the pool goes on")
    func undecodableRequest() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            let server = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 2) { $0.message }
            try await serving(server) {
                try await client.send("RPUSH", "/test/jobs/client", "{\"id\": \"not a number\"}")
                try await sender.send(LeaseJob(id: 5))
                #expect(try await sender.brecv(as: LeaseJob.self, timeout: .seconds(10)) == LeaseJob(id: 5))
            }
            let letters = try await worker.deadLetters()
            #expect(letters.map(\.raw) == [Array("{\"id\": \"not a number\"}".utf8)])
        }
    }

    @Test("cancelling the serving task drains as stop does; serve(…) answers with the handler's reply")
    func cancellationDrains() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            let started = Atomic<Bool>(false)
            let serving = Task {
                try await worker.serve(as: LeaseJob.self, concurrency: 2) { job in
                    started.store(true, ordering: .relaxed)
                    try await Task.sleep(for: .milliseconds(300))
                    return LeaseJob(id: job.id * 10)
                }
            }
            try await sender.send(LeaseJob(id: 4))
            while !started.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
            serving.cancel()
            try await serving.value
            // The handler was not cancelled: it finished, and its reply was sent and acked.
            #expect(try await sender.recv(as: LeaseJob.self) == LeaseJob(id: 40))
            #expect(try await client.send("ZCARD", leases).asInt() == 0)
        }
    }

    @Test("a server restart during serve: every request answered, no handler's reply sent twice, nothing left in flight")
    func serverRestartDuringServe() async throws {
        // Persistence on, so that the restart keeps the lists (a restart without it loses
        // everything, which no client can help).
        let server = try await startServer(.init(extraConfig: ["appendonly yes", "appendfsync always"]))
        defer { stopInBackground(server) }
        var configuration = RedisConfiguration()
        configuration.backoff = .init(initial: .milliseconds(20), maximum: .milliseconds(200))
        let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: configuration)
        let (sender, worker) = channelPair(client)
        let executions = Mutex<[Int: Int]>([:])
        let pool = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 4, lease: .seconds(1)) { delivery in
            try await Task.sleep(for: .milliseconds(2))
            executions.withLock { $0[delivery.message.id, default: 0] += 1 }
            return delivery.message
        }
        let running = Task { try await pool.run() }
        let total = 300
        try await sender.send(contentsOf: (0..<total).map { LeaseJob(id: $0) })
        var replies: [Int: Int] = [:]
        var restarted = false
        let deadline = ContinuousClock.now + .seconds(60)
        while replies.count < total && ContinuousClock.now < deadline {
            if !restarted && replies.count >= total / 3 {
                try await onOwnThread { () throws(LocalRedisError) in try server.restart() }
                restarted = true
            }
            do {
                if let reply = try await sender.brecv(as: LeaseJob.self, timeout: .milliseconds(500)) { replies[reply.id, default: 0] += 1 }
            } catch RedisError.connectionLost, RedisError.connectionFailed {
                // The restart, seen by the requester: its BLPOP was cut off.
            }
        }
        #expect(restarted)
        #expect(replies.count == total, "requests never answered: \(Set(0..<total).subtracting(replies.keys).sorted().prefix(20))")
        // Leases whose ack the restart cut off end and are handled again; wait for them.
        while try await client.send("ZCARD", leases).asInt() > 0 && ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(50))
        }
        pool.stop()
        try await running.value
        while let reply = try await sender.recv(as: LeaseJob.self) { replies[reply.id, default: 0] += 1 }
        let ran = executions.withLock { $0 }
        let resent = replies.filter { id, count in count > (ran[id] ?? 0) }
        #expect(resent.isEmpty, "more replies than handler runs for \(resent)")
        #expect(try await client.send("ZCARD", leases).asInt() == 0)
        #expect(try await client.send("LLEN", "/test/jobs/client").asInt() == 0)
        await client.close()
    }
}

/// The drain's timeout against handlers in flight: the short ones finish within it, one
/// outlasts it. The test decides when each handler ends (the short ones once the pool is
/// stopped and job 4 sent, job 99 only once the drain has put it back), so no handler's
/// own duration races the drain (200 ms and 2 s against 500 ms did, in a parallel run);
/// it still runs with the *TimingTests, alone, for the drain timeout itself (the short
/// handlers must be resumed within its second).
@Suite("Channel serve drain timing", .timeLimit(.minutes(1)))
struct ChannelServeTimingTests {
    @Test("stop drains: handlers in flight finish and are acked; one past the drain timeout is released for another worker")
    func stopDrains() async throws {
        try await withRedis { _, client in
            let (sender, worker) = channelPair(client)
            let started = Mutex(0)
            let shortOnesMayEnd = Atomic(false)
            let longOneMayEnd = Atomic(false)
            let server = RedisChannelServer(worker, as: LeaseJob.self, concurrency: 3, drainTimeout: .seconds(1)) { delivery in
                started.withLock { $0 += 1 }
                // Job 99 outlasts the drain timeout; the others finish within it.
                if delivery.message.id == 99 {
                    while !longOneMayEnd.load(ordering: .acquiring), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                } else {
                    while !shortOnesMayEnd.load(ordering: .acquiring), !Task.isCancelled { try? await Task.sleep(for: .milliseconds(5)) }
                }
                return delivery.message
            }
            let running = Task { try await server.run() }
            try await sender.send(contentsOf: [LeaseJob(id: 1), LeaseJob(id: 2), LeaseJob(id: 99)])
            while started.withLock({ $0 }) < 3 { try await Task.sleep(for: .milliseconds(5)) }
            server.stop()
            try await sender.send(LeaseJob(id: 4))
            shortOnesMayEnd.store(true, ordering: .releasing)
            // Job 99 ends only once the drain has given up on it and put it back (the run
            // waits for its handler to return; the reply it returns then is not sent).
            let released = try await waitUntil(limit: .seconds(30)) {
                try await client.send("LINDEX", "/test/jobs/client", 0).string.map { $0.contains("99") } ?? false
            }
            longOneMayEnd.store(true, ordering: .releasing)
            #expect(released, "job 99 was never put back")
            try await running.value
            var replies: [Int] = []
            while let reply = try await sender.recv(as: LeaseJob.self) { replies.append(reply.id) }
            #expect(replies.sorted() == [1, 2], "the two short jobs answered; 99 was released; 4 never taken")
            // 99 is back at the head, 4 behind it; nothing is leased.
            let waiting = try await rawList(client, "/test/jobs/client").map { try JSONDecoder().decode(LeaseJob.self, from: Data($0)).id }
            #expect(waiting == [99, 4])
            #expect(try await client.send("ZCARD", "{/test/jobs/client}/leases").asInt() == 0)
        }
    }
}
