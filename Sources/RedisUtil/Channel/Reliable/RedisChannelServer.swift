import Logging
import Reactor
import RESP
import ServiceLifecycle
import Synchronization

/// A worker pool on a channel: takes requests under leases (at least once, see
/// ``RedisChannel/receiveLeased(as:timeout:lease:)``), runs at most `concurrency`
/// handlers at once, and sends each handler's reply on the channel together with the
/// request's ack (one write, one round trip).
///
/// ```swift
/// let jobs = RedisChannel(6379, "/asyncworker/image-process", peer: .server)
/// let pool = RedisChannelServer(jobs, as: Job.self, concurrency: 8) { job in
///     try await resize(job.message)
/// }
/// try await pool.run()          // until pool.stop() or the task is cancelled
/// ```
///
/// A handler that throws is retried (its request handed back to the head of the list
/// at once) until the request has been delivered `maxAttempts` times; then the request
/// goes to the channel's dead letters with the last error
/// (``RedisChannel/deadLetters(max:)``, ``RedisChannel/requeueDeadLetters(_:)``). A
/// request that does not decode goes there at once, with its bytes.
///
/// ``stop()``, cancelling the task running ``run()``, or the graceful shutdown of a
/// `ServiceGroup` running the pool (it is a swift-service-lifecycle `Service`), stops taking requests; the
/// handlers in flight get `drainTimeout` to finish (they are not cancelled: a handler's
/// own Redis commands would fail if they were), their replies are sent and acked, and
/// the leases of those still running then are released at once, for another worker.
/// ``run()`` returns when every handler has returned.
///
/// Connection failures (a server restart) do not end the pool: it logs them through the
/// client's logger and leases again after a backoff of 50 ms doubling to 2 s. A reply
/// whose push may or may not have reached the server is logged as such, never re-sent
/// by the pool; its request, not acked, is delivered again when its lease ends.
public final class RedisChannelServer<Request: Decodable & Sendable, Reply: Encodable & Sendable>: Sendable {
    /// What a handler gets: the request, its delivery count, and its lease (to extend).
    public typealias Handler = @Sendable (RedisChannelDelivery<Request>) async throws -> Reply

    private let channel: RedisChannel
    private let handler: Handler
    /// At most this many handlers run at once.
    public let concurrency: Int
    /// How long each request is leased for.
    public let lease: Duration
    /// Deliveries of a request after which a failing handler sends it to the dead letters.
    public let maxAttempts: Int
    /// How long a stop waits for handlers in flight before releasing their requests.
    public let drainTimeout: Duration
    /// Where handlers run: `nil` for the client's reactors (the default), else this
    /// executor, for handlers that compute for long (see ``init(_:as:concurrency:lease:maxAttempts:drainTimeout:handlerExecutor:handler:)``).
    public let handlerExecutor: (any TaskExecutor)?

    // The pool's state lives in types outside this generic class: nested ones would be
    // generic too (`RedisChannelServer<Request, Reply>.State`), and the pool's code, not
    // specialised for the caller's types, looked their metadata and `Mutex<State>`'s up at
    // run time on every lock (callgrind `channel-serve`: about 3,400 instructions a request).
    private typealias State = ChannelServerState
    private typealias Phase = ChannelServerPhase
    private typealias Start = ChannelServerStart
    private typealias Wake = ChannelServerWake

    private let state = Mutex(State())

    /// A pool on `channel` (normally its `.server` end: requests come from `/client`,
    /// replies go to `/server`).
    ///
    /// - Parameters:
    ///   - concurrency: handlers at once, at least 1.
    ///   - lease: how long a request is a worker's before it is handed back; extend it
    ///     from a long handler with ``RedisChannelDelivery/extend(by:)``.
    ///   - maxAttempts: deliveries before a failing request is dead-lettered, at least 1.
    ///   - drainTimeout: how long a stop waits for handlers in flight.
    ///   - handlerExecutor: where the handlers run. `nil` (the default): on the client's
    ///     reactors, where the replies to their commands arrive, so a short handler
    ///     never changes threads and the pool keeps serving while other work fills
    ///     Swift's global pool; but a handler computing there holds every connection of
    ///     its reactor meanwhile. For handlers that compute for long or block, pass an
    ///     executor (`globalConcurrentExecutor`, or one of your own): only the handler
    ///     runs there (`withTaskExecutorPreference`), the pool's own Redis work stays on
    ///     the reactors.
    public init(
        _ channel: RedisChannel, as request: Request.Type = Request.self, concurrency: Int, lease: Duration = .seconds(30),
        maxAttempts: Int = 3, drainTimeout: Duration = .seconds(10), handlerExecutor: (any TaskExecutor)? = nil,
        handler: @escaping Handler
    ) {
        self.channel = channel
        self.concurrency = concurrency
        self.lease = lease
        self.maxAttempts = maxAttempts
        self.drainTimeout = drainTimeout
        self.handlerExecutor = handlerExecutor
        self.handler = handler
    }

