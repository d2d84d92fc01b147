import Reactor

extension RedisClient {
    /// Starts the periodic report of the gauges and I/O counters when metrics are on.
    func startReports() {
        guard let observer, observer.reported != nil else { return }
        let interval = observer.reportInterval
        // Weak: the timer must not keep a client nobody holds alive (its deinit cancels it).
        let timer = group.next().schedule(after: interval, repeating: interval) { [weak self] in
            guard let self, let observer = self.observer else { return }
            observer.report(self.gaugeSample())
        }
        reportTimer.withLock { $0 = timer }
    }

    /// Stops the periodic report and makes a last one: after a close, the gauges are
    /// zero and the counters complete.
    func finishReports() {
        reportTimer.withLock { $0?.cancel() }
        observer?.report(gaugeSample())
    }

    /// The gauges now: over the multiplexed connections, the blocking pool's, the
    /// subscriptions', and for a cluster client every node's.
    func gaugeSample() -> ReportedInstruments.Gauges {
        var sample = ReportedInstruments.Gauges()
        for connection in connections + blocking.connectionsOpen + subscriptions.connections {
            connection.addGauges(to: &sample)
        }
        let pool = blocking.usage
        sample.blockingLeases += pool.leased
        sample.blockingWaiters += pool.waiting
        if let router {
            for node in router.nodeClients { sample = sample + node.gaugeSample() }
        }
        return sample
    }
}
