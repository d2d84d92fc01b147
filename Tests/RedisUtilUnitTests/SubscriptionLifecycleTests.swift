@testable import RedisUtil
import Testing

/// The subscription's decisions without sockets or clocks: every event in, every action out.
@Suite("SubscriptionLifecycle: when a subscription resubscribes, waits, yields a gap or ends")
struct SubscriptionLifecycleTests {
    /// No jitter, so each delay is exact: 100 ms, 200 ms, 400 ms, 800 ms, then 1 s.
    static let backoff = RedisConfiguration.Backoff(initial: .milliseconds(100), maximum: .seconds(1), jitter: 0)
    static let lostConnection = RedisError.connectionLost(endpoint: "e", reason: "reset", delivery: .written)

    /// A lifecycle whose first subscription is in place on connection 1.
    static func live(_ policy: RedisSubscription.ConnectionLossPolicy = .resubscribe) -> SubscriptionLifecycle {
        var lifecycle = SubscriptionLifecycle(policy: policy, backoff: backoff)
        #expect(lifecycle.start() == .connect(generation: 1))
        #expect(lifecycle.disposition(ofMessageFrom: 1) == .deliver, "published after subscribe was called: nothing precedes it")
        #expect(lifecycle.subscribed(generation: 1, now: 0) == .confirmed(generation: 1))
        #expect(lifecycle.isLive(1))
        return lifecycle
    }

    @Test("the first attempt's failure, whatever it is, is the caller's: subscribe throws it and nothing is retried")
    func firstAttemptFails() {
        for error in [Self.lostConnection, .server(message: "NOPERM no permission"), .timeout(command: "PING", after: .seconds(1))] {
            var lifecycle = SubscriptionLifecycle(policy: .resubscribe, backoff: Self.backoff)
            #expect(lifecycle.start() == .connect(generation: 1))
            #expect(lifecycle.attemptFailed(generation: 1, error: error, random: 0.5) == .fail(error))
            #expect(lifecycle.phase == .ended)
            #expect(lifecycle.lost(generation: 1, reason: "late report", now: 1, random: 0.5) == .none)
        }
    }

    @Test("a loss waits out the backoff, opens the next connection, holds what arrives, then reports the gap since the loss")
    func resubscribes() {
        var lifecycle = Self.live()
        #expect(lifecycle.lost(generation: 1, reason: "the connection was lost", now: 1_000, random: 0.5) == .retry(after: .milliseconds(100)))
        #expect(lifecycle.phase == .waiting(attempt: 0))
        #expect(lifecycle.disposition(ofMessageFrom: 1) == .drop, "the lost connection's last words belong to the gap")
        #expect(lifecycle.backoffElapsed() == .connect(generation: 2))
        #expect(lifecycle.disposition(ofMessageFrom: 2) == .hold, "it must follow the gap")
        #expect(lifecycle.disposition(ofMessageFrom: 1) == .drop)
        let gap = RedisSubscription.Gap(reason: "the connection was lost", attempts: 1, duration: .nanoseconds(5_000))
        #expect(lifecycle.subscribed(generation: 2, now: 6_000) == .resubscribed(gap, generation: 2))
        #expect(lifecycle.disposition(ofMessageFrom: 2) == .deliver)
        #expect(lifecycle.isLive(2) && !lifecycle.isLive(1))

        // The next loss starts the backoff from the beginning again, with a gap of its own.
        #expect(lifecycle.lost(generation: 2, reason: "again", now: 10_000, random: 0.5) == .retry(after: .milliseconds(100)))
        #expect(lifecycle.backoffElapsed() == .connect(generation: 3))
        #expect(lifecycle.subscribed(generation: 3, now: 10_500) == .resubscribed(.init(reason: "again", attempts: 1, duration: .nanoseconds(500)), generation: 3))
    }

    @Test("failed attempts back off exponentially up to the maximum, and the gap counts every connection opened")
    func attemptsBackOff() {
        var lifecycle = Self.live()
        _ = lifecycle.lost(generation: 1, reason: "server restarted", now: 0, random: 0.5)
        var delays: [Duration] = []
        for generation in 2...7 {
            #expect(lifecycle.backoffElapsed() == .connect(generation: generation))
            let refused = RedisError.connectionFailed(endpoint: "e", reason: "connection refused")
            guard case .retry(let delay) = lifecycle.attemptFailed(generation: generation, error: refused, random: 0.5) else {
                Issue.record("attempt \(generation) did not retry")
                return
            }
            delays.append(delay)
        }
        #expect(delays == [.milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1), .seconds(1)])
        #expect(lifecycle.backoffElapsed() == .connect(generation: 8))
        #expect(lifecycle.subscribed(generation: 8, now: 7_000) == .resubscribed(.init(reason: "server restarted", attempts: 7, duration: .nanoseconds(7_000)), generation: 8))
    }

