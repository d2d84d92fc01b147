import Foundation
import Glibc
import Testing
@testable import LocalRedis
import TestSupport

/// Runs blocking cluster calls on a thread of their own, as `onOwnThread` explains: a cluster
/// start blocks for seconds, which on the cooperative pool would stall other suites' tasks.
/// Expectations stay in the test's task, where Swift Testing attributes them.
private func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await onOwnThread(body)
}

/// `key:0`, `key:1`, … until each primary owns at least one, with their owners.
private func keysOnEveryPrimary(_ cluster: LocalRedisCluster) throws -> [(key: String, owner: LocalRedisCluster.Node)] {
    var found: [(key: String, owner: LocalRedisCluster.Node)] = []
    var index = 0
    while Set(found.map(\.owner.id)).count < cluster.primaries.count || found.count < 12 {
        let key = "key:\(index)"
        found.append((key, try cluster.owner(ofKey: key)))
        index += 1
    }
    return found
}

/// Each test starts its own cluster: tests run in parallel and never share a port.
@Suite("LocalRedisCluster: a real cluster, started, driven and stopped", .timeLimit(.minutes(3)))
struct LocalRedisClusterTests {
    @Test func aThreeByOneClusterStartsSettled() async throws {
        let started = ContinuousClock.now
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        print("LocalRedisCluster: 3 primaries × 1 replica settled in \(ContinuousClock.now - started)")

        #expect(cluster.nodes.count == 6)
        #expect(cluster.primaries.count == 3)
        #expect(cluster.replicas.count == 3)
        #expect(Set(cluster.replicas.compactMap(\.primaryID)) == Set(cluster.primaries.map(\.id)))
        #expect(cluster.primaries.map(\.slots) == [[0...5460], [5461...10921], [10922...16383]])
        #expect(cluster.seeds.count == 6)
        #expect(Set(cluster.nodes.map(\.port)).count == 6)
        #expect(Set(cluster.nodes.map(\.busPort)).isDisjoint(with: cluster.nodes.map(\.port)))
        #expect(cluster.nodes.allSatisfy { $0.isRunning && $0.id.count == 40 && $0.url == "redis://127.0.0.1:\($0.port)" })

        let nodes = cluster.nodes
        let infos = try await blocking { try nodes.map { try cluster.command(["CLUSTER", "INFO"], on: $0).string ?? "" } }
        for (node, info) in zip(nodes, infos) {
            #expect(info.contains("cluster_state:ok"), "\(node): \(info)")
            #expect(info.contains("cluster_slots_assigned:16384"), "\(node)")
            #expect(info.contains("cluster_known_nodes:6"), "\(node)")
        }

        // Every node's CLUSTER SLOTS covers each slot exactly once, with the owner and the
        // replica the cluster reports.
        let tables = try await blocking { try nodes.map { try cluster.command(["CLUSTER", "SLOTS"], on: $0) } }
        for (node, table) in zip(nodes, tables) {
            var coverage = [Int](repeating: 0, count: 16384)
            for range in table.array ?? [] {
                let fields = range.array ?? []
                let low = try #require(fields.first?.integer), high = try #require(fields.dropFirst().first?.integer)
                for slot in low...high { coverage[slot] += 1 }
                let owner = try cluster.owner(ofSlot: low)
                #expect(fields.dropFirst(2).first?.array?.dropFirst().first?.integer == owner.port, "\(node): \(range)")
                #expect(fields.dropFirst(3).compactMap { $0.array?.dropFirst().first?.integer } == cluster.replicas(of: owner).map(\.port))
            }
            #expect(coverage.allSatisfy { $0 == 1 }, "\(node) does not cover every slot exactly once")
        }

        let replicas = cluster.replicas
        let replication = try await blocking { try replicas.map { try cluster.command(["INFO", "replication"], on: $0).string ?? "" } }
        for (replica, info) in zip(replicas, replication) {
            let primary = try #require(cluster.node(id: replica.primaryID ?? ""))
            #expect(info.contains("master_port:\(primary.port)\r\n"), "\(replica)")
            #expect(info.contains("master_link_status:up"), "\(replica)")
            #expect(info.contains("master_sync_in_progress:0"), "\(replica)")
        }
    }