    /// The most handlers that ran at once so far.
    public var peakConcurrency: Int { state.withLock { $0.peak } }
    /// Handlers running now.
    public var handlersRunning: Int { state.withLock { $0.running } }
    /// Requests whose reply was sent and acked so far.
    public var handledCount: Int { state.withLock { $0.handled } }

    /// Serves until ``stop()`` or the cancellation of the calling task, then drains (see
    /// the type's documentation). Throws at once for arguments that cannot work, or when
    /// the pool already runs or ran; returns at once when ``stop()`` came first.
    public func run() async throws {
        guard concurrency >= 1 else { throw RedisChannelError.invalidArgument("concurrency must be at least 1, got \(concurrency)") }
        guard maxAttempts >= 1 else { throw RedisChannelError.invalidArgument("maxAttempts must be at least 1, got \(maxAttempts)") }
        guard lease > .zero else { throw RedisChannelError.invalidArgument("a lease must be positive, got \(lease)") }
        let leasing = try channel.leasing(lease: lease)
        let start = state.withLock { state -> Start in
            switch state.phase {
            case .idle:
                state.phase = .running
                state.ran = true
                return .run
            case .stopped where !state.ran:
                return .stoppedFirst
            default:
                return .ranBefore
            }
        }
        switch start {
        case .run: break
        // A stop before the run (a shutdown racing the start-up) leaves nothing to do.
        case .stoppedFirst: return
        case .ranBefore: throw RedisChannelError.invalidArgument("a RedisChannelServer runs once")
        }
        // The pool's loop runs on a reactor of its client, as its handlers do, never on
        // Swift's global pool: a pool must keep serving while an application's other
        // work fills that pool's few threads. The task is not the caller's child, so the
        // caller's cancellation reaches it only as the stop below, never as a
        // cancellation of the drain.
        let executor = leasing.client.ownExecutor
        // A graceful shutdown of a swift-service-lifecycle `ServiceGroup` running the
        // pool is a stop, as a cancellation is; outside a group it never comes.
        await withGracefulShutdownHandler {
            await withTaskCancellationHandler {
                await Task(executorPreference: executor) { [self] in
                    await fetch(leasing)
                    await drain(leasing)
                }.value
            } onCancel: {
                stop()
            }
        } onGracefulShutdown: {
            self.stop()
        }
    }

    /// Stops taking requests and lets ``run()`` drain. Idempotent; any thread.
    public func stop() {
        let (waiter, wait) = state.withLock { state -> (CheckedContinuation<Void, Never>?, Task<Bool, any Error>?) in
            switch state.phase {
            case .idle: state.phase = .stopped
            case .running: state.phase = .stopping
            case .stopping, .stopped: break
            }
            if state.stoppedAt == nil { state.stoppedAt = .now }
            defer { state.slotWaiter = nil }
            return (state.slotWaiter, state.wait)
        }
        wait?.cancel()
        waiter?.resume()
    }

    private var isStopping: Bool {
        state.withLock { if case .running = $0.phase { false } else { true } }
    }

    // MARK: Taking requests

    /// Leases what waits, up to the free slots; when nothing waits, waits for pushes. A
    /// push wakes the wait (`BLMOVE` into `pending`), and its lease runs beside the next
    /// wait rather than before it: the wait is the one round trip per request on the
    /// path of a pool that keeps up with its requests.
    private func fetch(_ leasing: ChannelLeasing) async {
        var backoff = Duration.milliseconds(50)
        while true {
            let reserved = await reserveSlots()
            guard reserved > 0 else { return }
            do {
                let (taken, nextExpiry) = try await leaseAndAdmit(reserved, leasing)
                backoff = .milliseconds(50)
                if taken > 0 { continue }
                let wait = RedisChannel.waitBeforeLeasing(deadline: nil, lease: lease, nextExpiry: nextExpiry) ?? .milliseconds(1)
                // Pushes while slots are free: each one's lease beside the next wait.
                while try await waitForPush(leasing, wait) {
                    let reserved = reserveFreeSlots()
                    guard reserved > 0 else { break }
                    Task(executorPreference: leasing.client.ownExecutor) { [self] in
                        do {
                            _ = try await leaseAndAdmit(reserved, leasing)
                        } catch where !isStopping {
                            leasing.client.configuration.logger.warning("RedisChannelServer: leasing from \(leasing.keys.list) failed: \(error)")
                        }
                    }
                }
            } catch {
                if isStopping { return }
                leasing.client.configuration.logger.warning(
                    "RedisChannelServer: leasing from \(leasing.keys.list) failed, retrying in \(backoff): \(error)")
                try? await Task.sleep(for: backoff)
                backoff = min(backoff * 2, .seconds(2))
            }
        }
    }

