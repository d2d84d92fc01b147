import Logging

/// How a ``RedisClient`` connects and behaves.
///
/// The defaults suit a local or LAN server: RESP3 with fallback to RESP2, one
/// multiplexed connection per reactor, no command timeout, bounded queues.
/// Secrets never appear in ``description``.
public struct RedisConfiguration: Sendable, CustomStringConvertible {
    /// The RESP version to ask for.
    public enum ProtocolVersion: Sendable, Equatable {
        /// `HELLO 3`; servers without HELLO (before Redis 6) fall back to RESP2.
        case resp3
        /// RESP2, no HELLO.
        case resp2
    }

    /// What cancelling a task does to an async command it has already sent. A command
    /// whose task is cancelled before it reaches a connection is never sent, whatever the
    /// policy; under ``prompt``, nor is one the connection has not written yet (one behind
    /// a full socket, a stalled server's, is made harmless at the connection's next look,
    /// within 50 ms, unless the server reads it first), except what a TLS write already
    /// took (at most 256 KB), a command whose reply is the only copy of what it removes
    /// (`LPOP` …, sent despite the cancellation) and a cluster pipeline (awaited to its
    /// end). A blocking command is unblocked (`CLIENT UNBLOCK`) and returns what it took.
    public enum CancellationPolicy: Sendable, Equatable {
        /// The call throws ``RedisError/cancelled`` at once; the command's reply slot
        /// swallows the late reply. Commands whose reply is the only copy of what they
        /// remove (`LPOP` …) are the exception: they return their reply. Each async
        /// command registers a cancellation handler (about 1,650 instructions).
        case prompt
        /// The call returns the reply (or the server's error) when it comes, so the
        /// caller always learns what a sent command did, and no handler is registered:
        /// async commands cost about a fifth less CPU. A cancelled task waits as long as
        /// an uncancelled one would: for a stalled server, up to ``commandTimeout`` or
        /// ``livenessTimeout``.
        case afterReply
    }

    /// Reconnect delays: exponential from `initial` to `maximum`, each multiplied by a
    /// random factor in `1 - jitter … 1 + jitter` so that many clients do not reconnect in step.
    public struct Backoff: Sendable, Equatable {
        /// The first delay after a failure.
        public var initial: Duration
        /// The ceiling of the delay.
        public var maximum: Duration
        /// The relative jitter, 0…1.
        public var jitter: Double

        /// A backoff policy. The default ceiling is short on purpose: a restarted server
        /// is served again within `maximum × (1 + jitter)` of its return (600 ms), and an
        /// attempt every half second per connection is no burden on a server that is down.
        public init(initial: Duration = .milliseconds(20), maximum: Duration = .milliseconds(500), jitter: Double = 0.2) {
            self.initial = initial
            self.maximum = maximum
            self.jitter = min(max(jitter, 0), 1)
        }

        /// The delay before reconnect attempt `attempt` (0 for the first).
        func delay(attempt: Int, random: Double) -> Duration {
            let factor = Double(1 << min(attempt, 20))
            let base = min(initial * factor, maximum)
            return base * (1 - jitter + 2 * jitter * random)
        }
    }

