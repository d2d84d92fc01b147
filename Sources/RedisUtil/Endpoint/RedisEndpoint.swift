/// Where a Redis server listens.
///
/// An integer literal is a port on 127.0.0.1, as an `ip_port` int is in the Python
/// `redisutil`:
/// ```swift
/// let local: RedisEndpoint = 6379
/// let remote = RedisEndpoint.tcp(host: "cache.internal", port: 6380)
/// let fromURL = try RedisEndpoint(url: "redis://alice:secret@10.0.0.5:6379/2")
/// let cluster = RedisEndpoint.cluster(seeds: [.tcp(host: "10.0.0.5", port: 7000), .tcp(host: "10.0.0.6", port: 7000)])
/// ```
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The transport and address.
    public enum Address: Sendable, Hashable {
        /// A host name, IPv4 or IPv6 literal, and port. Names are resolved off the reactor threads.
        case tcp(host: String, port: Int)
        /// A Unix domain socket path.
        case unix(path: String)
    }

    /// The address to connect to; for a cluster endpoint, its first seed's (see
    /// ``cluster(seeds:)``).
    public var address: Address
    /// The seeds of a cluster endpoint, `nil` for one server. Set by ``cluster(seeds:)``.
    public private(set) var clusterSeeds: [RedisEndpoint]?
    /// Credentials and database given in a URL; they override the configuration's when set.
    public var username: String?
    /// The password from a URL. Never printed.
    public var password: String?
    /// The database from a URL path (`/2`) or `?db=2`.
    public var database: Int?
    /// TLS for this endpoint (`rediss://`); when set it overrides the configuration's.
    public var tls: RedisTLSConfiguration? {
        get { tlsBox?.configuration }
        set { tlsBox = newValue.map(TLSBox.init) }
    }
    /// Boxed, so that an endpoint stays a few words: values that hold one (a
    /// `RedisChannel`) are copied per message, and an inline TLS configuration made
    /// each copy a memcpy of a hundred bytes more.
    private var tlsBox: TLSBox?

    /// An endpoint for `address`, without credentials.
    public init(_ address: Address) {
        self.address = address
    }

    /// A TCP endpoint.
    public static func tcp(host: String, port: Int = 6379) -> RedisEndpoint {
        RedisEndpoint(.tcp(host: host, port: port))
    }

    /// A Unix domain socket endpoint.
    public static func unix(path: String) -> RedisEndpoint {
        RedisEndpoint(.unix(path: path))
    }

    /// A Redis Cluster, discovered from whichever of `seeds` answers first: a
    /// ``RedisClient`` for it routes every command to the node that serves its keys'
    /// slot, and follows the cluster as slots move and replicas take over.
    ///
    /// ```swift
    /// let client = try RedisClient(.cluster(seeds: [.tcp(host: "10.0.0.5", port: 7000), 7001]))
    /// try await client.send("RPUSH", "jobs", "resize 42")   // sent to the owner of jobs' slot
    /// ```
    ///
    /// A cluster is one more kind of endpoint rather than one more ``Address`` case, so
    /// that every exhaustive `switch` over an address (users' included) keeps compiling:
    /// the endpoint's ``address`` is its first seed's, which is also what code that
    /// treats it as one server reaches. The first seed's credentials and TLS settings
    /// apply to every node (a cluster shares one ACL and one TLS setup); a database other
    /// than 0 is refused when the client is created, since a cluster has only database 0.
    /// An empty seed list, or a seed that is itself a cluster or a Unix socket, is
    /// refused then too, with ``RedisError/invalidArgument(_:)``.
    public static func cluster(seeds: [RedisEndpoint]) -> RedisEndpoint {
        var endpoint = seeds.first ?? RedisEndpoint(.tcp(host: "", port: 0))
        endpoint.clusterSeeds = seeds
        return endpoint
    }

    /// Whether this endpoint is a Redis Cluster (``cluster(seeds:)``).
    public var isCluster: Bool { clusterSeeds != nil }

    /// A port on 127.0.0.1.
    public init(integerLiteral port: Int) {
        self.init(.tcp(host: "127.0.0.1", port: port))
    }

    /// `host:port`, `unix:path` or `cluster(host:port, …)`, without credentials: safe
    /// for logs and errors.
    public var description: String {
        if let clusterSeeds {
            return "cluster(" + clusterSeeds.map { $0.serverDescription }.joined(separator: ", ") + ")"
        }
        return serverDescription
    }

    /// `host:port` or `unix:path` of ``address`` alone.
    private var serverDescription: String {
        switch address {
        case .tcp(let host, let port):
            host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
        case .unix(let path):
            "unix:\(path)"
        }
    }
}

extension RedisEndpoint: CustomReflectable {
    /// The fields, with the password shown as `***`: `dump`, debuggers and
    /// `String(reflecting:)` of a containing value print this mirror, not the fields.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "address": address as Any,
            "username": username as Any,
            "password": password.map { _ in SecretRedaction.placeholder } as Any,
            "database": database as Any,
            "tls": tls as Any,
            "clusterSeeds": clusterSeeds as Any,
        ], displayStyle: .struct)
    }
}

/// An immutable box for ``RedisEndpoint/tls``, compared and hashed by its value.
private final class TLSBox: Sendable, Hashable {
    let configuration: RedisTLSConfiguration

    init(_ configuration: RedisTLSConfiguration) {
        self.configuration = configuration
    }

    static func == (left: TLSBox, right: TLSBox) -> Bool {
        left.configuration == right.configuration
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(configuration)
    }
}
