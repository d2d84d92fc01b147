import CoreMetrics
import Reactor
import RESP
import Tracing

/// A client's metrics and spans: made once per client when either is on (nil
/// otherwise, so that a client without them pays one branch per command), shared with
/// its connections through the configuration.
final class ClientObserver: Sendable {
    /// Per-command metrics; nil when metrics are off.
    let commands: CommandInstruments?
    /// What the I/O paths count; nil when metrics are off.
    let counters: ClientCounters?
    /// Gauges and counters set by the periodic report; nil when metrics are off.
    let reported: ReportedInstruments?
    /// Where spans go; nil when tracing is off.
    let tracer: (any Tracer)?
    /// `db.system.name`, `db.namespace` and the server's address, on every span.
    private let spanAttributes: SpanAttributes
    let reportInterval: Duration

    /// What one command, pipeline or transaction carries from its start to its end.
    struct Observation: Sendable {
        /// An ``OperationName`` index.
        let operation: Int
        /// Monotonic nanoseconds at the start.
        let start: UInt64
        let span: (any Span)?
    }

    /// An observer for a client of `endpoint`, or nil when metrics and tracing are both off.
    static func make(_ configuration: RedisConfiguration, endpoint: RedisEndpoint) -> ClientObserver? {
        let factory = configuration.observability.resolvedFactory
        let tracer = configuration.observability.resolvedTracer
        guard factory != nil || tracer != nil else { return nil }
        return ClientObserver(factory: factory, tracer: tracer, configuration: configuration, endpoint: endpoint)
    }

    private init(factory: (any MetricsFactory)?, tracer: (any Tracer)?, configuration: RedisConfiguration, endpoint: RedisEndpoint) {
        var server: [(String, String)] = []
        var attributes = SpanAttributes()
        attributes[RedisMetricDimension.systemName] = "redis"
        attributes["db.namespace"] = "\(configuration.database)"
        if endpoint.isCluster {
            server = [(RedisMetricDimension.serverAddress, "cluster")]
        } else {
            switch endpoint.address {
            case .tcp(let host, let port):
                server = [(RedisMetricDimension.serverAddress, host), (RedisMetricDimension.serverPort, "\(port)")]
                attributes[RedisMetricDimension.serverPort] = port
            case .unix(let path):
                server = [(RedisMetricDimension.serverAddress, path)]
            }
        }
        attributes[RedisMetricDimension.serverAddress] = server[0].1
        spanAttributes = attributes
        self.tracer = tracer
        reportInterval = configuration.observability.reportInterval
        if let factory {
            commands = CommandInstruments(factory: factory, baseDimensions: server)
            counters = ClientCounters()
            reported = ReportedInstruments(factory: factory, baseDimensions: server)
        } else {
            commands = nil
            counters = nil
            reported = nil
        }
    }

    // MARK: Commands

    /// Counts a command (`commands` is one ``OperationName`` index per command: one for a
    /// command, every command's for a batch) and starts its span; `operation` names the
    /// whole (the command's own index, ``OperationName/pipeline`` or ``OperationName/transaction``).
    func begin(_ operation: Int, commands names: some Sequence<Int>, batchSize: Int? = nil) -> Observation {
        if let commands {
            for name in names { commands.sent(name) }
        }
        var span: (any Span)?
        if let tracer {
            let started = tracer.startSpan(OperationName.names[operation], context: ServiceContext.current ?? .topLevel, ofKind: .client)
            var attributes = spanAttributes
            attributes[RedisMetricDimension.operationName] = OperationName.names[operation]
            if let batchSize { attributes["db.operation.batch.size"] = batchSize }
            started.attributes = attributes
            span = started
        }
        return Observation(operation: operation, start: monotonicNanoseconds(), span: span)
    }

    /// Begins one command whose encoding is `bytes`.
    func begin(command bytes: [UInt8]) -> Observation {
        let operation = OperationName.index(ofFirstCommandIn: bytes)
        return begin(operation, commands: CollectionOfOne(operation))
    }

    /// Ends what `observation` began: its duration, its failure if it failed (`error`,
    /// and for a batch the commands of it that failed, with their ``OperationName``
    /// indices), its span.
    func end(_ observation: Observation, error: (any Error)?, failedCommands: [(operation: Int, error: RedisError)] = []) {
        let redisError = error.map { $0 as? RedisError ?? .cancelled }
        if let commands {
            commands.recordDuration(observation.operation, nanoseconds: Int64(clamping: monotonicNanoseconds() &- observation.start))
            if let redisError { commands.failed(observation.operation, type: redisError.metricType) }
            for (operation, error) in failedCommands { commands.failed(operation, type: error.metricType) }
        }
        if let span = observation.span {
            if let error {
                span.recordError(error)
                span.attributes[RedisMetricDimension.errorType] = redisError?.metricType
                span.setStatus(SpanStatus(code: .error))
            } else if let first = failedCommands.first {
                span.attributes[RedisMetricDimension.errorType] = first.error.metricType
                span.setStatus(SpanStatus(code: .error, message: "\(failedCommands.count) of the batch's commands failed"))
            }
            span.end()
        }
    }

    // MARK: Reports

    /// Reports the gauges in `sample` and the totals counted since the last report.
    func report(_ sample: ReportedInstruments.Gauges) {
        guard let reported, let counters else { return }
        reported.report(sample, totals: counters.snapshot())
    }
}
