import Reactor

extension RedisClient {
    /// Starts the periodic report of the gauges and I/O counters when metrics are on.
    func startReports() {
        guard let observer, observer.reported != nil else { return }
        let interval = observer.reportInterval
        // The timer holds what the gauges are read from, not the client: neither
        // strongly (it would keep a client nobody holds alive; the client's close and
        // deinit cancel it) nor weakly (a weak reference gives the client a side table,
        // and the runtime's retains and releases of an object with one take a slower path).
        let source = gaugeSource
        let timer = group.next().schedule(after: interval, repeating: interval) {
            observer.report(source.sample())
        }
        reportTimer.withLock { $0 = timer }
    }

    /// Stops the periodic report and makes a last one: after a close, the gauges are
    /// zero and the counters complete.
    func finishReports() {
        reportTimer.withLock { $0?.cancel() }
        observer?.report(gaugeSource.sample())
    }

    /// What the gauges are read from: the multiplexed connections, the blocking pool's,
    /// the subscriptions', and for a cluster client every node's.
    var gaugeSource: GaugeSource {
        GaugeSource(connections: connections, blocking: blocking, subscriptions: subscriptions, router: router)
    }
}

/// A client's parts that its gauges are sampled from (``RedisClient/gaugeSource``).
struct GaugeSource: Sendable {
    let connections: [RedisConnection]
    let blocking: BlockingConnectionPool
    let subscriptions: SubscriptionRegistry
    let router: ClusterRouter?

    /// The gauges now.
    func sample() -> ReportedInstruments.Gauges {
        var sample = ReportedInstruments.Gauges()
        for connection in connections + blocking.connectionsOpen + subscriptions.connections {
            connection.addGauges(to: &sample)
        }
        let pool = blocking.usage
        sample.blockingLeases += pool.leased
        sample.blockingWaiters += pool.waiting
        if let router {
            for node in router.nodeClients { sample = sample + node.gaugeSource.sample() }
        }
        return sample
    }
}
