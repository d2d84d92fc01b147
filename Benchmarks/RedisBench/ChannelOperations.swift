import Reactor
import RedisUtil
import Synchronization

/// A benchmark message of four fields (the shape the performance issue measures): a send
/// timestamp (for end-to-end latency), a sequence number, a kind, and padding up to
/// `--size` bytes of JSON.
struct BenchMessage: Codable, Sendable, JSONMemberEncodable, JSONMemberDecodable {
    var t: UInt64
    var seq: Int
    var kind: String
    var data: String

    init(t: UInt64, seq: Int, kind: String, data: String) {
        (self.t, self.seq, self.kind, self.data) = (t, seq, kind, data)
    }

    /// The same bytes as `encode(to:)`, without `Codable`'s encoder: a channel user's
    /// fast path (``JSONMemberEncodable``), members in declaration order, as `encode(to:)`.
    func writeMembers(to members: inout JSONMemberWriter) {
        members.write("t", t)
        members.write("seq", seq)
        members.write("kind", kind)
        members.write("data", data)
    }

    /// The same value as `init(from:)`, without `Codable`'s decoder (``JSONMemberDecodable``).
    init(members: inout JSONMemberReader) throws {
        t = try members.read("t")
        seq = try members.read("seq")
        kind = try members.read("kind")
        data = try members.read("data")
    }

    /// `{"data": "xxx…", "kind": "bench", "seq": N, "t": N}` is about 57 bytes plus the padding.
    static func make(seq: Int, padding: String) -> BenchMessage {
        BenchMessage(t: monotonicNanoseconds(), seq: seq, kind: "bench", data: padding)
    }

    /// The padding that brings a message to `size` bytes of JSON. Built once per run: a
    /// copy is a retain, so the benchmark measures the channel, not string building.
    static func padding(size: Int) -> String {
        String(repeating: "x", count: max(0, size - 57))
    }
}

/// ``BenchMessage`` through plain `Codable` only (`--message codable`): the same members in
/// the same order, so the same bytes, written and read by the channel's `Codable` path.
struct BenchCodableMessage: Codable, Sendable {
    var t: UInt64
    var seq: Int
    var kind: String
    var data: String

    static func make(seq: Int, padding: String) -> BenchCodableMessage {
        BenchCodableMessage(t: monotonicNanoseconds(), seq: seq, kind: "bench", data: padding)
    }
}

extension JSONValue {
    /// ``BenchMessage`` as a `JSONValue` object (`--message json`), built per message as code
    /// that sends messages of any shape builds them. The same bytes: an object's members
    /// are written in the order they were given.
    static func benchMessage(seq: Int, padding: String) -> JSONValue {
        .object(["t": .number(Double(monotonicNanoseconds())), "seq": .number(Double(seq)), "kind": .string("bench"), "data": .string(padding)])
    }
}

/// The channel workloads, on `RedisChannel` (RPUSH/LPOP/BLPOP of JSON underneath).
enum ChannelOperations {
    static func defaultPlans(_ plan: (Workload, Int, Int, Int) -> RunPlan) -> [RunPlan] {
        [
            plan(.channelSend, 4, 128, 200_000),
            plan(.channelRecv, 4, 128, 200_000),
            plan(.channelPingpong, 1, 8, 20_000),
            plan(.channelServe, 1, 8, 20_000),
            plan(.channelPipe, 1, 1, 50_000),
        ]
    }

    /// The channel a workload uses.
    static func channelName(_ workload: Workload) -> String { "/bench/\(workload.rawValue)" }

    /// The channels a run uses: channel-send and channel-recv spread over `--keys`
    /// channels (`/bench/channel-send/0` …, operation `i` on channel `i % keys`); the
    /// workloads with answering peers keep one channel.
    static func channelNames(_ plan: RunPlan) -> [String] {
        let name = channelName(plan.workload)
        return plan.keys > 1 ? (0..<plan.keys).map { "\(name)/\($0)" } : [name]
    }

    static func prepare(_ plan: RunPlan, client: RedisClient, group: ReactorGroup) async throws -> Runner.Prepared {
        var prepared = try await prepareOperation(plan, client: client, group: group)
        prepared.bytesPerOperation = try await messageBytes(plan, client: client)
        return prepared
    }