    /// Leases into `reserved` slots and starts handlers for what it took; the slots are
    /// given back whatever happens. Returns how many it took and, when none, how long
    /// until the earliest lease held ends.
    private func leaseAndAdmit(_ reserved: Int, _ leasing: ChannelLeasing) async throws -> (taken: Int, nextExpiry: Duration?) {
        do {
            let (leased, nextExpiry) = try await leasing.lease(count: reserved, lease: lease)
            await admit(leased, reserved: reserved, leasing)
            return (leased.count, nextExpiry)
        } catch {
            await admit([], reserved: reserved, leasing)
            throw error
        }
    }

    /// Takes every free slot for a lease in flight; 0 once stopping.
    private func reserveFreeSlots() -> Int {
        state.withLock { state in
            guard case .running = state.phase else { return 0 }
            let free = max(0, concurrency - state.busy)
            state.reserved += free
            return free
        }
    }

    /// Starts handlers for what a lease of `reserved` slots took, gives back the slots it
    /// did not use, and hands back at once what was leased as the pool stopped.
    private func admit(_ leased: [ChannelLeasing.Leased], reserved: Int, _ leasing: ChannelLeasing) async {
        let (accepted, rejected, wake) = state.withLock { state in
            state.reserved -= reserved
            var accepted: [ChannelLeasing.Leased] = []
            var rejected: [ChannelLeasing.Leased] = []
            for item in leased {
                guard case .running = state.phase else {
                    rejected.append(item)
                    continue
                }
                state.running += 1
                state.peak = max(state.peak, state.running)
                state.held[item.id] = item
                accepted.append(item)
            }
            return (accepted, rejected, takeWaiters(&state))
        }
        wake.resume()
        for item in accepted {
            // Unstructured: a cancellation of the serving task must not reach the handler,
            // which drains instead (its own Redis commands would fail if it were cancelled).
            // On a reactor: the replies to its commands resume it where they are read.
            Task(executorPreference: leasing.client.ownExecutor) { [self] in
                await handle(item, leasing)
                finished(item.id)
            }
        }
        if !rejected.isEmpty { await Self.release(rejected.map(\.id), leasing) }
    }

    /// Takes every free slot for a lease, waiting for a handler to end when none is
    /// free; 0 once stopping.
    private func reserveSlots() async -> Int {
        while true {
            let reserved = reserveFreeSlots()
            if reserved > 0 || isStopping { return reserved }
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard case .running = state.phase, state.busy >= concurrency else { return true }
                    state.slotWaiter = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        }
    }

    /// Waits for a push to the list (at most `timeout`), in a task a stop cancels.
    private func waitForPush(_ leasing: ChannelLeasing, _ timeout: Duration) async throws -> Bool {
        let task = Task(executorPreference: leasing.client.ownExecutor) { try await leasing.waitForMessage(timeout: timeout) }
        let stopping = state.withLock { state -> Bool in
            guard case .running = state.phase else { return true }
            state.wait = task
            return false
        }
        if stopping { task.cancel() }
        defer { state.withLock { $0.wait = nil } }
        do {
            return try await task.value
        } catch RedisError.cancelled where isStopping {
            // The stop's cancellation: the fetch loop ends next.
            return false
        }
    }

    // MARK: Handling one request

