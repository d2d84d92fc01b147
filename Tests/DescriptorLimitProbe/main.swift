#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RedisUtil
import Synchronization

// A client that wants more connections than the process has file descriptors for, in a
// process of its own (the limit is per process): `DescriptorLimitTests` runs it with a
// lowered RLIMIT_NOFILE and reads the one JSON line it prints.
//
// Usage: descriptor-limit-probe PORT CONNECTIONS COMMANDS LIMIT
//
// The client is created and every command submitted before the program's first `await`,
// as in the crash this guards against: libdispatch then still had descriptors to open.

let arguments = CommandLine.arguments
guard arguments.count == 5, let port = Int(arguments[1]), let connections = Int(arguments[2]),
      let commands = Int(arguments[3]), let limit = Int(arguments[4]) else {
    FileHandle.standardError.write(Data("usage: descriptor-limit-probe PORT CONNECTIONS COMMANDS LIMIT\n".utf8))
    exit(2)
}

var lowered = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
guard setrlimit(Int32(RLIMIT_NOFILE.rawValue), &lowered) == 0 else {
    FileHandle.standardError.write(Data("setrlimit(RLIMIT_NOFILE, \(limit)) failed: errno \(errno)\n".utf8))
    exit(2)
}

/// What the PINGs of one round came back with.
final class Tally: Sendable {
    struct Counts {
        var ok = 0
        var limit = 0
        var other = 0
        var sample: String?
    }
    let counts = Mutex(Counts())
    let done = DispatchSemaphore(value: 0)
    let expected: Int
    init(expected: Int) { self.expected = expected }

    func record(_ result: Result<RESPValueDescription, RedisError>) {
        let finished = counts.withLock { counts -> Bool in
            switch result {
            case .success: counts.ok += 1
            case .failure(.descriptorLimit): counts.limit += 1
            case .failure(let error):
                counts.other += 1
                if counts.sample == nil { counts.sample = error.description }
            }
            return counts.ok + counts.limit + counts.other == expected
        }
        if finished { done.signal() }
    }
}
typealias RESPValueDescription = String

func pingRound(_ client: RedisClient, count: Int) -> Tally {
    let tally = Tally(expected: count)
    for _ in 0..<count {
        client.send("PING") { result in tally.record(result.map { "\($0)" }) }
    }
    return tally
}

/// Descriptors open in this process now.
func openDescriptors() -> Int {
    (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count).map { $0 - 1 } ?? -1
}

let client = try RedisClient(.tcp(host: "127.0.0.1", port: port), configuration: RedisConfiguration(connections: connections))
let first = pingRound(client, count: commands)
first.done.wait()
// The connections the client has keep serving: a second round succeeds whole.
let second = pingRound(client, count: commands)
second.done.wait()
let descriptorsAfter = openDescriptors()
await client.close()

let a = first.counts.withLock { $0 }
let b = second.counts.withLock { $0 }
let report: [String: Any] = [
    "firstOK": a.ok, "firstLimit": a.limit, "firstOther": a.other, "firstSample": a.sample ?? "",
    "secondOK": b.ok, "secondLimit": b.limit, "secondOther": b.other, "secondSample": b.sample ?? "",
    "descriptorsAfter": descriptorsAfter, "limit": limit,
]
let json = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
print(String(decoding: json, as: UTF8.self))
