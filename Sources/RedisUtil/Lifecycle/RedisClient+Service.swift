import ServiceLifecycle

/// A client is a `Service` of swift-service-lifecycle: put it in a `ServiceGroup` before
/// the services that use it (a group starts its services in order and shuts them down
/// in reverse order, each after the one behind it has returned), and it stays open
/// until the group's graceful shutdown reaches it, then drains and closes.
///
/// ```swift
/// let client = try RedisClient(RedisEndpoint(url: "redis://cache:6379"))
/// let pool = RedisChannelServer(RedisChannel(client: client, "/jobs", peer: .server), as: Job.self, concurrency: 8) { … }
/// let group = ServiceGroup(services: [client, pool], gracefulShutdownSignals: [.sigterm], logger: logger)
/// try await group.run()
/// ```
extension RedisClient: Service {
    /// Keeps the client open until graceful shutdown (or the cancellation of the calling
    /// task), then closes it: new commands fail with ``RedisError/closed``, commands in
    /// flight get ``RedisConfiguration/shutdownGracePeriod`` to be answered (those
    /// still unanswered then fail with an error saying whether they were written), and
    /// sockets close. Returns when the client is closed; a client closed meanwhile by
    /// ``close(gracePeriod:)`` makes it return at once after that close.
    public func run() async throws {
        // Throws only on cancellation, which ends the service the same way.
        try? await gracefulShutdown()
        await close(gracePeriod: configuration.shutdownGracePeriod)
    }
}

/// A channel worker pool is a `Service`: its ``run()`` stops taking requests at the
/// group's graceful shutdown (as at ``stop()``), drains the handlers in flight within
/// `drainTimeout`, and returns. List it after its client in the `ServiceGroup`, so that
/// the client closes only once the pool has drained.
extension RedisChannelServer: Service {}
