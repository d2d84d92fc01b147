import CoreMetrics
import Dispatch
import Foundation
import Reactor
import RedisUtil
import Synchronization

// Runs COUNT operations of one kind against a server, for `scripts/callgrind-per-op`,
// which counts instructions per operation under callgrind. Plain top-level code that
// waits on semaphores: valgrind 3.19 crashes on a process whose main thread has gone
// into `dispatchMain` (as an async `main` does) while another thread starts.
//
// Usage: callgrind-probe PORT|URL OPERATION COUNT   (a URL such as rediss://…?cacert=… for TLS)
//   OPERATION: rpush-callback, rpush-async, channel-send-callback, channel-recv-callback,
//   channel-send-json-callback, channel-recv-json-callback (the message as a JSONValue),
//   channel-send-members-callback, channel-recv-members-callback (the message writing and
//   reading its own members: JSONMemberEncodable, JSONMemberDecodable),
//   rpush-typed-async (the typed `rpush(key, value)`), rpush-async-reactor (each task
//   preferring one of the client's reactors as its executor, as redis-bench's do),
//   ping-async, ping-async-reactor, lpop-async, lpop-async-reactor (LPOPs of a list
//   filled first, as lpop-callback), channel-send-async, channel-recv-async (plain tasks,
//   as rpush-async), channel-send-async-reactor, channel-recv-async-reactor (tasks
//   preferring a reactor), channel-send-members-async-reactor,
//   channel-recv-members-async-reactor (the same with the members' message),
//   rpush-async-actor (each lane in an actor whose executor is a reactor, from a plain
//   task), rpush-async-actor-reactor (the same from a task preferring that reactor),
//   command-callback (the command in PROBE_COMMAND, words split at spaces),
//   pipeline-callback, pipeline-async (a pipeline of PROBE_PIPELINE RPUSHes, default 10,
//   per operation, to one key or in turn to PROBE_PIPELINE_KEYS; PROBE_TRANSACTION=1: in MULTI … EXEC),
//   lpop-callback (a raw LPOP of the same list and messages as channel-recv-callback:
//   the receive's baseline, what it costs beyond the pop),
//   channel-serve (a RedisChannelServer of 8 answering COUNT waiting requests: lease,
//   handler, reply and ack), channel-respond (8 tasks doing what channel-pingpong's
//   responders do: a blocking receive, then a send), await-reactor (no command: tasks as
//   rpush-async-reactor's awaiting continuations that their reactor resumes, the Swift
//   runtime's floor under an awaited command; `ParkedContinuations`)
// Four connections, 128 operations in flight on each, 64-byte payloads: the
// `make bench` deep-pipeline row (PROBE_CONNECTIONS and PROBE_IN_FLIGHT change the first two).

/// A message of the benchmark's shape (redis-bench's `BenchMessage`): four fields.
struct Message: Codable, Sendable {
    var t: UInt64
    var seq: Int
    var data: String
    var kind: String
}

/// The same message, made fresh per send as a caller would.
func typedMessage() -> Message { Message(t: 1_733_000_000_000, seq: 42, data: payload, kind: "bench") }

/// The same message writing and reading its own members (`JSONMemberEncodable`,
/// `JSONMemberDecodable`): the same bytes, the same values.
struct MemberMessage: Codable, Sendable, JSONMemberEncodable, JSONMemberDecodable {
    var t: UInt64
    var seq: Int
    var data: String
    var kind: String

    func writeMembers(to members: inout JSONMemberWriter) {
        members.write("t", t)
        members.write("seq", seq)
        members.write("data", data)
        members.write("kind", kind)
    }

    init(t: UInt64, seq: Int, data: String, kind: String) {
        (self.t, self.seq, self.data, self.kind) = (t, seq, data, kind)
    }

    init(members: inout JSONMemberReader) throws {
        t = try members.read("t")
        seq = try members.read("seq")
        data = try members.read("data")
        kind = try members.read("kind")
    }
}

func memberMessage() -> MemberMessage { MemberMessage(t: 1_733_000_000_000, seq: 42, data: payload, kind: "bench") }

/// The same message as a ``JSONValue``.
func jsonMessage() -> JSONValue {
    .object(["t": .number(1_733_000_000_000), "seq": .number(42), "data": .string(payload), "kind": .string("bench")])
}

