import TestSupport
import Foundation
import LocalRedis
import RedisUtil
import RESP
import Synchronization
import Testing

extension SerialTests {
@Suite("Concurrency: many tasks, one client, exact results")
struct ConcurrencyTests {
    @Test("1,000,000 pipelined RPUSH through the callback facade: all replies correct and in order")
    func millionCallbacks() async throws {
        let total = TestScale.count(1_000_000, minimum: 20_000)
        try await withServer { server in
            // Limits raised so that all million are in flight at once; the overload path has its own test.
            try await withClient(server, configuration: .init(connections: 1, maxPendingCommands: total)) { client async throws in
                let state = Locked<(next: Int, wrong: Int, done: Int)>((1, 0, 0))
                await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
                    // Submitted from a thread of its own: seconds of CPU in one loop would
                    // hold one of the cooperative pool's two threads from every other test.
                    Thread.detachNewThread {
                        for _ in 0..<total {
                            client.send("RPUSH", "million", "v") { result in
                                let complete = state.withLock { state -> Bool in
                                    // One connection, so replies arrive in submission order.
                                    if case .success(.integer(let n)) = result, n == state.next { } else { state.wrong += 1 }
                                    state.next += 1
                                    state.done += 1
                                    return state.done == total
                                }
                                if complete { finished.resume() }
                            }
                        }
                    }
                }
                let wrong = state.withLock { $0.wrong }
                #expect(wrong == 0)
                #expect(try await client.send("LLEN", "million").int == total)
            }
        }
    }
    @Test("1,000,000 pipelined RPUSH through the async facade: every reply correct and in order per task")
    func millionAsync() async throws {
        let tasks = 500
        let perTask = TestScale.count(2_000, minimum: 50)
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                // Each task owns one list, so its replies must be exactly 1, 2, 3, … in its
                // own order; a misrouted reply shows up as a wrong length.
                let wrong = try await withThrowingTaskGroup(of: Int.self) { group in
                    for task in 0..<tasks {
                        group.addTask {
                            var wrong = 0
                            for expected in 1...perTask {
                                let length = try await client.send("RPUSH", "million:\(task)", expected)
                                if length.int != expected { wrong += 1 }
                            }
                            return wrong
                        }
                    }
                    return try await group.reduce(0, +)
                }
                #expect(wrong == 0)
                for task in [0, tasks / 2, tasks - 1] {
                    #expect(try await client.llen("million:\(task)") == perTask)
                    #expect(try await client.lindex("million:\(task)", -1) == String(perTask))
                }
            }
        }
    }

    @Test("64 tasks × 10,000 interleaved LPUSH/LPOP: every pushed value popped exactly once")
    func interleavedPushPop() async throws {
        let tasks = 64
        let perTask = TestScale.count(10_000, minimum: 400)
        try await withServer { server in
            try await withClient(server) { client async throws in
                let popped = try await withThrowingTaskGroup(of: (shared: [String], ownMismatches: Int).self) { group in
                    for task in 0..<tasks {
                        group.addTask {
                            var shared: [String] = []
                            var ownMismatches = 0
                            // perTask commands: pairs of LPUSH then LPOP, alternating between a
                            // list all tasks share and one of the task's own.
                            for pair in 0..<(perTask / 2) {
                                let value = "\(task):\(pair)"
                                if pair % 2 == 0 {
                                    // This task's push completes before its pop, so pushes lead
                                    // pops and no LPOP can find the shared list empty.
                                    try await client.lpush("shared", value)
                                    guard let got = try await client.lpop("shared") else {
                                        throw ProbeError(message: "LPOP found the shared list empty")
                                    }
                                    shared.append(got)
                                } else {
                                    // LIFO on its own list gives back exactly what was pushed.
                                    try await client.lpush("own:\(task)", value)
                                    if try await client.lpop("own:\(task)") != value { ownMismatches += 1 }
                                }
                            }
                            return (shared, ownMismatches)
                        }
                    }
                    var all: [String] = []
                    var mismatches = 0
                    for try await result in group {
                        all += result.shared
                        mismatches += result.ownMismatches
                    }
                    #expect(mismatches == 0)
                    return all
                }
                let expected = Set((0..<tasks).flatMap { task in stride(from: 0, to: perTask / 2, by: 2).map { "\(task):\($0)" } })
                #expect(popped.count == expected.count)
                #expect(Set(popped) == expected)
                #expect(try await client.llen("shared") == 0)
                #expect(try await client.exists("own:0", "own:\(tasks - 1)") == 0)
            }
        }
    }

    @Test("cancelling 1,000 random in-flight commands among 100,000 fails only those; no desync, no new connection")
    func cancellation() async throws {
        let total = TestScale.count(100_000, minimum: 5_000)
        let cancelCount = TestScale.count(1_000, minimum: 100)
        try await withServer { server async throws in
            try await withProbe(server) { probe async throws in
                try await withClient(server, configuration: .init(connections: 2, maxPendingCommands: 1_000_000)) { client async throws in
                    // Connect both connections before counting.
                    for _ in 0..<4 { try await client.ping() }
                    let before = try await probe.connectedClients()
                    #expect(before == 2)

                    let tasks = (0..<total).map { index in
                        Task { () -> Result<String?, RedisError> in
                            // ECHO returns the command's own argument: a reply delivered to the
                            // wrong command cannot look right.
                            do { return .success(try await client.send("ECHO", "value-\(index)").string) }
                            catch let error as RedisError { return .failure(error) }
                            catch { return .failure(.invalidArgument("\(error)")) }
                        }
                    }
                    var generator = SystemRandomNumberGenerator()
                    let cancelled = Set((0..<total).shuffled(using: &generator).prefix(cancelCount))
                    for index in cancelled { tasks[index].cancel() }

                    var wrong = 0
                    var cancelledForReal = 0
                    for (index, task) in tasks.enumerated() {
                        switch await task.value {
                        case .success(let value):
                            if value != "value-\(index)" { wrong += 1 }
                        case .failure(.cancelled) where cancelled.contains(index):
                            cancelledForReal += 1
                        case .failure(let error):
                            Issue.record("command \(index) failed: \(error)")
                        }
                    }
                    #expect(wrong == 0)
                    // Most of the cancelled ones were still waiting; the rest had their reply already.
                    #expect(cancelledForReal > 0)

                    // Late replies of cancelled commands were swallowed: the stream is still in step.
                    for index in 0..<200 {
                        #expect(try await client.send("ECHO", "after-\(index)").string == "after-\(index)")
                    }
                    #expect(try await probe.connectedClients() == before)
                }
            }
        }
    }

    @Test("callbacks and async calls mixed on one client from many threads stay in step")
    func mixedFacades() async throws {
        let perTask = TestScale.count(2_000, minimum: 200)
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                let wrong = Counter()
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for task in 0..<8 {
                        group.addTask {
                            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                                let remaining = Counter(perTask)
                                for index in 0..<perTask {
                                    client.send("ECHO", "cb-\(task)-\(index)") { result in
                                        if (try? result.get().string) != "cb-\(task)-\(index)" { wrong.add() }
                                        if remaining.add(-1) == 0 { done.resume() }
                                    }
                                }
                            }
                        }
                        group.addTask {
                            for index in 0..<perTask {
                                if try await client.send("ECHO", "as-\(task)-\(index)").string != "as-\(task)-\(index)" {
                                    wrong.add()
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                #expect(wrong.value == 0)
            }
        }
    }
}
}
