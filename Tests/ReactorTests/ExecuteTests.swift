import Foundation
import Reactor
import Synchronization
import Testing

@Suite("Reactor.execute")
struct ExecuteTests {
    @Test("8 threads × 100,000 submissions: each runs once, FIFO per thread, on the reactor")
    func manyProducers() async throws {
        let threads = 8
        let perThread = 100_000
        try await withReactor { reactor in
            // Touched only on the reactor thread, which the closures check.
            final class Tally: @unchecked Sendable {
                var next = [Int](repeating: 0, count: 8)
                var outOfOrder = 0
                var offThread = 0
            }
            let tally = Tally()
            let started = DispatchGroup()
            for thread in 0..<threads {
                started.enter()
                Thread.detachNewThread {
                    for i in 0..<perThread {
                        reactor.execute {
                            if !reactor.inReactor { tally.offThread += 1 }
                            if tally.next[thread] != i { tally.outOfOrder += 1 }
                            tally.next[thread] = i + 1
                        }
                    }
                    started.leave()
                }
            }
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                started.notify(queue: .global()) { done.resume() }
            }
            await drain(reactor)
            let (next, outOfOrder, offThread) = await withCheckedContinuation { continuation in
                reactor.execute { continuation.resume(returning: (tally.next, tally.outOfOrder, tally.offThread)) }
            }
            #expect(next == [Int](repeating: perThread, count: threads))
            #expect(outOfOrder == 0)
            #expect(offThread == 0)
        }
    }

    @Test("work submitted from the reactor thread runs after the current work, not inline")
    func reentrantSubmission() async throws {
        try await withReactor { reactor in
            let order = Recorder<String>()
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                reactor.execute {
                    reactor.execute {
                        order.append("inner")
                        done.resume()
                    }
                    order.append("outer")
                }
            }
            #expect(order.values == ["outer", "inner"])
        }
    }

    @Test("work the reactor thread submits runs in FIFO order, and endless resubmission starves neither timers nor other threads")
    func reactorThreadWorkIsFairAndOrdered() async throws {
        try await withReactor { reactor in
            // Touched only on the reactor thread.
            final class Spinner: @unchecked Sendable {
                var order: [Int] = []
                var spins = 0
                var stop = false
            }
            let spinner = Spinner()
            // Ten submissions from the reactor thread keep their order.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                reactor.execute {
                    for index in 0..<10 {
                        reactor.execute {
                            spinner.order.append(index)
                            if index == 9 { done.resume() }
                        }
                    }
                }
            }
            // A job that resubmits itself forever from the reactor thread; a timer and
            // work from this thread must still get their turn.
            @Sendable func spin() {
                guard !spinner.stop else { return }
                spinner.spins += 1
                reactor.execute { spin() }
            }
            reactor.execute { spin() }
            await withCheckedContinuation { (fired: CheckedContinuation<Void, Never>) in
                reactor.schedule(after: .milliseconds(20)) { fired.resume() }
            }
            let (order, spins) = await withCheckedContinuation { continuation in
                reactor.execute {
                    spinner.stop = true
                    continuation.resume(returning: (spinner.order, spinner.spins))
                }
            }
            #expect(order == Array(0..<10))
            #expect(spins > 0)
        }
    }

    @Test("inReactor is false off the reactor thread")
    func inReactorOffThread() async throws {
        try await withReactor { reactor in
            #expect(!reactor.inReactor)
        }
    }
}
