/// What one running node said in one look at the cluster.
struct ClusterObservation: Sendable, Equatable {
    /// `cluster_state:ok` in CLUSTER INFO.
    var isStateOK: Bool
    /// Its CLUSTER NODES table.
    var table: [ClusterNodeEntry]
    /// The `field:value` lines of its INFO replication.
    var replication: [String: String]
    /// Its CLUSTER SLOTS: what it tells a client that discovers the cluster.
    var slotTable: [ClusterSlotsEntry]

    /// The `field:value` lines of an INFO section; headers and blank lines are skipped.
    static func infoFields(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(after: colon)...])
        }
        return fields
    }
}

/// The cluster as every running node agrees it is: who is primary of which slots, who
/// replicates whom.
struct ClusterTopology: Sendable, Equatable {
    var assignments: [String: ClusterAssignment]

    /// The primary that owns `slot`, by id.
    func owner(ofSlot slot: Int) -> String? {
        assignments.first { $0.value.primaryID == nil && $0.value.slots.contains { $0.contains(slot) } }?.key
    }
}

/// Decides, from one look at every running node, whether a cluster has settled: a pure
/// function of the observations, so that its rules are tested without servers.
///
/// Settled means: every running node knows exactly the cluster's nodes, none still in a
/// handshake; no running node is flagged failing or unlinked by another; all running nodes
/// report `cluster_state:ok` and agree on every node's role and slots; every slot has
/// exactly one owner, and that owner runs; every running replica follows a running primary,
/// with its link up and its sync done, and that primary lists it online; and every running
/// node answers CLUSTER SLOTS alike, naming each range's owner with every running replica of
/// it, so that a client discovering the cluster from any node finds the same layout.
struct ClusterSettledCheck {
    enum Verdict: Equatable {
        case settled(ClusterTopology)
        /// What stands in the way, naming the nodes concerned.
        case unsettled(String)
    }

    /// Every node of the cluster, running or not, by id, with its port.
    var ports: [String: Int]
    /// The nodes whose process runs; only they are asked and only they must agree.
    var running: Set<String>

    /// Why the running nodes do not yet form one cluster (membership and links only), or
    /// nil when they do. A fresh cluster waits for this before it assigns replicas.
    func membershipObstacle(_ observations: [String: ClusterObservation]) -> String? {
        let everyone = Set(ports.keys)
        for observer in running.sorted() {
            guard let observation = observations[observer] else { return "no look at \(label(observer))" }
            guard observation.table.first(where: \.isMyself)?.id == observer else {
                return "\(label(observer)) does not list itself as `myself`"
            }
            if let entry = observation.table.first(where: \.isUnsettledEntry) {
                return "\(label(observer)) is still in a handshake with \(entry.host):\(entry.port)"
            }
            let known = Set(observation.table.map(\.id))
            if known != everyone {
                let missing = everyone.subtracting(known).sorted().map(label)
                let unknown = known.subtracting(everyone).sorted()
                return "\(label(observer)) knows \(known.count) of \(everyone.count) nodes"
                    + (missing.isEmpty ? "" : "; missing \(missing.joined(separator: ", "))")
                    + (unknown.isEmpty ? "" : "; foreign \(unknown.joined(separator: ", "))")
            }
            for entry in observation.table where !entry.isMyself && running.contains(entry.id) {
                if entry.isFailing { return "\(label(observer)) flags \(label(entry.id)) as \(entry.flags.sorted().joined(separator: ","))" }
                if !entry.isLinkConnected { return "\(label(observer)) has no link to \(label(entry.id)) yet" }
            }
        }
        return nil
    }

    /// Whether the cluster has settled (see the type's documentation).
    func verdict(_ observations: [String: ClusterObservation]) -> Verdict {
        if let obstacle = membershipObstacle(observations) { return .unsettled(obstacle) }
        let observers = running.sorted()
        guard let first = observers.first, let reference = observations[first].map(Self.assignments) else {
            return .unsettled("no node is running")
        }
        for observer in observers {
            guard let observation = observations[observer] else { return .unsettled("no look at \(label(observer))") }
            if !observation.isStateOK { return .unsettled("\(label(observer)) does not report cluster_state:ok yet") }
            let assignments = Self.assignments(observation)
            if let id = reference.keys.sorted().first(where: { assignments[$0] != reference[$0] }) {
                return .unsettled("\(label(first)) sees \(label(id)) as \(describe(reference[id])), "
                    + "\(label(observer)) as \(describe(assignments[id]))")
            }
        }
        let topology = ClusterTopology(assignments: reference)
        if let obstacle = coverageObstacle(topology) ?? replicationObstacle(topology, observations)
            ?? slotTableObstacle(topology, observations) {
            return .unsettled(obstacle)
        }
        return .settled(topology)
    }

    private func coverageObstacle(_ topology: ClusterTopology) -> String? {
        var owners = [String?](repeating: nil, count: ClusterSlots.count)
        for (id, assignment) in topology.assignments.sorted(by: { $0.key < $1.key }) where assignment.primaryID == nil {
            for range in assignment.slots {
                for slot in range {
                    if let other = owners[slot] { return "slot \(slot) is claimed by both \(label(other)) and \(label(id))" }
                    owners[slot] = id
                }
            }
        }
        if let slot = owners.firstIndex(where: { $0 == nil }) {
            let end = owners[slot...].firstIndex(where: { $0 != nil }) ?? ClusterSlots.count
            return "slots \(slot)...\(end - 1) have no owner"
        }
        if let slot = owners.firstIndex(where: { !running.contains($0!) }) {
            return "slot \(slot) is still owned by \(label(owners[slot]!)), which is down"
        }
        return nil
    }

