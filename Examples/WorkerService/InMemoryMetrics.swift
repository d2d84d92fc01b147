import CoreMetrics
import Synchronization

/// A swift-metrics backend that keeps counters and timers in memory, for a service that
/// prints its totals. A real deployment bootstraps an exporter (Prometheus,
/// OpenTelemetry) instead; nothing else in the example changes.
final class InMemoryMetrics: MetricsFactory {
    /// A metric's identity: its label and its dimensions.
    struct Key: Hashable, Sendable {
        var label: String
        var dimensions: [String: String]

        init(_ label: String, _ dimensions: [(String, String)]) {
            self.label = label
            self.dimensions = Dictionary(dimensions, uniquingKeysWith: { _, last in last })
        }
    }

    // Handlers are made once per label and dimensions (the client keeps them); the locks
    // guard those rare look-ups, never an increment.
    private let counters = Mutex<[Key: InMemoryCounter]>([:])
    private let timers = Mutex<[Key: InMemoryTimer]>([:])

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
        Self.handler(Key(label, dimensions), in: counters, make: InMemoryCounter.init)
    }

    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
        Self.handler(Key(label, dimensions), in: timers, make: InMemoryTimer.init)
    }

    /// Gauges (connections, commands pending) are instants, not totals: not kept here.
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        NOOPMetricsHandler.instance
    }

    // Totals outlive the handles that fed them.
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}

    /// The handler of `key`, made on first use.
    private static func handler<Handler: Sendable>(
        _ key: Key, in registry: borrowing Mutex<[Key: Handler]>, make: () -> Handler
    ) -> Handler {
        registry.withLock { handlers in
            if let existing = handlers[key] { return existing }
            let made = make()
            handlers[key] = made
            return made
        }
    }

    /// The counters of `label` summed by the value of `dimension`: commands sent by
    /// command name, channel messages by event.
    func counts(_ label: String, by dimension: String) -> [String: Int64] {
        counters.withLock { counters in
            var sums: [String: Int64] = [:]
            for (key, counter) in counters where key.label == label {
                sums[key.dimensions[dimension] ?? "", default: 0] += counter.value
            }
            return sums
        }
    }

    /// The timers of `label` over all their dimensions: how many, and their mean in ms.
    func timings(_ label: String) -> (count: Int64, meanMilliseconds: Double) {
        let (count, nanoseconds) = timers.withLock { timers in
            timers.filter { $0.key.label == label }.values.reduce((Int64(0), Int64(0))) { sum, timer in
                (sum.0 + timer.count.load(ordering: .relaxed), sum.1 + timer.nanoseconds.load(ordering: .relaxed))
            }
        }
        return (count, count == 0 ? 0 : Double(nanoseconds) / Double(count) / 1e6)
    }
}

/// A counter: an atomic add per increment, from whichever thread counts.
final class InMemoryCounter: CounterHandler {
    private let total = Atomic<Int64>(0)
    func increment(by amount: Int64) { total.add(amount, ordering: .relaxed) }
    func reset() { total.store(0, ordering: .relaxed) }
    var value: Int64 { total.load(ordering: .relaxed) }
}

/// A timer kept as a count and a sum: enough for a mean.
final class InMemoryTimer: TimerHandler {
    let count = Atomic<Int64>(0)
    let nanoseconds = Atomic<Int64>(0)
    func recordNanoseconds(_ duration: Int64) {
        count.add(1, ordering: .relaxed)
        nanoseconds.add(duration, ordering: .relaxed)
    }
}
