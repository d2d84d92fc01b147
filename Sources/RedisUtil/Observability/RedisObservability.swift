import CoreMetrics
import Tracing

/// What a client reports to swift-metrics and swift-distributed-tracing
/// (``RedisConfiguration/observability``). By default it follows the process: metrics
/// go to the factory bootstrapped with `MetricsSystem.bootstrap`, spans to the tracer
/// bootstrapped with `InstrumentationSystem.bootstrap`, each read when the client is
/// created; while either is the no-op default (nothing bootstrapped), the client does
/// no work for it at all. The metric names are ``RedisMetricLabel``'s; the README's
/// "Observability" section has the table.
public struct RedisObservability: Sendable {
    /// Where metrics go.
    public enum Metrics: Sendable {
        /// `MetricsSystem.factory` when the client is created; off while it is the no-op.
        case bootstrapped
        /// This factory (a test's recorder, a second backend), whatever is bootstrapped.
        case factory(any MetricsFactory)
        /// No metrics, whatever is bootstrapped.
        case off
    }

    /// Where spans go.
    public enum Tracing: Sendable {
        /// `InstrumentationSystem.tracer` when the client is created; off while it is the no-op.
        case bootstrapped
        /// This tracer, whatever is bootstrapped.
        case tracer(any Tracer)
        /// No spans, whatever is bootstrapped.
        case off
    }

    /// Where metrics go.
    public var metrics: Metrics
    /// Where spans go.
    public var tracing: Tracing
    /// How often the gauges (connections, pending commands, unsent bytes, blocking
    /// leases) are sampled and the counters kept by the client's I/O (bytes, reconnects,
    /// gaps, channel messages) are reported; and once more when the client closes.
    public var reportInterval: Duration

    /// Follows what the process bootstrapped, reporting sampled values every second.
    public init(metrics: Metrics = .bootstrapped, tracing: Tracing = .bootstrapped, reportInterval: Duration = .seconds(1)) {
        self.metrics = metrics
        self.tracing = tracing
        self.reportInterval = reportInterval
    }

    /// The factory to use, or nil when metrics are off.
    var resolvedFactory: (any MetricsFactory)? {
        switch metrics {
        case .bootstrapped:
            let factory = MetricsSystem.factory
            return factory is NOOPMetricsHandler ? nil : factory
        case .factory(let factory): return factory
        case .off: return nil
        }
    }

    /// The tracer to use, or nil when tracing is off.
    var resolvedTracer: (any Tracer)? {
        switch tracing {
        case .bootstrapped:
            let tracer = InstrumentationSystem.tracer
            return tracer is NoOpTracer ? nil : tracer
        case .tracer(let tracer): return tracer
        case .off: return nil
        }
    }
}