    /// channel-send's operation: a message of `kind` made and sent on channel `i % count`.
    private static func sendOperation(_ kind: MessageKind, clients: [RedisChannel], padding: String) -> Operation {
        switch kind {
        case .members: sendOperation(clients: clients) { BenchMessage.make(seq: $0, padding: padding) }
        case .codable: sendOperation(clients: clients) { BenchCodableMessage.make(seq: $0, padding: padding) }
        case .json: sendOperation(clients: clients) { JSONValue.benchMessage(seq: $0, padding: padding) }
        }
    }

    /// channel-send's operation for one message type: `make(i)` sent on channel `i % count`.
    private static func sendOperation<Message: Encodable & Sendable>(clients: [RedisChannel], _ make: @escaping @Sendable (Int) -> Message) -> Operation {
        Operation(
            callback: { index, lane in clients[index % clients.count].send(make(index)) { lane.finished(Outcome($0)) } },
            async: { index, _ in await Outcome { try await clients[index % clients.count].send(make(index)); return true } }
        )
    }

    /// channel-recv's operation: a message received as `kind` from channel `i % count`
    /// (an empty list is an error: the lists were filled for every receive).
    private static func receiveOperation(_ kind: MessageKind, clients: [RedisChannel]) -> Operation {
        switch kind {
        case .members: receiveOperation(BenchMessage.self, clients: clients)
        case .codable: receiveOperation(BenchCodableMessage.self, clients: clients)
        case .json: receiveOperation(JSONValue.self, clients: clients)
        }
    }

    /// channel-recv's operation for one message type.
    private static func receiveOperation<Message: Decodable & Sendable>(_ type: Message.Type, clients: [RedisChannel]) -> Operation {
        Operation(
            callback: { index, lane in clients[index % clients.count].recv(as: type) { lane.finished(Outcome($0) { $0 != nil }) } },
            async: { index, _ in await Outcome { try await clients[index % clients.count].recv(as: type) != nil } }
        )
    }

    /// The JSON size of one benchmark message, as stored: `--size` is a target, and a
    /// small one is exceeded by the timestamp and sequence number.
    private static func messageBytes(_ plan: RunPlan, client: RedisClient) async throws -> Int {
        let probe = "/bench/size-probe"
        try await RedisChannel(client: client, probe, peer: .client).send(BenchMessage.make(seq: 0, padding: BenchMessage.padding(size: plan.size)))
        let bytes = try await client.send("LINDEX", "\(probe)/client", 0).bytes?.count ?? plan.size
        try await client.send("DEL", "\(probe)/client")
        return bytes
    }

    private static func prepareOperation(_ plan: RunPlan, client: RedisClient, group: ReactorGroup) async throws -> Runner.Prepared {
        let names = channelNames(plan)
        let name = names[0]
        let client_ = RedisChannel(client: client, name, peer: .client)
        let server = RedisChannel(client: client, name, peer: .server)
        let clients = names.map { RedisChannel(client: client, $0, peer: .client) }
        // One key per command: on a cluster the lists live in different slots.
        try await RawOperations.remove(names.flatMap { ["\($0)/client", "\($0)/server"] }, client: client)
        let padding = BenchMessage.padding(size: plan.size)
        // What the peers' tasks prefer in the workloads that run tasks of their own.
        let taskReactors = plan.api.taskReactors(group.reactors)
        switch plan.workload {
        case .channelSend:
            return Runner.Prepared(operation: sendOperation(plan.message, clients: clients, padding: padding))
        case .channelRecv:
            // 700k a second for a --duration run: about 1.5× what a client receives here;
            // each channel its share of warm-up and run (each numbered from 0).
            let perChannel = (Runner.prefill(plan, perSecond: 700_000) + names.count - 1) / names.count + (names.count > 1 ? 2 : 0)
            for name in names {
                let server = RedisChannel(client: client, name, peer: .server)
                var sent = 0
                while sent < perChannel {
                    let batch = min(1000, perChannel - sent)
                    try await server.send(contentsOf: (sent..<(sent + batch)).map { BenchMessage.make(seq: $0, padding: padding) })
                    sent += batch
                }
            }
            return Runner.Prepared(operation: receiveOperation(plan.message, clients: clients))
        case .channelPingpong:
            return pingPong(plan, requester: client_, responder: server, reactors: taskReactors)
        case .channelServe:
            return served(plan, requester: client_, responder: server, reactors: taskReactors)
        case .channelPipe:
            return pipe(plan, producer: server, consumer: client_, reactors: taskReactors)
        default:
            throw BenchError("\(plan.workload.rawValue) is not a channel workload")
        }
    }

