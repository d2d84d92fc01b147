/// Where a subscription's connections go on a cluster client, decided afresh for each
/// connection: a shard channel's (`SSUBSCRIBE`) to the primary that owns its slot now, a
/// channel's or pattern's (`SUBSCRIBE`, `PSUBSCRIBE`; a cluster delivers `PUBLISH` on
/// every node) to any primary.
struct SubscriptionRoute: Sendable {
    /// The node the next connection goes to.
    let endpoint: @Sendable () -> RedisEndpoint
    /// Called when the map may no longer say where the subscription belongs (the server
    /// dropped a shard channel, a subscribe attempt failed, the connection was lost):
    /// the router fetches it again, and the session's reconnect backoff gives it time.
    let mapMayBeStale: @Sendable () -> Void
}
