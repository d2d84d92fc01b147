import CoreMetrics
import RedisUtil
import Testing
@testable import RedisBench

/// The live view's backend, fed through swift-metrics' own API as the client feeds it.
@Suite("redis-bench's live metrics backend")
struct LiveMetricsTests {
    @Test func countersSumOverDimensionsAndTheTimerKeepsOneSecond() {
        let metrics = LiveMetrics()
        for name in ["RPUSH", "LPOP"] {
            Counter(label: RedisMetricLabel.commandsSent, dimensions: [(RedisMetricDimension.operationName, name)], factory: metrics).increment(by: 3)
        }
        Counter(label: RedisMetricLabel.commandsFailed, dimensions: [(RedisMetricDimension.operationName, "LPOP"), (RedisMetricDimension.errorType, "timeout")], factory: metrics).increment()
        Counter(label: RedisMetricLabel.reconnects, factory: metrics).increment()
        Counter(label: RedisMetricLabel.bytesWritten, factory: metrics).increment(by: 1000)
        let baseline = LiveTotals(sent: 1, failed: 0, reconnects: 0)
        let totals = metrics.totals() - baseline
        #expect((totals.sent, totals.failed, totals.reconnects) == (5, 1, 1))

        let timer = Timer(label: RedisMetricLabel.operationDuration, dimensions: [(RedisMetricDimension.operationName, "RPUSH")], factory: metrics)
        for milliseconds in 1...100 { timer.recordNanoseconds(Int64(milliseconds) * 1_000_000) }
        let second = metrics.durations.takeLastSecond()
        #expect(second.totalCount == 100)
        #expect(LiveView.percentiles(second) == "p50 50 ms  p99 99 ms")
        #expect(metrics.durations.takeLastSecond().totalCount == 0)
        #expect(LiveView.percentiles(metrics.durations.takeLastSecond()) == "p50 – ms  p99 – ms")
        #expect(LiveView.milliseconds(410_000) == "0.41" && LiveView.milliseconds(1_900_000) == "1.9")
    }
}