    private func replicationObstacle(_ topology: ClusterTopology, _ observations: [String: ClusterObservation]) -> String? {
        var onlineReplicaPorts: [String: Set<Int>] = [:]
        for id in running.sorted() {
            guard let fields = observations[id]?.replication, let assignment = topology.assignments[id] else { continue }
            guard let primary = assignment.primaryID else {
                if fields["role"] != "master" { return "\(label(id)) is a primary but reports role:\(fields["role"] ?? "?")" }
                onlineReplicaPorts[id] = Self.onlineReplicaPorts(fields)
                continue
            }
            guard running.contains(primary) else { return "\(label(id)) still follows \(label(primary)), which is down" }
            guard topology.assignments[primary]?.primaryID == nil else {
                return "\(label(id)) follows \(label(primary)), which is itself a replica"
            }
            guard fields["role"] == "slave", fields["master_port"] == ports[primary].map(String.init) else {
                return "\(label(id)) does not replicate from port \(ports[primary] ?? 0) yet "
                    + "(role:\(fields["role"] ?? "?"), master_port:\(fields["master_port"] ?? "?"))"
            }
            guard fields["master_link_status"] == "up", fields["master_sync_in_progress"] == "0" else {
                return "\(label(id)) has not finished its sync with \(label(primary)) "
                    + "(master_link_status:\(fields["master_link_status"] ?? "?"), "
                    + "master_sync_in_progress:\(fields["master_sync_in_progress"] ?? "?"))"
            }
        }
        for id in running.sorted() {
            guard let primary = topology.assignments[id]?.primaryID, let port = ports[id] else { continue }
            if onlineReplicaPorts[primary]?.contains(port) != true {
                return "\(label(primary)) does not list its replica \(label(id)) as online yet"
            }
        }
        return nil
    }

    /// Every running node tells clients the same CLUSTER SLOTS; each range names its owner,
    /// every running replica of it, and no other node. A replica that is down may still be
    /// listed: Redis drops it only once it is flagged `fail`, which needs another primary's
    /// report, so in a one-primary cluster it never is.
    private func slotTableObstacle(_ topology: ClusterTopology, _ observations: [String: ClusterObservation]) -> String? {
        let observers = running.sorted()
        func normalized(_ observer: String) -> [ClusterSlotsEntry] {
            (observations[observer]?.slotTable ?? []).map { entry in
                var entry = entry
                entry.replicaPorts.sort()
                return entry
            }.sorted { $0.slots.lowerBound < $1.slots.lowerBound }
        }
        guard let first = observers.first else { return nil }
        let reference = normalized(first)
        if let other = observers.dropFirst().first(where: { normalized($0) != reference }) {
            return "\(label(first)) and \(label(other)) answer CLUSTER SLOTS differently"
        }
        for entry in reference {
            let range = "\(entry.slots.lowerBound)-\(entry.slots.upperBound)"
            guard let owner = topology.owner(ofSlot: entry.slots.lowerBound), ports[owner] == entry.primaryPort else {
                return "CLUSTER SLOTS names port \(entry.primaryPort) for slots \(range)"
            }
            let followers = topology.assignments.filter { $0.value.primaryID == owner }.map(\.key)
            let runningPorts = Set(followers.filter(running.contains).compactMap { ports[$0] })
            let listed = Set(entry.replicaPorts)
            if !runningPorts.isSubset(of: listed) {
                return "CLUSTER SLOTS does not list replica ports \(runningPorts.subtracting(listed).sorted()) for slots \(range) yet "
                    + "(Redis lists a replica once its replication offset has moved from 0)"
            }
            if !listed.isSubset(of: Set(followers.compactMap { ports[$0] })) {
                return "CLUSTER SLOTS lists replica ports \(entry.replicaPorts) for slots \(range), not all replicas of its owner"
            }
        }
        return nil
    }

    /// Ports of the `slaveN:ip=…,port=…,state=online,…` lines of a primary's INFO replication.
    private static func onlineReplicaPorts(_ fields: [String: String]) -> Set<Int> {
        var ports: Set<Int> = []
        for (name, value) in fields where name.hasPrefix("slave") && name.dropFirst(5).allSatisfy(\.isNumber) {
            var properties: [Substring: Substring] = [:]
            for pair in value.split(separator: ",") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                if parts.count == 2 { properties[parts[0]] = parts[1] }
            }
            if properties["state"] == "online", let port = properties["port"].flatMap({ Int($0) }) { ports.insert(port) }
        }
        return ports
    }

    private static func assignments(_ observation: ClusterObservation) -> [String: ClusterAssignment] {
        Dictionary(observation.table.map { ($0.id, $0.assignment) }, uniquingKeysWith: { first, _ in first })
    }

    private func describe(_ assignment: ClusterAssignment?) -> String {
        guard let assignment else { return "unknown" }
        if let primary = assignment.primaryID { return "replica of \(label(primary))" }
        let slots = assignment.slots.map { $0.count == 1 ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
        return "primary of slots [\(slots.joined(separator: " "))]"
    }

    /// `127.0.0.1:PORT (id prefix)`, as tests and logs know nodes by port.
    func label(_ id: String) -> String {
        "\(ports[id].map { "127.0.0.1:\($0)" } ?? "node") (\(id.prefix(8)))"
    }
}
