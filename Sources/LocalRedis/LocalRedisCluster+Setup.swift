/// How a cluster comes to be: nodes started in parallel, epochs and slots given, everyone
/// met, replicas assigned and made visible. `init` runs these steps, then waits to settle.
extension LocalRedisCluster {
    /// How often a fresh bus port is tried when another process took the chosen one.
    private static let busPortAttempts = 5

    static func startNode(_ configuration: Configuration) throws(LocalRedisError) -> (server: LocalRedisServer, busPort: Int) {
        var lastFailure = LocalRedisError.noFreePort(errno: 0)
        for _ in 0..<busPortAttempts {
            // Free when chosen; if another process binds it first, redis exits with "Address
            // already in use", LocalRedisServer retries client ports in vain and reports
            // portUnavailable, and a new bus port is tried here.
            let busPort = try LoopbackProbe.unusedPort(host: "127.0.0.1")
            let serverConfiguration = LocalRedisServer.Configuration(
                extraConfig: configuration.clusterConfigLines(busPort: busPort) + configuration.extraConfig,
                unixSocket: true,
                startTimeout: configuration.startTimeout,
                stopGracePeriod: configuration.stopGracePeriod,
                executable: configuration.executable,
                tls: configuration.tls
            )
            do {
                return (try LocalRedisServer(configuration: serverConfiguration), busPort)
            } catch {
                guard case .portUnavailable = error else { throw error }
                lastFailure = error
            }
        }
        throw lastFailure
    }

    /// Gives every node its epoch and the primaries their slots, meets everyone with everyone,
    /// waits until all know all, then assigns the replicas.
    static func join(
        _ started: [(server: LocalRedisServer, busPort: Int)], configuration: Configuration, deadline: ContinuousClock.Instant
    ) throws(LocalRedisError) -> [Member] {
        var members: [Member] = []
        for (server, busPort) in started {
            let anonymous = Member(id: "", server: server, busPort: busPort)
            members.append(Member(id: try myID(of: anonymous), server: server, busPort: busPort))
        }
        let ranges = ClusterSlots.evenRanges(primaries: configuration.primaries)
        for (index, member) in members.enumerated() {
            // Distinct epochs from the start, as redis-cli gives them: otherwise the nodes
            // first resolve epoch collisions, one bump per cron tick.
            try expectOK(["CLUSTER", "SET-CONFIG-EPOCH", "\(index + 1)"], on: member)
            if index < ranges.count { try addSlots(ranges[index], on: member) }
        }
        for (index, member) in members.enumerated() {
            // Everyone meets everyone directly rather than through gossip: every link is
            // made in the first cron tick.
            let meets = members[(index + 1)...].map(meet)
            if !meets.isEmpty { try expectOK(meets, on: member) }
        }
        let check = ClusterSettledCheck(
            ports: Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0.server.port) }), running: Set(members.map(\.id))
        )
        var lastMeets = ContinuousClock.now
        try waitUntil("every node to know every other node", timeout: max(deadline - ContinuousClock.now, .zero)) { () -> Look<Void> in
            switch observe(members) {
            case let .notYet(obstacle):
                return .notYet(obstacle)
            case let .done(observations):
                guard let obstacle = check.membershipObstacle(observations) else { return .done(()) }
                // A meeting whose handshake failed (its bus port not listening yet, a
                // packet lost on a loaded machine) is dropped at the handshake timeout, and
                // gossip may take long to bring the node back (a clean-clone CI once waited
                // 30 s for one of six): every second, whoever still misses a node meets it
                // again (Redis ignores a meeting already under way).
                if ContinuousClock.now - lastMeets >= .seconds(1) {
                    lastMeets = ContinuousClock.now
                    meetAgain(members, missingFrom: observations)
                }
                return .notYet(obstacle)
            }
        }
        for (index, member) in members.enumerated() where index >= configuration.primaries {
            let primary = members[(index - configuration.primaries) / configuration.replicasPerPrimary]
            try expectOK(["CLUSTER", "REPLICATE", primary.id], on: member)
        }
        if configuration.replicasPerPrimary > 0 {
            try announceReplicas(Array(members.prefix(configuration.primaries)), count: configuration.replicasPerPrimary,
                                 timeout: max(deadline - ContinuousClock.now, .zero))
        }
        return members
    }

    /// Sends `CLUSTER MEET` from each member to every member its observation does not list
    /// (failures ignored: the next look tells).
    private static func meetAgain(_ members: [Member], missingFrom observations: [String: ClusterObservation]) {
        for member in members {
            guard let known = observations[member.id].map({ Set($0.table.map(\.id)) }) else { continue }
            let meets = members.filter { !known.contains($0.id) }.map(meet)
            if !meets.isEmpty { try? expectOK(meets, on: member) }
        }
    }

    /// `CLUSTER MEET` for `other`, its client and bus ports.
    private static func meet(_ other: Member) -> [String] {
        ["CLUSTER", "MEET", other.server.host, "\(other.server.port)", "\(other.busPort)"]
    }

    /// Redis leaves a replica out of CLUSTER SLOTS (and calls it `loading` in CLUSTER SHARDS)
    /// while its replication offset is 0, which in an empty cluster is until the primary's
    /// first ping 10 s later; clients discover replicas there. So once a primary lists its
    /// replicas online, it is sent FLUSHALL: its data set is empty, but Redis propagates a
    /// FLUSHALL even then, and that moves the offset.
    private static func announceReplicas(_ primaries: [Member], count: Int, timeout: Duration) throws(LocalRedisError) {
        var pending = primaries
        try waitUntil("every primary to list its replicas online", timeout: timeout) { () -> Look<Void> in
            var waiting: [Member] = []
            for primary in pending {
                let replies: [Reply]
                do throws(LocalRedisError) {
                    replies = try call([["INFO", "replication"]], on: primary)
                } catch {
                    return .notYet("\(error)")
                }
                let fields = ClusterObservation.infoFields(replies[0].string ?? "")
                let online = fields.filter { $0.key.hasPrefix("slave") && $0.value.contains("state=online") }.count
                if online < count {
                    waiting.append(primary)
                    continue
                }
                do throws(LocalRedisError) {
                    try expectOK(["FLUSHALL"], on: primary)
                } catch {
                    return .notYet("\(error)")
                }
            }
            pending = waiting
            return pending.first.map { .notYet("\($0.label) lists fewer than \(count) replicas online") } ?? .done(())
        }
    }

    private static func addSlots(_ range: ClosedRange<Int>, on member: Member) throws(LocalRedisError) {
        let command = ["CLUSTER", "ADDSLOTSRANGE", "\(range.lowerBound)", "\(range.upperBound)"]
        try expectOK(command, on: member)
    }

    private static func myID(of member: Member) throws(LocalRedisError) -> String {
        let command = ["CLUSTER", "NODES"]
        let reply = try call(command, on: member)
        guard let text = reply.string, let entries = ClusterNodesTable.parse(text), let myself = entries.first(where: \.isMyself) else {
            throw .clusterReplyUnexpected(command: command.joined(separator: " "), node: "127.0.0.1:\(member.server.port)",
                                          expected: "a CLUSTER NODES table with a `myself` line", reply: reply.description)
        }
        return myself.id
    }

    static func stopServers(_ servers: [LocalRedisServer]) {
        _ = ClusterParallel.map(servers.count) { index throws(LocalRedisError) in servers[index].stop() }
    }
}
