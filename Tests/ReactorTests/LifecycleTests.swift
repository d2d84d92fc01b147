import Foundation
import Reactor
import Synchronization
import Testing
import TestSupport

@Suite("Reactor lifecycle, end of iteration, executors, groups")
struct LifecycleTests {
    @Test("shutdown runs queued work, and the work that work submits, before joining")
    func shutdownCompletesQueuedWork() throws {
        let reactor = try Reactor()
        try reactor.start()
        let count = Atomic<Int>(0)
        for _ in 0..<10_000 {
            reactor.execute {
                count.add(1, ordering: .relaxed)
                reactor.execute { count.add(1, ordering: .relaxed) }
            }
        }
        reactor.shutdown()
        let ran = count.load(ordering: .relaxed)
        #expect(ran == 20_000)
        reactor.shutdown()
        #expect(!reactor.executeIfRunning {})
    }

    @Test("shutting down a reactor that never started still runs its submitted work")
    func shutdownNeverStarted() throws {
        let reactor = try Reactor()
        let ran = Atomic<Bool>(false)
        reactor.execute { ran.store(true, ordering: .relaxed) }
        reactor.shutdown()
        let didRun = ran.load(ordering: .relaxed)
        #expect(didRun)
    }

    @Test("concurrent shutdown calls all return after the thread is gone")
    func concurrentShutdown() async throws {
        let reactor = try Reactor()
        try reactor.start()
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 { group.addTask { reactor.shutdown() } }
        }
        #expect(!reactor.executeIfRunning {})
    }

    @Test("an end-of-iteration callback runs after every event of its iteration")
    func endOfIteration() async throws {
        let (a1, b1) = try nonBlockingSocketPair()
        let (a2, b2) = try nonBlockingSocketPair()
        defer { [a1, b1, a2, b2].forEach { close($0) } }
        // Both fds are readable before the watchers exist, so one epoll_wait reports both.
        _ = "x".withCString { write(b1, $0, 1) }
        _ = "y".withCString { write(b2, $0, 1) }
        try await withReactor { reactor in
            let log = Recorder<String>()
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                reactor.execute {
                    final class Watchers { var all: [FDWatcher] = [] }
                    let watchers = Watchers()
                    var scheduled = false
                    for (name, fd) in [("read1", a1), ("read2", a2)] {
                        watchers.all.append(reactor.watch(fd: fd, onReadable: {
                            var byte: UInt8 = 0
                            _ = read(fd, &byte, 1)
                            log.append(name)
                            guard !scheduled else { return }
                            scheduled = true
                            reactor.atEndOfIteration {
                                log.append("end")
                                watchers.all.forEach { $0.cancel() }
                                done.resume()
                            }
                        }))
                    }
                }
            }
            #expect(log.values.count == 3)
            #expect(Set(log.values.prefix(2)) == ["read1", "read2"])
            #expect(log.values.last == "end")
        }
    }

    @Test("end-of-iteration callbacks registered by submitted work run after that batch")
    func endOfIterationAfterBatch() async throws {
        try await withReactor { reactor in
            let log = Recorder<String>()
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                // Both are queued from the reactor thread while it runs this closure, so
                // they are drained in the same pass, whatever the scheduler does.
                reactor.execute {
                    reactor.execute {
                        reactor.atEndOfIteration {
                            log.append("flush")
                            done.resume()
                        }
                        log.append("first")
                    }
                    reactor.execute { log.append("second") }
                }
            }
            #expect(log.values == ["first", "second", "flush"])
        }
    }

    @Test("end-of-iteration work given as an object runs after its batch, held by the reactor until then, in order with closures")
    func endOfIterationObject() async throws {
        final class Flush: EndOfIterationWork {
            let reactor: Reactor
            let log: Recorder<String>
            let done: CheckedContinuation<Void, Never>
            var rescheduled = false
            init(reactor: Reactor, log: Recorder<String>, done: CheckedContinuation<Void, Never>) {
                (self.reactor, self.log, self.done) = (reactor, log, done)
            }
            func runAtEndOfIteration() {
                log.append(reactor.inReactor ? "flush" : "flush off the reactor")
                // Work scheduled by end-of-iteration work runs in a later pass.
                guard rescheduled else {
                    rescheduled = true
                    return reactor.atEndOfIteration(self)
                }
                done.resume()
            }
        }
        try await withReactor { reactor in
            let log = Recorder<String>()
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                reactor.execute {
                    // The only reference is the reactor's once this closure returns.
                    reactor.atEndOfIteration(Flush(reactor: reactor, log: log, done: done))
                    reactor.atEndOfIteration { log.append("closure") }
                    log.append("event")
                }
            }
            #expect(log.values == ["event", "flush", "closure", "flush"])
        }
    }

    @Test("several end-of-iteration works run in the order they were scheduled, each once; what they schedule runs in the next pass")
    func endOfIterationOrder() async throws {
        try await withReactor { reactor in
            let log = Recorder<String>()
            reactor.execute {
                reactor.atEndOfIteration {
                    log.append("a")
                    // Scheduled while the batch runs: after b and c, in a pass of its own.
                    reactor.atEndOfIteration {
                        log.append("d")
                        reactor.atEndOfIteration { log.append("f") }
                        reactor.atEndOfIteration { log.append("g") }
                    }
                    reactor.atEndOfIteration { log.append("e") }
                }
                reactor.atEndOfIteration { log.append("b") }
                reactor.atEndOfIteration { log.append("c") }
            }
            // Polled rather than awaited, so that work lost would fail the test, not hang it.
            for _ in 0..<200 where log.values.count < 7 { try await Task.sleep(for: .milliseconds(10)) }
            try await Task.sleep(for: .milliseconds(20))
            #expect(log.values == ["a", "b", "c", "d", "e", "f", "g"])
        }
    }

    @Test("a task preferring the reactor as task executor runs on its thread")
    func taskExecutorPreference() async throws {
        try await withReactor { reactor in
            let observed = await withTaskExecutorPreference(reactor) { reactor.inReactor }
            #expect(observed)
            let inChild = await withTaskExecutorPreference(reactor) {
                await withTaskGroup(of: Bool.self) { group in
                    group.addTask { reactor.inReactor }
                    return await group.next()!
                }
            }
            #expect(inChild)
        }
    }

    @Test("200 child tasks preferring the reactor stay on it across 100 awaits each, and end cleanly")
    func manyTasksWithPreference() async throws {
        try await withReactor { reactor in
            final class Tally: Sendable { let count = Atomic<Int>(0) }
            let offReactor = Tally()
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<200 {
                    group.addTask(executorPreference: reactor) {
                        for _ in 0..<100 {
                            await withCheckedContinuation { (resumed: CheckedContinuation<Void, Never>) in
                                reactor.execute { resumed.resume() }
                            }
                            if !reactor.inReactor { offReactor.count.add(1, ordering: .relaxed) }
                        }
                    }
                }
            }
            let off = offReactor.count.load(ordering: .relaxed)
            #expect(off == 0)
        }
    }

    @Test("an actor whose executor is the reactor runs on the reactor thread")
    func actorOnReactor() async throws {
        actor Pinned {
            let reactor: Reactor
            init(reactor: Reactor) { self.reactor = reactor }
            nonisolated var unownedExecutor: UnownedSerialExecutor { reactor.asUnownedSerialExecutor() }
            func check() -> Bool {
                reactor.checkIsolated()
                return reactor.inReactor
            }
        }
        try await withReactor { reactor in
            #expect(await Pinned(reactor: reactor).check())
        }
    }

    @Test("an actor whose executor is a reactor goes on running, in order, after the reactor shut down")
    func actorAfterShutdown() async throws {
        let reactor = try Reactor(name: "after-shutdown")
        try reactor.start()
        let log = ReactorLog(reactor: reactor)
        #expect(await log.append(1) == (onReactor: true, count: 1))
        reactor.shutdown()
        // Before the fix: a precondition failure ("enqueued on reactor … after it shut down").
        #expect(await log.append(2) == (onReactor: false, count: 2))
        #expect(await log.append(3) == (onReactor: false, count: 3))
        #expect(await log.entries == [1, 2, 3])
    }

    @Test("an actor's calls racing its reactor's shutdown each run once, never two at a time")
    func actorCallsRacingShutdown() async throws {
        let reactor = try Reactor(name: "racing-shutdown")
        try reactor.start()
        let log = ReactorLog(reactor: reactor)
        let callers = 8, calls = 500
        let progress = CallCount()
        await withTaskGroup(of: Void.self) { group in
            for caller in 0..<callers {
                group.addTask {
                    for call in 0..<calls {
                        _ = await log.append(caller * calls + call)
                        progress.done.add(1, ordering: .relaxed)
                    }
                }
            }
            // Shut down with about a quarter of the calls made, on a thread of its own
            // (shutdown blocks until the reactor's thread ends).
            group.addTask {
                await onOwnThread {
                    while progress.done.load(ordering: .relaxed) < callers * calls / 4 { usleep(100) }
                    reactor.shutdown()
                }
            }
        }
        #expect(progress.done.load(ordering: .relaxed) == callers * calls)
        let entries = await log.entries
        #expect(entries.count == callers * calls)
        #expect(Set(entries).count == callers * calls, "a call ran twice or was lost")
        #expect(await log.overlaps == 0, "two of the actor's jobs ran at once")
    }

    @Test("a group hands out its reactors round robin and shuts them all down")
    func group() throws {
        let group = try ReactorGroup(count: 3)
        let picks = (0..<6).map { _ in ObjectIdentifier(group.next()) }
        #expect(Array(picks[0..<3]) == Array(picks[3..<6]))
        #expect(Set(picks).count == 3)
        #expect(ReactorGroup.activeProcessorCount >= 1)
        group.shutdown()
        #expect(group.reactors.allSatisfy { !$0.executeIfRunning {} })
    }

    @Test("shutdown from the reactor's own thread traps with a clear message")
    func shutdownFromOwnThreadTraps() async {
        await #expect(processExitsWith: .failure) {
            let reactor = try Reactor()
            try reactor.start()
            reactor.execute { reactor.shutdown() }
            sleep(5)
        }
    }
}

/// Calls made so far, shared with the thread that shuts the reactor down.
private final class CallCount: Sendable {
    let done = Atomic<Int>(0)
}

/// An actor whose executor is a reactor, recording its calls and whether two of its jobs
/// ever ran at once (a plain flag: only a serial executor keeps it consistent).
private actor ReactorLog {
    let reactor: Reactor
    private(set) var entries: [Int] = []
    private(set) var overlaps = 0
    private var running = false

    init(reactor: Reactor) { self.reactor = reactor }
    nonisolated var unownedExecutor: UnownedSerialExecutor { reactor.asUnownedSerialExecutor() }

    /// Records `entry`: whether it ran on the reactor thread, and how many entries there are.
    func append(_ entry: Int) -> (onReactor: Bool, count: Int) {
        if running { overlaps += 1 }
        running = true
        defer { running = false }
        entries.append(entry)
        return (reactor.inReactor, entries.count)
    }
}
