import Foundation
import LocalRedis
import Reactor
@testable import RedisUtil
import RESP
import SystemCall
import Testing
import TestSupport

extension ClusterClientTests {
    /// Commands for every primary with the callback facade: each primary gets the command
    /// once, the replies are combined as their policy says (a sum, a concatenation, one
    /// answer, the first error), and the completion runs once, on a reactor thread. The
    /// very first command of a client, before any map, waits for one and then fans out.
    @Test func commandsForEveryPrimaryWithCallbacks() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let client = try clusterClient(cluster)
        // No map yet: the fan-out waits for the first one.
        let first = await callback { client.send("DBSIZE", completion: $0) }
        #expect(first.value?.int == 0, "\(first)")

        for index in 0..<90 { try await client.send("SET", "fan:\(index)", "\(index)") }
        let owners = try await blocking { try Set((0..<90).map { try cluster.owner(ofKey: "fan:\($0)").id }) }
        #expect(owners.count == 3, "the keys should lie on every primary")
        try await blocking { try resetStats(cluster) }

        let size = await callback { client.send("DBSIZE", completion: $0) }
        #expect(size.value?.int == 90, "\(size)")
        #expect(size.onReactor)
        let keys = await callback { client.send("KEYS", "fan:*", completion: $0) }
        #expect(Set(keys.value?.array?.compactMap(\.string) ?? []) == Set((0..<90).map { "fan:\($0)" }), "\(keys)")
        let pong = await callback { client.send("PING", completion: $0) }
        #expect(pong.value?.string == "PONG", "\(pong)")
        // Many at once, replies arriving on several reactors: each completes once.
        let pings = await withCheckedContinuation { (done: CheckedContinuation<[String], Never>) in
            let replies = SanitizedMutex<[String]>([])
            for _ in 0..<50 {
                client.send("PING") { result in
                    let count = replies.withLock { replies in
                        replies.append((try? result.get().string) ?? "\(result)")
                        return replies.count
                    }
                    if count == 50 { done.resume(returning: replies.withLock { $0 }) }
                }
            }
        }
        #expect(pings == Array(repeating: "PONG", count: 50))
        let calls = try await blocking {
            try cluster.primaries.map { try statSum(cluster, node: $0, section: "commandstats", line: "cmdstat_ping", field: "calls") }
        }
        #expect(calls == [51, 51, 51], "PING calls per primary: \(calls)")

        // An error on every node comes back once, the server's own.
        let failed = await callback { client.send("SCRIPT", "LOAD", "this is not lua", completion: $0) }
        if case .failure(.server(let message)) = failed.result { #expect(message.contains("Error compiling script")) } else { Issue.record("\(failed)") }
        let flushed = await callback { client.send("FLUSHALL", completion: $0) }
        #expect(flushed.value?.isOK == true, "\(flushed)")
        #expect(try await client.send("DBSIZE").int == 0)
        await client.close()
        let closed = await callback { client.send("DBSIZE", completion: $0) }
        #expect(closed.result.failureValue == .closed, "\(closed)")
    }

