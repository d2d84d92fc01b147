import CoreMetrics
import Foundation
import Logging
import RedisUtil
import ServiceLifecycle

/// A worker service: a pool of handlers serving resize jobs from a Redis channel, run
/// with its client in a swift-service-lifecycle `ServiceGroup`. SIGTERM or SIGINT stops
/// taking jobs, lets the jobs in flight finish and reply, then closes the client.
///
///     REDIS_URL=redis://127.0.0.1:6379 swift run WorkerService
@main
enum WorkerService {
    /// The channel jobs come on (requests in `/examples/resize/client`, replies in `/examples/resize/server`).
    static let jobsChannel = "/examples/resize"

    static func main() async throws {
        let logger = Logger(label: "worker-service")
        // Before the client: it reads the bootstrapped factory when it is created.
        let metrics = InMemoryMetrics()
        MetricsSystem.bootstrap(metrics)

        let url = ProcessInfo.processInfo.environment["REDIS_URL"] ?? "redis://127.0.0.1:6379"
        let client = try RedisClient(RedisEndpoint(url: url), configuration: RedisConfiguration(logger: logger))
        let jobs = RedisChannel(client: client, jobsChannel, peer: .server)
        let pool = RedisChannelServer(jobs, as: ResizeJob.self, concurrency: 4) { delivery in
            let job = delivery.message
            logger.info("resizing", metadata: ["job": "\(job.id)", "image": "\(job.image)", "delivery": "\(delivery.deliveryCount)"])
            return try await job.resize()
        }

        // A group starts its services in this order and shuts them down in reverse: the
        // pool first (it stops leasing and drains), then the client (its commands all
        // answered by then), then the reporter (its last line counts everything).
        let reporter = MetricsReporter(metrics: metrics, interval: .seconds(5), logger: logger)
        let group = ServiceGroup(services: [reporter, client, pool], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        logger.info("serving \(jobsChannel) on \(url)")
        try await group.run()
        logger.info("stopped after \(pool.handledCount) jobs")
    }
}