    private func handle(_ item: ChannelLeasing.Leased, _ leasing: ChannelLeasing) async {
        let logger = leasing.client.configuration.logger
        let delivery: RedisChannelDelivery<Request>
        do {
            delivery = try await channel.decodeLeased(Request.self, item, leasing: leasing)
        } catch {
            logger.error("RedisChannelServer: a request of \(leasing.keys.list) does not decode; moved to \(leasing.keys.dead): \(error)")
            return
        }
        let reply: Reply
        do {
            if let handlerExecutor {
                reply = try await withTaskExecutorPreference(handlerExecutor) { try await handler(delivery) }
            } else {
                reply = try await handler(delivery)
            }
        } catch {
            await failed(delivery, error, logger: logger)
            return
        }
        // Released by a drain that timed out: another worker answers it.
        guard state.withLock({ $0.held[item.id] != nil }) else {
            logger.info("RedisChannelServer: lease \(item.id) finished after the drain timeout released it; its reply is not sent")
            return
        }
        do {
            try await replyAndAck(reply, delivery, leasing)
            state.withLock { $0.handled += 1 }
        } catch RedisChannelError.leaseLost(let id, _) {
            logger.warning("RedisChannelServer: the reply to lease \(id) was sent after the lease had ended; the request will be handled again")
        } catch RedisError.connectionLost(_, let reason, .written) {
            logger.warning("RedisChannelServer: the reply to lease \(delivery.leaseID) may or may not have been sent (\(reason)); not re-sent. Unless its ack went through, the request will be handled again once its lease ends")
        } catch {
            logger.warning("RedisChannelServer: the reply to lease \(delivery.leaseID) was not sent (\(error)); the request will be handled again once its lease ends")
        }
    }

    /// A failed handler: the request is handed back for another attempt, or given up.
    private func failed(_ delivery: RedisChannelDelivery<Request>, _ error: any Error, logger: Logger) async {
        do {
            if delivery.deliveryCount >= maxAttempts {
                try await delivery.deadLetter(reason: "\(error)")
                logger.error("RedisChannelServer: lease \(delivery.leaseID) failed on delivery \(delivery.deliveryCount) of \(maxAttempts); dead-lettered: \(error)")
            } else {
                try await delivery.release()
            }
        } catch {
            logger.warning("RedisChannelServer: could not hand back lease \(delivery.leaseID) (\(error)); it comes back when the lease ends")
        }
    }

    /// The reply's push and the request's ack, pipelined: one write, one round trip, no
    /// script. The push goes first: were the ack first and the worker to die after it,
    /// the request would be done with no reply ever sent.
    private func replyAndAck(_ reply: Reply, _ delivery: RedisChannelDelivery<Request>, _ leasing: ChannelLeasing) async throws {
        guard case .single(let push, _) = try channel.sendRequest(message: reply).commands else {
            preconditionFailure("a channel send is one command")
        }
        var pipeline = RedisPipeline()
        pipeline.appendCommand { $0 += push }
        leasing.appendAck([delivery.leaseID], to: &pipeline)
        pipeline.removes = true
        let results = try await leasing.client.pipeline(pipeline)
        _ = try results[0].get()
        leasing.client.configuration.observer?.counters?.count(.sent)
        try leasing.checkAck([delivery.leaseID], results[1...])
    }

    private func finished(_ id: String) {
        let wake = state.withLock { state in
            state.running -= 1
            state.held[id] = nil
            return takeWaiters(&state)
        }
        wake.resume()
    }

    /// The waiters a change of the counts may release: the fetch loop (a slot may be
    /// free) and, once nothing runs or is being leased, the drain.
    private func takeWaiters(_ state: inout State) -> Wake {
        var wake = Wake(slot: state.slotWaiter)
        state.slotWaiter = nil
        if state.busy == 0 { swap(&wake.idle, &state.idleWaiters) }
        return wake
    }

    // MARK: Draining

    private func drain(_ leasing: ChannelLeasing) async {
        let deadline = (state.withLock { $0.stoppedAt } ?? .now) + drainTimeout
        let timer = Task(executorPreference: leasing.client.ownExecutor) { [self] in
            try await Task.sleep(until: deadline)
            let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
                state.drainTimedOut = true
                defer { state.idleWaiters.removeAll() }
                return state.idleWaiters
            }
            for waiter in waiters { waiter.resume() }
        }
        await waitUntilIdle(orDrainTimeout: true)
        timer.cancel()
        // Past the timeout: what still runs is handed back now; its handler, when it
        // returns, finds its lease gone and sends nothing.
        let unfinished = state.withLock { state in
            defer { state.held.removeAll() }
            return Array(state.held.keys)
        }
        await Self.release(unfinished, leasing)
        while state.withLock({ $0.busy }) > 0 { await waitUntilIdle(orDrainTimeout: false) }
        state.withLock { $0.phase = .stopped }
    }

    /// Hands leases back, in a task of their own: the caller may be cancelled (a user
    /// cancelling the serving task), and a cancelled release would leave its request to
    /// wait for its lease's end.
    private static func release(_ ids: [String], _ leasing: ChannelLeasing) async {
        await Task(executorPreference: leasing.client.ownExecutor) {
            for id in ids { try? await leasing.release(id) }
        }.value
    }

    /// Returns when no handler runs (or, when asked, once the drain timeout has passed).
    private func waitUntilIdle(orDrainTimeout: Bool) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumeNow = state.withLock { state -> Bool in
                if state.busy == 0 || (orDrainTimeout && state.drainTimedOut) { return true }
                state.idleWaiters.append(continuation)
                return false
            }
            if resumeNow { continuation.resume() }
        }
    }
}

