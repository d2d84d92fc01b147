import RESP

extension ClusterTopology {
    /// The slot map of a `CLUSTER SLOTS` reply, from a node that refuses `CLUSTER SHARDS`
    /// (a server before 7.0, which has none, or a user without the right), in RESP3 or RESP2.
    ///
    /// Each entry is `[start, end, primary, replica …]` and each node `[host, port, id,
    /// metadata]`: the host is the preferred endpoint (null, empty or `?` when unknown, see
    /// ``ReplyReader/host(announced:answeredBy:)``), the id is missing before 4.0 and the
    /// metadata (`ip`, `hostname`) before 7.0; metadata is not needed and not read. A
    /// primary that owns several ranges appears in several entries and becomes one shard.
    ///
    /// The reply says less than `CLUSTER SHARDS`: one port, already the one for the kind
    /// of connection the command came on (a TLS cluster names its TLS ports to a TLS
    /// client), filed as ``Node/tlsPort`` when `preferTLS` and as ``Node/plaintextPort``
    /// otherwise; no health (failed replicas are left out; every node is
    /// ``Node/Health/online``); no replication offset; and no primary that owns no slot.
    init(slotsReply reply: RESPValue, answeredBy answeringHost: String, preferTLS: Bool) throws(ClusterTopologyError) {
        let read = ReplyReader(reply: "CLUSTER SLOTS")
        let entries = try read.array(reply, at: "the top level")
        var shards: [(shard: Shard, slots: [ClosedRange<Int>])] = []
        var shardOfPrimary: [String: Int] = [:]
        for (entryIndex, entry) in entries.enumerated() {
            let place = "entry \(entryIndex)"
            let elements = try read.array(entry, at: place)
            guard elements.count >= 3 else {
                throw .unexpected(reply: read.reply, at: place, expected: "start, end and a primary",
                                  received: "\(elements.count) elements")
            }
            let range = try read.slotRange(start: elements[0], end: elements[1], at: place)
            var nodes: [Node] = []
            for position in 2..<elements.count {
                nodes.append(try Self.slotsNode(elements[position], role: position == 2 ? .primary : .replica,
                                                at: "\(place), node \(position - 2)", read: read,
                                                answeredBy: answeringHost, preferTLS: preferTLS))
            }
            let primary = nodes[0]
            if let index = shardOfPrimary[primary.id] {
                shards[index].slots.append(range)
                for replica in nodes.dropFirst() where !shards[index].shard.replicas.contains(where: { $0.id == replica.id }) {
                    shards[index].shard.replicas.append(replica)
                }
            } else {
                shardOfPrimary[primary.id] = shards.count
                shards.append((Shard(primary: primary, replicas: Array(nodes.dropFirst())), [range]))
            }
        }
        try self.init(source: read.reply, shards: shards)
    }

    /// One node array of `CLUSTER SLOTS`: `[host, port]`, then the id from 4.0 and metadata from 7.0.
    private static func slotsNode(_ value: RESPValue, role: Node.Role, at place: String, read: ReplyReader,
                                  answeredBy answeringHost: String, preferTLS: Bool) throws(ClusterTopologyError) -> Node {
        let fields = try read.array(value, at: place)
        guard fields.count >= 2 else {
            throw .unexpected(reply: read.reply, at: place, expected: "host and port", received: "\(fields.count) elements")
        }
        let announced: String? = fields[0].withoutAttributes.isNull ? nil : try read.string(fields[0], at: "\(place), host")
        let port = try read.port(fields[1], at: "\(place), port")
        let host = ReplyReader.host(announced: announced, answeredBy: answeringHost)
        var id = ClusterNodeAddress(host: host, port: port).description
        if fields.count >= 3 {
            id = try read.string(fields[2], at: "\(place), id")
            guard !id.isEmpty else {
                throw .unexpected(reply: read.reply, at: "\(place), id", expected: "a node id", received: "an empty string")
            }
        }
        return Node(id: id, host: host, port: port, plaintextPort: preferTLS ? nil : port, tlsPort: preferTLS ? port : nil,
                    role: role, health: .online, replicationOffset: nil)
    }
}
