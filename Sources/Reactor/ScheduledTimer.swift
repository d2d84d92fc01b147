import CLibevent
import Synchronization

/// A handle to a timer created by ``Reactor/schedule(after:repeating:_:)``.
///
/// Cancelling is safe from any thread. On the reactor thread, once ``cancel()`` has
/// returned the timer's body does not start again. From another thread the cancel is
/// not synchronous with the reactor: a body that is starting at that very moment may
/// still run once, and never again after it.
public struct ScheduledTimer: Sendable {
    let state: TimerState
    let reactor: Reactor

    /// Stops the timer; idempotent, any thread. The entry is dropped from the
    /// reactor's queue when it comes due or at the next sweep.
    public func cancel() {
        state.cancelled.store(true, ordering: .releasing)
    }

    /// Whether ``cancel()`` has been called.
    public var isCancelled: Bool { state.isCancelled }
}

/// The part of a timer shared between threads.
final class TimerState: Sendable {
    let cancelled = Atomic<Bool>(false)
    var isCancelled: Bool { cancelled.load(ordering: .acquiring) }
}

extension Reactor {
    /// Runs `body` on the reactor thread after `delay`, and then every `interval`
    /// when one is given, until cancelled. Any thread.
    ///
    /// The deadline is taken when this is called, so timers scheduled in order with
    /// increasing deadlines fire in deadline order even when submitted from other threads.
    @discardableResult
    public func schedule(
        after delay: Duration,
        repeating interval: Duration? = nil,
        _ body: @escaping @Sendable () -> Void
    ) -> ScheduledTimer {
        let state = TimerState()
        let deadline = monotonicNanoseconds() &+ delay.nanosecondsClamped
        let period = interval.map { max($0.nanosecondsClamped, 1) }
        if inReactor {
            armTimer(state: state, deadline: deadline, period: period, body: body)
        } else {
            execute { [self] in armTimer(state: state, deadline: deadline, period: period, body: body) }
        }
        return ScheduledTimer(state: state, reactor: self)
    }

    /// Like ``schedule(after:repeating:_:)`` for code already on the reactor thread,
    /// whose body need not be `Sendable`. Reactor thread only.
    @discardableResult
    public func scheduleOnReactor(
        after delay: Duration,
        repeating interval: Duration? = nil,
        _ body: @escaping () -> Void
    ) -> ScheduledTimer {
        preconditionInReactor()
        let state = TimerState()
        let deadline = monotonicNanoseconds() &+ delay.nanosecondsClamped
        armTimer(state: state, deadline: deadline, period: interval.map { max($0.nanosecondsClamped, 1) }, body: body)
        return ScheduledTimer(state: state, reactor: self)
    }

    private func armTimer(state: TimerState, deadline: UInt64, period: UInt64?, body: @escaping () -> Void) {
        guard !state.isCancelled else { return }
        if timers.insert(PendingTimer(state: state, period: period, body: body), deadline: deadline) {
            armTimerEvent()
        }
    }

    /// Points the single libevent timer at the earliest deadline.
    func armTimerEvent() {
        guard let earliest = timers.earliestDeadline else {
            timerEvent?.remove()
            return
        }
        let now = monotonicNanoseconds()
        timerEvent?.add(timeoutNanoseconds: earliest > now ? earliest - now : 0)
    }

    /// Runs every due timer in deadline order, then re-arms for the next one.
    func runDueTimers() {
        let now = monotonicNanoseconds()
        while let entry = timers.popDue(now: now) {
            let timer = entry.timer
            guard !timer.state.isCancelled else { continue }
            timer.body()
            if let period = timer.period, !timer.state.isCancelled {
                // Next deadline from the previous one, so a repeating timer does not drift
                // by the time its body takes; but never schedule a burst of catch-ups.
                let next = entry.deadline &+ period
                _ = timers.insert(timer, deadline: next > now ? next : now &+ period)
            }
        }
        armTimerEvent()
    }
}

/// The reactor's one libevent timer.
final class TimerWakeEvent: LibeventEvent {
    private let fired: () -> Void

    init(base: OpaquePointer, fired: @escaping () -> Void) {
        self.fired = fired
        super.init(base: base, fd: -1, what: 0)
    }

    override func fire(_ what: Int16) { fired() }
}

extension Duration {
    /// Whole non-negative nanoseconds, saturating (at about 146 years) instead of
    /// overflowing for huge durations; negative durations are 0.
    public var nanosecondsClamped: UInt64 {
        let (seconds, attoseconds) = components
        guard seconds >= 0 else { return 0 }
        let (whole, overflow) = UInt64(seconds).multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return UInt64.max / 2 }
        return whole &+ UInt64(max(attoseconds, 0) / 1_000_000_000)
    }
}