    /// Requests from the client peer, answered by `--consumers` responder tasks on the
    /// server peer, as a worker pool does (by default one per request in flight: with
    /// fewer, the run measures requests queueing for a busy responder, not the channel).
    /// An operation is one full round trip.
    /// Every task prefers one of `reactors` as its executor, as a worker pool on this
    /// library should: a reply then resumes its task on the thread that read it (none,
    /// with `--api async-global`: plain tasks).
    private static func pingPong(_ plan: RunPlan, requester: RedisChannel, responder: RedisChannel, reactors: [Reactor]) -> Runner.Prepared {
        let request = requestOperation(plan, requester: requester)
        let responders = plan.consumers
        let lanes = plan.connections * plan.pipeline
        return Runner.Prepared(operation: request, custom: { counters, log in
            let stop = Stop()
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<responders {
                    group.addTask(executorPreference: reactors.preference(index)) {
                        while !stop.requested {
                            guard let message = try? await responder.brecv(as: BenchMessage.self, timeout: .milliseconds(200)) else { continue }
                            try? await responder.send(message)
                        }
                    }
                }
                group.addTask {
                    await Driver.run(plan.api, lanes: lanes, reactors: reactors, counters: counters, log: log, operation: request)
                    stop.request()
                }
                await stop.cancelWhenRequested(&group)
            }
        })
    }

    /// One request of a worker-pool workload: send, then await a reply (any lane's: every
    /// reply answers one request).
    private static func requestOperation(_ plan: RunPlan, requester: RedisChannel) -> Operation {
        let padding = BenchMessage.padding(size: plan.size)
        return Operation(
            callback: { index, lane in
                requester.send(BenchMessage.make(seq: index, padding: padding)) { sent in
                    guard case .success = sent else { return lane.finished(Outcome(sent)) }
                    requester.brecv(as: BenchMessage.self, timeout: .seconds(5)) { lane.finished(Outcome($0) { $0 != nil }) }
                }
            },
            async: { index, _ in
                await Outcome {
                    try await requester.send(BenchMessage.make(seq: index, padding: padding))
                    return try await requester.brecv(as: BenchMessage.self, timeout: .seconds(5)) != nil
                }
            }
        )
    }

    /// `channel-pingpong`'s requests, answered by a ``RedisChannelServer`` of
    /// `--consumers` handlers: each request leased, its reply sent with its ack.
    private static func served(_ plan: RunPlan, requester: RedisChannel, responder: RedisChannel, reactors: [Reactor]) -> Runner.Prepared {
        let request = requestOperation(plan, requester: requester)
        let lanes = plan.connections * plan.pipeline
        let workers = plan.consumers
        return Runner.Prepared(operation: request, custom: { counters, log in
            let pool = RedisChannelServer(responder, as: BenchMessage.self, concurrency: workers) { $0.message }
            let serving = Task { try await pool.run() }
            await Driver.run(plan.api, lanes: lanes, reactors: reactors, counters: counters, log: log, operation: request)
            pool.stop()
            _ = try? await serving.value
        })
    }

    /// `--producers` send into the channel (through `--api`'s facade), `--consumers`
    /// tasks block-receive from it; latency is from the timestamp inside each message to
    /// its receipt. A send that fails is an error and counts as delivered, so that the
    /// consumers do not wait for it; consumers give up on a server that fails them.
    private static func pipe(_ plan: RunPlan, producer: RedisChannel, consumer: RedisChannel, reactors: [Reactor]) -> Runner.Prepared {
        let padding = BenchMessage.padding(size: plan.size)
        let noop = Operation(callback: { _, lane in lane.finished(.succeeded) }, async: { _, _ in .succeeded })
        return Runner.Prepared(operation: noop, custom: { counters, log in
            let stop = Stop()
            let producersLeft = Countdown(plan.producers)
            @Sendable func sendFailed(_ error: any Error) {
                counters.completed(at: monotonicNanoseconds(), Outcome(failure: error))
                if counters.completed.load(ordering: .relaxed) >= counters.sent { stop.request() }
            }
            await withTaskGroup(of: Void.self) { group in
                for index in 0..<plan.producers {
                    group.addTask(executorPreference: reactors.preference(index)) {
                        defer { producersLeft.decrement() }
                        if plan.api == .callback {
                            await produceWithCallbacks(producer, counters: counters, padding: padding, failed: sendFailed)
                            return
                        }
                        while let index = counters.claim() {
                            do {
                                try await producer.send(BenchMessage.make(seq: index, padding: padding))
                            } catch {
                                // The consumers can take the last message before its push's
                                // reply reaches this task, and end the run: the cancellation
                                // that follows fails the awaited send, whose message was
                                // delivered. Not an error (seen as 1 to 3 in 30 cluster runs).
                                if stop.requested { break }
                                sendFailed(error)
                            }
                        }
                    }
                }
                for index in 0..<plan.consumers {
                    group.addTask(executorPreference: reactors.preference(plan.producers + index)) {
                        var idleSince: UInt64?
                        while !stop.requested {
                            // As a worker pool would: take what is waiting, up to 64, in
                            // one round trip, blocking only when the channel is empty.
                            let messages: [BenchMessage]
                            do {
                                messages = try await consumer.brecv(as: BenchMessage.self, max: 64, timeout: .milliseconds(200))
                            } catch {
                                // Cancelled at the end of the run: not an error.
                                if stop.requested { break }
                                counters.note("a receive: \(error)")
                                let tooMany = counters.errors.add(1, ordering: .relaxed).newValue > 1000
                                if isConnectionFailure(error) { counters.stopForLostServer() }
                                if tooMany { counters.stop.store(true, ordering: .relaxed) }
                                if tooMany || counters.serverLost.load(ordering: .relaxed) { stop.request() }
                                continue
                            }
                            let now = monotonicNanoseconds()
                            guard !messages.isEmpty else {
                                // Producers done and nothing arriving for a second: what is
                                // missing was lost (a server that died): count it and stop.
                                if producersLeft.isZero {
                                    if now &- (idleSince ?? now) > 1_000_000_000 {
                                        let missing = counters.sent - counters.completed.load(ordering: .relaxed)
                                        if missing > 0 {
                                            counters.note("\(missing) of \(counters.sent) messages sent never received")
                                            counters.errors.add(missing, ordering: .relaxed)
                                        }
                                        stop.request()
                                    }
                                    idleSince = idleSince ?? now
                                }
                                continue
                            }
                            idleSince = nil
                            for message in messages { log.record(index: message.seq, nanoseconds: now &- message.t) }
                            let done = counters.completed.add(messages.count, ordering: .relaxed).newValue
                            counters.succeeded(count: messages.count, at: now)
                            if done >= counters.sent { stop.request() }
                        }
                    }
                }
                await stop.cancelWhenRequested(&group)
            }
        })
    }

    /// One producer on the callback facade: each send's completion sends the next.
    private static func produceWithCallbacks(_ producer: RedisChannel, counters: RunCounters, padding: String, failed: @escaping @Sendable (any Error) -> Void) async {
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            @Sendable func next() {
                guard let index = counters.claim() else { return finished.resume() }
                producer.send(BenchMessage.make(seq: index, padding: padding)) { result in
                    if case .failure(let error) = result { failed(error) }
                    next()
                }
            }
            next()
        }
    }
}

/// A stop flag shared by a run's tasks.
final class Stop: Sendable {
    private let flag = Atomic<Bool>(false)
    var requested: Bool { flag.load(ordering: .relaxed) }
    func request() { flag.store(true, ordering: .relaxed) }

    /// Waits for `group`'s tasks and, once the first one ends after a stop request,
    /// cancels the rest: peers blocked in a receive then return at once (the library
    /// unblocks a cancelled `BLPOP`) instead of at their receive timeout, which would
    /// add 200 ms to every run and warm-up.
    func cancelWhenRequested(_ group: inout TaskGroup<Void>) async {
        while await group.next() != nil {
            if requested { group.cancelAll() }
        }
    }
}

/// How many of a run's tasks are still going.
final class Countdown: Sendable {
    private let left: Atomic<Int>
    init(_ count: Int) { left = Atomic(count) }
    func decrement() { left.subtract(1, ordering: .relaxed) }
    var isZero: Bool { left.load(ordering: .relaxed) == 0 }
}

/// A benchmark failure with a message for the user.
struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
