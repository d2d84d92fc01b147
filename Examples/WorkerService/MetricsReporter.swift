import Foundation
import Logging
import RedisUtil
import ServiceLifecycle

/// Logs the metrics' totals every `interval`, and once more at shutdown. It is a
/// `Service` listed first in the group, so it is the last to stop: its final line comes
/// after the pool has drained and the client has closed, and counts everything.
struct MetricsReporter: Service {
    let metrics: InMemoryMetrics
    let interval: Duration
    let logger: Logger

    func run() async {
        // The group's graceful shutdown cuts the sleep short (it throws): then the last report.
        while (try? await cancelWhenGracefulShutdown({ try await Task.sleep(for: interval) })) != nil {
            logger.info("metrics: \(summary())")
        }
        logger.info("metrics at shutdown: \(summary())")
    }

    /// `commands sent 12 (BLMOVE 3, EVALSHA 6, RPUSH 3); failed 0; channel messages 6 (received 3, sent 3); …`
    func summary() -> String {
        /// `12 (BLMOVE 3, EVALSHA 6, RPUSH 3)`: the total, then each part of it.
        func described(_ counts: [String: Int64]) -> String {
            let parts = counts.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
            return "\(counts.values.reduce(0, +))" + (parts.isEmpty ? "" : " (\(parts.joined(separator: ", ")))")
        }
        let sent = metrics.counts(RedisMetricLabel.commandsSent, by: RedisMetricDimension.operationName)
        let failed = metrics.counts(RedisMetricLabel.commandsFailed, by: RedisMetricDimension.errorType)
        let messages = metrics.counts(RedisMetricLabel.channelMessages, by: RedisMetricDimension.channelEvent)
        let timed = metrics.timings(RedisMetricLabel.operationDuration)
        return "commands sent \(described(sent)); failed \(described(failed)); channel messages \(described(messages)); "
            + "operations timed \(timed.count) (mean \(String(format: "%.1f", timed.meanMilliseconds)) ms, the pool's blocking waits included)"
    }
}
