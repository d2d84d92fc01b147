import Foundation
import Reactor
import RedisUtil
import RESP
import Synchronization

/// Where a run's `server cpu s` comes from.
enum ServerCPUSource: Sendable {
    /// An external server or cluster: its `INFO cpu` counts every other client too, so
    /// none is reported.
    case unmeasured
    /// The private server: its `INFO cpu`, whose CPU time is all this benchmark's.
    case privateServer
    /// The private cluster: its nodes' CPU seconds so far, replicas included
    /// (``BenchCluster/cpuSeconds()``; it blocks, and runs outside a measured window).
    case privateCluster(@Sendable () -> Double?)
}

/// Runs one plan: a fresh client, warm-up, the measured run, the figures.
struct Runner: Sendable {
    let endpoint: RedisEndpoint
    let group: ReactorGroup
    let progress: Bool
    /// Where the server's CPU time comes from, if anywhere (``ServerCPUSource``).
    let serverCPU: ServerCPUSource
    /// The live view, which replaces the progress line; nil leaves the client's metrics
    /// off, so that a run without it costs what it always did.
    var live: LiveView? = nil
    /// On a cluster, its primaries: a plan's connections are then the total, spread over
    /// them as `redis-benchmark --cluster` spreads its clients (see ``connectionsPerNode(_:)``).
    var clusterPrimaries: Int? = nil
    /// The client's connections per node for `plan`: on a cluster, the plan's total spread
    /// over the primaries, rounded up (never fewer sockets than redis-benchmark's); the
    /// client's ``RedisConfiguration/connections`` counts per node, and three times as many
    /// sockets as the comparison opens would each carry a third of the batch.
    func connectionsPerNode(_ plan: RunPlan) -> Int {
        guard let primaries = clusterPrimaries, primaries > 1 else { return plan.connections }
        return (plan.connections + primaries - 1) / primaries
    }

    /// Runs `plan`; `round` (1-based, of `rounds`) names the run in the live view.
    func run(_ plan: RunPlan, round: Int = 1, of rounds: Int = 1) async throws -> RunResult {
        // Every ping-pong lane and pipe consumer holds a blocking connection while it waits.
        let blockingUsers = plan.connections * plan.pipeline + plan.consumers + plan.producers
        let configuration = RedisConfiguration(
            connections: connectionsPerNode(plan), maxBlockingConnections: max(32, blockingUsers),
            maxPendingCommands: max(65_536, plan.pipeline * 4),
            cancellation: plan.cancellation == .afterReply ? .afterReply : .prompt,
            observability: RedisObservability(metrics: live.map { .factory($0.metrics) } ?? .off, tracing: .off))
        return try await Self.withClient(endpoint, configuration: configuration, group: group) { client in
            try await measure(plan, title: "\(plan.workload.rawValue) \(plan.api.rawValue)  round \(round)/\(rounds)", client: client)
        }
    }

    /// Runs `body` with a client of its own, closed (awaited) before this returns: a
    /// close left to an unstructured task raced the group's shutdown at the end of a run.
    private static func withClient<Value>(
        _ endpoint: RedisEndpoint, configuration: RedisConfiguration, group: ReactorGroup,
        _ body: (RedisClient) async throws -> Value
    ) async throws -> Value {
        let client = try RedisClient(endpoint, configuration: configuration, group: group)
        do {
            let value = try await body(client)
            await client.close()
            return value
        } catch {
            await client.close()
            throw error
        }
    }

