/// How a subscription on a cluster client is split and where each part connects
/// (see ``RedisClient/subscribe(channels:patterns:shardChannels:maxBufferedMessages:onConnectionLoss:)``).
extension ClusterRouter {
    /// The parts of a subscription: channels and patterns together, on any primary; shard
    /// channels by slot (one `SSUBSCRIBE` may name one slot only), each on its slot's
    /// owner. Waits for the first map.
    nonisolated(nonsending) func subscriptionParts(channels: [String], patterns: [String], shardChannels: [String])
        async throws -> [(targets: SubscriptionTargets, route: SubscriptionRoute?)] {
        if snapshot() == nil { try await awaitRefresh(.initial, seen: 0) }
        var parts: [(targets: SubscriptionTargets, route: SubscriptionRoute?)] = []
        if !channels.isEmpty || !patterns.isEmpty {
            parts.append((SubscriptionTargets(channels: channels, patterns: patterns, shardChannels: []), subscriptionRoute(slot: nil)))
        }
        var bySlot: [Int: [String]] = [:]
        var order: [Int] = []
        for channel in shardChannels {
            let slot = HashSlot.of(channel)
            if bySlot[slot] == nil { order.append(slot) }
            bySlot[slot, default: []].append(channel)
        }
        for slot in order {
            parts.append((SubscriptionTargets(channels: [], patterns: [], shardChannels: bySlot[slot]!), subscriptionRoute(slot: slot)))
        }
        return parts
    }

    /// Where a part's connections go: the owner of `slot` by the map at each connection
    /// (any primary for nil), else the first seed; a stale map is fetched again. Holds the
    /// router strongly, as the subscription holds its client (and so the router) anyway.
    func subscriptionRoute(slot: Int?) -> SubscriptionRoute {
        SubscriptionRoute(
            endpoint: { [self] in
                if case .node(let node, _) = resolve(slot: slot) {
                    return .tcp(host: node.address.host, port: node.address.port)
                }
                return .tcp(host: seeds[0].host, port: seeds[0].port)
            },
            mapMayBeStale: { [self] in
                refresh(.redirected, seen: snapshot()?.generation ?? 0, resume: nil)
            }
        )
    }
}
