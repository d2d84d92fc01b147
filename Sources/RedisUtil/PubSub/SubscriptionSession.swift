import Logging
import Reactor
import RESP
import Synchronization

/// The I/O shell of one subscription, on one reactor: opens its connections, sends the
/// subscribe request, keeps the liveness `PING` and the reconnect backoff on one timer,
/// and yields what arrives. ``SubscriptionLifecycle`` makes every decision.
///
/// A connection that has served a subscription never reconnects by itself (it is a
/// blocking connection, see ``RedisConnection/isDefunct``): after a loss the session
/// waits out the backoff and opens a new one, the next generation.
final class SubscriptionSession: @unchecked Sendable {
    // @unchecked Sendable: `reactor`, `endpoint`, `configuration`, `targets`,
    // `maxBufferedMessages` and `events` (a continuation, itself thread safe) are
    // immutable; `latest` is behind a lock and `terminating` atomic. Every other stored
    // property is confined to `reactor`'s thread: every path into them starts in a
    // reactor callback (a push, a loss, a reply, a timer) or in `reactor.execute`.

    private let reactor: Reactor
    private let endpoint: RedisEndpoint
    /// On a cluster client: which node each new connection goes to, and whom to tell that
    /// the slot map may be stale. Nil on one server.
    private let route: SubscriptionRoute?
    private let configuration: RedisConfiguration
    private let targets: SubscriptionTargets
    private let maxBufferedMessages: Int
    private let events: AsyncThrowingStream<RedisSubscription.Event, any Error>.Continuation
    /// The connection in use, or last used, and its generation. Never `nil` after
    /// `init`; any thread reads it (the client's close waits for it to close).
    private let latest = Mutex<(connection: RedisConnection, generation: Int)?>(nil)
    /// Set the moment the subscription is told to end, before the reactor hears of it:
    /// a backoff that elapses meanwhile opens no connection.
    private let terminating = Atomic<Bool>(false)

    private var machine: SubscriptionLifecycle
    /// The liveness `PING`'s wait while live, the backoff while waiting; never both.
    private var timer: ScheduledTimer?
    /// Messages that arrived while resubscribing: they follow the gap.
    private var held: [RedisPubSubMessage] = []
    /// The first `subscribe`, until it returns or throws.
    private var whenFirstSubscribed: (@Sendable (Result<Void, RedisError>) -> Void)?