    /// Warm-up, the measured run and its figures, on `client`.
    private func measure(_ plan: RunPlan, title: String, client: RedisClient) async throws -> RunResult {
        let payload = Array(repeating: UInt8(ascii: "x"), count: plan.size)
        try await RawOperations.remove(RawOperations.listKeys(plan.keys), client: client)

        let workload = try await prepare(plan, client: client, payload: payload)
        let lanes = plan.connections * plan.pipeline
        if plan.warmup > 0 {
            let warm = RunCounters(limit: plan.warmup)
            let warmLog = LatencyLog(capacity: plan.warmup)
            // Workloads with their own driver (peers that answer) warm up through it too.
            if let custom = workload.custom {
                await custom(warm, warmLog)
            } else {
                await drive(plan, lanes: lanes, counters: warm, log: warmLog, operation: workload.operation)
            }
            if warm.serverLost.load(ordering: .relaxed) {
                throw BenchError("lost the server during the warm-up of \(plan.workload.rawValue) (\(plan.api.rawValue))\(Self.cause(warm))")
            }
            Self.reportErrors(warm, of: plan, in: "warm-up")
        }

        let limit = plan.duration == nil ? plan.messages : Int.max
        let counters = RunCounters(limit: limit)
        // The latest 4M samples of a --duration run (the log keeps the most recent ones).
        let log = LatencyLog(capacity: plan.duration == nil ? min(plan.messages, 4_000_000) : 4_000_000)
        let serverBefore = await serverCPUSeconds(on: client)
        let cpuBefore = processCPUSeconds()
        let startNanoseconds = monotonicNanoseconds()
        let start = monotonicSeconds()
        let liveRun = live?.start(title, on: group.next())
        let ticker = liveRun == nil ? startProgress(plan, counters: counters, start: start) : nil
        if let duration = plan.duration {
            group.next().schedule(after: duration) { counters.stop.store(true, ordering: .relaxed) }
        }
        if let custom = workload.custom {
            await custom(counters, log)
        } else {
            await drive(plan, lanes: lanes, counters: counters, log: log, operation: workload.operation)
        }
        // Up to the last completion: peers that answer notice the end only at their next
        // blocking-receive timeout, which is not part of the work measured.
        ticker?.cancel()
        if ticker != nil { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        liveRun?.stop()
        if counters.serverLost.load(ordering: .relaxed) {
            throw BenchError("lost the server during \(plan.workload.rawValue) (\(plan.api.rawValue)) after \(counters.succeeded.load(ordering: .relaxed)) operations\(Self.cause(counters))")
        }
        let lastCompletion = counters.lastCompletion.load(ordering: .relaxed)
        let seconds = lastCompletion > startNanoseconds ? Double(lastCompletion - startNanoseconds) / 1e9 : monotonicSeconds() - start
        let cpu = processCPUSeconds() - cpuBefore
        let serverAfter = await serverCPUSeconds(on: client)
        try? await cleanUp(plan, client: client)
        let completed = counters.completed.load(ordering: .relaxed)
        let errors = counters.errors.load(ordering: .relaxed)
        Self.reportErrors(counters, of: plan, in: "run")
        // A failed operation is an error, not an operation done.
        let succeeded = counters.succeeded.load(ordering: .relaxed)
        let ops = Double(succeeded) / seconds
        return RunResult(
            workload: plan.workload.rawValue, api: plan.api.rawValue, connections: plan.connections, pipeline: plan.pipeline,
            size: plan.size, keys: plan.keys, keyLayout: plan.keyLayout.rawValue,
            message: plan.workload.takesMessageKind ? plan.message.rawValue : nil, messages: succeeded, seconds: seconds, opsPerSec: ops,
            mbPerSec: ops * Double(workload.bytesPerOperation ?? plan.size) / 1_000_000, latencyUs: LatencySummary(log.histogram(recorded: completed)),
            clientCpuUsPerOp: completed > 0 ? cpu * 1e6 / Double(completed) : 0,
            serverCpuSeconds: serverBefore.flatMap { before in serverAfter.map { $0 - before } },
            redisBenchmarkOpsPerSec: nil, ratioVsRedisBenchmark: nil,
            errors: errors)
    }

    /// What ended a run whose server was lost, in the words of its first error: a loss
    /// said without its cause left nothing to chase.
    private static func cause(_ counters: RunCounters) -> String {
        counters.firstErrorDescription.map { ": \($0)" } ?? ""
    }

    /// Says on standard error how many operations of a run failed and what the first
    /// failure was: the table's error column is a count only.
    private static func reportErrors(_ counters: RunCounters, of plan: RunPlan, in phase: String) {
        let errors = counters.errors.load(ordering: .relaxed)
        guard errors > 0 else { return }
        let first = counters.firstErrorDescription ?? "not recorded"
        FileHandle.standardError.write(Data("redis-bench: \(errors) error(s) in the \(phase) of \(plan.workload.rawValue) (\(plan.api.rawValue)); the first: \(first)\n".utf8))
    }

    /// Removes the keys the run wrote, so that a run against an external server leaves
    /// nothing behind (a channel run can leave hundreds of MB).
    private func cleanUp(_ plan: RunPlan, client: RedisClient) async throws {
        var keys = RawOperations.listKeys(plan.keys)
        for name in ChannelOperations.channelNames(plan) {
            // channel-serve's lease state lives beside its request list (README, "Worker pools").
            let state = ["pending", "inflight", "leases", "redelivered", "dead"].map { "{\(name)/client}/\($0)" }
            keys += ["\(name)/client", "\(name)/server"] + state
        }
        try await RawOperations.remove(keys, client: client)
    }

    private func drive(_ plan: RunPlan, lanes: Int, counters: RunCounters, log: LatencyLog, operation: Operation) async {
        await Driver.run(plan.api, lanes: lanes, reactors: group.reactors, placement: plan.keyLayout == .byPrimary ? plan.pipeline : nil,
                         counters: counters, log: log, operation: operation)
    }

    /// How a workload is run: a plain operation driven by lanes, or its own driver.
    struct Prepared: Sendable {
        var operation: Operation
        var custom: (@Sendable (RunCounters, LatencyLog) async -> Void)? = nil
        /// Bytes each operation moves, when it is not `--size` (a channel message's JSON,
        /// a PING's nothing).
        var bytesPerOperation: Int? = nil
    }

    private func prepare(_ plan: RunPlan, client: RedisClient, payload: [UInt8]) async throws -> Prepared {
        let keys = RawOperations.listKeys(plan.keys)
        let laneKeys = plan.keyLayout == .byPrimary
            ? try await LaneKeys.byPrimary(keys, client: client, pipeline: plan.pipeline) : .spread(keys)
        if let raw = RawOperations.operation(for: plan.workload, client: client, payload: payload, keys: laneKeys) {
            if plan.workload == .lpop {
                // Enough elements for warm-up and run, so that every LPOP pops something
                // (an empty pop counts as an error). A --duration run gets 900k per second,
                // about 1.5× what a client pops here, rather than a fixed 20M. Warm-up and
                // run each number their operations from 0: each key gets its share of both.
                let perKey = (Self.prefill(plan, perSecond: 900_000) + keys.count - 1) / keys.count + 2
                for key in keys { try await RawOperations.fill(key, count: perKey, payload: payload, client: client) }
            }
            return Prepared(operation: raw, bytesPerOperation: plan.workload == .ping ? 0 : nil)
        }
        return try await ChannelOperations.prepare(plan, client: client, group: group)
    }

    /// Elements to put in a list before a run that pops: warm-up and run, or for a
    /// --duration run `perSecond` per second (at most 20M).
    static func prefill(_ plan: RunPlan, perSecond: Int) -> Int {
        guard let duration = plan.duration else { return plan.warmup + plan.messages }
        let seconds = Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
        return plan.warmup + min(20_000_000, Int(seconds * Double(perSecond)) + 10_000)
    }

    /// Removes what redis-benchmark's rpush and lpop tests leave (`mylist`, or the keys
    /// of a spread run), so that a comparison against an external server leaves nothing
    /// behind. On a cluster its keys hold hash tags it chose: found with KEYS (sent to
    /// every primary).
    func removeRedisBenchmarkKeys(_ plan: RunPlan) async throws {
        try await withSideClient { client in
            if endpoint.isCluster {
                let found = try await client.send("KEYS", "bench:{*}:*").array ?? []
                try await RawOperations.remove(found.compactMap(\.string), client: client)
            } else if plan.keys > 1 {
                try await RawOperations.remove(RedisBenchmarkComparison.spreadKeys(plan.keys), client: client)
            } else {
                try await client.send("UNLINK", "mylist")
            }
        }
    }

    /// A one-connection client for work beside a run (redis-benchmark's list).
    private func withSideClient(_ body: (RedisClient) async throws -> Void) async throws {
        try await Self.withClient(endpoint, configuration: .init(connections: 1), group: group, body)
    }

    /// Fills redis-benchmark's own list with `count` elements, the requests it will make,
    /// so that its LPOP pops as ours did.
    func fillForRedisBenchmark(_ plan: RunPlan, count: Int) async throws {
        try await withSideClient { client in
            try await client.send("DEL", "mylist")
            try await RawOperations.fill("mylist", count: count, payload: Array(repeating: UInt8(ascii: "x"), count: plan.size), client: client)
        }
    }

    /// The server's CPU seconds so far, as ``serverCPU`` says; nil for an external server.
    /// The private server's `INFO` goes on `client` (our run's), or without one (beside a
    /// run that is not ours, redis-benchmark's) on a side client of its own; the cluster's
    /// read needs none.
    func serverCPUSeconds(on client: RedisClient? = nil) async -> Double? {
        switch serverCPU {
        case .unmeasured: return nil
        case .privateCluster(let read): return read()
        case .privateServer:
            guard let client else {
                var seconds: Double?
                try? await withSideClient { seconds = await serverCPUSeconds(on: $0) }
                return seconds
            }
            guard let info = try? await client.send("INFO", "cpu").string else { return nil }
            return Self.cpuSeconds(info: info)
        }
    }

    /// A server's own CPU seconds (user + sys) in its `INFO cpu` reply.
    static func cpuSeconds(info: String) -> Double {
        var total = 0.0
        for line in info.split(whereSeparator: \.isNewline) {
            let parts = line.split(separator: ":")
            if parts.count == 2, parts[0] == "used_cpu_sys" || parts[0] == "used_cpu_user", let value = Double(parts[1]) {
                total += value
            }
        }
        return total
    }

    private func startProgress(_ plan: RunPlan, counters: RunCounters, start: Double) -> ScheduledTimer? {
        guard progress else { return nil }
        let total = plan.duration == nil ? plan.messages : nil
        // Only for runs long enough to need it: the first line appears after 2 s.
        return group.next().schedule(after: .seconds(2), repeating: .seconds(1)) {
            let done = counters.completed.load(ordering: .relaxed)
            let rate = Double(done) / (monotonicSeconds() - start)
            let of = total.map { "/\($0)" } ?? ""
            FileHandle.standardError.write(Data("\r\u{1B}[K\(plan.workload.rawValue) \(plan.api.rawValue): \(done)\(of) ops, \(Report.grouped(rate)) ops/s".utf8))
        }
    }
}
