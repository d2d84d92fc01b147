import Foundation
import InMemoryTracing
import LocalRedis
import Logging
import MetricsTestKit
import RESP
@testable import RedisUtil
import ServiceLifecycle
import Synchronization
import Testing
import TestSupport
import Tracing

/// What a client emits to a recording metrics backend (swift-metrics' `TestMetrics`)
/// and tracer (`InMemoryTracer`), each passed in the client's configuration, so that
/// tests running in parallel never see each other's metrics.
@Suite("Observability: metrics, spans, lifecycle")
struct ObservabilityTests {
    typealias Label = RedisMetricLabel
    typealias Dimension = RedisMetricDimension

    static func configuration(_ metrics: TestMetrics? = nil, tracer: InMemoryTracer? = nil) -> RedisConfiguration {
        var configuration = RedisConfiguration(connections: 2)
        configuration.observability = RedisObservability(
            metrics: metrics.map { .factory($0) } ?? .off,
            tracing: tracer.map { .tracer($0) } ?? .off,
            reportInterval: .milliseconds(50))
        return configuration
    }

    static func operation(_ name: String) -> (String, String) { (Dimension.operationName, name) }

    /// The total of every counter `label` whose dimensions include `dimensions`.
    static func total(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)] = []) -> Int64 {
        metrics.counters(label: label)
            .filter { counter in dimensions.allSatisfy { wanted in counter.dimensions.contains { $0 == wanted } } }
            .reduce(0) { $0 + $1.totalValue }
    }

    /// The last value of the gauge `label` with `dimensions` added to the client's own.
    static func gauge(_ metrics: TestMetrics, _ label: String, _ dimensions: [(String, String)] = []) -> Double? {
        metrics.recorders(label: label)
            .first { recorder in dimensions.allSatisfy { wanted in recorder.dimensions.contains { $0 == wanted } } }?
            .lastValue
    }

    /// The duration timer whose dimensions include `dimensions`.
    static func timer(_ metrics: TestMetrics, _ dimensions: [(String, String)]) -> TestTimer? {
        metrics.timers(label: Label.operationDuration)
            .first { timer in dimensions.allSatisfy { wanted in timer.dimensions.contains { $0 == wanted } } }
    }

    /// Waits (up to 10 s) for a periodic report to satisfy `condition`.
    static func eventually(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(10)
        while !condition() {
            guard ContinuousClock.now < deadline else { return }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    @Test("Nothing bootstrapped: no observer, no work")
    func offByDefault() async throws {
        // Nothing in this test process bootstraps MetricsSystem or InstrumentationSystem.
        let client = try RedisClient(6379)
        #expect(client.observer == nil)
        #expect(client.configuration.observer == nil)
        await client.close()
        var off = RedisConfiguration()
        off.observability = RedisObservability(metrics: .off, tracing: .off)
        let alsoOff = try RedisClient(6379, configuration: off)
        #expect(alsoOff.observer == nil)
        await alsoOff.close()
    }

    @Test("100,000 RPUSH on both facades and in pipelines count 100,000, each timed")
    func commandsCounted() async throws {
        let metrics = TestMetrics()
        try await withServer { server in
            try await withClient(server, configuration: Self.configuration(metrics)) { client in
                let callbacks = 89_000
                await onOwnThread {
                    let done = DispatchSemaphore(value: 0)
                    let left = Atomic(callbacks)
                    for index in 0..<callbacks {
                        client.send("RPUSH", "observed", index) { _ in
                            if left.subtract(1, ordering: .relaxed).newValue == 0 { done.signal() }
                        }
                    }
                    done.wait()
                }
                for index in 0..<1_000 { try await client.send("RPUSH", "observed", index) }
                for _ in 0..<100 {
                    _ = try await client.pipeline { pipeline in
                        for index in 0..<100 { pipeline.send("RPUSH", "observed", index) }
                    }
                }
                #expect(try await client.send("LLEN", "observed").asInt() == 100_000)
            }
        }
        #expect(Self.total(metrics, Label.commandsSent, [Self.operation("RPUSH")]) == 100_000)
        #expect(Self.total(metrics, Label.commandsSent, [Self.operation("LLEN")]) == 1)
        let rpush = try #require(Self.timer(metrics, [(Dimension.systemName, "redis"), Self.operation("RPUSH"), (Dimension.serverAddress, "127.0.0.1")]))
        #expect(rpush.values.count == 90_000)
        #expect(rpush.values.allSatisfy { $0 > 0 })
        let pipelines = Self.timer(metrics, [Self.operation("PIPELINE")])
        #expect(pipelines?.values.count == 100)
        #expect(Self.total(metrics, Label.commandsFailed) == 0)
        // Bytes went both ways, and the last report (at the close) saw them.
        #expect(Self.total(metrics, Label.bytesWritten) > 100_000 * 20)
        #expect(Self.total(metrics, Label.bytesRead) > 100_000 * 4)
    }

    @Test("Failures are counted by command and error kind; the connection's own errors too")
    func failuresCounted() async throws {
        let metrics = TestMetrics()
        let tracer = InMemoryTracer()
        try await withServer { server in
            try await withClient(server, configuration: Self.configuration(metrics, tracer: tracer)) { client in
                try await client.send("SET", "text", "a string")
                await #expect(throws: RedisError.self) { try await client.send("RPUSH", "text", "x") }
                await #expect(throws: RedisError.self) { try await client.send("SELECT", 1) }
                let results = try await client.pipeline { pipeline in
                    pipeline.send("RPUSH", "text", "y")
                    pipeline.send("GET", "text")
                }
                #expect(results.count == 2)
                let failed = Locked<RedisError?>(nil)
                await onOwnThread {
                    let done = DispatchSemaphore(value: 0)
                    client.send("LPUSH", "text", "z") { result in
                        if case .failure(let error) = result { failed.withLock { $0 = error } }
                        done.signal()
                    }
                    done.wait()
                }
                #expect(failed.withLock { $0 } != nil)
            }
        }
        let wrongType = (Dimension.errorType, "server.WRONGTYPE")
        #expect(Self.total(metrics, Label.commandsFailed, [Self.operation("RPUSH"), wrongType]) == 2)
        #expect(Self.total(metrics, Label.commandsFailed, [Self.operation("LPUSH"), wrongType]) == 1)
        #expect(Self.total(metrics, Label.commandsFailed, [Self.operation("SELECT"), (Dimension.errorType, "unsupported_command")]) == 1)
        #expect(Self.total(metrics, Label.commandsFailed, [Self.operation("GET")]) == 0)
        #expect(Self.total(metrics, Label.commandsFailed) == 4)
        // The spans say the same.
        let spans = tracer.finishedSpans
        let failedRPUSH = spans.filter { $0.operationName == "RPUSH" && $0.status?.code == .error }
        #expect(failedRPUSH.count == 1)
        #expect(failedRPUSH.first?.errors.count == 1)
        #expect(failedRPUSH.first?.attributes[Dimension.errorType]?.toSpanAttribute() == "server.WRONGTYPE")
        let pipeline = spans.first { $0.operationName == "PIPELINE" }
        #expect(pipeline?.status?.code == .error)
    }

    @Test("Spans nest under the caller's span and carry the database attributes")
    func spansNest() async throws {
        let tracer = InMemoryTracer()
        try await withServer { server in
            try await withClient(server, configuration: Self.configuration(tracer: tracer)) { client in
                try await tracer.withSpan("handle request") { _ in
                    try await client.send("SET", "greeting", "hello")
                    _ = try await client.pipeline { pipeline in
                        pipeline.send("GET", "greeting")
                        pipeline.send("STRLEN", "greeting")
                        pipeline.send("UNKNOWNCOMMAND")
                    }
                    _ = try await client.transaction { transaction in
                        transaction.send("INCR", "counter")
                        transaction.send("INCR", "counter")
                    }
                }
                // Outside any span: a root span of its own.
                _ = try await client.get("greeting")
            }
        }
        let spans = tracer.finishedSpans
        let parent = try #require(spans.first { $0.operationName == "handle request" })
        let set = try #require(spans.first { $0.operationName == "SET" })
        let pipeline = try #require(spans.first { $0.operationName == "PIPELINE" })
        let transaction = try #require(spans.first { $0.operationName == "MULTI" })
        let get = try #require(spans.first { $0.operationName == "GET" })
        for child in [set, pipeline, transaction] {
            #expect(child.kind == .client)
            #expect(child.spanContext.parentSpanID == parent.spanContext.spanID)
            #expect(child.spanContext.traceID == parent.spanContext.traceID)
        }
        #expect(get.spanContext.parentSpanID == nil)
        #expect(get.spanContext.traceID != parent.spanContext.traceID)
        func attribute(_ span: FinishedInMemorySpan, _ name: String) -> String? {
            span.attributes[name].map { "\($0)" }
        }
        #expect(set.attributes["db.system.name"]?.toSpanAttribute() == "redis")
        #expect(set.attributes["db.operation.name"]?.toSpanAttribute() == "SET")
        #expect(set.attributes["db.namespace"]?.toSpanAttribute() == "0")
        #expect(set.attributes["server.address"]?.toSpanAttribute() == "127.0.0.1")
        #expect(set.attributes["server.port"] != nil)
        #expect(set.status == nil)
        #expect(pipeline.attributes["db.operation.batch.size"]?.toSpanAttribute() == 3)
        #expect(pipeline.status?.code == .error)
        #expect(transaction.attributes["db.operation.batch.size"]?.toSpanAttribute() == 2)
        #expect(transaction.status == nil)
    }

    @Test("10,000 distinct unknown command names stay one `other`")
    func cardinalityBounded() async throws {
        let metrics = TestMetrics()
        try await withServer { server in
            try await withClient(server, configuration: Self.configuration(metrics)) { client in
                for batch in 0..<10 {
                    let results = try await client.pipeline { pipeline in
                        for index in 0..<1_000 { pipeline.send("NOSUCHCOMMAND\(batch * 1_000 + index)", "key") }
                    }
                    #expect(results.allSatisfy { if case .failure(.server) = $0 { true } else { false } })
                }
                await #expect(throws: RedisError.self) { try await client.send("ANOTHERUNKNOWN") }
            }
        }
        #expect(Self.total(metrics, Label.commandsSent, [Self.operation("other")]) == 10_001)
        #expect(Self.total(metrics, Label.commandsFailed, [Self.operation("other"), (Dimension.errorType, "server.ERR")]) == 10_001)
        let names = Set((metrics.counters(label: Label.commandsSent) + metrics.counters(label: Label.commandsFailed))
            .compactMap { $0.dimensions.first { $0.0 == Dimension.operationName }?.1 })
        #expect(names == ["other"])
        #expect(metrics.counters(label: Label.commandsFailed).count == 1)
        #expect(metrics.timers(label: Label.operationDuration).count == 2) // `other` and PIPELINE
    }

    @Test("Gauges return to zero after a drain and a close; a restart is counted as a reconnect")
    func gaugesAndReconnects() async throws {
        let metrics = TestMetrics()
        try await withServer { server in
            let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: Self.configuration(metrics))
            // Many in flight at once, so that a report may well see some pending.
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<8 {
                    group.addTask {
                        for index in 0..<2_000 { try await client.send("RPUSH", "gauged", task * 10_000 + index) }
                    }
                }
                try await group.waitForAll()
            }
            try await Self.eventually { Self.gauge(metrics, Label.pendingCommands) == 0 && Self.gauge(metrics, Label.connections, [(Dimension.connectionState, "open")]) == 2 }
            #expect(Self.gauge(metrics, Label.pendingCommands) == 0)
            #expect(Self.gauge(metrics, Label.unsentBytes) == 0)
            #expect(Self.gauge(metrics, Label.connections, [(Dimension.connectionState, "open")]) == 2)
            #expect(Self.gauge(metrics, Label.connections, [(Dimension.connectionState, "opening")]) == 0)
            #expect(Self.total(metrics, Label.reconnects) == 0)
            // A blocking command leases a connection while it waits.
            let waiting = Task { try await client.blpop("nothing", timeout: .seconds(5)) }
            try await Self.eventually { Self.gauge(metrics, Label.blockingLeases) == 1 }
            #expect(Self.gauge(metrics, Label.blockingLeases) == 1)
            try await client.send("RPUSH", "nothing", "now")
            _ = try await waiting.value
            try await Self.eventually { Self.gauge(metrics, Label.blockingLeases) == 0 }
            #expect(Self.gauge(metrics, Label.blockingLeases) == 0)

            let subscription = try await client.subscribe(channels: ["observed-news"])
            var events = subscription.makeAsyncIterator()
            try await onOwnThread { () throws(LocalRedisError) in try server.restart() }
            // Each connection learns of the restart when it next sends, or its liveness check.
            for _ in 0..<20 { _ = try? await client.send("PING") }
            try await Self.eventually { Self.total(metrics, Label.reconnects) >= 1 }
            #expect(Self.total(metrics, Label.reconnects) >= 1)
            // The subscription's connection is back too, after a gap.
            guard case .gap = try await events.next() else {
                Issue.record("no gap after the restart")
                return
            }
            try await Self.eventually { Self.total(metrics, Label.subscriptionGaps) == 1 }
            #expect(Self.total(metrics, Label.subscriptionGaps) == 1)
            subscription.close()
            await client.close()
            #expect(Self.gauge(metrics, Label.connections, [(Dimension.connectionState, "open")]) == 0)
            #expect(Self.gauge(metrics, Label.pendingCommands) == 0)
        }
    }

    @Test("Channel messages: sent, received, acked, redelivered, dead-lettered")
    func channelMessages() async throws {
        let metrics = TestMetrics()
        try await withServer { server in
            try await withClient(server, configuration: Self.configuration(metrics)) { client in
                let sender = RedisChannel(client: client, "/observed/channel", peer: .client)
                let receiver = RedisChannel(client: client, "/observed/channel", peer: .server)
                for index in 0..<10 { try await sender.send(["n": index]) }
                try await sender.send(contentsOf: (0..<5).map { ["batch": $0] })
                // The callback send counts too (it has a path of its own on an unobserved client).
                for index in 0..<2 {
                    try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
                        sender.send(["callback": index]) { done.resume(with: $0) }
                    }
                }
                for _ in 0..<3 { _ = try await receiver.recv(as: JSONValue.self) }
                _ = try await receiver.recv(as: JSONValue.self, max: 4)
                for _ in 0..<2 {
                    _ = try await withCheckedThrowingContinuation { (done: CheckedContinuation<JSONValue?, any Error>) in
                        receiver.recv(as: JSONValue.self) { done.resume(with: $0) }
                    }
                }
                // Leased: one acked, one handed back and leased again, one dead-lettered.
                let first = try #require(try await receiver.receiveLeased(as: JSONValue.self, timeout: .seconds(1), lease: .seconds(30)))
                try await first.ack()
                let second = try #require(try await receiver.receiveLeased(as: JSONValue.self, timeout: .seconds(1), lease: .seconds(30)))
                try await second.release()
                let again = try #require(try await receiver.receiveLeased(as: JSONValue.self, timeout: .seconds(1), lease: .seconds(30)))
                #expect(again.deliveryCount == 2)
                try await again.deadLetter(reason: "test")
            }
        }
        func channel(_ event: String) -> Int64 { Self.total(metrics, Label.channelMessages, [(Dimension.channelEvent, event)]) }
        #expect(channel("sent") == 17)
        #expect(channel("received") == 12)   // 3 + 4 + 2 callbacks + 3 leases
        #expect(channel("acked") == 1)
        #expect(channel("redelivered") == 1)
        #expect(channel("dead_lettered") == 1)
    }

    @Test("A ServiceGroup with a client and a worker pool shuts down on a signal: commands in flight answered, none lost")
    func serviceGroupShutdown() async throws {
        // Commands in flight at the shutdown (a twentieth under the thread sanitizer,
        // which sends them twenty times slower).
        let count = TestScale.count(20_000)
        let metrics = TestMetrics()
        try await withServer { server in
            var configuration = Self.configuration(metrics)
            // Ample for 20,000 RPUSH answered after the pause below ends, on a loaded machine.
            configuration.shutdownGracePeriod = .seconds(30)
            let client = try RedisClient(.tcp(host: server.host, port: server.port), configuration: configuration)
            let jobs = RedisChannel(client: client, "/observed/jobs", peer: .server)
            let handled = Atomic(0)
            let pool = RedisChannelServer(jobs, as: Int.self, concurrency: 4) { delivery in
                handled.add(1, ordering: .relaxed)
                return delivery.message * 2
            }
            // Commands in flight when the client's shutdown begins: each answered exactly
            // once. The group shuts its services down in reverse order, so the step between
            // the pool and the client runs once the pool has drained and before the client
            // closes: it has the server hold every write (the requester's `CLIENT PAUSE …
            // WRITE`) and sends the commands, which stay in flight until the test sees the
            // close begun and ends the pause. (A server kept busy by a script for a fixed
            // time, sent before the signal, was outlasted by a slow send or a slow drain on
            // a loaded machine; a pause before the pool's drain would hold the drain too,
            // whose cancelled receive waits for the server's answer to lose nothing.)
            let requester = try RedisClient(.tcp(host: server.host, port: server.port))
            let answered = Atomic(0)
            let succeeded = Atomic(0)
            let inFlight = ShutdownStep {
                try await requester.send("CLIENT", "PAUSE", 60_000, "WRITE")
                for index in 0..<count {
                    client.send("RPUSH", "in-flight", index) { result in
                        answered.add(1, ordering: .relaxed)
                        if case .success = result { succeeded.add(1, ordering: .relaxed) }
                    }
                }
            }
            let group = ServiceGroup(configuration: .init(
                services: [.init(service: client), .init(service: inFlight), .init(service: pool)],
                gracefulShutdownSignals: [.sigusr2],
                logger: Logger(label: "observability-test")))
            let running = Task { try await group.run() }
            let started = ContinuousClock.now
            let requests = RedisChannel(client: requester, "/observed/jobs", peer: .client)
            for index in 0..<20 { try await requests.send(index) }
            var replies: [Int] = []
            while replies.count < 20, let reply = try await requests.brecv(as: Int.self, timeout: .seconds(10)) { replies.append(reply) }
            #expect(replies.sorted() == (0..<20).map { $0 * 2 })

            kill(getpid(), SIGUSR2)
            let signalled = ContinuousClock.now
            #expect(try await waitUntil(limit: .seconds(25)) { client.isClosed }, "the group began no close within 25 s of the signal")
            #expect(answered.load(ordering: .relaxed) == 0, "a write was answered while the server held writes")
            try await requester.send("CLIENT", "UNPAUSE")
            try await running.value
            print("ServiceGroup: served for \(signalled - started), shut down in \(ContinuousClock.now - signalled)")
            #expect(client.isClosed)
            #expect(answered.load(ordering: .relaxed) == count)
            #expect(succeeded.load(ordering: .relaxed) == count)
            #expect(try await requester.send("LLEN", "in-flight").asInt() == count)
            #expect(handled.load(ordering: .relaxed) == 20)
            client.send("PING") { #expect($0 == .failure(.closed)) }
            await requester.close()
        }
        #expect(Self.gauge(metrics, Label.pendingCommands) == 0)
        #expect(Self.total(metrics, Label.commandsSent, [Self.operation("RPUSH")]) >= count)
    }
}

/// A service that does `body` at the group's graceful shutdown, then returns: placed
/// between two services, it runs after the later one has shut down and before the
/// earlier one is told to.
private struct ShutdownStep: Service {
    let body: @Sendable () async throws -> Void

    init(_ body: @escaping @Sendable () async throws -> Void) { self.body = body }

    func run() async throws {
        try? await gracefulShutdown()
        try await body()
    }
}