    private static let ping: [UInt8] = {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "PING")
        return bytes
    }()

    init(
        reactor: Reactor, endpoint: RedisEndpoint, route: SubscriptionRoute? = nil, configuration: RedisConfiguration,
        targets: SubscriptionTargets, policy: RedisSubscription.ConnectionLossPolicy, maxBufferedMessages: Int,
        events: AsyncThrowingStream<RedisSubscription.Event, any Error>.Continuation
    ) {
        self.reactor = reactor
        self.endpoint = endpoint
        self.route = route
        self.configuration = configuration
        self.targets = targets
        self.maxBufferedMessages = maxBufferedMessages
        self.events = events
        machine = SubscriptionLifecycle(policy: policy, backoff: configuration.backoff)
        // Made now, not when the first attempt reaches the reactor, so that a client
        // closing meanwhile has a connection to wait on.
        let first = makeConnection(generation: 1)
        latest.withLock { $0 = (first, 1) }
    }

    /// The connection in use, or last used. Any thread.
    var latestConnection: RedisConnection {
        latest.withLock { $0!.connection }
    }

    // MARK: Commands from the subscription (any thread)

    /// Sends the first subscribe request; `whenSubscribed` hears, exactly once, that the
    /// subscription is in place or why it never will be.
    func start(_ whenSubscribed: @escaping @Sendable (Result<Void, RedisError>) -> Void) {
        let started = reactor.executeIfRunning {
            self.whenFirstSubscribed = whenSubscribed
            self.perform(self.machine.start())
        }
        if !started { whenSubscribed(.failure(.closed)) }
    }

    /// Ends the subscription (closed, dropped, cancelled, fallen behind, or the client
    /// closed): unsubscribes and stops reconnecting. A `subscribe` still waiting throws
    /// `error`. Later on the reactor even when called there: this may run inside the
    /// connection's push handler, which must not see it close underneath.
    func terminate(_ error: RedisError) {
        terminating.store(true, ordering: .releasing)
        reactor.executeIfRunning { self.perform(self.machine.terminated(error)) }
    }

    /// The lifecycle's phase, read on the reactor; for tests.
    var phase: SubscriptionLifecycle.Phase {
        get async {
            await withCheckedContinuation { (read: CheckedContinuation<SubscriptionLifecycle.Phase, Never>) in
                if !reactor.executeIfRunning({ read.resume(returning: self.machine.phase) }) { read.resume(returning: .ended) }
            }
        }
    }

    // MARK: Doing what the lifecycle says (reactor thread)

    /// Carries out one decision. Re-entrant: a connection may answer within `submit`
    /// (a closed one fails at once), and nothing here holds the machine across a call out.
    private func perform(_ action: SubscriptionLifecycle.Action) {
        switch action {
        case .none:
            break
        case .connect(let generation):
            subscribe(generation: generation)
        case .confirmed(let generation):
            answerFirstSubscriber(.success(()))
            keepAlive(generation)
        case .resubscribed(let gap, let generation):
            configuration.logger.info("subscription restored", metadata: ["endpoint": "\(endpoint)", "gap": "\(gap)"])
            configuration.observer?.counters?.subscriptionGaps.add(1, ordering: .relaxed)
            yield(.gap(gap))
            let arrived = held
            held.removeAll()
            for message in arrived { yield(.message(message)) }
            keepAlive(generation)
        case .retry(let delay):
            // The first retry is news; the rest of an outage is detail (two a second at the default backoff).
            let attempt = if case .waiting(let attempt) = machine.phase { attempt } else { 0 }
            configuration.logger.log(level: attempt == 0 ? .info : .debug, "subscription disconnected, subscribing again", metadata: [
                "endpoint": "\(endpoint)", "attempt": "\(attempt)", "after": "\(delay)",
            ])
            held.removeAll()
            retire()
            timer = reactor.scheduleOnReactor(after: delay) { [weak self] in self?.backoffElapsed() }
        case .fail(let error):
            retire()
            events.finish()
            answerFirstSubscriber(.failure(error))
        case .end(let error):
            assert(whenFirstSubscribed == nil, "a subscription that never was cannot end")
            configuration.logger.warning("subscription ended", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
            events.finish(throwing: error)
            retire()
        case .stop(let failingFirst):
            retire()
            events.finish()
            if let failingFirst {
                answerFirstSubscriber(.failure(failingFirst))
            } else {
                assert(whenFirstSubscribed == nil, "a subscribe still waiting must hear why it fails")
            }
        }
    }

    /// Tells the first `subscribe` how it went: exactly once, which the lifecycle
    /// ensures (confirmed, failed, or stopped while it waits) and this checks.
    private func answerFirstSubscriber(_ result: Result<Void, RedisError>) {
        assert(whenFirstSubscribed != nil, "the first subscribe is answered exactly once")
        let answer = whenFirstSubscribed
        whenFirstSubscribed = nil
        answer?(result)
    }

    /// Stops the timer and closes the connection in use. Later, on the reactor: this may
    /// run inside that connection's own callbacks.
    private func retire() {
        timer?.cancel()
        timer = nil
        latestConnection.closeOnReactor()
    }

    /// The backoff timer fired.
    private func backoffElapsed() {
        timer = nil
        // The subscription is ending; `terminate`'s own step, already queued, finishes it.
        guard !terminating.load(ordering: .acquiring) else { return }
        perform(machine.backoffElapsed())
    }

    // MARK: Connections (reactor thread)

    /// A connection whose reports name its generation, so that the lifecycle can tell
    /// them from a successor's; held weakly, so that only the subscription keeps the session.
    private func makeConnection(generation: Int) -> RedisConnection {
        RedisConnection(
            reactor: reactor, endpoint: route?.endpoint() ?? endpoint, configuration: configuration, isBlocking: true,
            onPush: { [weak self] push in self?.received(push, from: generation) },
            onDefunct: { [weak self] error in self?.lost(generation, reason: Self.lossReason(error)) }
        )
    }

    /// Why the connection went, without the "outcome unknown" of the commands on it:
    /// none was pending, and the subscription's own loss is what the reader must hear of.
    private static func lossReason(_ error: RedisError) -> String {
        guard case .connectionLost(let endpoint, let reason, _) = error else { return "the connection was lost (\(error))" }
        return "the connection to \(endpoint) was lost (\(reason))"
    }

    /// Sends the subscribe request on connection `generation`, made now unless it is the first.
    private func subscribe(generation: Int) {
        let connection: RedisConnection
        if let current = latest.withLock({ $0 }), current.generation == generation {
            connection = current.connection
        } else {
            connection = makeConnection(generation: generation)
            latest.withLock { $0 = (connection, generation) }
        }
        // A subscribed connection has no liveness sweep (it is meant to be quiet), so
        // the request carries its own bound: a server gone silent fails the attempt
        // rather than hang it. (Connecting has its own, connectTimeout.)
        let limit = configuration.commandTimeout ?? configuration.livenessTimeout ?? configuration.connectTimeout
        connection.submit(Submission(
            bytes: targets.request,
            handlers: .one(.single { [weak self] result in self?.answered(result, generation: generation) }),
            timeout: .after(limit)
        ))
    }

    /// The subscribe request's outcome, on the reactor.
    private func answered(_ result: Result<RESPValue, RedisError>, generation: Int) {
        switch result.flatMap(SubscriptionTargets.confirmation) {
        case .success:
            perform(machine.subscribed(generation: generation, now: monotonicNanoseconds()))
        case .failure(let error):
            configuration.logger.debug("subscribe request failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
            // A MOVED for SSUBSCRIBE, a node gone: the next connection needs a fresh map.
            route?.mapMayBeStale()
            perform(machine.attemptFailed(generation: generation, error: error, random: .random(in: 0...1)))
        }
    }

    /// Connection `generation` is gone, or as good as gone; the lifecycle ignores it unless live.
    private func lost(_ generation: Int, reason: String) {
        if machine.isLive(generation) { route?.mapMayBeStale() }
        perform(machine.lost(generation: generation, reason: reason, now: monotonicNanoseconds(), random: .random(in: 0...1)))
    }

    // MARK: Liveness (reactor thread)

    /// A connection with no command pending cannot tell a silent server from a quiet
    /// channel: a `PING` after every `livenessTimeout` of quiet, with as long to
    /// answer, finds out. One timer at the exact moment, never a poll.
    private func keepAlive(_ generation: Int) {
        guard let interval = configuration.livenessTimeout else { return }
        timer = reactor.scheduleOnReactor(after: interval) { [weak self] in self?.ping(generation, within: interval) }
    }

    /// A quiet `interval` passed: ask the live connection for a sign of life.
    private func ping(_ generation: Int, within interval: Duration) {
        timer = nil
        guard machine.isLive(generation) else { return }
        latestConnection.submit(Submission(
            bytes: Self.ping,
            handlers: .one(.single { [weak self] result in self?.pinged(result, generation: generation) }),
            timeout: .after(interval)
        ))
    }

    /// An answer re-arms the wait; no answer in time (or a loss) is a loss.
    private func pinged(_ result: Result<RESPValue, RedisError>, generation: Int) {
        switch result {
        case .success:
            if machine.isLive(generation) { keepAlive(generation) }
        case .failure(let error):
            lost(generation, reason: "no answer to PING (\(error))")
        }
    }

    // MARK: Messages (reactor thread)

    /// A push frame from connection `generation`: a message goes where the lifecycle says.
    private func received(_ push: RESPValue, from generation: Int) {
        guard let message = RedisPubSubMessage(push: push) else {
            // The session never unsubscribes (it closes its connection): an `sunsubscribe`
            // is the server's own, sent when the channel's slot left the node (a migration,
            // a failover). As a loss: subscribe again, on the slot's new owner, then the gap.
            if let channel = Self.droppedShardChannel(push) {
                lost(generation, reason: "the server dropped shard channel \(channel) (its slot moved to another node)")
            }
            return
        }
        switch machine.disposition(ofMessageFrom: generation) {
        case .deliver:
            yield(.message(message))
        case .hold:
            held.append(message)
            if held.count > maxBufferedMessages { fellBehind() }
        case .drop:
            break
        }
    }

    /// The channel of an `sunsubscribe` push, or nil for any other frame.
    static func droppedShardChannel(_ push: RESPValue) -> String? {
        guard case .push(let parts) = push, parts.count == 3, let kind = parts[0].bytes,
              String(decoding: kind, as: UTF8.self).lowercased() == "sunsubscribe" else { return nil }
        return parts[1].string ?? "?"
    }

    /// Hands an event to the reader; a full buffer ends the subscription.
    private func yield(_ event: RedisSubscription.Event) {
        if case .dropped = events.yield(event) { fellBehind() }
    }

    /// Past the buffer the subscription ends rather than grow without bound or drop
    /// messages unseen. Not a connection problem, so it never resubscribes: the stream's
    /// end comes back as ``terminate(_:)``.
    private func fellBehind() {
        events.finish(throwing: RedisError.subscriptionEnded(reason: "the reader fell \(maxBufferedMessages) messages behind"))
    }
}