    @Test("a loss reported twice (the failed request, then the connection itself) is handled once; stale reports change nothing")
    func staleEvents() {
        var lifecycle = Self.live()
        #expect(lifecycle.lost(generation: 1, reason: "no answer to PING", now: 0, random: 0.5) == .retry(after: .milliseconds(100)))
        #expect(lifecycle.lost(generation: 1, reason: "the connection was lost", now: 1, random: 0.5) == .none)
        #expect(lifecycle.backoffElapsed() == .connect(generation: 2))
        #expect(lifecycle.backoffElapsed() == .none, "one timer, one attempt")
        #expect(lifecycle.subscribed(generation: 1, now: 2) == .none)
        #expect(lifecycle.attemptFailed(generation: 1, error: Self.lostConnection, random: 0.5) == .none)
        // A connection lost mid-request: the request's failure decides, the loss report is then stale.
        #expect(lifecycle.lost(generation: 2, reason: "lost while subscribing", now: 3, random: 0.5) == .none)
        #expect(lifecycle.attemptFailed(generation: 2, error: Self.lostConnection, random: 0.5) == .retry(after: .milliseconds(200)))
        #expect(lifecycle.lost(generation: 2, reason: "lost while subscribing", now: 4, random: 0.5) == .none)
        #expect(lifecycle.phase == .waiting(attempt: 1))
    }

    @Test("with onConnectionLoss: .end a loss ends the subscription with its reason, and nothing reconnects")
    func endPolicy() {
        var lifecycle = Self.live(.end)
        #expect(lifecycle.lost(generation: 1, reason: "no answer to PING", now: 0, random: 0.5) == .end(.subscriptionEnded(reason: "no answer to PING")))
        #expect(lifecycle.phase == .ended)
        #expect(lifecycle.backoffElapsed() == .none)
        #expect(lifecycle.terminated(.closed) == .none)
    }

    @Test("a resubscription the server refuses ends the subscription; one that may pass later is retried")
    func refusedResubscription() {
        var lifecycle = Self.live()
        _ = lifecycle.lost(generation: 1, reason: "the connection was lost", now: 0, random: 0.5)
        _ = lifecycle.backoffElapsed()
        #expect(lifecycle.attemptFailed(generation: 2, error: .server(message: "LOADING Redis is loading"), random: 0.5) == .retry(after: .milliseconds(200)))
        _ = lifecycle.backoffElapsed()
        guard case .end(.subscriptionEnded(let reason)) = lifecycle.attemptFailed(generation: 3, error: .server(message: "NOPERM no channel"), random: 0.5) else {
            Issue.record("a refusal did not end the subscription")
            return
        }
        #expect(reason.contains("the connection was lost") && reason.contains("refused") && reason.contains("NOPERM"))
        #expect(lifecycle.phase == .ended)
    }

    @Test("what the server will refuse again, and what may pass", arguments: [
        (RedisError.server(message: "NOPERM User has no permissions to access the 'x' channel"), true),
        (.server(message: "ERR unknown command 'SSUBSCRIBE'"), true),
        (.server(message: "LOADING Redis is loading the dataset in memory"), false),
        (.server(message: "BUSY Redis is busy running a script"), false),
        (.handshakeFailed(step: "HELLO", message: "WRONGPASS invalid username-password pair"), true),
        (.handshakeFailed(step: "HELLO", message: "ERR max number of clients reached"), false),
        (.unsupportedCommand(command: "SUBSCRIBE", reason: "RESP2"), true),
        (.connectionFailed(endpoint: "e", reason: "connection refused"), false),
        (.timeout(command: "PING", after: .seconds(1)), false),
    ])
    func refusals(error: RedisError, isRefusal: Bool) {
        #expect(SubscriptionLifecycle.isRefusal(error) == isRefusal)
    }

    @Test("termination stops whatever is under way; a subscribe still waiting throws the reason, even one not started yet")
    func termination() {
        var waiting = Self.live()
        _ = waiting.lost(generation: 1, reason: "lost", now: 0, random: 0.5)
        #expect(waiting.terminated(.closed) == .stop(failingFirst: nil))
        #expect(waiting.backoffElapsed() == .none, "a backoff that fires after close opens nothing")
        #expect(waiting.terminated(.closed) == .none)

        var resubscribing = Self.live()
        _ = resubscribing.lost(generation: 1, reason: "lost", now: 0, random: 0.5)
        _ = resubscribing.backoffElapsed()
        #expect(resubscribing.terminated(.closed) == .stop(failingFirst: nil))
        #expect(resubscribing.subscribed(generation: 2, now: 1) == .none)
        #expect(resubscribing.disposition(ofMessageFrom: 2) == .drop)

        var first = SubscriptionLifecycle(policy: .resubscribe, backoff: Self.backoff)
        _ = first.start()
        #expect(first.terminated(.cancelled) == .stop(failingFirst: .cancelled))
        #expect(first.subscribed(generation: 1, now: 0) == .none)

        var notStarted = SubscriptionLifecycle(policy: .resubscribe, backoff: Self.backoff)
        #expect(notStarted.terminated(.cancelled) == .stop(failingFirst: nil))
        #expect(notStarted.start() == .fail(.cancelled))
    }
}
