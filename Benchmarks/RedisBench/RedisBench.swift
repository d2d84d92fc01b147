import ArgumentParser
import Foundation
import LocalRedis
import Reactor
import RedisUtil

/// `redis-bench`: send/recv throughput and latency of RedisUtil, side by side with redis-benchmark.
@main
struct RedisBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-bench",
        abstract: "Measures RedisUtil's send/recv throughput and latency against a Redis server.",
        discussion: """
        Without --endpoint or --port it starts a private redis-server (LocalRedis) and stops it at the end.
        Without --workload it runs a representative set (about a minute); with --workload, the knobs apply to each.
        """
    )

    @Option(help: "A server to benchmark instead of a private one, e.g. redis://127.0.0.1:6379.")
    var endpoint: String?

    @Option(help: "A port on 127.0.0.1 to benchmark instead of a private server.")
    var port: Int?

    @Option(name: .customLong("workload"), help: "Workload to run (repeatable): \(Workload.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workloads: [Workload] = []

    @Option(help: "Connections (redis-benchmark -c).")
    var connections: Int = 4

    @Option(help: "Commands in flight per connection (redis-benchmark -P).")
    var pipeline: Int = 128

    @Option(help: "Operations per run (default depends on the workload).")
    var messages: Int?

    @Option(help: "Payload bytes per message.")
    var size: Int = 64

    @Option(help: "Facade: callback, async or both.")
    var api: API = .both

    @Option(help: "Producers for channel-pipe.")
    var producers: Int = 2

    @Option(help: "Consumers for channel-pipe.")
    var consumers: Int = 2

    @Option(help: "Runs of each workload, each followed by its comparisons; the median round is reported (steadier ratios on a noisy machine).")
    var rounds: Int = 1

    @Option(help: "Reactor threads of the client (default: one per core).")
    var reactors: Int?

    @Option(help: "Run each workload for this many seconds instead of a message count.")
    var duration: Double?

    @Option(help: "Unmeasured operations before each run (default: a tenth of the messages, at most 10,000).")
    var warmup: Int?

    @Flag(help: "Print a JSON array (one object per run) on stdout instead of the table.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    @Flag(help: "Also run redis-benchmark with the same parameters for rpush, lpop and ping, and print the ratio.")
    var compareRedisBenchmark = false

    @Flag(help: "Also build and run the C reference (hiredis async + libevent) for rpush; printed under the table.")
    var compareHiredis = false

    func validate() throws {
        guard connections > 0 else { throw ValidationError("--connections must be at least 1") }
        guard pipeline > 0 else { throw ValidationError("--pipeline must be at least 1") }
        guard size >= 16 else { throw ValidationError("--size must be at least 16 bytes (channel messages carry a timestamp)") }
        if let messages, messages <= 0 { throw ValidationError("--messages must be positive") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard producers > 0, consumers > 0 else { throw ValidationError("--producers and --consumers must be at least 1") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup cannot be negative") }
        guard rounds > 0 else { throw ValidationError("--rounds must be at least 1") }
        if let reactors, reactors <= 0 { throw ValidationError("--reactors must be at least 1") }
        if endpoint != nil && port != nil { throw ValidationError("give --endpoint or --port, not both") }
    }

    mutating func run() async throws {
        var server: LocalRedisServer?
        let target: RedisEndpoint
        if let endpoint {
            do { target = try RedisEndpoint(url: endpoint) } catch { throw ValidationError("\(error)") }
        } else if let port {
            target = .tcp(host: "127.0.0.1", port: port)
        } else {
            do {
                server = try LocalRedisServer()
            } catch {
                throw CleanExit.message("redis-bench: cannot start a private redis-server: \(error)")
            }
            target = .tcp(host: server!.host, port: server!.port)
        }
        defer { server?.stop() }

        do {
            try await RedisClient.waitServe(target, timeout: .seconds(3))
        } catch {
            throw CleanExit.message("redis-bench: \(error)")
        }
        let group = try ReactorGroup(count: reactors ?? ReactorGroup.activeProcessorCount, name: "bench")
        defer { group.shutdown() }

        let runner = Runner(endpoint: target, group: group, progress: !quiet && isatty(2) == 1 && !json)
        var results: [RunResult] = []
        var hiredisLines: [String] = []
        let hiredis = compareHiredis ? HiredisComparison.build() : nil
        if compareHiredis && hiredis == nil && !json {
            FileHandle.standardError.write(Data("redis-bench: cannot build the hiredis reference (needs gcc, libhiredis-dev, libevent-dev)\n".utf8))
        }
        for plan in plans() {
            for concrete in plan.api.concrete {
                var single = plan
                single.api = concrete
                let withHiredis = concrete == plan.api.concrete.first && plan.workload == .rpush ? hiredis : nil
                var measured: [(result: RunResult, hiredis: HiredisComparison.Figures?)] = []
                for _ in 0..<rounds {
                    // Ours and theirs back to back within each round, so that a drift of the
                    // machine's speed moves both sides of a ratio together.
                    var result = try await runner.run(single)
                    if compareRedisBenchmark, let test = plan.workload.redisBenchmarkTest, case .tcp(let host, let port) = target.address {
                        if plan.workload == .lpop { try await runner.fillForRedisBenchmark(single) }
                        let theirs = RedisBenchmarkComparison.opsPerSecond(
                            test: test, host: host, port: port, connections: single.connections,
                            pipeline: single.pipeline, requests: result.messages, size: single.size)
                        result.redisBenchmarkOpsPerSec = theirs
                        result.ratioVsRedisBenchmark = theirs.map { result.opsPerSec / $0 }
                    }
                    var figures: HiredisComparison.Figures?
                    if let withHiredis, case .tcp(_, let port) = target.address {
                        figures = HiredisComparison.rpush(binary: withHiredis, port: port, connections: single.connections,
                                                          pipeline: single.pipeline, requests: result.messages)
                    }
                    measured.append((result, figures))
                }
                // The median round by ratio when there is one, else by throughput: one real
                // run's figures, not a mix of several.
                let result = measured.map(\.result).sorted { ($0.ratioVsRedisBenchmark ?? $0.opsPerSec) < ($1.ratioVsRedisBenchmark ?? $1.opsPerSec) }[rounds / 2]
                let hiredisFigures = measured.compactMap(\.hiredis).sorted { $0.cpuMicrosecondsPerOp < $1.cpuMicrosecondsPerOp }
                if !hiredisFigures.isEmpty {
                    let figures = hiredisFigures[hiredisFigures.count / 2]
                    hiredisLines.append(String(
                        format: "hiredis (C, async + libevent) rpush %d×%d: %@ ops/s, %.2f client cpu µs/op",
                        single.connections, single.pipeline, Report.grouped(figures.opsPerSecond), figures.cpuMicrosecondsPerOp))
                }
                results.append(result)
                if !json && !quiet { FileHandle.standardError.write(Data("done: \(result.workload) \(result.api) \(Report.grouped(result.opsPerSec)) ops/s\n".utf8)) }
            }
        }
        if json {
            print(Report.json(results))
        } else {
            let version = server?.redisVersion ?? "external"
            let roundsNote = rounds > 1 ? ", median of \(rounds) rounds" : ""
            print("redis-bench: \(ReactorGroup.activeProcessorCount) cores, redis-server \(version), endpoint \(target)\(roundsNote)")
            print(Report.table(results))
            for line in hiredisLines { print(line) }
        }
    }

    /// The runs: the user's workloads with the user's knobs, or the representative default set.
    func plans() -> [RunPlan] {
        func plan(_ workload: Workload, connections: Int, pipeline: Int, messages: Int) -> RunPlan {
            RunPlan(workload: workload, api: api, connections: connections, pipeline: pipeline,
                    messages: self.messages ?? messages, size: size, duration: duration.map { .milliseconds(Int64($0 * 1000)) },
                    warmup: warmup ?? min(10_000, (self.messages ?? messages) / 10), producers: producers, consumers: consumers)
        }
        if !workloads.isEmpty {
            return workloads.map { plan($0, connections: connections, pipeline: pipeline, messages: defaultMessages($0)) }
        }
        // Sized so that the whole set, redis-benchmark's runs included, takes about a minute here.
        return [
            plan(.rpush, connections: 4, pipeline: 128, messages: 500_000),
            plan(.rpush, connections: 1, pipeline: 1, messages: 20_000),
            plan(.lpop, connections: 4, pipeline: 128, messages: 500_000),
            plan(.ping, connections: 4, pipeline: 128, messages: 500_000),
        ] + ChannelOperations.defaultPlans(plan)
    }

    func defaultMessages(_ workload: Workload) -> Int {
        switch workload {
        case .channelPingpong: 40_000
        default: pipeline == 1 ? 40_000 : 1_000_000
        }
    }
}