let arguments = CommandLine.arguments
guard arguments.count == 4, let count = Int(arguments[3]) else {
    fatalError("usage: callgrind-probe PORT|URL OPERATION COUNT")
}
let endpoint = try Int(arguments[1]).map { RedisEndpoint.tcp(host: "127.0.0.1", port: $0) } ?? RedisEndpoint(url: arguments[1])
let operation = arguments[2]
// PROBE_CONNECTIONS and PROBE_IN_FLIGHT (per connection) change the depth, e.g. 1 and 1
// for `make bench`'s 1 × 1 row, where each command also costs a loop iteration of its own.
let environment = ProcessInfo.processInfo.environment
let connections = environment["PROBE_CONNECTIONS"].flatMap { Int($0) } ?? 4
let inFlight = connections * (environment["PROBE_IN_FLIGHT"].flatMap { Int($0) } ?? 128)
let payload = String(repeating: "x", count: 64)
// PROBE_METRICS=1: the operations with metrics on (see CountingMetrics).
if environment["PROBE_METRICS"] == "1" { MetricsSystem.bootstrap(CountingMetrics()) }
// The client's reactors, which rpush-async-reactor's tasks prefer as their executor.
let group = try ReactorGroup(count: ReactorGroup.activeProcessorCount, name: "probe")
// PROBE_CANCELLATION=after-reply: awaited commands without a cancellation record (the
// policy's cost, against the default's prompt cancellation).
var configuration = RedisConfiguration(connections: connections)
if environment["PROBE_CANCELLATION"] == "after-reply" { configuration.cancellation = .afterReply }
let client = try RedisClient(endpoint, configuration: configuration, group: group)
let channel = RedisChannel(client: client, "/callgrind-probe", peer: .client)
/// The JSON a Python peer sends for a message: its members in declaration order (a
/// `dict`'s insertion order), as the channel's own send writes them and as redis-bench
/// fills its lists. (Foundation's `JSONEncoder`, used before, wrote them in another order,
/// which sent each of a receive's key look-ups around the members: about 350 instructions
/// a message that the benchmark's receive does not pay.)
let peerJSON = String(decoding: try JSONMemberWriter.codableBytes(of: typedMessage()), as: UTF8.self)

/// A pipeline of PROBE_PIPELINE (default 10) RPUSHes: pipeline-callback's and
/// pipeline-async's operation. To one key, or in turn to PROBE_PIPELINE_KEYS keys (on a
/// cluster of several primaries, `CLUSTER=3`, a pipeline split over nodes). With
/// PROBE_TRANSACTION=1, inside `MULTI` … `EXEC` (its keys then in one slot: `{callgrind-probe}:n`).
let probePipeline: RedisPipeline = {
    var pipeline = RedisPipeline()
    let keys = max(1, environment["PROBE_PIPELINE_KEYS"].flatMap { Int($0) } ?? 1)
    let transaction = environment["PROBE_TRANSACTION"] == "1"
    if transaction { pipeline.send("MULTI") }
    for command in 0..<(environment["PROBE_PIPELINE"].flatMap { Int($0) } ?? 10) {
        let key = keys == 1 ? "callgrind-probe" : transaction ? "{callgrind-probe}:\(command % keys)" : "callgrind-probe:\(command % keys)"
        pipeline.send("RPUSH", key, payload)
    }
    if transaction { pipeline.send("EXEC") }
    return pipeline
}()
/// An actor whose executor is one of the client's reactors (its state then lives on that
/// reactor's thread): rpush-async-actor's lanes run in it.
actor ReactorActor {
    let reactor: Reactor
    init(_ reactor: Reactor) { self.reactor = reactor }
    nonisolated var unownedExecutor: UnownedSerialExecutor { reactor.asUnownedSerialExecutor() }
    /// Runs `body` isolated to the actor.
    func run(_ body: nonisolated(nonsending) @Sendable () async -> Void) async { await body() }
}

/// Keeps `inFlight` callback operations going until `count` have completed.
final class Window: Sendable {
    private let issued = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    private let count: Int
    private let operation: String
    let done = DispatchSemaphore(value: 0)
    let start: @Sendable (Window) -> Void

    init(_ count: Int, _ operation: String, start: @escaping @Sendable (Window) -> Void) {
        self.count = count
        self.operation = operation
        self.start = start
    }

    func begin(inFlight: Int) {
        for _ in 0..<min(inFlight, count) { next() }
        done.wait()
    }

    func next() {
        guard issued.wrappingAdd(1, ordering: .relaxed).oldValue < count else { return }
        start(self)
    }

    func finished<T>(_ result: Result<T, RedisError>) {
        if case .failure(let error) = result { fatalError("\(operation) failed: \(error)") }
        if completed.wrappingAdd(1, ordering: .relaxed).newValue == count { done.signal() } else { next() }
    }
}

/// Requests answered so far, and the signal that all have been (channel-serve, channel-respond).
let answered = Atomic<Int>(0)
let allAnswered = DispatchSemaphore(value: 0)

