#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RedisUtil
import Synchronization

// One worker process of a `RedisChannelServer` pool, for the tests that kill workers
// with SIGKILL (`WorkerProcessTests`): a lease held by a process that dies must come
// back to another process, and no job may be lost.
//
// Usage: channel-worker-probe PORT CHANNEL LEASE_MS CONCURRENCY
//
// Requests are `ProbeJob`s; the handler first appends "<id> <pid> <delivery>" to the list
// `<CHANNEL>/probe-log` (what was started, by whom: the tests compare it with the pids
// they killed), holds the job for its `holdMs` (or `firstHoldMs` on a first delivery),
// extending its lease meanwhile, then replies with the same id. "<pid>" is pushed to `<CHANNEL>/probe-ready` once the
// pool runs, and to `<CHANNEL>/probe-working` when its first handler starts (a worker
// that holds leases). The pool stops and drains when standard input reaches its end.

struct ProbeJob: Codable, Sendable {
    var id: Int
    var holdMs: Int
    var firstHoldMs: Int?
}

struct ProbeReply: Codable, Sendable {
    var id: Int
    var pid: Int32
    var delivery: Int
}

let arguments = CommandLine.arguments
guard arguments.count == 5, let port = Int(arguments[1]), let leaseMs = Int(arguments[3]), let concurrency = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: channel-worker-probe PORT CHANNEL LEASE_MS CONCURRENCY\n".utf8))
    exit(2)
}
let name = arguments[2]
let pid = getpid()

do {
    let client = try RedisClient(.tcp(host: "127.0.0.1", port: port))
    let channel = RedisChannel(client: client, name, peer: .server)
    let log = name + "/probe-log"
    let working = Atomic(false)
    let server = RedisChannelServer(
        channel, as: ProbeJob.self, concurrency: concurrency, lease: .milliseconds(leaseMs), maxAttempts: 1_000,
        drainTimeout: .seconds(5)
    ) { delivery in
        let job = delivery.message
        try await client.send("RPUSH", log, "\(job.id) \(pid) \(delivery.deliveryCount)")
        if !working.exchange(true, ordering: .relaxed) { try await client.send("RPUSH", name + "/probe-working", "\(pid)") }
        let hold = delivery.deliveryCount == 1 ? job.firstHoldMs ?? job.holdMs : job.holdMs
        // A hold keeps its lease, as a long job should (extended every third of the lease),
        // so that only the process's death hands the job to another worker.
        let holdEnd = ContinuousClock.now + .milliseconds(hold)
        while ContinuousClock.now < holdEnd {
            try await Task.sleep(for: min(.milliseconds(leaseMs / 3), holdEnd - .now))
            if ContinuousClock.now < holdEnd { try await delivery.extend(by: .milliseconds(leaseMs)) }
        }
        return ProbeReply(id: job.id, pid: pid, delivery: delivery.deliveryCount)
    }
    // Standard input's end (the test closing its pipe) is the stop.
    Thread.detachNewThread {
        _ = FileHandle.standardInput.readDataToEndOfFile()
        server.stop()
    }
    let running = Task { try await server.run() }
    try await client.send("RPUSH", name + "/probe-ready", "\(pid)")
    try await running.value
    await client.close()
} catch {
    FileHandle.standardError.write(Data("channel-worker-probe \(pid): \(error)\n".utf8))
    exit(1)
}
