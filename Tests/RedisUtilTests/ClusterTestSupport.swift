import Foundation
import LocalRedis
@testable import RedisUtil
import RESP
import Testing
import TestSupport

// Helpers of the cluster client's tests (ClusterClientTests and its extensions), which
// run alone after the parallel suites (see the Makefile).

/// Runs blocking LocalRedis calls on a thread of their own: a cluster start or a
/// migration blocks for seconds, which on the cooperative pool would stall the very
/// tasks under test.
func blocking<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await onOwnThread { Result { try body() } }.get()
}

/// Every running node of `cluster`, as seeds.
func clusterSeeds(_ cluster: LocalRedisCluster) -> [RedisEndpoint] {
    cluster.seeds.map { .tcp(host: $0.host, port: $0.port) }
}

/// The cluster endpoint seeded with every running node of `cluster`.
func clusterEndpoint(_ cluster: LocalRedisCluster) -> RedisEndpoint {
    .cluster(seeds: clusterSeeds(cluster))
}

/// A cluster client seeded with every node of `cluster`.
func clusterClient(_ cluster: LocalRedisCluster, configuration: RedisConfiguration = .init()) throws -> RedisClient {
    try RedisClient(clusterEndpoint(cluster), configuration: configuration)
}

/// Moves `slot` (holding `keys`) to another primary and back, each time key by key with
/// pauses, so that commands meet the slot mid-way (ASK) and after it moved (MOVED).
func migrateThereAndBack(_ cluster: LocalRedisCluster, slot: Int, keys: [String]) async throws {
    let source = try cluster.owner(ofSlot: slot)
    let target = try #require(cluster.primaries.first { $0.id != source.id })
    try await blocking {
        for to in [target, source] {
            let migration = try cluster.beginMigration(ofSlot: slot, to: to)
            for key in keys {
                try cluster.moveKeys([key], of: migration)
                Thread.sleep(forTimeInterval: 0.02)
            }
            try cluster.finishMigration(migration)
            Thread.sleep(forTimeInterval: 0.2)
        }
    }
}

/// `CLUSTER SHARDS` calls counted by every running node since its last `CONFIG RESETSTAT`.
func clusterShardsCalls(_ cluster: LocalRedisCluster) throws -> Int {
    try cluster.nodes.filter(\.isRunning).map { node in
        let info = try cluster.command(["INFO", "commandstats"], on: node).string ?? ""
        guard let line = info.split(separator: "\r\n").first(where: { $0.hasPrefix("cmdstat_cluster|shards:") }),
              let calls = line.split(separator: ":")[1].split(separator: ",").first?.split(separator: "=").last else { return 0 }
        return Int(calls) ?? 0
    }.reduce(0, +)
}

/// The sum over running nodes of a counter in `INFO <section>`: the number after
/// `field=` on the line that starts with `line:` (`errorstats`, `errorstat_ASK`, `count`).
func statSum(_ cluster: LocalRedisCluster, section: String, line: String, field: String) throws -> Int {
    try cluster.nodes.filter(\.isRunning).map { try statSum(cluster, node: $0, section: section, line: line, field: field) }.reduce(0, +)
}

/// ``statSum(_:section:line:field:)`` on one node.
func statSum(_ cluster: LocalRedisCluster, node: LocalRedisCluster.Node, section: String, line: String, field: String) throws -> Int {
    let info = try cluster.command(["INFO", section], on: node).string ?? ""
    guard let found = info.split(separator: "\r\n").first(where: { $0.hasPrefix("\(line):") }) else { return 0 }
    let pairs = found.dropFirst(line.count + 1).split(separator: ",")
    return pairs.first { $0.hasPrefix("\(field)=") }.flatMap { Int($0.dropFirst(field.count + 1)) } ?? 0
}

func resetStats(_ cluster: LocalRedisCluster) throws {
    for node in cluster.nodes where node.isRunning {
        _ = try cluster.command(["CONFIG", "RESETSTAT"], on: node)
    }
}

/// Pushes `0..<count` to `key` one command at a time, each after the previous reply,
/// so that the list's order is the order sent; returns the first error.
func pushInOrder(_ client: RedisClient, key: String, from start: Int = 0, count: Int) async -> RedisError? {
    for value in start..<(start + count) {
        do {
            try await client.send("RPUSH", key, "\(value)")
        } catch {
            return error as? RedisError ?? .cancelled
        }
    }
    return nil
}

/// The same with callbacks: each push sent from the previous one's completion.
func pushInOrderWithCallbacks(_ client: RedisClient, key: String, count: Int, done: @escaping @Sendable (RedisError?) -> Void) {
    @Sendable func push(_ value: Int) {
        guard value < count else { return done(nil) }
        client.send("RPUSH", key, "\(value)") { result in
            switch result {
            case .success: push(value + 1)
            case .failure(let error): done(error)
            }
        }
    }
    push(0)
}

/// One `RPUSH key value` through the callback facade, awaited: its error, if any.
func pushWithCallback(_ client: RedisClient, key: String, value: Int) async -> RedisError? {
    await withCheckedContinuation { (done: CheckedContinuation<RedisError?, Never>) in
        client.send("RPUSH", key, "\(value)") { result in
            if case .failure(let error) = result { done.resume(returning: error) } else { done.resume(returning: nil) }
        }
    }
}

/// Every key's list holds exactly `0..<count` (or `values`), in order.
func expectLists(_ client: RedisClient, keys: [String], count: Int, values: [String]? = nil,
                         sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let expected = values ?? (0..<count).map(String.init)
    var wrong: [String] = []
    for key in keys {
        let list = try await client.lrange(key, 0, -1)
        if list != expected { wrong.append("\(key): \(list.count) elements, first \(list.prefix(5))") }
    }
    #expect(wrong.isEmpty, "lists not exactly 0..<\(count): \(wrong.prefix(5))", sourceLocation: sourceLocation)
}
