/// Where a cluster node is reached: a host (IP address or name) and a port.
///
/// This is what `MOVED` and `ASK` name, and what the slot map is searched by when one arrives.
struct ClusterNodeAddress: Sendable, Hashable, CustomStringConvertible {
    /// An IPv4 or IPv6 address or a hostname, as the cluster announces it.
    var host: String
    /// The TCP port.
    var port: Int

    /// `127.0.0.1:6379`, or `[::1]:6379` for an IPv6 address, so that the port stays readable.
    var description: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

extension ClusterTopology {
    /// One node of the cluster, as the slot map knows it.
    ///
    /// Equality leaves out ``replicationOffset``: it grows with every write, and a refresh
    /// that found only that would otherwise count as a changed map.
    struct Node: Sendable, Equatable, CustomStringConvertible {
        /// Whether the node serves its shard's slots or copies them.
        enum Role: Sendable, Hashable {
            /// Serves the shard's slots (Redis says `master`).
            case primary
            /// Copies its primary; serves reads after `READONLY`.
            case replica
        }

        /// The node's state, as the answering node sees it.
        enum Health: Sendable, Hashable {
            /// Reachable and serving.
            case online
            /// Marked failed by the cluster (`fail`): do not send to it.
            case failed
            /// A replica still loading its first copy of the data set.
            case loading
        }

        /// The node's 40-character id (for `CLUSTER SLOTS` from servers before 4.0, which
        /// name no id, its address).
        var id: String
        /// The host to connect to: the endpoint the cluster announces for clients, or the
        /// host of the node that answered when it announces none.
        var host: String
        /// The port to connect to: ``tlsPort`` when the client uses TLS and the node
        /// announced one, otherwise ``plaintextPort`` (whichever exists when only one does).
        var port: Int
        /// The plaintext port announced (`port`), nil when the node has none.
        var plaintextPort: Int?
        /// The TLS port announced (`tls-port`, only in clusters with `tls-cluster yes`).
        var tlsPort: Int?
        /// Primary or replica.
        var role: Role
        /// Online, failed or loading. `CLUSTER SLOTS` says nothing about it (and leaves
        /// failed replicas out): its nodes are ``Health/online``.
        var health: Health
        /// How far the node's replication stream has got, when the reply says (`CLUSTER SHARDS`).
        var replicationOffset: Int64?

        /// Where the client connects to this node.
        var address: ClusterNodeAddress { ClusterNodeAddress(host: host, port: port) }

        /// `797639bb… primary 127.0.0.1:30611 online`.
        var description: String {
            "\(id.prefix(8))\(id.count > 8 ? "…" : "") \(role == .primary ? "primary" : "replica") \(address) \(health)"
        }

        /// Same id, address, ports, role and health; the replication offset is not compared.
        static func == (lhs: Node, rhs: Node) -> Bool {
            lhs.id == rhs.id && lhs.host == rhs.host && lhs.port == rhs.port
                && lhs.plaintextPort == rhs.plaintextPort && lhs.tlsPort == rhs.tlsPort
                && lhs.role == rhs.role && lhs.health == rhs.health
        }
    }

    /// The primary that owns some slots (or none yet), and the replicas that copy it.
    struct Shard: Sendable, Equatable {
        /// The node that serves the shard's slots.
        var primary: Node
        /// Its replicas, sorted by id, failed ones included (see ``Node/health``).
        var replicas: [Node]
    }
}
