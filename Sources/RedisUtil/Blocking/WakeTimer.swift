import Reactor

/// The one timer a shell keeps at its state machine's next moment (``LeasePoolMachine/wakeAt``,
/// ``BlockingCallMachine/wakeAt``), so that it never polls: moved only when that moment
/// changes, and told apart from a timer it replaced when one fires. A value kept inside
/// its owner's lock; setting it is an O(1) hand-over to a reactor.
struct WakeTimer {
    private var timer: ScheduledTimer?
    /// The moment it is set to (monotonic nanoseconds); `nil`: not set.
    private var at: UInt64?
    /// Numbers the timers set, so that a firing one knows whether it is still current.
    private var number: UInt64 = 0

    /// Sets the timer to `next` (`nil`: none), unless it is set there already; at that
    /// moment `fire` runs on `reactor` with the timer's number, for ``spend(_:)``.
    mutating func set(to next: UInt64?, now: UInt64, on reactor: @autoclosure () -> Reactor, fire: @escaping @Sendable (_ number: UInt64) -> Void) {
        guard next != at else { return }
        timer?.cancel()
        at = next
        number &+= 1
        let number = self.number
        timer = next.map { at in
            reactor().schedule(after: .nanoseconds(Int64(clamping: at &- min(at, now)))) { fire(number) }
        }
    }

    /// The timer numbered `number` fired: if it is the current one, it is spent, and
    /// whatever is due next (even at the same moment, had it fired a little early) gets
    /// a new one from ``set(to:now:on:fire:)``.
    mutating func spend(_ number: UInt64) {
        guard number == self.number else { return }
        timer = nil
        at = nil
    }
}
