/// The reactor's timers, in a binary min-heap ordered by (deadline, creation order).
///
/// One libevent timer stands for the earliest entry. Keeping the order here rather
/// than in one libevent event per timer guarantees that timers already overdue
/// together (a busy reactor) still fire in deadline order; libevent would fire all
/// of them at "now" in heap order. Cancelled entries are skipped when they come due
/// and swept out whenever the heap has doubled since the last sweep.
struct TimerQueue {
    struct Entry {
        var deadline: UInt64
        var sequence: UInt64
        let timer: PendingTimer

        func precedes(_ other: Entry) -> Bool {
            deadline != other.deadline ? deadline < other.deadline : sequence < other.sequence
        }
    }

    private var heap: [Entry] = []
    private var nextSequence: UInt64 = 0
    private var sweepAt = 64

    var isEmpty: Bool { heap.isEmpty }
    var count: Int { heap.count }
    var earliestDeadline: UInt64? { heap.first?.deadline }

    /// Adds a timer; returns whether it became the earliest.
    mutating func insert(_ timer: PendingTimer, deadline: UInt64) -> Bool {
        if heap.count >= sweepAt { sweepCancelled() }
        heap.append(Entry(deadline: deadline, sequence: nextSequence, timer: timer))
        nextSequence &+= 1
        siftUp(heap.count - 1)
        return heap[0].timer === timer
    }

    /// Removes and returns the earliest entry if it is due at `now`.
    mutating func popDue(now: UInt64) -> Entry? {
        guard let first = heap.first, first.deadline <= now else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            siftDown(0)
        }
        return first
    }

    private mutating func sweepCancelled() {
        heap.removeAll { $0.timer.state.isCancelled }
        // Re-heapify bottom up: O(n).
        for index in stride(from: heap.count / 2 - 1, through: 0, by: -1) { siftDown(index) }
        sweepAt = max(64, heap.count * 2)
    }

    private mutating func siftUp(_ start: Int) {
        var child = start
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].precedes(heap[parent]) else { return }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    private mutating func siftDown(_ start: Int) {
        var parent = start
        while true {
            let left = 2 * parent + 1
            guard left < heap.count else { return }
            var smallest = left
            let right = left + 1
            if right < heap.count && heap[right].precedes(heap[left]) { smallest = right }
            guard heap[smallest].precedes(heap[parent]) else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}

/// A timer's body and period; confined to the reactor thread.
final class PendingTimer {
    let state: TimerState
    let period: UInt64?
    let body: () -> Void

    init(state: TimerState, period: UInt64?, body: @escaping () -> Void) {
        self.state = state
        self.period = period
        self.body = body
    }
}
