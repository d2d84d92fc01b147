/// One line of `CLUSTER NODES`: how one node sees another (or itself).
///
/// `<id> <ip:port@cport[,hostname]> <flags> <primary|-> <ping-sent> <pong-recv> <epoch> <link> <slot>...`
struct ClusterNodeEntry: Sendable, Equatable {
    var id: String
    /// Empty for a node that has not learned its own address yet (before any MEET).
    var host: String
    var port: Int
    var busPort: Int
    /// `myself`, `master`, `slave`, `fail?`, `fail`, `handshake`, `noaddr`, `nofailover`, ...
    var flags: Set<String>
    /// The primary this node replicates, for a replica.
    var primaryID: String?
    /// Whether the observer's link to this node is up (always true for `myself`).
    var isLinkConnected: Bool
    /// Owned slots; the `[slot->-id]` and `[slot-<-id]` migration markers are left out.
    var slots: [ClosedRange<Int>]

    var isMyself: Bool { flags.contains("myself") }
    var isPrimary: Bool { flags.contains("master") }
    /// Flagged `fail?` (this observer cannot reach it) or `fail` (a majority agreed).
    var isFailing: Bool { flags.contains("fail") || flags.contains("fail?") }
    /// Still being introduced (`handshake`) or without a known address (`noaddr`).
    var isUnsettledEntry: Bool { flags.contains("handshake") || flags.contains("noaddr") }

    /// Who is who, independent of the observer: what all nodes must agree on.
    var assignment: ClusterAssignment {
        ClusterAssignment(primaryID: isPrimary ? nil : primaryID, slots: slots)
    }
}

/// A node's place in the cluster: a primary with its slots, or a replica of a primary.
struct ClusterAssignment: Sendable, Equatable {
    /// nil for a primary.
    var primaryID: String?
    var slots: [ClosedRange<Int>]
}

/// Parses `CLUSTER NODES` output.
enum ClusterNodesTable {
    /// The entries of `text`, or nil when a line does not have the documented shape.
    static func parse(_ text: String) -> [ClusterNodeEntry]? {
        var entries: [ClusterNodeEntry] = []
        for line in text.split(whereSeparator: \.isNewline) where !line.isEmpty {
            guard let entry = parseLine(line) else { return nil }
            entries.append(entry)
        }
        return entries
    }

    static func parseLine(_ line: Substring) -> ClusterNodeEntry? {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        guard fields.count >= 8 else { return nil }
        // Redis 7 may append `,hostname` to the address.
        let address = fields[1].split(separator: ",", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let hostAndPorts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard hostAndPorts.count == 2, let busPort = Int(hostAndPorts[1]),
              let colon = hostAndPorts[0].lastIndex(of: ":"),
              let port = Int(hostAndPorts[0][hostAndPorts[0].index(after: colon)...])
        else { return nil }
        var slots: [ClosedRange<Int>] = []
        for field in fields.dropFirst(8) where !field.hasPrefix("[") {
            let bounds = field.split(separator: "-", omittingEmptySubsequences: false)
            guard (1...2).contains(bounds.count), let low = Int(bounds[0]), let high = Int(bounds[bounds.count - 1]),
                  0 <= low, low <= high, high < ClusterSlots.count
            else { return nil }
            slots.append(low...high)
        }
        return ClusterNodeEntry(
            id: String(fields[0]), host: String(hostAndPorts[0][..<colon]), port: port, busPort: busPort,
            flags: Set(fields[2].split(separator: ",").map(String.init)),
            primaryID: fields[3] == "-" ? nil : String(fields[3]),
            isLinkConnected: fields[7] == "connected",
            slots: slots
        )
    }
}
