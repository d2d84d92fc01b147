extension LocalRedisCluster {
    /// A node as the cluster last agreed on it (see ``LocalRedisCluster/nodes``). A value:
    /// it does not change when the cluster does; ask the cluster again for a fresh one.
    public struct Node: Sendable, Hashable, Identifiable, CustomStringConvertible {
        /// The 40-character node id, fixed for the node's life (kept in its nodes.conf).
        public let id: String
        /// The loopback address the node listens on.
        public let host: String
        /// Its client port (the TLS port when the cluster uses TLS).
        public let port: Int
        /// Its cluster bus port.
        public let busPort: Int
        /// Primary, or replica of which primary.
        public let role: Role
        /// The slots it owns, as ranges; empty for replicas.
        public let slots: [ClosedRange<Int>]
        /// False after `kill` or `stopNode` until `restartNode`, and after `stop`.
        public let isRunning: Bool
        /// The process behind the node: its directory, log, pid, TLS files. Stop, kill and
        /// restart the node through the cluster, which keeps track of which nodes run.
        public let server: LocalRedisServer

        /// Whether ``role`` is primary.
        public var isPrimary: Bool { role == .primary }

        /// The id of the primary a replica follows; nil for a primary.
        public var primaryID: String? {
            if case let .replica(primary) = role { return primary }
            return nil
        }

        /// `redis://127.0.0.1:PORT` (or the `rediss://` form under TLS).
        public var url: String { server.url }

        /// `127.0.0.1:PORT primary (abcdef12)`, for test logs.
        public var description: String {
            "\(host):\(port) \(role) (\(id.prefix(8)))\(isRunning ? "" : " down")"
        }

        /// Equal when every field is and both stand for the same server object.
        public static func == (left: Node, right: Node) -> Bool {
            left.id == right.id && left.port == right.port && left.role == right.role && left.slots == right.slots
                && left.isRunning == right.isRunning && left.server === right.server
        }

        /// Hashes the id only: equal nodes have equal ids.
        public func hash(into hasher: inout Hasher) {
            hasher.combine(id)
        }
    }

    /// What a node is in the cluster.
    public enum Role: Sendable, Hashable, CustomStringConvertible {
        /// Owns slots (possibly none) and takes writes.
        case primary
        /// Replicates the primary with this node id.
        case replica(of: String)

        /// `primary` or `replica of <id prefix>`.
        public var description: String {
            switch self {
            case .primary: "primary"
            case let .replica(primary): "replica of \(primary.prefix(8))"
            }
        }
    }
}
