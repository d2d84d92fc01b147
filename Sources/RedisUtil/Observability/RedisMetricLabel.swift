/// The labels and dimensions of the metrics a ``RedisClient`` emits through
/// swift-metrics. Names follow OpenTelemetry's database semantic conventions where one
/// applies (`db.client.operation.duration`); the others are the client's own, under
/// `redis.`. No dimension carries a key or an argument: command names outside a known
/// set are reported as `other`, so every label's cardinality is bounded.
public enum RedisMetricLabel {
    /// Timer: how long each command, pipeline or transaction took, from the call to its
    /// reply (dimensions `db.system.name`, `db.operation.name`, `server.address`, `server.port`).
    public static let operationDuration = "db.client.operation.duration"
    /// Counter: commands sent, one per command of a pipeline (`db.operation.name`).
    public static let commandsSent = "redis.client.commands.sent"
    /// Counter: commands, pipelines and transactions that failed (`db.operation.name`, `error.type`).
    public static let commandsFailed = "redis.client.commands.failed"
    /// Counter: bytes of commands written (over TLS: before encryption).
    public static let bytesWritten = "redis.client.bytes.written"
    /// Counter: bytes of replies read (over TLS: after decryption).
    public static let bytesRead = "redis.client.bytes.read"
    /// Gauge: connections, by `redis.connection.state`: `open` (ready for commands) or
    /// `opening` (connecting, in the handshake, or waiting to reconnect).
    public static let connections = "redis.client.connections"
    /// Counter: connections opened again after a loss.
    public static let reconnects = "redis.client.reconnects"
    /// Gauge: commands sent or queued whose reply has not arrived, over every connection.
    public static let pendingCommands = "redis.client.commands.pending"
    /// Gauge: encoded bytes queued and not yet written, over every connection.
    public static let unsentBytes = "redis.client.unsent_bytes"
    /// Gauge: dedicated connections of the blocking pool lent out now.
    public static let blockingLeases = "redis.client.blocking.leases"
    /// Gauge: blocking commands waiting for a dedicated connection.
    public static let blockingWaiters = "redis.client.blocking.waiters"
    /// Counter: gaps in subscriptions (resubscribed after a lost connection).
    public static let subscriptionGaps = "redis.client.subscription.gaps"
    /// Counter: ``RedisChannel`` messages, by `redis.channel.event`: `sent`, `received`,
    /// `acked`, `redelivered`, `dead_lettered`.
    public static let channelMessages = "redis.channel.messages"
}

/// The dimension names of ``RedisMetricLabel``'s metrics (and the attributes of spans).
public enum RedisMetricDimension {
    /// Always `redis`.
    public static let systemName = "db.system.name"
    /// The command's name in capitals (`RPUSH`), `PIPELINE`, `MULTI`, or `other`.
    public static let operationName = "db.operation.name"
    /// What failed: `server` (an error reply; `server.WRONGTYPE` and the like for the
    /// common error codes), `timeout`, `connection_lost`, `cancelled`, `closed`, …
    public static let errorType = "error.type"
    /// The server's host, for a single-server client (a cluster client's own metrics: `cluster`).
    public static let serverAddress = "server.address"
    /// The server's port.
    public static let serverPort = "server.port"
    /// `open` or `opening`.
    public static let connectionState = "redis.connection.state"
    /// `sent`, `received`, `acked`, `redelivered`, `dead_lettered`.
    public static let channelEvent = "redis.channel.event"
}
