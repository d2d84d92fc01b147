import Foundation
import Histogram
import Reactor
import Synchronization

/// The live view: while a workload's measured phase runs, one line a second on stderr
/// with what ``LiveMetrics`` counted, e.g.
/// `rpush callback  round 2/3  1,023,456 ops/s so far  p50 0.41 ms  p99 1.9 ms (last 1 s)  errors 0  reconnects 0`.
/// The ops are the client's commands (`redis.client.commands.sent`): a channel
/// message takes several.
struct LiveView: Sendable {
    let metrics: LiveMetrics
    /// On a terminal the line is rewritten in place; elsewhere (a log, a test's pipe)
    /// each line ends with a newline, so that every one of them stays readable.
    let inPlace: Bool

    /// Starts the lines of one run, from now: the counters' readings now are its zero.
    func start(_ title: String, on reactor: Reactor) -> LiveRun {
        _ = metrics.durations.takeLastSecond()
        let run = LiveRun(inPlace: inPlace, baseline: metrics.totals(), start: monotonicSeconds())
        let metrics = self.metrics
        run.timer = reactor.schedule(after: .seconds(1), repeating: .seconds(1)) {
            let totals = metrics.totals() - run.baseline
            let rate = Double(totals.sent) / (monotonicSeconds() - run.start)
            let last = metrics.durations.takeLastSecond()
            run.write("\(title)  \(Report.grouped(rate)) ops/s so far  \(Self.percentiles(last)) (last 1 s)  errors \(totals.failed)  reconnects \(totals.reconnects)")
        }
        return run
    }

    /// `p50 0.41 ms  p99 1.9 ms`, or dashes for a second without a completed command.
    static func percentiles(_ histogram: Histogram<UInt64>) -> String {
        guard histogram.totalCount > 0 else { return "p50 – ms  p99 – ms" }
        return "p50 \(milliseconds(histogram.valueAtPercentile(50))) ms  p99 \(milliseconds(histogram.valueAtPercentile(99))) ms"
    }

    /// Two significant digits, as the histogram keeps them.
    static func milliseconds(_ nanoseconds: UInt64) -> String {
        let value = Double(nanoseconds) / 1e6
        return String(format: value < 1 ? "%.2f" : value < 10 ? "%.1f" : "%.0f", value)
    }
}

/// One run's live lines; ``stop()`` ends them.
final class LiveRun: Sendable {
    let inPlace: Bool
    let baseline: LiveTotals
    let start: Double
    /// Whether the run has stopped, under the lock every line is written with: a timer
    /// cancelled from another thread may still fire once, and its line must not land
    /// after the clearing, above the results.
    private let stopped = Mutex(false)
    private let scheduled = Mutex<ScheduledTimer?>(nil)

    init(inPlace: Bool, baseline: LiveTotals, start: Double) {
        self.inPlace = inPlace
        self.baseline = baseline
        self.start = start
    }

    var timer: ScheduledTimer? {
        get { scheduled.withLock { $0 } }
        set { scheduled.withLock { $0 = newValue } }
    }

    func write(_ line: String) {
        stopped.withLock { stopped in
            guard !stopped else { return }
            FileHandle.standardError.write(Data((inPlace ? "\r\u{1B}[K\(line)" : "\(line)\n").utf8))
        }
    }

    /// Ends the lines; on a terminal, clears the line so that the results print on a clean one.
    func stop() {
        timer?.cancel()
        stopped.withLock { stopped in
            stopped = true
            if inPlace { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        }
    }
}