    @Test func keysLiveOnTheirOwnersAndOtherNodesAnswerMoved() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let keys = try await blocking { try keysOnEveryPrimary(cluster) }
        let answers = try await blocking {
            try keys.map { key, owner in
                let set = try cluster.command(["SET", key, "value of \(key)"], on: owner)
                let get = try cluster.command(["GET", key], on: owner)
                let elsewhere = try cluster.primaries.filter { $0.id != owner.id }.map { try cluster.command(["GET", key], on: $0) }
                // A replica sends clients to the primary too, unless they asked for READONLY.
                let replica = try cluster.command(["GET", key], on: cluster.replicas(of: owner)[0])
                return (set, get, elsewhere, replica, try cluster.keySlot(key))
            }
        }
        for ((key, owner), (set, get, elsewhere, replica, slot)) in zip(keys, answers) {
            #expect(set == .simple("OK"))
            #expect(get == .bulk("value of \(key)"))
            #expect(elsewhere == [.error("MOVED \(slot) 127.0.0.1:\(owner.port)"), .error("MOVED \(slot) 127.0.0.1:\(owner.port)")])
            #expect(replica == .error("MOVED \(slot) 127.0.0.1:\(owner.port)"))
        }
        let slots = try await blocking { try cluster.keySlots(["{user}a", "{user}b", "foo"]) }
        #expect(slots[0] == slots[1])
        #expect(slots[2] == 12182)
    }

    @Test func aMigratedSlotTakesItsKeysAndTheSourceAnswersAskMidWay() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let keys = (0..<25).map { "{moving}\($0)" }
        let slot = try await blocking { try cluster.keySlot(keys[0]) }
        let source = try cluster.owner(ofSlot: slot)
        let target = try #require(cluster.primaries.first { $0.id != source.id })
        let sets = try await blocking { try keys.map { try cluster.command(["SET", $0, "v-\($0)"], on: source) } }
        #expect(sets.allSatisfy { $0 == .simple("OK") })

        let migration = try await blocking { try cluster.beginMigration(ofSlot: slot, to: target) }
        #expect(migration.source.id == source.id && migration.target.id == target.id && migration.slot == slot)
        try await blocking { try cluster.moveKeys([keys[0]], of: migration) }
        let midway = try await blocking {
            (moved: try cluster.command(["GET", keys[0]], on: source),
             stayed: try cluster.command(["GET", keys[1]], on: source),
             withoutAsking: try cluster.command(["GET", keys[0]], on: target),
             asking: try cluster.commands([["ASKING"], ["GET", keys[0]]], on: target))
        }
        #expect(midway.moved == .error("ASK \(slot) 127.0.0.1:\(target.port)"))
        #expect(midway.stayed == .bulk("v-\(keys[1])"))
        #expect(midway.withoutAsking == .error("MOVED \(slot) 127.0.0.1:\(source.port)"))
        #expect(midway.asking == [.simple("OK"), .bulk("v-\(keys[0])")])

        let moved = try await blocking { try cluster.finishMigration(migration) }
        #expect(moved == keys.count - 1)
        #expect(try cluster.owner(ofSlot: slot).id == target.id)
        #expect(cluster.node(id: target.id)?.slots.contains { $0.contains(slot) } == true)
        let after = try await blocking {
            (values: try keys.map { try cluster.command(["GET", $0], on: target) },
             old: try cluster.command(["GET", keys[0]], on: source),
             count: try cluster.command(["CLUSTER", "COUNTKEYSINSLOT", "\(slot)"], on: source))
        }
        #expect(after.values == keys.map { .bulk("v-\($0)") })
        #expect(after.old == .error("MOVED \(slot) 127.0.0.1:\(target.port)"))
        #expect(after.count == .integer(0))

        // And back in one call.
        let movedBack = try await blocking { try cluster.migrate(slot: slot, to: source) }
        #expect(movedBack == keys.count)
        #expect(try cluster.owner(ofSlot: slot).id == source.id)
    }

    @Test func aManualFailoverSwapsTheRoles() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let replica = try #require(cluster.replicas.first)
        let primary = try #require(cluster.node(id: replica.primaryID ?? ""))
        let key = try await blocking { try keysOnEveryPrimary(cluster).first { $0.owner.id == primary.id }!.key }
        let written = try await blocking { try cluster.command(["SET", key, "before"], on: primary) }
        #expect(written == .simple("OK"))

        let promoted = try await blocking { try cluster.failover(replica) }
        #expect(promoted.isPrimary)
        #expect(promoted.slots == primary.slots)
        #expect(cluster.node(id: primary.id)?.role == .replica(of: replica.id))
        #expect(cluster.primaries.count == 3)
        #expect(try cluster.owner(ofKey: key).id == replica.id)
        let after = try await blocking {
            (value: try cluster.command(["GET", key], on: promoted),
             replication: try cluster.command(["INFO", "replication"], on: primary).string ?? "")
        }
        #expect(after.value == .bulk("before"), "a coordinated failover loses no acknowledged write")
        #expect(after.replication.contains("role:slave") && after.replication.contains("master_port:\(promoted.port)\r\n"))
        #expect(throws: LocalRedisError.self) { try cluster.failover(promoted) }
    }

    @Test func aKilledPrimaryIsReplacedByItsReplicaAndRejoinsAsAReplica() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let victim = try #require(cluster.primaries.first)
        let replica = try #require(cluster.replicas(of: victim).first)
        let key = try await blocking { try keysOnEveryPrimary(cluster).first { $0.owner.id == victim.id }!.key }
        // WAIT: the write has reached the replica before the primary dies.
        let acknowledged = try await blocking {
            try cluster.commands([["SET", key, "survives"], ["WAIT", "1", "2000"]], on: victim)
        }
        #expect(acknowledged == [.simple("OK"), .integer(1)])

        let killed = ContinuousClock.now
        try await blocking { try cluster.kill(victim) }
        #expect(cluster.node(id: victim.id)?.isRunning == false)
        #expect(LoopbackProbe.exchange("PING\r\n", with: .tcp(host: victim.host, port: victim.port), timeout: .seconds(1)) == .refused)
        let promoted = try await blocking { try cluster.waitForPromotion(of: replica) }
        print("LocalRedisCluster: SIGKILL of a primary to its replica promoted and agreed: \(ContinuousClock.now - killed) "
            + "(cluster-node-timeout \(cluster.configuration.nodeTimeout))")
        #expect(promoted.isPrimary)
        #expect(promoted.slots == victim.slots)
        #expect(cluster.seeds.count == 5)
        #expect(try await blocking { try cluster.command(["GET", key], on: promoted) } == .bulk("survives"))

        try await blocking { try cluster.restartNode(victim) }
        let back = try #require(cluster.node(id: victim.id))
        #expect(back.isRunning)
        #expect(back.role == .replica(of: replica.id), "a primary that lost its slots comes back as a replica of their owner")
        #expect(back.port == victim.port)
        #expect(try await blocking { try cluster.command(["INFO", "replication"], on: back).string ?? "" }.contains("master_link_status:up"))
    }

    /// TAKEOVER needs no failure detection and no votes: the replica of a stopped primary
    /// takes its slots at once, and the primary, restarted, follows it.
    @Test func aTakeoverReplacesAStoppedPrimaryWithoutWaitingForTheNodeTimeout() async throws {
        let cluster = try await blocking { try LocalRedisCluster() }
        defer { cluster.stop() }
        let primary = cluster.primaries[1]
        let replica = try #require(cluster.replicas(of: primary).first)
        try await blocking { try cluster.stopNode(primary) }
        #expect(cluster.node(id: primary.id)?.isRunning == false)
        let promoted = try await blocking { try cluster.failover(replica, mode: .takeover) }
        #expect(promoted.isPrimary && promoted.slots == primary.slots)
        try await blocking { try cluster.restartNode(primary) }
        #expect(cluster.node(id: primary.id)?.role == .replica(of: replica.id))
        #expect(cluster.seeds.count == 6)
    }

    @Test func aStoppedReplicaIsMissedByNoOneAndRestartsInSync() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 1)) }
        defer { cluster.stop() }
        let primary = try #require(cluster.primaries.first)
        let replica = try #require(cluster.replicas.first)
        try await blocking { try cluster.stopNode(replica) }
        #expect(cluster.node(id: replica.id)?.isRunning == false)
        // A cluster without one of its replicas has settled all the same.
        try await blocking { try cluster.waitUntilSettled(timeout: .seconds(10)) }
        #expect(try await blocking { try cluster.command(["SET", "k", "written while the replica was down"], on: primary) } == .simple("OK"))
        try await blocking { try cluster.restartNode(replica) }
        #expect(cluster.node(id: replica.id)?.role == .replica(of: primary.id))
        let value = try await blocking { try cluster.commands([["READONLY"], ["GET", "k"]], on: replica) }
        #expect(value == [.simple("OK"), .bulk("written while the replica was down")])
    }

    @Test func stopEndsEveryProcessAndRemovesEveryDirectory() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 1)) }
        let directories = cluster.nodes.map(\.server.directory)
        let pids = cluster.nodes.compactMap(\.server.pid)
        #expect(pids.count == 2)
        #expect(directories.allSatisfy { FileManager.default.fileExists(atPath: "\($0)/nodes.conf") })
        // A killed node's process waits, unreaped, for stop() to reap it.
        try await blocking { try cluster.kill(cluster.replicas[0]) }
        await onOwnThread { cluster.stop() }
        #expect(directories.allSatisfy { !FileManager.default.fileExists(atPath: $0) })
        #expect(pids.allSatisfy(processIsGone))
        #expect(cluster.nodes.allSatisfy { !$0.isRunning })
        #expect(cluster.seeds.isEmpty)
        await onOwnThread { cluster.stop() }
        #expect(throws: LocalRedisError.notRunning) { try cluster.waitUntilSettled(timeout: .seconds(1)) }
        #expect(throws: LocalRedisError.notRunning) { try cluster.kill(cluster.primaries[0]) }
    }

    /// A cluster never stopped nor deinitialized (held by a global, say): a normal exit of
    /// the test process still ends every node, a killed one's zombie included, and removes
    /// every directory.
    @Test func aNormalExitEndsALeakedCluster() async throws {
        let result = await #expect(processExitsWith: .success, observing: [\.standardOutputContent]) {
            guard let cluster = try? LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 1)) else { exit(2) }
            _ = Unmanaged.passRetained(cluster)
            guard (try? cluster.kill(cluster.replicas[0])) != nil else { exit(3) }
            for node in cluster.nodes { print("\(node.server.pid ?? 0) \(node.server.directory)") }
            fflush(nil)
            exit(0)
        }
        let lines = String(decoding: result?.standardOutputContent ?? [], as: UTF8.self).split(separator: "\n")
        #expect(lines.count == 2)
        for line in lines {
            let fields = line.split(separator: " ", maxSplits: 1)
            let pid = try #require(fields.first.flatMap { Int32($0) })
            #expect(pid > 0 && processIsGone(pid))
            #expect(fields.count == 2 && !FileManager.default.fileExists(atPath: String(fields[1])))
        }
    }

    /// The benchmark's smallest cluster: one node with every slot.
    @Test func aSinglePrimaryWithoutReplicasServesEverySlot() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let node = try #require(cluster.nodes.first)
        #expect(cluster.nodes.count == 1)
        #expect(node.isPrimary && node.slots == [0...16383])
        let replies = try await blocking {
            try cluster.commands([["SET", "{t}a", "1"], ["SET", "{t}b", "2"], ["MGET", "{t}a", "{t}b"], ["MGET", "a", "b"], ["CLUSTER", "INFO"]], on: node)
        }
        #expect(Array(replies.prefix(3)) == [.simple("OK"), .simple("OK"), .array([.bulk("1"), .bulk("2")])])
        // One node owns every slot, yet a multi-key command must still keep to one slot.
        #expect(replies[3] == .error("CROSSSLOT Keys in request don't hash to the same slot"))
        #expect(replies[4].string?.contains("cluster_state:ok") == true)
    }

    /// The cluster bus and replication run over TLS too: with plaintext TCP off (`port 0`),
    /// a settled cluster with synced replicas proves they do.
    @Test(arguments: [LocalRedisServer.TLSOptions.ClientAuthentication.none, .required])
    func aTLSClusterSettlesWithTLSBusAndReplication(clientAuthentication: LocalRedisServer.TLSOptions.ClientAuthentication) async throws {
        let cluster = try await blocking {
            try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 1, tls: .init(clientAuthentication: clientAuthentication)))
        }
        defer { cluster.stop() }
        let files = try #require(cluster.tlsFiles)
        #expect(cluster.nodes.allSatisfy { $0.url == "rediss://127.0.0.1:\($0.port)?cacert=\($0.server.tlsFiles?.caCertificate ?? "")" })
        let node = try #require(cluster.replicas.first)
        let config = try await blocking {
            try cluster.commands([["CONFIG", "GET", "port"], ["CONFIG", "GET", "tls-cluster"], ["CONFIG", "GET", "tls-replication"]], on: node)
        }
        #expect(config == [.array([.bulk("port"), .bulk("0")]), .array([.bulk("tls-cluster"), .bulk("yes")]),
                           .array([.bulk("tls-replication"), .bulk("yes")])])
        #expect(FileManager.default.fileExists(atPath: files.caCertificate))
    }

    @Test func misuseIsRefusedWithAReason() async throws {
        #expect(throws: LocalRedisError.invalidClusterConfiguration(reason: "primaries must be at least 1, got 0")) {
            try LocalRedisCluster(configuration: .init(primaries: 0))
        }
        #expect(throws: LocalRedisError.self) { try LocalRedisCluster(configuration: .init(replicasPerPrimary: -1)) }
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let primary = cluster.primaries[0]
        #expect { try cluster.failover(primary) } throws: { error in
            guard case let .invalidClusterOperation(reason) = error as? LocalRedisError else { return false }
            return reason.contains("is a primary")
        }
        #expect(throws: LocalRedisError.self) { try cluster.beginMigration(ofSlot: 7, to: primary) }
        #expect(throws: LocalRedisError.invalidClusterOperation(reason: "slot 16384 is outside 0...16383")) {
            try cluster.owner(ofSlot: 16384)
        }
        let reply = try await blocking { try cluster.command(["NOSUCHCOMMAND"], on: primary) }
        #expect(reply.errorMessage?.hasPrefix("ERR unknown command") == true)
    }

    /// Redis holds a fresh primary's cluster_state at fail for 2 s, so a 1.5 s start times
    /// out, and says what it was waiting for.
    @Test func aStartThatTimesOutSaysWhatItWaitedFor() async throws {
        let outcome = await onOwnThread {
            Result { () throws(LocalRedisError) in
                try LocalRedisCluster(configuration: .init(primaries: 1, replicasPerPrimary: 0, startTimeout: .milliseconds(1500)))
            }
        }
        guard case let .failure(.clusterWaitTimedOut(waitingFor, after, lastObstacle)) = outcome else {
            Issue.record("expected clusterWaitTimedOut, got \(outcome)")
            return
        }
        #expect(waitingFor == "the cluster to settle")
        #expect(after <= .milliseconds(1500))
        #expect(lastObstacle.contains("does not report cluster_state:ok yet"), "\(lastObstacle)")
    }
}

