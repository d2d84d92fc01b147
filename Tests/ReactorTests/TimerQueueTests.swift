@testable import Reactor
import TestSupport
import Testing

@Suite("TimerQueue (the reactor's timer heap)")
struct TimerQueueTests {
    @Test("pops due entries by deadline, then by insertion order; skips nothing early")
    func ordering() {
        var queue = TimerQueue()
        var generator = SeededGenerator(seed: 3)
        var inserted: [(deadline: UInt64, id: Int)] = []
        var timers: [ObjectIdentifier: Int] = [:]
        for id in 0..<500 {
            let deadline = UInt64.random(in: 0..<50, using: &generator)
            let timer = PendingTimer(state: TimerState(), period: nil, body: {})
            timers[ObjectIdentifier(timer)] = id
            _ = queue.insert(timer, deadline: deadline)
            inserted.append((deadline, id))
        }
        #expect(queue.popDue(now: 0) == nil || inserted.contains { $0.deadline == 0 })
        queue = TimerQueue()
        for (deadline, id) in inserted {
            let timer = PendingTimer(state: TimerState(), period: nil, body: {})
            timers[ObjectIdentifier(timer)] = id
            _ = queue.insert(timer, deadline: deadline)
        }
        var popped: [(UInt64, Int)] = []
        while let entry = queue.popDue(now: 49) { popped.append((entry.deadline, timers[ObjectIdentifier(entry.timer)]!)) }
        let expected = inserted.sorted { $0.deadline != $1.deadline ? $0.deadline < $1.deadline : $0.id < $1.id }
        #expect(popped.map(\.0) == expected.map(\.deadline))
        #expect(popped.map(\.1) == expected.map(\.id))
        #expect(queue.isEmpty)
    }

    @Test("cancelled entries are swept when the heap grows")
    func sweep() {
        var queue = TimerQueue()
        for _ in 0..<1_000 {
            let state = TimerState()
            state.cancelled.store(true, ordering: .relaxed)
            _ = queue.insert(PendingTimer(state: state, period: nil, body: {}), deadline: 1_000)
        }
        #expect(queue.count < 200)
    }
}
