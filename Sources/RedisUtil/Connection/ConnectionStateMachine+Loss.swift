import RESP

extension ConnectionStateMachine {
    /// What a lost connection means for the commands it carried, and what follows.
    struct LossDecision: Equatable {
        /// For every command that may have reached the server (outcome unknown).
        var writtenError: RedisError
        /// For every command still queued, never sent, when they must fail now rather
        /// than wait for a reconnect: the connect timeout ran out while they waited, or
        /// this blocking connection is gone for good.
        var failQueued: RedisError?
        /// This blocking connection never reconnects (tell its owner).
        var becameDefunct = false
        /// The next attempt, after the backoff; `nil` when nothing waits for one (an idle
        /// client reconnects on its next command).
        var reconnectAt: UInt64?
        /// Whether the connection had been ready: a loss worth logging, not a failed attempt.
        var wasReady: Bool
    }

    /// The socket failed or closed at `now`, after the commands that may have reached the
    /// server were taken out of the queue; `queueRemains` when never-sent commands (or
    /// placeholders) are still queued. `random` (0…1) draws the backoff's jitter.
    /// `nil` when the connection is closed for good.
    mutating func connectionLost(reason: String, protocolError: RESPError? = nil, now: UInt64, queueRemains: Bool, random: Double) -> LossDecision? {
        guard state != .closed else { return nil }
        let wasReady = state == .ready
        // Every failure before the handshake completed is a failed attempt; a ready
        // connection that breaks starts its backoff from the beginning.
        if !wasReady { failedAttempts += 1 }
        state = .disconnected
        awaiting.removeAll()
        connectDeadline = nil
        abandonedSweepAt = nil
        lastError = reason
        var decision = LossDecision(
            writtenError: protocolError.map { .protocolError($0) }
                ?? .connectionLost(endpoint: settings.endpoint, reason: reason, delivery: .written),
            wasReady: wasReady
        )
        if settings.isBlocking && hasBeenReady {
            isDefunct = true
            decision.becameDefunct = true
            decision.failQueued = .connectionLost(endpoint: settings.endpoint, reason: reason, delivery: .notSent)
            disconnectedSince = nil
            return decision
        }
        // The connect timeout counts from when commands started waiting for a socket: a
        // connection lost while idle must not make the next command's first failed
        // attempt look hours overdue.
        if !queueRemains {
            disconnectedSince = nil
        } else if disconnectedSince == nil {
            disconnectedSince = now
        }
        if let since = disconnectedSince, now &- since >= settings.connectTimeout {
            decision.failQueued = .connectionFailed(endpoint: settings.endpoint, reason: reason)
            disconnectedSince = nil
            return decision
        }
        if queueRemains {
            let delay = settings.backoff.delay(attempt: max(failedAttempts - 1, 0), random: random)
            reconnectAt = now &+ delay.nanosecondsClamped
            decision.reconnectAt = reconnectAt
        }
        return decision
    }

    /// A handshake was refused, or the process has no descriptor for a socket: another
    /// attempt would fail the same way, so what is queued fails now (`error`), and the
    /// connection is lost with that reason.
    mutating func attemptRefused(_ error: RedisError, now: UInt64, random: Double) -> LossDecision? {
        // connectionLost records the reason, and with no queue left clears the wait.
        guard var decision = connectionLost(reason: error.description, now: now, queueRemains: false, random: random) else { return nil }
        if decision.failQueued == nil { decision.failQueued = error }
        return decision
    }
}
