extension ConnectionStateMachine {
    /// The earliest moment something is due: the connect timeout of the attempt under
    /// way, the backoff's next attempt, the oldest live command's own deadline
    /// (`commandDeadline`, from the queue), the liveness check while commands are pending
    /// (`hasPending`), or the end of a close's grace period. The shell keeps one timer set
    /// to it and never polls. `nil` when nothing is due.
    ///
    /// The liveness moment moves with every reply; the timer is not moved with it (that
    /// would cost a timer operation per read): it fires at the moment computed when it
    /// was set, at most once per liveness period, and is set again from there.
    // Mutating though it changes nothing: the shell calls it once per burst of commands
    // (once per command, with one in flight), and a non-mutating call copies the whole
    // machine out of the connection's stored property first (about 200 instructions,
    // its strings and deque retained and released), where this one reads it in place.
    mutating func nextDeadline(commandDeadline: UInt64?, hasPending: Bool) -> UInt64? {
        var next = commandDeadline ?? .max
        if let connectDeadline { next = min(next, connectDeadline) }
        if let reconnectAt { next = min(next, reconnectAt) }
        if let closeDeadline { next = min(next, closeDeadline) }
        if let abandonedSweepAt { next = min(next, abandonedSweepAt) }
        if let liveness = livenessDeadline(hasPending: hasPending) { next = min(next, liveness) }
        return next == .max ? nil : next
    }

    /// When a ready connection whose oldest written command has no reply counts as dead.
    /// Blocking connections wait as long as their command says.
    private func livenessDeadline(hasPending: Bool) -> UInt64? {
        guard !settings.isBlocking, state == .ready, hasPending, let liveness = settings.livenessTimeout else { return nil }
        return lastProgress &+ liveness &+ 1
    }

    /// What passing a deadline at `now` means. Commands whose own deadline passed are the
    /// queue's to expire (with ``expiryError(command:timeout:)``); these are the others.
    enum DeadlineAction: Equatable {
        /// Nothing beyond expiring commands.
        case none
        /// The connection is dead: lose it with this reason.
        case lose(reason: String)
        /// The backoff is over: start the next attempt.
        case connect
        /// The close's grace period is over: finish it.
        case finishClose
    }

    /// The timer fired at `now`.
    mutating func deadlinePassed(now: UInt64, hasWrittenPending: Bool) -> DeadlineAction {
        if let closeDeadline, now >= closeDeadline { return .finishClose }
        if let connectDeadline, now >= connectDeadline {
            let limit = Duration.nanoseconds(Int64(clamping: settings.connectTimeout))
            // Still before the Redis handshake: the TCP connect or the TLS handshake.
            // A plaintext server takes a TLS hello for a command line still unfinished.
            if settings.tls && awaiting.isEmpty {
                return .lose(reason: "the connect and TLS handshake took longer than \(limit) (a port that does not serve TLS never answers a TLS handshake)")
            }
            return .lose(reason: "connect and handshake took longer than \(limit)")
        }
        // Only a command that went out can be overdue: one still unsent waits for the
        // socket, not for the server.
        if hasWrittenPending, let liveness = livenessDeadline(hasPending: true), now >= liveness {
            return .lose(reason: "no reply for \(Duration.nanoseconds(Int64(clamping: settings.livenessTimeout ?? 0)))")
        }
        if let reconnectAt, now >= reconnectAt, state == .disconnected {
            self.reconnectAt = nil
            return .connect
        }
        return .none
    }

    /// How often the queue is looked through for commands abandoned behind a full
    /// socket (``writeBlocked(now:)``): 50 ms, the pace of a blocking command's
    /// `CLIENT UNBLOCK`; a walk of the unwritten commands each time, while the socket
    /// pushes back, never on the path of a command that is written at once. Its cost is
    /// in proportion to what waits unwritten: for a stalled server's full queue (65,536
    /// commands by default) a few hundred microseconds every 50 ms, until the liveness
    /// timeout closes the connection.
    static var abandonedSweepInterval: UInt64 { 50_000_000 }

    /// A write of the queue found the socket full at `now` (a server that reads slower
    /// than the client writes, or has stopped): the commands left behind may be
    /// abandoned by their tasks' cancellation before the socket takes them, and the
    /// shell must then make them harmless (``OutboundQueue/neutralizeAbandoned(held:)``),
    /// or a stalled server that reads again runs what its caller was told had been
    /// cancelled. A cancellation comes from any thread and does not reach the
    /// connection; so from now on, every ``abandonedSweepInterval`` until the queue is
    /// written out, a sweep is due (``sweepDue(now:queueUnwritten:)``). Returns whether
    /// this set the first one (the shell then sets its timer). `now` is read only then:
    /// a connection whose socket keeps pushing back reads no clock per write.
    mutating func writeBlocked(now: @autoclosure () -> UInt64) -> Bool {
        guard state == .ready, abandonedSweepAt == nil else { return false }
        abandonedSweepAt = now() &+ Self.abandonedSweepInterval
        return true
    }

    /// Whether the queue's unwritten commands are to be looked through at `now`. The next
    /// look is set while some remain unwritten (`queueUnwritten`), else none.
    mutating func sweepDue(now: UInt64, queueUnwritten: Bool) -> Bool {
        guard let abandonedSweepAt, now >= abandonedSweepAt else { return false }
        self.abandonedSweepAt = state == .ready && queueUnwritten ? now &+ Self.abandonedSweepInterval : nil
        return state == .ready
    }

    /// The error for a command that ran out of its own timeout. While connecting keeps
    /// failing it was never sent, and the reason the connection fails says more than "no
    /// reply" (which would send a caller of a refused port looking for a stalled server).
    func expiryError(command: String, timeout: Duration) -> RedisError {
        guard state != .ready, failedAttempts > 0 else { return .timeout(command: command, after: timeout) }
        return .connectionFailed(endpoint: settings.endpoint, reason: "\(lastError) (\(command) not sent within its timeout of \(timeout))")
    }
}
