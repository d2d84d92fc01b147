import Foundation
import Reactor
import Synchronization
import TestSupport
import Testing

@Suite("Reactor timers")
struct TimerTests {
    @Test("timers fire in deadline order; cancelled ones never fire")
    func deadlineOrder() async throws {
        try await withReactor { reactor in
            let fired = Recorder<Int>()
            // Shuffled deadlines 10 ms apart, the first 200 ms out: clock reads a few ms
            // apart cannot swap two deadlines, even under the thread sanitizer. The reactor
            // is held while they are scheduled and some cancelled, so none fires before its
            // cancellation however long this thread is preempted.
            var delays = Array(1...40)
            var generator = SeededGenerator(seed: 7)
            delays.shuffle(using: &generator)
            var handles: [Int: ScheduledTimer] = [:]
            // The reactor takes the deadline when `schedule` is called; record the same,
            // so a test thread preempted between two calls cannot make the test wrong.
            var windows: [Int: ClosedRange<ContinuousClock.Instant>] = [:]
            let cancelled = Set(delays.filter { $0 % 3 == 0 })
            await whileHeld(reactor) {
                for step in delays {
                    let before = ContinuousClock.now
                    handles[step] = reactor.schedule(after: .milliseconds(200 + 10 * step)) { fired.append(step) }
                    windows[step] = (before + .milliseconds(200 + 10 * step))...(ContinuousClock.now + .milliseconds(200 + 10 * step))
                }
                for step in cancelled { handles[step]!.cancel() }
            }
            #expect(handles[3]!.isCancelled)

            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                reactor.schedule(after: .milliseconds(200 + 10 * 41 + 20)) { done.resume() }
            }
            #expect(Set(fired.values) == Set((1...40).filter { !cancelled.contains($0) }))
            #expect(fired.values.count == 40 - cancelled.count)
            expectDeadlineOrder(fired.values, windows)
        }
    }

    @Test("timers that come due together, behind a busy reactor, still fire in deadline order")
    func overdueTogether() async throws {
        try await withReactor { reactor in
            let fired = Recorder<Int>()
            final class Flags: Sendable {
                let busy = Atomic<Bool>(false)
                let scheduled = Atomic<Bool>(false)
            }
            let flags = Flags()
            // Occupy the reactor until every timer below is scheduled and overdue, however
            // slow this thread is (the thread sanitizer slows it a lot).
            reactor.execute {
                flags.busy.store(true, ordering: .releasing)
                while !flags.scheduled.load(ordering: .acquiring) { usleep(1_000) }
                usleep(230_000)
            }
            while !flags.busy.load(ordering: .acquiring) { usleep(100) }
            var steps = Array(1...20)
            var generator = SeededGenerator(seed: 11)
            steps.shuffle(using: &generator)
            // The reactor takes each deadline inside `schedule`; this thread can be preempted
            // around any call, so it records the window the deadline must lie in.
            var windows: [Int: ClosedRange<ContinuousClock.Instant>] = [:]
            for step in steps {
                let before = ContinuousClock.now
                reactor.schedule(after: .milliseconds(10 * step)) { fired.append(step) }
                windows[step] = (before + .milliseconds(10 * step))...(ContinuousClock.now + .milliseconds(10 * step))
            }
            flags.scheduled.store(true, ordering: .releasing)
            // Due after every timer above (the last is due 200 ms after its own call, which
            // came before this one), so it fires after them: the count cannot race the
            // reactor still working through the overdue ones.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                reactor.schedule(after: .milliseconds(250)) { done.resume() }
            }
            #expect(fired.values.count == 20)
            expectDeadlineOrder(fired.values, windows)
        }
    }

    @Test("a repeating timer fires until cancelled, then never again")
    func repeating() async throws {
        try await withReactor { reactor in
            let count = Atomic<Int>(0)
            let handle = reactor.schedule(after: .milliseconds(1), repeating: .milliseconds(2)) {
                count.add(1, ordering: .relaxed)
            }
            while count.load(ordering: .relaxed) < 5 { try await Task.sleep(for: .milliseconds(2)) }
            handle.cancel()
            await drain(reactor)
            let atCancel = count.load(ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(30))
            let later = count.load(ordering: .relaxed)
            #expect(later == atCancel)
            #expect(atCancel >= 5)
        }
    }

    @Test("a timer cancelled from another thread while pending does not fire")
    func cancelFromAnotherThread() async throws {
        try await withReactor { reactor in
            let fired = Atomic<Bool>(false)
            // The reactor is held until the other thread has cancelled it, so it cannot come
            // due first however slowly a loaded machine starts that thread (20 ms once took
            // longer than a timer's delay); a later timer, which the reactor fires after the
            // cancelled one's deadline, tells when to look.
            await whileHeld(reactor) {
                let handle = reactor.schedule(after: .milliseconds(20)) { fired.store(true, ordering: .relaxed) }
                await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                    Thread.detachNewThread {
                        handle.cancel()
                        handle.cancel()
                        done.resume()
                    }
                }
            }
            await withCheckedContinuation { (later: CheckedContinuation<Void, Never>) in
                reactor.schedule(after: .milliseconds(30)) { later.resume() }
            }
            let didFire = fired.load(ordering: .relaxed)
            #expect(!didFire)
        }
    }

    @Test("a zero delay timer runs on the reactor thread")
    func zeroDelay() async throws {
        try await withReactor { reactor in
            let onReactor = await withCheckedContinuation { continuation in
                reactor.schedule(after: .zero) { continuation.resume(returning: reactor.inReactor) }
            }
            #expect(onReactor)
        }
    }
}

/// Each timer fired no earlier than the one before it could have been due: `a` then `b` is
/// wrong only if `a`'s earliest possible deadline lies after `b`'s latest possible one.
func expectDeadlineOrder(_ fired: [Int], _ windows: [Int: ClosedRange<ContinuousClock.Instant>],
                         sourceLocation: SourceLocation = #_sourceLocation) {
    for (a, b) in zip(fired, fired.dropFirst()) {
        #expect(windows[a]!.lowerBound <= windows[b]!.upperBound, "timer \(a) fired before \(b)", sourceLocation: sourceLocation)
    }
}

