import Histogram

/// Per-operation latencies, written lock-free by whichever thread completes an
/// operation: operation `i` writes slot `i % capacity`, so concurrent writers never
/// share a slot while fewer than `capacity` operations are in flight.
final class LatencyLog: @unchecked Sendable {
    // @unchecked Sendable: the buffer is allocated once and freed in deinit; each
    // operation index owns one slot, and the reader (`histogram`) runs after every
    // writer has finished (the run's completion is the synchronisation point).
    private let slots: UnsafeMutableBufferPointer<UInt32>

    /// Keeps at most `capacity` samples (the latest ones on longer runs).
    init(capacity: Int) {
        slots = .allocate(capacity: max(1, capacity))
        slots.initialize(repeating: 0)
    }

    deinit { slots.deallocate() }

    /// Records operation `index`'s latency in nanoseconds (stored as microseconds ×10).
    func record(index: Int, nanoseconds: UInt64) {
        slots[index % slots.count] = UInt32(clamping: nanoseconds / 100)
    }

    /// A histogram of the latencies of the first `recorded` operations (the run's
    /// completed count: the log keeps no counter of its own, which every operation of
    /// every thread would touch), in microseconds with 0.1 µs resolution.
    func histogram(recorded: Int) -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(highestTrackableValue: UInt64(UInt32.max), numberOfSignificantValueDigits: .three)
        let count = min(recorded, slots.count)
        for index in 0..<count { _ = histogram.record(UInt64(slots[index])) }
        return histogram
    }
}

/// Latency percentiles in microseconds.
struct LatencySummary: Codable, Sendable {
    var p50: Double
    var p90: Double
    var p99: Double
    var p999: Double
    var max: Double

    init(_ histogram: Histogram<UInt64>) {
        func us(_ tenths: UInt64) -> Double { Double(tenths) / 10 }
        p50 = us(histogram.valueAtPercentile(50))
        p90 = us(histogram.valueAtPercentile(90))
        p99 = us(histogram.valueAtPercentile(99))
        p999 = us(histogram.valueAtPercentile(99.9))
        max = us(histogram.maxRecorded)
    }
}
