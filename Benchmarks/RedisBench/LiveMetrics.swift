import CoreMetrics
import Histogram
import RedisUtil
import Synchronization

/// The benchmark's own swift-metrics backend, for the live view: it keeps only what the
/// live line shows, summed over every dimension value (all command names count as one).
/// Handed to the benchmark's clients as `RedisObservability(metrics: .factory(_))`, so
/// nothing process-wide is bootstrapped; a run without the live view never creates one.
final class LiveMetrics: MetricsFactory {
    /// `redis.client.commands.sent`, over all command names.
    let sent = LiveCounter()
    /// `redis.client.commands.failed`, over all command names and error types.
    let failed = LiveCounter()
    /// `redis.client.reconnects`.
    let reconnects = LiveCounter()
    /// `db.client.operation.duration`, over all command names, since the reporter's last ``LiveTimer/takeLastSecond()``.
    let durations = LiveTimer()

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        switch label {
        case RedisMetricLabel.commandsSent: sent
        case RedisMetricLabel.commandsFailed: failed
        case RedisMetricLabel.reconnects: reconnects
        default: NOOPMetricsHandler.instance
        }
    }

    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        label == RedisMetricLabel.operationDuration ? durations : NOOPMetricsHandler.instance
    }

    // The handlers are shared by every dimension value and live as long as the backend.
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}

    /// The counters now, to subtract from a later reading (a run's figures start at its
    /// measured phase, not at the client's warm-up and set-up).
    func totals() -> LiveTotals {
        LiveTotals(sent: sent.value, failed: failed.value, reconnects: reconnects.value)
    }
}

/// A reading of ``LiveMetrics``' counters.
struct LiveTotals: Sendable {
    var sent: Int64
    var failed: Int64
    var reconnects: Int64

    static func - (lhs: LiveTotals, rhs: LiveTotals) -> LiveTotals {
        LiveTotals(sent: lhs.sent - rhs.sent, failed: lhs.failed - rhs.failed, reconnects: lhs.reconnects - rhs.reconnects)
    }
}

/// A counter shared by every dimension value of its label: one relaxed atomic add per
/// increment, the cheapest thing a reactor thread can do per command.
final class LiveCounter: CounterHandler {
    private let total = Atomic<Int64>(0)

    func increment(by amount: Int64) { total.add(amount, ordering: .relaxed) }
    func reset() { total.store(0, ordering: .relaxed) }

    /// The sum of the increments so far.
    var value: Int64 { total.load(ordering: .relaxed) }
}

/// Durations recorded into an HdrHistogram that the reporter swaps for an empty one
/// every second, so that each live line's percentiles are of its last second alone.
final class LiveTimer: TimerHandler {
    /// Nanoseconds from 1 µs to a minute at two significant digits: enough for a
    /// "p99 1.9 ms" line, and a small table to allocate every second.
    private static func empty() -> Histogram<UInt64> {
        Histogram(lowestDiscernibleValue: 1_000, highestTrackableValue: highest, numberOfSignificantValueDigits: .two)
    }

    private static let highest: UInt64 = 60_000_000_000

    private let current = Mutex(LiveTimer.empty())

    func recordNanoseconds(_ duration: Int64) {
        // A longer duration counts as the longest trackable one rather than vanishing.
        let value = min(UInt64(max(duration, 0)), Self.highest)
        current.withLock { _ = $0.record(value) }
    }

    /// The durations recorded since the previous call; recording goes on into an empty
    /// histogram (allocated before the lock, which is held for a swap only).
    func takeLastSecond() -> Histogram<UInt64> {
        var taken = Self.empty()
        current.withLock { swap(&$0, &taken) }
        return taken
    }
}
