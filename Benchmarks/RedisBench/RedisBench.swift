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
        With --cluster it starts a private Redis Cluster (LocalRedisCluster) instead, or with --cluster-seed uses an existing one.
        Without --workload it runs a representative set (about a minute); with --workload, the knobs apply to each.
        """
    )

    @Option(help: "A server to benchmark instead of a private one, e.g. redis://127.0.0.1:6379.")
    var endpoint: String?

    @Option(help: "A port on 127.0.0.1 to benchmark instead of a private server.")
    var port: Int?

    @Flag(help: "Run on a Redis Cluster: a private one (--cluster-primaries primaries, one replica each) unless --cluster-seed names one. A redis+cluster:// --endpoint is a cluster too.")
    var cluster = false

    @Option(help: "With --cluster: the private cluster's primaries (each with one replica).")
    var clusterPrimaries: Int = 3

    @Option(help: "A node of an existing cluster to run on, HOST:PORT (repeatable; implies --cluster).")
    var clusterSeed: [String] = []

    @Option(help: "Keys (or channels, for channel-send and channel-recv) a workload spreads over, operation i on key i % K (default: 1 on one server, 64 on a cluster).")
    var keys: Int?

    @Option(help: "On a cluster, how the lanes share the keys: spread (each connection's commands over every primary) or by-primary (each connection's over the keys one primary owns, connections dealt to primaries in turn, as redis-benchmark --cluster binds each client to one node; rpush only). The default set on a cluster runs rpush both ways.")
    var keyLayout: KeyLayout?

    @Option(name: .customLong("workload"), help: "Workload to run (repeatable): \(Workload.allCases.map(\.rawValue).joined(separator: ", ")).")
    var workloads: [Workload] = []

    @Option(help: "The type channel-send and channel-recv send and receive their message as (the same four members, the same bytes): members (a struct writing and reading its own members, the channel's fast path), codable (the same struct through plain Codable) or json (a JSONValue). Without it, members, and the default set runs both workloads with json too.")
    var message: MessageKind?

    @Option(help: "Multiplexed connections (redis-benchmark -c). Blocking receives use dedicated connections besides these. On a cluster, the total, spread over its primaries as redis-benchmark --cluster spreads its clients: ⌈N ÷ primaries⌉ per primary.")
    var connections: Int = 4

    @Option(help: "Commands in flight per connection (redis-benchmark -P).")
    var pipeline: Int = 128

    @Option(help: "Operations per run (default depends on the workload).")
    var messages: Int?

    @Option(help: "Payload bytes per message (a channel message's JSON is at least about 43 bytes; MB/s counts what is stored).")
    var size: Int = 64

    @Option(help: "Facade: callback; async (tasks preferring the client's reactors as their executor, as a worker pool on this library should be written); async-global (plain tasks on Swift's global executor, as most Swift code is written); both (callback and async) or all (the three). For channel-pipe: the producers' facade. Async unless asked; `make bench` runs all three side by side.")
    var api: API = .async

    @Option(help: "Producers for channel-pipe.")
    var producers: Int = 2

    @Option(help: "Consumers for channel-pipe (default: 2); responders for channel-pingpong and the serve pool's concurrency for channel-serve (default: one per request in flight, up to 64, as a worker pool sized to its load).")
    var consumers: Int?

    @Option(help: "Runs of each workload, each followed by its comparisons; the median round is reported (steadier ratios on a noisy machine).")
    var rounds: Int = 1

    @Option(help: "What cancelling a task does to a command already sent: prompt (the library's default) or after-reply (no cancellation handler per async command).")
    var cancellation: Cancellation = .prompt

    @Option(help: "Reactor threads of the client (default: one per core).")
    var reactors: Int?

    @Option(help: "Run each workload for this many seconds instead of a message count (latency from the last 4M operations).")
    var duration: Double?

    @Option(help: "Unmeasured operations before each run (default: a tenth of the messages, at most 10,000).")
    var warmup: Int?

    @Flag(help: "TLS (as redis-benchmark --tls). Alone, the private server serves TLS with a throw-away CA, and rpush also runs in plaintext on a second private server for the cost of TLS; with --cluster, the private cluster serves TLS only (tls-cluster yes).")
    var tls = false

    @Option(help: "With --tls: a CA certificate file to verify the server with.")
    var cacert: String?

    @Option(help: "With --tls: a client certificate file (mutual TLS).")
    var cert: String?

    @Option(help: "With --tls: the client certificate's private key file.")
    var key: String?

    @Option(help: "With --tls: the server name to send (SNI) and verify.")
    var sni: String?

    @Flag(help: "With --tls: do not verify the server's certificate.")
    var insecure = false

    @Flag(help: "Print a JSON array (one object per run) on stdout instead of the table.")
    var json = false

    @Flag(help: "No progress line on stderr.")
    var quiet = false

    @Flag(inversion: .prefixedNo, help: ArgumentHelp(
        "Live view: a line a second on stderr with ops/s so far (the client's commands), p50/p99 of the last second, errors and reconnects, from the client's swift-metrics.",
        discussion: "On by default when stderr is a terminal, unless --quiet or --json. It adds the metrics' cost to every command (measured figures included); --no-live leaves it out. --live shows it anywhere, a line each, for logs."))
    var live: Bool?

    @Flag(help: "Also run redis-benchmark with the same parameters for rpush, lpop and ping, and print the ratio.")
    var compareRedisBenchmark = false

    @Flag(help: "Also build and run the C reference (hiredis async + libevent) for rpush and ping; printed under the table.")
    var compareHiredis = false

    func validate() throws {
        guard connections > 0 else { throw ValidationError("--connections must be at least 1") }
        guard pipeline > 0 else { throw ValidationError("--pipeline must be at least 1") }
        // Channel messages carry a timestamp and a sequence number; raw payloads may be empty.
        let runsChannels = workloads.isEmpty || workloads.contains { $0.redisBenchmarkTest == nil }
        guard size >= (runsChannels ? 16 : 0) else {
            throw ValidationError(runsChannels ? "--size must be at least 16 bytes for channel workloads (their messages carry a timestamp)" : "--size cannot be negative")
        }
        if let messages, messages <= 0 { throw ValidationError("--messages must be positive") }
        if let duration, duration <= 0 { throw ValidationError("--duration must be positive") }
        guard producers > 0, consumers ?? 1 > 0 else { throw ValidationError("--producers and --consumers must be at least 1") }
        if let warmup, warmup < 0 { throw ValidationError("--warmup cannot be negative") }
        guard rounds > 0 else { throw ValidationError("--rounds must be at least 1") }
        if let reactors, reactors <= 0 { throw ValidationError("--reactors must be at least 1") }
        if endpoint != nil && port != nil { throw ValidationError("give --endpoint or --port, not both") }
        if let keys, keys <= 0 { throw ValidationError("--keys must be at least 1") }
        if keyLayout == .byPrimary {
            guard cluster || !clusterSeed.isEmpty || endpoint.flatMap({ try? RedisEndpoint(url: $0) })?.isCluster == true else {
                throw ValidationError("--key-layout by-primary needs a cluster (--cluster or --cluster-seed)")
            }
            // A pop's lists would each need filling for its primary's share of an uneven load.
            guard !workloads.isEmpty, workloads.allSatisfy({ $0 == .rpush }) else {
                throw ValidationError("--key-layout by-primary applies to --workload rpush only")
            }
        }
        guard clusterPrimaries > 0 else { throw ValidationError("--cluster-primaries must be at least 1") }
        if message != nil, !workloads.isEmpty, !workloads.contains(where: \.takesMessageKind) {
            throw ValidationError("--message applies to --workload channel-send and channel-recv")
        }
        if (cluster || !clusterSeed.isEmpty) && (endpoint != nil || port != nil) {
            throw ValidationError("--cluster and --cluster-seed choose the server: not with --endpoint or --port (a redis+cluster:// --endpoint is a cluster)")
        }
        do { _ = try BenchCluster.existing(seeds: clusterSeed) } catch { throw ValidationError(error.description) }
        if !tls && (cacert != nil || cert != nil || key != nil || sni != nil || insecure) {
            throw ValidationError("--cacert, --cert, --key, --sni and --insecure need --tls")
        }
        if (cert == nil) != (key == nil) { throw ValidationError("--cert and --key go together") }
        if live == true && quiet { throw ValidationError("--live and --quiet contradict each other") }
    }

    mutating func run() async throws {
        var server: LocalRedisServer?
        var benchCluster: BenchCluster?
        var target: RedisEndpoint
        var benchTLS = tls ? BenchTLS(caFile: cacert, certificateFile: cert, keyFile: key, serverName: sni, insecure: insecure) : nil
        if !clusterSeed.isEmpty {
            do { benchCluster = try BenchCluster.existing(seeds: clusterSeed) } catch { throw ValidationError("\(error)") }
            target = benchCluster!.endpoint
        } else if cluster {
            do { benchCluster = try BenchCluster.start(primaries: clusterPrimaries, tls: tls) } catch {
                throw Self.failure("cannot start a private Redis Cluster: \(error)")
            }
            target = benchCluster!.endpoint
            // The private cluster's throw-away CA, unless the user named one.
            if let files = benchCluster?.local?.tlsFiles, benchTLS?.caFile == nil { benchTLS?.caFile = files.caCertificate }
        } else if let endpoint {
            do { target = try RedisEndpoint(url: endpoint) } catch { throw ValidationError("\(error)") }
        } else if let port {
            target = .tcp(host: "127.0.0.1", port: port)
        } else {
            do {
                server = try LocalRedisServer(configuration: .init(tls: tls ? .init() : nil))
            } catch {
                throw Self.failure("cannot start a private redis-server: \(error)")
            }
            target = .tcp(host: server!.host, port: server!.port)
            // The private server's throw-away CA, unless the user named one.
            if let files = server?.tlsFiles, benchTLS?.caFile == nil { benchTLS?.caFile = files.caCertificate }
        }
        defer { server?.stop() }
        defer { benchCluster?.local?.stop() }
        if let benchTLS { target.tls = benchTLS.configuration }
        // With TLS on the private server, a plaintext twin measures what TLS costs.
        var plainServer: LocalRedisServer?
        if tls && server != nil {
            do { plainServer = try LocalRedisServer() } catch { throw Self.failure("cannot start the plaintext private redis-server: \(error)") }
        }
        defer { plainServer?.stop() }

        do {
            try await RedisClient.waitServe(target, timeout: .seconds(3))
        } catch {
            throw Self.failure("\(error)")
        }
        let group = try ReactorGroup(count: reactors ?? ReactorGroup.activeProcessorCount, name: "bench")
        defer { group.shutdown() }

        let interactive = !quiet && !json && isatty(2) == 1
        // Only a run that shows the live view pays for metrics: without it no backend exists.
        let liveView = (live ?? interactive) ? LiveView(metrics: LiveMetrics(), inPlace: isatty(2) == 1) : nil
        let serverCPU: ServerCPUSource = if let cluster = benchCluster, cluster.local != nil {
            .privateCluster { cluster.cpuSeconds() }
        } else if server != nil { .privateServer } else { .unmeasured }
        var runner = Runner(endpoint: target, group: group, progress: interactive, serverCPU: serverCPU, live: liveView)
        let onCluster = target.isCluster
        if onCluster {
            do { runner.clusterPrimaries = try await BenchCluster.primaryCount(target, group: group) } catch {
                throw Self.failure("cannot read the cluster's nodes: \(error)")
            }
        }
        let plainRunner = plainServer.map { Runner(endpoint: .tcp(host: $0.host, port: $0.port), group: group, progress: interactive, serverCPU: .privateServer, live: liveView) }
        var results: [RunResult] = []
        var hiredisLines: [String] = []
        // The C harness pushes 64-byte values only.
        let hiredis = compareHiredis && size == 64 && !tls && !onCluster ? HiredisComparison.build() : nil
        if compareHiredis && onCluster {
            Self.warn("the hiredis reference speaks to one server; not run on a cluster")
        } else if compareHiredis && tls {
            Self.warn("the hiredis reference speaks plaintext only; not run with --tls")
        } else if compareHiredis && size != 64 {
            Self.warn("the hiredis reference pushes 64-byte values; not run with --size \(size)")
        } else if compareHiredis && hiredis == nil {
            Self.warn("cannot build the hiredis reference (needs gcc, libhiredis-dev, libevent-dev)")
        }
        if compareRedisBenchmark && RedisBenchmarkComparison.executable == nil {
            Self.warn("redis-benchmark is not installed (apt-get install redis-tools); its columns stay empty")
        }
        for plan in plans(onCluster: onCluster) {
            for concrete in plan.api.concrete {
                var single = plan
                single.api = concrete
                let hiredisCommand: HiredisComparison.Command? = switch plan.workload {
                case .rpush: .rpush
                case .ping: .ping
                default: nil
                }
                let withHiredis = concrete == plan.api.concrete.first ? hiredisCommand.flatMap { command in hiredis.map { (binary: $0, command: command) } } : nil
                var measured: [(result: RunResult, hiredis: HiredisComparison.Figures?)] = []
                for round in 1...rounds {
                    // Ours and theirs back to back within each round, so that a drift of the
                    // machine's speed moves both sides of a ratio together.
                    var result: RunResult
                    do { result = try await runner.run(single, round: round, of: rounds) } catch { throw Self.failure("\(error)") }
                    // On a cluster (or over several keys) redis-benchmark runs rpush only: see
                    // RedisBenchmarkComparison.spreadArguments. The target's address is the
                    // first seed's.
                    let spread = onCluster || single.keys > 1
                    if compareRedisBenchmark, let test = plan.workload.redisBenchmarkTest, !spread || plan.workload == .rpush,
                       case .tcp(let host, let port) = target.address {
                        if plan.workload == .lpop { try await runner.fillForRedisBenchmark(single, count: result.messages) }
                        let serverBefore = await runner.serverCPUSeconds()
                        let theirs = RedisBenchmarkComparison.run(
                            test: test, host: host, port: port, connections: single.connections,
                            pipeline: single.pipeline, requests: result.messages, size: single.size,
                            keys: single.keys, cluster: onCluster, tls: benchTLS?.redisBenchmarkArguments ?? [])
                        result.redisBenchmarkOpsPerSec = theirs?.opsPerSecond
                        result.redisBenchmarkCpuUsPerOp = theirs?.cpuMicrosecondsPerOp
                        if let theirs, let serverBefore, let serverAfter = await runner.serverCPUSeconds() {
                            result.redisBenchmarkServerCpuUsPerOp = (serverAfter - serverBefore) * 1e6 / Double(theirs.requests)
                        }
                        result.ratioVsRedisBenchmark = theirs.map { result.opsPerSec / $0.opsPerSecond }
                        try? await runner.removeRedisBenchmarkKeys(single)
                    }
                    if let plainRunner, plan.workload == .rpush {
                        let plain: RunResult
                        do { plain = try await plainRunner.run(single, round: round, of: rounds) } catch { throw Self.failure("plaintext twin: \(error)") }
                        result.plaintextOpsPerSec = plain.opsPerSec
                        result.ratioVsPlaintext = result.opsPerSec / plain.opsPerSec
                    }
                    var figures: HiredisComparison.Figures?
                    if let withHiredis, case .tcp(_, let port) = target.address {
                        figures = HiredisComparison.run(withHiredis.command, binary: withHiredis.binary, port: port, connections: single.connections,
                                                        pipeline: single.pipeline, requests: result.messages)
                    }
                    measured.append((result, figures))
                }
                // The median round by ratio when there is one, else by throughput: one real
                // run's figures, not a mix of several; hiredis' from that same round, so that
                // ours and its stand beside the same redis-benchmark run.
                let median = measured.sorted { ($0.result.ratioVsRedisBenchmark ?? $0.result.opsPerSec) < ($1.result.ratioVsRedisBenchmark ?? $1.result.opsPerSec) }[rounds / 2]
                let result = median.result
                if let figures = median.hiredis {
                    // Over the same redis-benchmark run as ours.
                    let ratio = result.redisBenchmarkOpsPerSec.map { String(format: ", %.2f of redis-benchmark's ops/s", figures.opsPerSecond / $0) } ?? ""
                    hiredisLines.append(String(
                        format: "hiredis (C, async + libevent) %@ %d×%d, in the table's round: %@ ops/s, %.2f client cpu µs/op%@",
                        withHiredis?.command.name ?? "", single.connections, single.pipeline, Report.grouped(figures.opsPerSecond),
                        figures.cpuMicrosecondsPerOp, ratio))
                }
                results.append(result)
                if interactive { FileHandle.standardError.write(Data("done: \(result.workload) \(result.api) \(Report.grouped(result.opsPerSec)) ops/s\n".utf8)) }
            }
        }
        if json {
            print(try Report.json(results))
        } else {
            let version = benchCluster.map(\.summary) ?? "redis-server " + (server?.redisVersion ?? "external")
            let roundsNote = (tls ? ", TLS" : "") + (rounds > 1 ? ", median of \(rounds) rounds" : "") + (cancellation == .afterReply ? ", cancellation after-reply" : "")
            let keysNote = keyCount(onCluster: onCluster) > 1 ? ", over \(keyCount(onCluster: onCluster)) keys" : ""
            let spreadNote = runner.clusterPrimaries.map { ", conn spread over \($0) primar\($0 == 1 ? "y" : "ies"), ⌈conn ÷ \($0)⌉ each" } ?? ""
            print("redis-bench: \(ReactorGroup.activeProcessorCount) cores, \(group.reactors.count) reactor thread\(group.reactors.count == 1 ? "" : "s"), \(version), endpoint \(target)\(roundsNote)\(keysNote)\(spreadNote)")
            print(Report.table(results))
            for line in hiredisLines { print(line) }
        }
    }

    /// A failure that ends the run: its message on stderr (never on stdout, where
    /// --json output goes), and a non-zero exit status.
    static func failure(_ message: String) -> ExitCode {
        warn(message)
        return ExitCode.failure
    }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("redis-bench: \(message)\n".utf8))
    }

    /// Keys a workload spreads over: `--keys`, else 1 on one server and 64 on a cluster
    /// (one key would load one primary).
    func keyCount(onCluster: Bool) -> Int { keys ?? (onCluster ? 64 : 1) }

    /// The runs: the user's workloads with the user's knobs, or the representative default set.
    /// On a cluster the default set leaves out ping, which a cluster client sends to every
    /// primary (a fan-out, not one command).
    func plans(onCluster: Bool = false) -> [RunPlan] {
        func plan(_ workload: Workload, connections: Int, pipeline: Int, messages: Int) -> RunPlan {
            RunPlan(workload: workload, api: api, connections: connections, pipeline: pipeline,
                    messages: self.messages ?? messages, size: size, duration: duration.map { .milliseconds(Int64($0 * 1000)) },
                    warmup: warmup ?? min(10_000, (self.messages ?? messages) / 10), producers: producers,
                    consumers: consumers ?? (workload == .channelPingpong || workload == .channelServe ? min(connections * pipeline, 64) : 2),
                    cancellation: cancellation, keys: workload.spreadsOverKeys ? keyCount(onCluster: onCluster) : 1,
                    keyLayout: keyLayout ?? .spread,
                    message: workload.takesMessageKind ? message ?? .members : .members)
        }
        /// The channel's default runs, and (unless --message named one type) its send and
        /// receive again with a `JSONValue`, the other type the performance bars name.
        func channelPlans() -> [RunPlan] {
            let plans = ChannelOperations.defaultPlans(plan)
            guard message == nil else { return plans }
            let json = plans.filter(\.workload.takesMessageKind).map { plan in
                var plan = plan
                plan.message = .json
                return plan
            }
            let split = plans.firstIndex { !$0.workload.takesMessageKind } ?? plans.count
            return Array(plans[..<split]) + json + Array(plans[split...])
        }
        if !workloads.isEmpty {
            return workloads.map { plan($0, connections: connections, pipeline: pipeline, messages: defaultMessages($0)) }
        }
        if onCluster {
            return [
                plan(.rpush, connections: 4, pipeline: 128, messages: 500_000),
                // redis-benchmark --cluster's own layout beside (unless a layout was asked for).
            ] + (keyLayout == nil ? [byPrimary(plan(.rpush, connections: 4, pipeline: 128, messages: 500_000))] : []) + [
                plan(.rpush, connections: 1, pipeline: 1, messages: 20_000),
                plan(.lpop, connections: 4, pipeline: 128, messages: 500_000),
            ] + channelPlans()
        }
        // Sized so that the whole set on the three facades, redis-benchmark's and hiredis'
        // runs included (`make bench`), takes about half a minute here; the async facade
        // alone, about five seconds.
        return [
            plan(.rpush, connections: 4, pipeline: 128, messages: 500_000),
            plan(.rpush, connections: 1, pipeline: 1, messages: 20_000),
            plan(.lpop, connections: 4, pipeline: 128, messages: 500_000),
            plan(.ping, connections: 4, pipeline: 128, messages: 500_000),
        ] + channelPlans()
    }

    /// `plan` with its lanes' keys grouped by primary (see ``KeyLayout/byPrimary``).
    private func byPrimary(_ plan: RunPlan) -> RunPlan {
        var plan = plan
        plan.keyLayout = .byPrimary
        return plan
    }

    func defaultMessages(_ workload: Workload) -> Int {
        switch workload {
        case .channelPingpong, .channelServe: 40_000
        default: pipeline == 1 ? 40_000 : 1_000_000
        }
    }
}