/// The pure pieces: the reply reader, the CLUSTER NODES parser, the settled rules.
@Suite("LocalRedisCluster parsing and rules, without servers")
struct LocalRedisClusterRuleTests {
    private func read(_ text: String, in chunks: Int = 1) throws -> [LocalRedisCluster.Reply] {
        var reader = RESPReplyReader()
        var replies: [LocalRedisCluster.Reply] = []
        let bytes = Array(text.utf8)
        let size = max(1, (bytes.count + chunks - 1) / chunks)
        for start in stride(from: 0, to: bytes.count, by: size) {
            reader.append(bytes[start..<min(start + size, bytes.count)])
            while let reply = try reader.next() { replies.append(reply) }
        }
        return replies
    }

    @Test(arguments: [1, 3, 1000])
    func theReaderReadsEveryRESP2KindInAnyChunking(chunks: Int) throws {
        let text = "+OK\r\n-MOVED 1 127.0.0.1:7000\r\n:-42\r\n$5\r\nhe\r\no\r\n$0\r\n\r\n$-1\r\n*-1\r\n*2\r\n*1\r\n:1\r\n$1\r\nx\r\n*0\r\n"
        #expect(try read(text, in: chunks) == [
            .simple("OK"), .error("MOVED 1 127.0.0.1:7000"), .integer(-42), .bulk("he\r\no"), .bulk(""), .null, .null,
            .array([.array([.integer(1)]), .bulk("x")]), .array([]),
        ])
    }

    @Test func theReaderWaitsForAnIncompleteReply() throws {
        var reader = RESPReplyReader()
        reader.append(Array("*2\r\n$3\r\nfoo\r\n$3\r\nba".utf8)[...])
        #expect(try reader.next() == nil)
        reader.append(Array("r\r\n".utf8)[...])
        #expect(try reader.next() == .array([.bulk("foo"), .bulk("bar")]))
        #expect(try reader.next() == nil)
    }

    @Test(arguments: ["?x\r\n", ":abc\r\n", "$-2\r\n", "$99999999999\r\n", "$3\r\nabcd\r\n", "*2000000\r\n"])
    func theReaderRefusesMalformedInputWithoutBufferingForIt(text: String) {
        #expect(throws: RESPReplyReader.Malformed.self) { try read(text) }
    }

    @Test func theReaderRefusesArraysNestedTooDeep() {
        #expect(throws: RESPReplyReader.Malformed.self) { try read(String(repeating: "*1\r\n", count: 40) + ":1\r\n") }
    }

    @Test func commandsAreEncodedAsArraysOfBulkStrings() {
        var bytes: [UInt8] = []
        RESPReplyExchange.encode(["MIGRATE", "", "a b"], into: &bytes)
        #expect(String(decoding: bytes, as: UTF8.self) == "*3\r\n$7\r\nMIGRATE\r\n$0\r\n\r\n$3\r\na b\r\n")
    }

    static let table = """
        07c37dfeb235213a872192d90877d0cd55635b91 127.0.0.1:30004@31004,host-a slave e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 0 1426238317239 4 connected
        67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@31002 master - 0 1426238316232 2 connected 5461-10922 [10923->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]
        292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@31003 master,fail? - 0 1426238318243 3 disconnected 10923-16383 [10923-<-67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1]
        e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@31001 myself,master - 0 0 1 connected 0-5460 7000

        """

    @Test func clusterNodesLinesAreParsedWithoutTheMigrationMarkers() throws {
        let entries = try #require(ClusterNodesTable.parse(Self.table))
        #expect(entries.count == 4)
        #expect(entries[0].host == "127.0.0.1" && entries[0].port == 30004 && entries[0].busPort == 31004)
        #expect(entries[0].assignment == ClusterAssignment(primaryID: "e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca", slots: []))
        #expect(entries[1].slots == [5461...10922])
        #expect(entries[2].isFailing && !entries[2].isLinkConnected && entries[2].isPrimary)
        #expect(entries[3].isMyself && entries[3].slots == [0...5460, 7000...7000])
        #expect(ClusterNodesTable.parse("abc :0@0 myself,master - 0 0 0 connected") != nil, "a node before any MEET has no host")
        #expect(ClusterNodesTable.parse("too few fields") == nil)
        #expect(ClusterNodesTable.parse("a 127.0.0.1:1@2 master - 0 0 0 connected 9-3") == nil)
    }

    @Test func slotsAreSplitAsRedisCliSplitsThem() {
        #expect(ClusterSlots.evenRanges(primaries: 3) == [0...5460, 5461...10921, 10922...16383])
        #expect(ClusterSlots.evenRanges(primaries: 1) == [0...16383])
        #expect(ClusterSlots.evenRanges(primaries: 16384).allSatisfy { $0.count == 1 })
    }

    @Test func nodeConfigurationHasTheChosenBusPortAndTimeout() {
        let lines = LocalRedisCluster.Configuration(nodeTimeout: .milliseconds(750)).clusterConfigLines(busPort: 41234)
        #expect(lines.contains("cluster-port 41234"))
        #expect(lines.contains("cluster-node-timeout 750"))
        #expect(lines.contains("cluster-enabled yes"))
        #expect(!lines.contains("tls-cluster yes"))
        #expect(LocalRedisCluster.Configuration(tls: .init()).clusterConfigLines(busPort: 1).contains("tls-replication yes"))
    }

    // MARK: The settled rules, on a primary "p" (port 7000) with a replica "r" (port 7001)

    private func entry(_ id: String, port: Int, flags: String, primary: String? = nil, slots: [ClosedRange<Int>] = [], linked: Bool = true) -> ClusterNodeEntry {
        ClusterNodeEntry(id: id, host: "127.0.0.1", port: port, busPort: port + 10000, flags: Set(flags.split(separator: ",").map(String.init)),
                         primaryID: primary, isLinkConnected: linked, slots: slots)
    }

    private var check: ClusterSettledCheck { ClusterSettledCheck(ports: ["p": 7000, "r": 7001], running: ["p", "r"]) }

    private func observations(
        primarySees replica: ClusterNodeEntry? = nil, replicaSees primary: ClusterNodeEntry? = nil,
        replicaLink: String = "up", online: Bool = true, stateOK: Bool = true, primarySlotsReplicas: [Int] = [7001]
    ) -> [String: ClusterObservation] {
        let p = entry("p", port: 7000, flags: "master", slots: [0...16383])
        let r = entry("r", port: 7001, flags: "slave", primary: "p")
        func myself(_ entry: ClusterNodeEntry) -> ClusterNodeEntry {
            var entry = entry
            entry.flags.insert("myself")
            return entry
        }
        return [
            "p": ClusterObservation(isStateOK: stateOK, table: [myself(p), replica ?? r],
                                    replication: ["role": "master", "slave0": "ip=127.0.0.1,port=7001,state=\(online ? "online" : "wait_bgsave"),offset=1,lag=0"],
                                    slotTable: [ClusterSlotsEntry(slots: 0...16383, primaryPort: 7000, replicaPorts: primarySlotsReplicas)]),
            "r": ClusterObservation(isStateOK: true, table: [primary ?? p, myself(r)],
                                    replication: ["role": "slave", "master_port": "7000", "master_link_status": replicaLink, "master_sync_in_progress": "0"],
                                    slotTable: [ClusterSlotsEntry(slots: 0...16383, primaryPort: 7000, replicaPorts: [7001])]),
        ]
    }

    @Test func aConsistentSyncedClusterHasSettled() {
        #expect(check.verdict(observations()) == .settled(ClusterTopology(assignments: [
            "p": ClusterAssignment(primaryID: nil, slots: [0...16383]), "r": ClusterAssignment(primaryID: "p", slots: []),
        ])))
    }

    @Test func eachRuleHoldsTheVerdictBack() {
        func obstacle(_ observations: [String: ClusterObservation], _ check: ClusterSettledCheck? = nil) -> String? {
            if case let .unsettled(reason) = (check ?? self.check).verdict(observations) { return reason }
            return nil
        }
        #expect(obstacle(observations(stateOK: false))?.contains("cluster_state:ok") == true)
        #expect(obstacle(observations(replicaLink: "down"))?.contains("has not finished its sync") == true)
        #expect(obstacle(observations(online: false))?.contains("does not list its replica") == true)
        #expect(obstacle(observations(primarySees: entry("r", port: 7001, flags: "slave,fail?", primary: "p")))?.contains("flags") == true)
        #expect(obstacle(observations(primarySees: entry("r", port: 7001, flags: "slave", primary: "p", linked: false)))?.contains("no link") == true)
        #expect(obstacle(observations(primarySees: entry("x", port: 7001, flags: "handshake")))?.contains("handshake") == true)
        #expect(obstacle(observations(replicaSees: entry("p", port: 7000, flags: "master", slots: [0...100])))?.contains("sees") == true)
        // Nodes that tell clients different things about the replicas.
        #expect(obstacle(observations(primarySlotsReplicas: []))?.contains("answer CLUSTER SLOTS differently") == true)
        #expect(obstacle(observations(primarySlotsReplicas: [7001, 7005]))?.contains("answer CLUSTER SLOTS differently") == true)

        let primaryAlone = ClusterSettledCheck(ports: ["p": 7000, "r": 7001], running: ["p"])
        let replicaAlone = ClusterSettledCheck(ports: ["p": 7000, "r": 7001], running: ["r"])
        // The replica is running but nobody lists it yet: its replication offset is still 0.
        var unlisted = observations(primarySlotsReplicas: [])
        unlisted["r"]?.slotTable = [ClusterSlotsEntry(slots: 0...16383, primaryPort: 7000, replicaPorts: [])]
        #expect(obstacle(unlisted)?.contains("does not list replica ports [7001]") == true)
        // The replica is down: the primary alone has settled, whatever it thinks of the replica
        // and whether or not it still lists it (Redis drops it once flagged `fail`).
        #expect(obstacle(unlisted, primaryAlone) == nil)
        let lost = observations(primarySees: entry("r", port: 7001, flags: "slave,fail", primary: "p", linked: false), primarySlotsReplicas: [])
        #expect(obstacle(lost, primaryAlone) == nil)
        let unreachable = observations(primarySees: entry("r", port: 7001, flags: "slave,fail?", primary: "p", linked: false))
        #expect(obstacle(unreachable, primaryAlone) == nil)
        // The primary is down and its slots not yet taken over.
        #expect(obstacle(observations(), replicaAlone)?.contains("which is down") == true)
        // Slots left without an owner.
        let partial = observations(replicaSees: entry("p", port: 7000, flags: "master", slots: [0...100]))
        #expect(obstacle(partial, replicaAlone)?.contains("slots 101...16383 have no owner") == true)
    }

    @Test func clusterSlotsRepliesAreParsed() {
        let node: (Int) -> LocalRedisCluster.Reply = { .array([.bulk("127.0.0.1"), .integer($0), .bulk("id\($0)"), .array([])]) }
        let reply = LocalRedisCluster.Reply.array([
            .array([.integer(0), .integer(5460), node(7000), node(7003)]),
            .array([.integer(5461), .integer(16383), node(7001)]),
        ])
        #expect(ClusterSlotsTable.parse(reply) == [
            ClusterSlotsEntry(slots: 0...5460, primaryPort: 7000, replicaPorts: [7003]),
            ClusterSlotsEntry(slots: 5461...16383, primaryPort: 7001, replicaPorts: []),
        ])
        #expect(ClusterSlotsTable.parse(.array([.array([.integer(5), .integer(1), node(7000)])])) == nil)
        #expect(ClusterSlotsTable.parse(.error("ERR This instance has cluster support disabled")) == nil)
    }

    @Test func clusterErrorsSayWhatWasExpectedAndWhatHappened() {
        let timedOut = LocalRedisError.clusterWaitTimedOut(waitingFor: "the cluster to settle", after: .seconds(2), lastObstacle: "slot 0 has no owner")
        #expect(timedOut.description == "gave up waiting for the cluster to settle after 2.0 seconds; still: slot 0 has no owner")
        let refused = LocalRedisError.clusterReplyUnexpected(command: "CLUSTER SETSLOT 7 NODE x", node: "127.0.0.1:7000 (abcdef12)",
                                                             expected: "+OK", reply: "(error) ERR I still hold keys")
        #expect(refused.description.contains("expected +OK") && refused.description.contains("ERR I still hold keys"))
    }

    @Test func infoFieldsSkipHeadersAndBlankLines() {
        #expect(ClusterObservation.infoFields("# Replication\r\nrole:slave\r\n\r\nmaster_host:127.0.0.1\r\n")
            == ["role": "slave", "master_host": "127.0.0.1"])
    }
}
