import CoreMetrics
import Synchronization

/// What a client's periodic report sets: the gauges, sampled from its connections and
/// blocking pool, and the counters of ``ClientCounters``, advanced by what each total
/// grew since the last report.
final class ReportedInstruments: Sendable {
    /// A sample of the gauges.
    struct Gauges: Sendable {
        var open = 0
        var opening = 0
        var pending = 0
        var unsentBytes = 0
        var blockingLeases = 0
        var blockingWaiters = 0

        static func + (lhs: Gauges, rhs: Gauges) -> Gauges {
            Gauges(open: lhs.open + rhs.open, opening: lhs.opening + rhs.opening, pending: lhs.pending + rhs.pending,
                   unsentBytes: lhs.unsentBytes + rhs.unsentBytes, blockingLeases: lhs.blockingLeases + rhs.blockingLeases,
                   blockingWaiters: lhs.blockingWaiters + rhs.blockingWaiters)
        }
    }

    private let open, opening, pending, unsentBytes, blockingLeases, blockingWaiters: Gauge
    /// In ``ClientCounters/snapshot()``'s order.
    private let counters: [Counter]
    /// The totals at the last report.
    private let reported: Mutex<[Int]>

    init(factory: any MetricsFactory, baseDimensions: [(String, String)]) {
        func gauge(_ label: String, _ extra: [(String, String)] = []) -> Gauge {
            Gauge(label: label, dimensions: baseDimensions + extra, factory: factory)
        }
        func counter(_ label: String, _ extra: [(String, String)] = []) -> Counter {
            Counter(label: label, dimensions: baseDimensions + extra, factory: factory)
        }
        open = gauge(RedisMetricLabel.connections, [(RedisMetricDimension.connectionState, "open")])
        opening = gauge(RedisMetricLabel.connections, [(RedisMetricDimension.connectionState, "opening")])
        pending = gauge(RedisMetricLabel.pendingCommands)
        unsentBytes = gauge(RedisMetricLabel.unsentBytes)
        blockingLeases = gauge(RedisMetricLabel.blockingLeases)
        blockingWaiters = gauge(RedisMetricLabel.blockingWaiters)
        let event = RedisMetricDimension.channelEvent
        counters = [
            counter(RedisMetricLabel.bytesWritten), counter(RedisMetricLabel.bytesRead),
            counter(RedisMetricLabel.reconnects), counter(RedisMetricLabel.subscriptionGaps),
            counter(RedisMetricLabel.channelMessages, [(event, "sent")]),
            counter(RedisMetricLabel.channelMessages, [(event, "received")]),
            counter(RedisMetricLabel.channelMessages, [(event, "acked")]),
            counter(RedisMetricLabel.channelMessages, [(event, "redelivered")]),
            counter(RedisMetricLabel.channelMessages, [(event, "dead_lettered")]),
        ]
        reported = Mutex(Array(repeating: 0, count: counters.count))
    }

    /// Sets the gauges to `sample` and advances the counters to `totals`.
    func report(_ sample: Gauges, totals: [Int]) {
        open.record(sample.open)
        opening.record(sample.opening)
        pending.record(sample.pending)
        unsentBytes.record(sample.unsentBytes)
        blockingLeases.record(sample.blockingLeases)
        blockingWaiters.record(sample.blockingWaiters)
        // Under the lock: a report at close may race the last periodic one, and each
        // increment must be counted once.
        let increments = reported.withLock { reported in
            defer { reported = totals }
            return zip(totals, reported).map { max(0, $0 - $1) }
        }
        for (counter, increment) in zip(counters, increments) where increment > 0 {
            counter.increment(by: Int64(increment))
        }
    }
}