// Start from empty lists, before anything else is sent.
let cleared = DispatchSemaphore(value: 0)
client.send("DEL", "callgrind-probe", "/callgrind-probe/client", "/callgrind-probe/server") { _ in cleared.signal() }
cleared.wait()
switch operation {
case "rpush-callback":
    Window(count, operation) { window in client.send("RPUSH", "callgrind-probe", payload) { window.finished($0) } }.begin(inFlight: inFlight)
case "ping-callback":
    Window(count, operation) { window in client.send("PING") { window.finished($0) } }.begin(inFlight: inFlight)
case "command-callback":
    // Any command, from PROBE_COMMAND (words split at spaces), e.g. `MGET {k}a {k}b`: to
    // find what a command costs on a cluster against one server.
    let words = (environment["PROBE_COMMAND"] ?? "PING").split(separator: " ").map(String.init)
    Window(count, operation) { window in client.send(arguments: words) { window.finished($0) } }.begin(inFlight: inFlight)
case "pipeline-callback":
    Window(count, operation) { window in client.pipeline(probePipeline) { window.finished($0) } }.begin(inFlight: inFlight)
case "echo-callback":
    // A command without keys: on a cluster, the path of every command that takes no first
    // route (keyless, fan-out, replica reads), to any primary.
    Window(count, operation) { window in client.send("ECHO", payload) { window.finished($0) } }.begin(inFlight: inFlight)
case "channel-send-callback":
    Window(count, operation) { window in
        channel.send(typedMessage()) { window.finished($0) }
    }.begin(inFlight: inFlight)
case "channel-send-members-callback":
    Window(count, operation) { window in
        channel.send(memberMessage()) { window.finished($0) }
    }.begin(inFlight: inFlight)
case "channel-send-json-callback":
    Window(count, operation) { window in
        channel.send(jsonMessage()) { window.finished($0) }
    }.begin(inFlight: inFlight)
case "channel-recv-callback", "channel-recv-json-callback", "channel-recv-members-callback", "lpop-callback":
    // Fill the list first, 256 messages per RPUSH (their cost per message is small
    // beside a receive's), then measure the receives.
    let batches = (count + 255) / 256
    Window(batches, operation) { window in
        client.send(arguments: ["RPUSH", "/callgrind-probe/server"] + Array(repeating: peerJSON, count: 256)) { window.finished($0) }
    }.begin(inFlight: 8)
    if operation == "lpop-callback" {
        Window(count, operation) { window in
            client.send("LPOP", "/callgrind-probe/server") { result in
                if case .success(let reply) = result, reply.isNull { fatalError("lpop-callback: the list ran empty") }
                window.finished(result)
            }
        }.begin(inFlight: inFlight)
    } else if operation == "channel-recv-members-callback" {
        Window(count, operation) { window in
            channel.recv(as: MemberMessage.self) { result in window.finished(result.map { $0! }) }
        }.begin(inFlight: inFlight)
    } else if operation == "channel-recv-json-callback" {
        Window(count, operation) { window in
            channel.recv(as: JSONValue.self) { result in window.finished(result.map { $0! }) }
        }.begin(inFlight: inFlight)
    } else {
        Window(count, operation) { window in
            channel.recv(as: Message.self) { result in window.finished(result.map { $0! }) }
        }.begin(inFlight: inFlight)
    }
case "channel-serve", "channel-respond":
    // The requests wait in the list first; what is counted is answering them.
    let batches = (count + 255) / 256
    Window(batches, operation) { window in
        client.send(arguments: ["RPUSH", "/callgrind-probe/client"] + Array(repeating: peerJSON, count: 256)) { window.finished($0) }
    }.begin(inFlight: 8)
    let worker = RedisChannel(client: client, "/callgrind-probe", peer: .server)
    if operation == "channel-serve" {
        let pool = RedisChannelServer(worker, as: Message.self, concurrency: 8) { delivery in
            if answered.wrappingAdd(1, ordering: .relaxed).newValue == count { allAnswered.signal() }
            return delivery.message
        }
        pool.start { error in if let error { fatalError("serve failed: \(error)") } }
        allAnswered.wait()
        pool.stop()
    } else {
        Task.detached {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<8 {
                    group.addTask {
                        while answered.wrappingAdd(1, ordering: .relaxed).oldValue < count {
                            do {
                                guard let message = try await worker.brecv(as: Message.self, timeout: .seconds(5)) else { fatalError("no request") }
                                try await worker.send(message)
                            } catch { fatalError("respond failed: \(error)") }
                        }
                    }
                }
            }
            allAnswered.signal()
        }
        allAnswered.wait()
    }
