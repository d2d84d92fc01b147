import CoreMetrics
import Synchronization

/// The cheapest real metrics backend: every handle an atomic or two. With
/// `PROBE_METRICS=1` the probe bootstraps it, so that callgrind counts what the client
/// itself adds per operation with metrics on (a production backend adds its own cost).
final class CountingMetrics: MetricsFactory {
    final class Handle: CounterHandler, FloatingPointCounterHandler, RecorderHandler, TimerHandler, MeterHandler {
        let total = Atomic<Int64>(0)
        let count = Atomic<Int64>(0)

        func increment(by amount: Int64) { total.add(amount, ordering: .relaxed) }
        func increment(by amount: Double) { total.add(Int64(amount), ordering: .relaxed) }
        func decrement(by amount: Double) { total.subtract(Int64(amount), ordering: .relaxed) }
        func reset() { total.store(0, ordering: .relaxed) }
        func record(_ value: Int64) { total.store(value, ordering: .relaxed) }
        func record(_ value: Double) { total.store(Int64(value), ordering: .relaxed) }
        func set(_ value: Int64) { total.store(value, ordering: .relaxed) }
        func set(_ value: Double) { total.store(Int64(value), ordering: .relaxed) }
        func recordNanoseconds(_ duration: Int64) {
            total.add(duration, ordering: .relaxed)
            count.add(1, ordering: .relaxed)
        }
    }

    func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handle() }
    func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler { Handle() }
    func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { Handle() }
    func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler { Handle() }
    func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handle() }
    func destroyCounter(_ handler: any CounterHandler) {}
    func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    func destroyMeter(_ handler: any MeterHandler) {}
    func destroyRecorder(_ handler: any RecorderHandler) {}
    func destroyTimer(_ handler: any TimerHandler) {}
}