    /// An awaited command for every primary that a task cancels while the primaries hold
    /// it: `.cancelled` at once under the default policy, and the reply once it comes
    /// under ``RedisConfiguration/CancellationPolicy/afterReply``.
    @Test(arguments: [RedisConfiguration.CancellationPolicy.prompt, .afterReply])
    func aCancelledCommandForEveryPrimary(policy: RedisConfiguration.CancellationPolicy) async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 3, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        var configuration = RedisConfiguration()
        configuration.cancellation = policy
        let client = try clusterClient(cluster, configuration: configuration)
        #expect(try await client.send("DBSIZE").int == 0)
        // Writes wait on every primary until unpaused: FLUSHALL, a write, waits there.
        try await blocking { for node in cluster.primaries { _ = try cluster.command(["CLIENT", "PAUSE", "60000", "WRITE"], on: node) } }
        let flush = Task { try await client.send("FLUSHALL") }
        try await Task.sleep(for: .milliseconds(300))
        flush.cancel()
        if policy == .prompt {
            await #expect(throws: RedisError.cancelled) { try await flush.value }
        }
        try await blocking { for node in cluster.primaries { _ = try cluster.command(["CLIENT", "UNPAUSE"], on: node) } }
        if policy == .afterReply {
            #expect(try await flush.value.isOK)
        }
        // The connections are still good: the late replies were taken off the line.
        #expect(try await client.send("PING").string == "PONG")
        await client.close()
    }

    /// An awaited command for every primary that a task cancels while one primary is down:
    /// its copy for that node, never written, is taken out of the node's queue, so the node
    /// does not run it when it comes back (a `SCRIPT LOAD`: a restart empties the script
    /// cache, so the script is there afterwards only if the copy ran). The other primary
    /// ran its copy before the cancellation. (The copies went through the node clients'
    /// callback path before, which carries no waiter: the node that came back loaded it.)
    @Test func aCancelledCommandForEveryPrimaryDoesNotReachANodeThatComesBack() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        // Only the cancellation ends the down node's copy's wait for a socket; one
        // connection a node, so that the copy's connection is the one watched below.
        let client = try clusterClient(cluster, configuration: .init(connectTimeout: .seconds(600), commandTimeout: .seconds(600), connections: 1))
        #expect(try await client.send("DBSIZE").int == 0)
        let (up, down) = (cluster.primaries[0], cluster.primaries[1])
        let downClient = try client.router.map { try $0.node(at: ClusterNodeAddress(host: down.host, port: down.port)).get().client }
        let script = "return 'fanned out'"
        let digest = try await blocking { try unloadedDigest(of: script, on: cluster) }
        try await blocking { try cluster.stopNode(down) }
        // The copy must meet a connection known to be down, not the closing one (where it
        // could be written, its outcome then unknown).
        #expect(try await waitUntil(limit: .seconds(10)) { downClient?.gaugeSource.sample().open == 0 })
        let load = Task { try await client.send("SCRIPT", "LOAD", script) }
        let loadedOnUp = try await waitUntil(limit: .seconds(10)) {
            (try? await blocking { try cluster.command(["SCRIPT", "EXISTS", digest], on: up).array?.first?.integer }) == 1
        }
        #expect(loadedOnUp)
        // Before the cancellation: after it, a failed attempt to reach the down node may
        // take the copy out at once (a clean-clone CI saw it gone by the next line).
        #expect(downClient?.gaugeSource.sample().pending == 1, "the copy waits for the node")
        load.cancel()
        await #expect(throws: RedisError.cancelled) { try await load.value }
        try await blocking { try cluster.restartNode(down) }
        // The node's connection owes nothing: the copy was answered (sent once the node was
        // back), or taken out unsent, at a reconnect or at a failed attempt while the node
        // was down (the connection then has nothing to reconnect for, and stays closed).
        let settled = try await waitUntil(limit: .seconds(20)) { downClient?.gaugeSource.sample().pending == 0 }
        #expect(settled)
        #expect(try await client.send("DBSIZE").int == 0)
        let loadedOnDown = try await blocking { try cluster.command(["SCRIPT", "EXISTS", digest], on: down).array?.first?.integer }
        #expect(loadedOnDown == 0, "the cancelled SCRIPT LOAD ran on the node that came back")
        await client.close()
    }

    /// An awaited command for every primary from a client that has no slot map yet, its
    /// task cancelled while the map is fetched (every node paused, so the fetch waits):
    /// the task gets `.cancelled`, and once the map comes nothing is sent (its copies went
    /// to every node before `718e31b`). A `DBSIZE` for every primary afterwards, on the
    /// same one connection a node, shows what was queued before it has been answered.
    @Test func aCommandForEveryPrimaryCancelledWhileTheMapLoadsIsNotSent() async throws {
        let cluster = try await blocking { try LocalRedisCluster(configuration: .init(primaries: 2, replicasPerPrimary: 0)) }
        defer { cluster.stop() }
        let script = "return 'before the map'"
        let digest = try await blocking {
            let digest = try unloadedDigest(of: script, on: cluster)
            for node in cluster.primaries { _ = try cluster.command(["CLIENT", "PAUSE", "1500", "ALL"], on: node) }
            return digest
        }
        let client = try clusterClient(cluster, configuration: .init(connections: 1))
        let load = Task { try await client.send("SCRIPT", "LOAD", script) }
        try await Task.sleep(for: .milliseconds(300))
        load.cancel()
        await #expect(throws: RedisError.cancelled) { try await load.value }
        #expect(try await client.send("DBSIZE").int == 0)
        let loaded = try await blocking {
            try cluster.primaries.map { try cluster.command(["SCRIPT", "EXISTS", digest], on: $0).array?.first?.integer }
        }
        #expect(loaded == [0, 0], "the cancelled SCRIPT LOAD ran")
        await client.close()
    }
}

/// The SHA-1 digest `SCRIPT LOAD` gives `script`, the script flushed again from the node
/// that loaded it (the first primary): no node of `cluster` has it afterwards.
private func unloadedDigest(of script: String, on cluster: LocalRedisCluster) throws -> String {
    let digest = try cluster.command(["SCRIPT", "LOAD", script], on: cluster.primaries[0]).string ?? ""
    _ = try cluster.command(["SCRIPT", "FLUSH"], on: cluster.primaries[0])
    return digest
}

/// A callback's outcome and whether it ran on a reactor thread.
private struct CallbackOutcome: Sendable, CustomStringConvertible {
    let result: Result<RESPValue, RedisError>
    let onReactor: Bool
    var value: RESPValue? { try? result.get() }
    var description: String { "\(result)" }
}

/// Awaits the one completion `start` is given.
private func callback(_ start: (@escaping @Sendable (Result<RESPValue, RedisError>) -> Void) -> Void) async -> CallbackOutcome {
    await withCheckedContinuation { continuation in
        start { continuation.resume(returning: CallbackOutcome(result: $0, onReactor: Reactor.current != nil)) }
    }
}