    /// ACL user name for `AUTH user password`; `nil` with a password means legacy `AUTH password`.
    public var username: String?
    /// The password. Never logged or printed.
    public var password: String?
    /// The database to `SELECT` after connecting.
    public var database: Int
    /// A name for `CLIENT SETNAME`, shown by `CLIENT LIST`.
    public var clientName: String?
    /// The RESP version to negotiate.
    public var protocolVersion: ProtocolVersion
    /// How long connecting plus the handshake may take.
    public var connectTimeout: Duration
    /// How long a command may wait for its reply; `nil` waits forever. A timed-out
    /// command fails alone: the connection is kept and the late reply discarded.
    ///
    /// Mind what that means for a command that removes what it returns (`LPOP`,
    /// `RedisChannel.recv` …): a timed-out one may still run on the server, and what it
    /// took is then lost with its reply. Unlike a cancellation, a timeout is not waited
    /// out for those. Workers that must lose nothing to a slow server leave this `nil`:
    /// a dead one is still detected by ``livenessTimeout``. (Blocking receives are timed
    /// by the server, and on the client only after a grace period on top.)
    public var commandTimeout: Duration?
    /// A connection whose oldest pending reply is this overdue is considered dead,
    /// closed and reconnected. `nil` never closes a connection for slowness.
    public var livenessTimeout: Duration?
    /// Multiplexed connections for ordinary commands; `nil` means one per reactor.
    public var connections: Int?
    /// The most dedicated connections for blocking commands (`BLPOP` …) at once.
    public var maxBlockingConnections: Int
    /// How long a dedicated connection for blocking commands may sit idle before it is
    /// closed; the next blocking command opens a new one. `nil` keeps them until
    /// ``RedisClient/close(gracePeriod:)``. A burst of blocking commands opens up to
    /// ``maxBlockingConnections``, each a connection on the server, and they should not
    /// outlive the burst by long.
    public var blockingConnectionIdleTimeout: Duration?
    /// Reconnect policy.
    public var backoff: Backoff
    /// Commands pending on one connection before new ones wait (async) or fail with
    /// ``RedisError/overloaded(pending:unsentBytes:)`` (callbacks, past twice this).
    /// A timed-out or cancelled command counts until its late reply has arrived, so a
    /// stalled server cannot make the client queue without bound.
    public var maxPendingCommands: Int
    /// Encoded bytes not yet written on one connection before new commands wait or fail.
    public var maxUnsentBytes: Int
    /// The largest bulk string (one value of a reply) the client accepts: a reply that
    /// declares a longer one is a protocol error, which fails the commands pending on its
    /// connection and reconnects it, before the client allocates anything for it. The
    /// default, 512 MiB, is Redis' own default `proto-max-bulk-len`; lower it to protect
    /// a small process from huge values, raise it to match a server configured above it.
    public var maxBulkLength: Int
    /// Where the client logs connection events (never per command, never secrets).
    public var logger: Logger
    /// What cancelling a task does to an async command already sent.
    public var cancellation: CancellationPolicy
    /// TLS for every connection (nil: plaintext); an endpoint's own (`rediss://`) wins.
    public var tls: RedisTLSConfiguration?
    /// For a cluster client (``RedisEndpoint/cluster(seeds:)``): how often the slot map
    /// is fetched again when nothing else asked for it, so that a failover or a
    /// resharding that no command has met yet is learned; `nil` never. Commands that
    /// meet a change (`MOVED`, a lost node) refresh it at once whatever this says.
    public var clusterRefreshInterval: Duration?
    /// For a cluster client: which nodes serve read-only commands (``ReadFrom``).
    public var readFrom: ReadFrom
    /// How long ``RedisClient/run()`` (the swift-service-lifecycle `Service`) lets the
    /// commands in flight be answered after a graceful shutdown before it closes.
    public var shutdownGracePeriod: Duration
    /// Metrics and tracing: by default whatever the process bootstrapped, else nothing.
    public var observability: RedisObservability
    /// Whether each connection sends `READONLY` after its handshake: a cluster client
    /// whose ``readFrom`` reaches replicas sets it on its nodes' connections.
    var sendsReadOnly = false
    /// The OpenSSL context made from ``tls`` by the client, shared by its connections.
    var tlsContext: TLSContext?
    /// The client's metrics and spans, made by the client from ``observability`` and
    /// shared by its connections (and a cluster client's nodes); nil when both are off.
    var observer: ClientObserver?