extension RedisChannelServer {
    /// A pool whose handler completes through a callback, for code outside Swift
    /// concurrency; call `completion` exactly once, from any thread.
    public convenience init(
        _ channel: RedisChannel, as request: Request.Type = Request.self, concurrency: Int, lease: Duration = .seconds(30),
        maxAttempts: Int = 3, drainTimeout: Duration = .seconds(10), handlerExecutor: (any TaskExecutor)? = nil,
        callbackHandler: @escaping @Sendable (RedisChannelDelivery<Request>, _ completion: @escaping @Sendable (Result<Reply, any Error>) -> Void) -> Void
    ) {
        self.init(channel, as: request, concurrency: concurrency, lease: lease, maxAttempts: maxAttempts, drainTimeout: drainTimeout,
                  handlerExecutor: handlerExecutor) { delivery in
            try await withCheckedThrowingContinuation { continuation in
                callbackHandler(delivery) { continuation.resume(with: $0) }
            }
        }
    }

    /// Runs the pool in a task of its own and returns at once; `onStopped` is called
    /// once it has drained after ``stop()`` (or with the error that kept it from starting).
    public func start(onStopped: @escaping @Sendable ((any Error)?) -> Void = { _ in }) {
        Task {
            do {
                try await run()
                onStopped(nil)
            } catch {
                onStopped(error)
            }
        }
    }
}

extension RedisChannel {
    /// Serves requests with a pool of at most `concurrency` handlers until the calling
    /// task is cancelled: ``RedisChannelServer`` with a handler that sees only the request.
    ///
    /// ```swift
    /// let jobs = RedisChannel(6379, "/asyncworker/image-process", peer: .server)
    /// try await jobs.serve(as: Job.self, concurrency: 8) { job in try await resize(job) }
    /// ```
    ///
    /// `handlerExecutor`: where the handler runs (the client's reactors when `nil`; see
    /// ``RedisChannelServer/init(_:as:concurrency:lease:maxAttempts:drainTimeout:handlerExecutor:handler:)``).
    nonisolated(nonsending) public func serve<Request: Decodable & Sendable, Reply: Encodable & Sendable>(
        as request: Request.Type = Request.self, concurrency: Int, lease: Duration = .seconds(30), maxAttempts: Int = 3,
        drainTimeout: Duration = .seconds(10), handlerExecutor: (any TaskExecutor)? = nil,
        handler: @escaping @Sendable (Request) async throws -> Reply
    ) async throws {
        let server = RedisChannelServer<Request, Reply>(
            self, concurrency: concurrency, lease: lease, maxAttempts: maxAttempts, drainTimeout: drainTimeout,
            handlerExecutor: handlerExecutor) { delivery in
            try await handler(delivery.message)
        }
        try await server.run()
    }
}

/// ``RedisChannelServer``'s state (see the type alias there for why it is not nested).
private struct ChannelServerState {
    var phase = ChannelServerPhase.idle
    var running = 0
    var peak = 0
    /// Requests whose handlers run, by lease id.
    var held: [String: ChannelLeasing.Leased] = [:]
    /// The fetch loop, waiting for a free slot (or the stop).
    var slotWaiter: CheckedContinuation<Void, Never>?
    /// `run()`, waiting for the handlers to end.
    var idleWaiters: [CheckedContinuation<Void, Never>] = []
    /// The fetch loop's wait for a push (`BLMOVE`), which a stop cancels.
    var wait: Task<Bool, any Error>?
    var handled = 0
    var drainTimedOut = false
    /// Slots taken by leases in flight, not yet handlers.
    var reserved = 0
    /// When the stop came: the drain timeout counts from it, however long the fetch
    /// loop then takes to end.
    var stoppedAt: ContinuousClock.Instant?
    /// ``run()`` was called once (a second call throws).
    var ran = false

    /// Slots in use: handlers running and leases in flight.
    var busy: Int { running + reserved }
}

private enum ChannelServerPhase { case idle, running, stopping, stopped }
private enum ChannelServerStart { case run, stoppedFirst, ranBefore }

/// The waiters a change of a pool's counts releases.
private struct ChannelServerWake {
    var slot: CheckedContinuation<Void, Never>?
    var idle: [CheckedContinuation<Void, Never>] = []

    func resume() {
        slot?.resume()
        for waiter in idle { waiter.resume() }
    }
}