case "rpush-async", "rpush-typed-async", "rpush-async-reactor", "ping-async", "ping-async-reactor", "lpop-async", "lpop-async-reactor",
     "pipeline-async", "channel-send-async", "channel-recv-async", "channel-send-async-reactor", "channel-recv-async-reactor",
     "channel-send-members-async-reactor", "channel-recv-members-async-reactor", "rpush-async-actor", "rpush-async-actor-reactor":
    if operation.hasPrefix("channel-recv-") || operation.hasPrefix("lpop-") {
        // Filled first, as for channel-recv-callback.
        Window((count + 255) / 256, operation) { window in
            client.send(arguments: ["RPUSH", "/callgrind-probe/server"] + Array(repeating: peerJSON, count: 256)) { window.finished($0) }
        }.begin(inFlight: 8)
    }
    let done = DispatchSemaphore(value: 0)
    /// The operation, named once: a `switch` on its name in the loop compared strings per
    /// command (about 300 instructions counted as the library's), and a closure per
    /// operation added an async frame.
    enum Step { case rpush, typedRPUSH, ping, lpop, pipeline, send, recv, sendMembers, recvMembers }
    let step: Step = switch operation {
    case "rpush-typed-async": .typedRPUSH
    case "ping-async", "ping-async-reactor": .ping
    case "lpop-async", "lpop-async-reactor": .lpop
    case "pipeline-async": .pipeline
    case "channel-send-async", "channel-send-async-reactor": .send
    case "channel-recv-async", "channel-recv-async-reactor": .recv
    case "channel-send-members-async-reactor": .sendMembers
    case "channel-recv-members-async-reactor": .recvMembers
    default: .rpush
    }
    /// One lane's share of the commands; `nonisolated(nonsending)` so that in an actor
    /// (rpush-async-actor) it runs on the actor, as the actor's own method would.
    @Sendable nonisolated(nonsending) func lane(_ lane: Int) async {
        var index = lane
        while index < count {
            do {
                switch step {
                case .typedRPUSH: try await client.rpush("callgrind-probe", payload)
                case .send: try await channel.send(typedMessage())
                case .recv: _ = try await channel.recv(as: Message.self)!
                case .sendMembers: try await channel.send(memberMessage())
                case .recvMembers: _ = try await channel.recv(as: MemberMessage.self)!
                case .rpush: _ = try await client.send("RPUSH", "callgrind-probe", payload)
                case .ping: _ = try await client.send("PING")
                case .lpop:
                    if try await client.send("LPOP", "/callgrind-probe/server").isNull { fatalError("lpop-async: the list ran empty") }
                case .pipeline: _ = try await client.pipeline(probePipeline)
                }
            } catch {
                fatalError("rpush failed: \(error)")
            }
            index += inFlight
        }
    }
    Task.detached {
        await withTaskGroup(of: Void.self) { tasks in
            for index in 0..<inFlight {
                // *-async-reactor: each task prefers a reactor, as redis-bench's async
                // tasks do. (A task given `executorPreference: nil` is not a plain task:
                // the runtime then looks its preference up under a lock at every switch.)
                let reactor = group.reactors[index % group.reactors.count]
                if operation.hasPrefix("rpush-async-actor") {
                    // An actor whose executor is the reactor, from a plain task or (-reactor)
                    // from one preferring the same reactor.
                    let actor = ReactorActor(reactor)
                    if operation.hasSuffix("-reactor") {
                        tasks.addTask(executorPreference: reactor) { await actor.run { await lane(index) } }
                    } else {
                        tasks.addTask { await actor.run { await lane(index) } }
                    }
                } else if operation.hasSuffix("-async-reactor") {
                    tasks.addTask(executorPreference: reactor) { await lane(index) }
                } else {
                    tasks.addTask { await lane(index) }
                }
            }
        }
        done.signal()
    }
    done.wait()
case "await-reactor":
    // The runtime's floor under an awaited command (`ParkedContinuations`): tasks as
    // rpush-async-reactor's, each awaiting a continuation the reactor resumes.
    let done = DispatchSemaphore(value: 0)
    Task.detached {
        await withTaskGroup(of: Void.self) { tasks in
            let parked = group.reactors.map(ParkedContinuations.init)
            for lane in 0..<inFlight {
                let reactor = lane % group.reactors.count
                tasks.addTask(executorPreference: group.reactors[reactor]) {
                    for _ in stride(from: lane, to: count, by: inFlight) {
                        await _unsafeInheritExecutor_withUnsafeContinuation { parked[reactor].park($0) }
                    }
                }
            }
        }
        done.signal()
    }
    done.wait()
default:
    fatalError("unknown operation \(operation)")
}
let closed = DispatchSemaphore(value: 0)
Task.detached {
    await client.close()
    closed.signal()
}
closed.wait()
group.shutdown()