    /// A configuration; every parameter has a default.
    public init(
        username: String? = nil,
        password: String? = nil,
        database: Int = 0,
        clientName: String? = nil,
        protocolVersion: ProtocolVersion = .resp3,
        connectTimeout: Duration = .seconds(5),
        commandTimeout: Duration? = nil,
        livenessTimeout: Duration? = .seconds(30),
        connections: Int? = nil,
        maxBlockingConnections: Int = 32,
        blockingConnectionIdleTimeout: Duration? = .seconds(60),
        backoff: Backoff = Backoff(),
        maxPendingCommands: Int = 65_536,
        maxUnsentBytes: Int = 64 << 20,
        maxBulkLength: Int = 512 << 20,
        logger: Logger = Logger(label: "redisutil", factory: { _ in SwiftLogNoOpLogHandler() }),
        cancellation: CancellationPolicy = .prompt,
        tls: RedisTLSConfiguration? = nil,
        clusterRefreshInterval: Duration? = .seconds(30),
        readFrom: ReadFrom = .primary,
        shutdownGracePeriod: Duration = .seconds(5),
        observability: RedisObservability = .init()
    ) {
        self.username = username
        self.password = password
        self.database = database
        self.clientName = clientName
        self.protocolVersion = protocolVersion
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.livenessTimeout = livenessTimeout
        self.connections = connections
        self.maxBlockingConnections = maxBlockingConnections
        self.blockingConnectionIdleTimeout = blockingConnectionIdleTimeout
        self.backoff = backoff
        self.maxPendingCommands = maxPendingCommands
        self.maxUnsentBytes = maxUnsentBytes
        self.maxBulkLength = maxBulkLength
        self.logger = logger
        self.cancellation = cancellation
        self.tls = tls
        self.clusterRefreshInterval = clusterRefreshInterval
        self.readFrom = readFrom
        self.shutdownGracePeriod = shutdownGracePeriod
        self.observability = observability
    }

    /// The settings, with the password shown as `***`.
    public var description: String {
        var parts = ["database: \(database)", "protocol: \(protocolVersion)"]
        if let username { parts.append("username: \(username)") }
        if password != nil { parts.append("password: ***") }
        if let clientName { parts.append("clientName: \(clientName)") }
        parts.append("connectTimeout: \(connectTimeout)")
        if let commandTimeout { parts.append("commandTimeout: \(commandTimeout)") }
        parts.append("connections: \(connections.map(String.init) ?? "one per reactor")")
        parts.append("maxPendingCommands: \(maxPendingCommands)")
        parts.append("maxUnsentBytes: \(maxUnsentBytes)")
        if maxBulkLength != 512 << 20 { parts.append("maxBulkLength: \(maxBulkLength)") }
        if cancellation == .afterReply { parts.append("cancellation: afterReply") }
        if let tls { parts.append("tls: \(tls)") }
        if clusterRefreshInterval != .seconds(30) { parts.append("clusterRefreshInterval: \(clusterRefreshInterval.map { "\($0)" } ?? "never")") }
        if readFrom != .primary { parts.append("readFrom: \(readFrom)") }
        return "RedisConfiguration(" + parts.joined(separator: ", ") + ")"
    }

    /// This configuration with the URL credentials and database of `endpoint` applied.
    func applying(_ endpoint: RedisEndpoint) -> RedisConfiguration {
        var copy = self
        if let username = endpoint.username { copy.username = username }
        if let password = endpoint.password { copy.password = password }
        if let database = endpoint.database { copy.database = database }
        if let tls = endpoint.tls { copy.tls = tls }
        return copy
    }
}

extension RedisConfiguration: CustomReflectable {
    /// The settings, with the password shown as `***`: `dump`, debuggers and
    /// `String(reflecting:)` of a containing value print this mirror, not the fields.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "username": username as Any,
            "password": password.map { _ in SecretRedaction.placeholder } as Any,
            "database": database,
            "clientName": clientName as Any,
            "protocolVersion": protocolVersion,
            "connectTimeout": connectTimeout,
            "commandTimeout": commandTimeout as Any,
            "livenessTimeout": livenessTimeout as Any,
            "connections": connections as Any,
            "maxBlockingConnections": maxBlockingConnections,
            "blockingConnectionIdleTimeout": blockingConnectionIdleTimeout as Any,
            "backoff": backoff,
            "maxPendingCommands": maxPendingCommands,
            "maxUnsentBytes": maxUnsentBytes,
            "maxBulkLength": maxBulkLength,
            "tls": tls as Any,
            "cancellation": cancellation,
            "clusterRefreshInterval": clusterRefreshInterval as Any,
            "readFrom": readFrom,
        ], displayStyle: .struct)
    }
}
