extension RedisConfiguration {
    /// On a cluster client (``RedisEndpoint/cluster(seeds:)``): which nodes serve the
    /// commands that only read (by the server's key specs: `GET`, `LRANGE`, `HGETALL`,
    /// `EXISTS` …, sent on their own). Replicas replicate asynchronously, so a read there
    /// may not yet see a write just acknowledged by the primary.
    ///
    /// ```swift
    /// let client = try RedisClient(.cluster(seeds: seeds), configuration: .init(readFrom: .replicaPreferred))
    /// ```
    ///
    /// With anything but ``primary`` every connection of the cluster client sends
    /// `READONLY` after its handshake (harmless on a primary; a replica then serves reads of
    /// its primary's slots). Writes, blocking commands, pipelines, transactions and commands
    /// for every node go to primaries whatever this says. On one server it changes nothing.
    public enum ReadFrom: Sendable, Hashable {
        /// Every command to the slot's primary (the default): reads see every acknowledged write.
        case primary
        /// Reads to a replica of the slot's shard (in turn when it has several, online ones
        /// only), the primary when it has none.
        case replicaPreferred
        /// Reads to any node of the slot's shard, the primary and its online replicas in turn.
        case any
    }
}
