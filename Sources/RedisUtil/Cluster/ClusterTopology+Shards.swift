import RESP

extension ClusterTopology {
    /// The slot map of a `CLUSTER SHARDS` reply (Redis 7.0 and later), in RESP3 or RESP2.
    ///
    /// Each shard is a map (RESP2: a flat key/value array) with `slots`, a flat array of
    /// integers `start, end, start, end …`, and `nodes`, an array of maps with `id`, `port`
    /// and/or `tls-port`, `ip`, `endpoint`, `hostname` (when set), `role` (`master` or
    /// `replica`), `replication-offset` and `health` (`online`, `fail` or `loading`). Keys
    /// not listed here are ignored, so that a newer server's additions do no harm.
    ///
    /// - Parameters:
    ///   - answeringHost: the host the command was sent to, used for nodes whose endpoint
    ///     the server does not know (see ``ReplyReader/host(announced:answeredBy:)``).
    ///   - preferTLS: connect to `tls-port` where one is announced (the client uses TLS).
    init(shardsReply reply: RESPValue, answeredBy answeringHost: String, preferTLS: Bool) throws(ClusterTopologyError) {
        let read = ReplyReader(reply: "CLUSTER SHARDS")
        let shardValues = try read.array(reply, at: "the top level")
        var shards: [(shard: Shard, slots: [ClosedRange<Int>])] = []
        shards.reserveCapacity(shardValues.count)
        for (shardIndex, shardValue) in shardValues.enumerated() {
            let fields = try read.pairs(shardValue, at: "shard \(shardIndex)")
            let slots = try read.slotRanges(
                try read.array(try read.requiredField("slots", in: fields, at: "shard \(shardIndex)"),
                               at: "shard \(shardIndex), \"slots\""),
                at: "shard \(shardIndex), \"slots\"")
            let nodeValues = try read.array(try read.requiredField("nodes", in: fields, at: "shard \(shardIndex)"),
                                            at: "shard \(shardIndex), \"nodes\"")
            var nodes: [Node] = []
            nodes.reserveCapacity(nodeValues.count)
            for (nodeIndex, nodeValue) in nodeValues.enumerated() {
                nodes.append(try Self.shardNode(nodeValue, at: "shard \(shardIndex), node \(nodeIndex)", read: read,
                                                answeredBy: answeringHost, preferTLS: preferTLS))
            }
            // Redis 7.0 lists one master per shard, first. Later servers group nodes by shard
            // id, so during a failover the old primary can still say `master` beside the new
            // one: the one not failed serves the slots, and the other serves nothing.
            let primaries = nodes.filter { $0.role == .primary }
            guard let primary = primaries.first(where: { $0.health != .failed }) ?? primaries.first else {
                // A shard without slots or primary routes nothing (not seen from 7.0).
                if slots.isEmpty { continue }
                throw .noPrimary(reply: read.reply, at: "shard \(shardIndex)")
            }
            shards.append((Shard(primary: primary, replicas: nodes.filter { $0.role == .replica }), slots))
        }
        try self.init(source: read.reply, shards: shards)
    }

    /// One node map of `CLUSTER SHARDS`.
    private static func shardNode(_ value: RESPValue, at place: String, read: ReplyReader,
                                  answeredBy answeringHost: String, preferTLS: Bool) throws(ClusterTopologyError) -> Node {
        let fields = try read.pairs(value, at: place)
        func optional(_ name: String) -> RESPValue? {
            guard let value = ReplyReader.field(name, in: fields), !value.withoutAttributes.isNull else { return nil }
            return value
        }
        func optionalString(_ name: String) throws(ClusterTopologyError) -> String? {
            guard let value = optional(name) else { return nil }
            return try read.string(value, at: "\(place), \"\(name)\"")
        }
        func optionalPort(_ name: String) throws(ClusterTopologyError) -> Int? {
            guard let value = optional(name) else { return nil }
            return try read.port(value, at: "\(place), \"\(name)\"")
        }
        let id = try read.string(try read.requiredField("id", in: fields, at: place), at: "\(place), \"id\"")
        guard !id.isEmpty else {
            throw .unexpected(reply: read.reply, at: "\(place), \"id\"", expected: "a node id", received: "an empty string")
        }
        // 7.0 writes `port` only when the node has a plaintext port, `tls-port` only when
        // the cluster runs TLS (`tls-cluster yes`); a node must have one of them.
        let plaintextPort = try optionalPort("port")
        let tlsPort = try optionalPort("tls-port")
        guard let port = preferTLS ? tlsPort ?? plaintextPort : plaintextPort ?? tlsPort else {
            throw .missingField(reply: read.reply, at: place, field: "port")
        }
        // `endpoint` is what Redis tells clients to use; a server without it still has `ip`.
        var announced = try optionalString("endpoint")
        if announced == nil { announced = try optionalString("ip") }
        let role: Node.Role = switch try read.string(try read.requiredField("role", in: fields, at: place), at: "\(place), \"role\"") {
        case "master", "primary": .primary
        case "replica", "slave": .replica
        case let other: throw .unexpected(reply: read.reply, at: "\(place), \"role\"", expected: "master or replica", received: "\"\(other)\"")
        }
        // Absent only from servers that do not say; such a node is taken to be serving.
        let health: Node.Health = switch try optionalString("health") {
        case nil, "online": .online
        case "fail", "failed": .failed
        case "loading": .loading
        case let other?: throw .unexpected(reply: read.reply, at: "\(place), \"health\"", expected: "online, fail or loading", received: "\"\(other)\"")
        }
        var offset: Int64?
        if let value = optional("replication-offset") {
            offset = try read.integer(value, in: 0...Int64.max, at: "\(place), \"replication-offset\"")
        }
        return Node(id: id, host: ReplyReader.host(announced: announced, answeredBy: answeringHost), port: port,
                    plaintextPort: plaintextPort, tlsPort: tlsPort, role: role, health: health, replicationOffset: offset)
    }
}
