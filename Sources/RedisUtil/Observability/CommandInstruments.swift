import CoreMetrics
import Synchronization

/// The swift-metrics handles for commands, made once per operation name on first use
/// (so that a backend lists only the commands used) and kept (a handle per command would cost a factory lookup and an allocation each).
final class CommandInstruments: Sendable {
    private let factory: any MetricsFactory
    /// `db.system.name`, `server.address` and `server.port`, on every command metric.
    private let baseDimensions: [(String, String)]
    /// Commands sent, by ``OperationName`` index (never a batch's own name: its
    /// commands are counted under theirs).
    private let sent: [LazyReference<Counter>]
    /// Durations, by ``OperationName`` index.
    private let durations: [LazyReference<Timer>]
    /// Failures by operation and `error.type`: rare, so a lock and a dictionary.
    private let failures = Mutex<[FailureKey: Counter]>([:])

    private struct FailureKey: Hashable {
        let operation: Int
        let type: String
    }

    init(factory: any MetricsFactory, baseDimensions: [(String, String)]) {
        self.factory = factory
        self.baseDimensions = baseDimensions
        sent = OperationName.names.map { _ in LazyReference() }
        durations = OperationName.names.map { _ in LazyReference() }
    }

    private func dimensions(_ operation: Int) -> [(String, String)] {
        [(RedisMetricDimension.systemName, "redis"), (RedisMetricDimension.operationName, OperationName.names[operation])] + baseDimensions
    }

    /// Counts a command named `operation` (an ``OperationName`` index) as sent.
    func sent(_ operation: Int) {
        sent[operation].value { Counter(label: RedisMetricLabel.commandsSent, dimensions: dimensions(operation), factory: factory) }.increment()
    }

    /// Records how long operation `operation` took.
    func recordDuration(_ operation: Int, nanoseconds: Int64) {
        durations[operation].value {
            Timer(label: RedisMetricLabel.operationDuration, dimensions: dimensions(operation), preferredDisplayUnit: .seconds, factory: factory)
        }.recordNanoseconds(nanoseconds)
    }

    /// Counts a failure of operation `operation`.
    func failed(_ operation: Int, type: String) {
        let counter = failures.withLock { failures in
            if let counter = failures[FailureKey(operation: operation, type: type)] { return counter }
            let counter = Counter(label: RedisMetricLabel.commandsFailed,
                                  dimensions: dimensions(operation) + [(RedisMetricDimension.errorType, type)], factory: factory)
            failures[FailureKey(operation: operation, type: type)] = counter
            return counter
        }
        counter.increment()
    }
}
