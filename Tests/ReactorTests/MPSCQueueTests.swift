@testable import Reactor
import Foundation
import Synchronization
import Testing

@Suite("MPSCQueue (the reactor's lock-free submission queue)")
struct MPSCQueueTests {
    @Test("single thread: FIFO, empty reporting, reuse after emptying")
    func singleThread() {
        let queue = MPSCQueue<Int>()
        #expect(queue.isEmpty)
        guard case .empty = queue.dequeue() else { Issue.record("expected empty"); return }
        for round in 0..<3 {
            for i in 0..<5 { queue.enqueue(round * 10 + i) }
            #expect(!queue.isEmpty)
            var seen: [Int] = []
            while case .element(let value) = queue.dequeue() { seen.append(value) }
            #expect(seen == (0..<5).map { round * 10 + $0 })
            #expect(queue.isEmpty)
        }
    }

    @Test("4 producers × 50,000 against one consumer: nothing lost, nothing doubled, FIFO per producer")
    func concurrentProducers() async {
        let queue = MPSCQueue<Int>()
        let producers = 4, perProducer = 50_000
        let finished = Atomic<Int>(0)
        for producer in 0..<producers {
            Thread.detachNewThread {
                for i in 0..<perProducer { queue.enqueue(producer * perProducer + i) }
                finished.add(1, ordering: .releasing)
            }
        }
        var next = (0..<producers).map { $0 * perProducer }
        var received = 0, outOfOrder = 0
        while received < producers * perProducer {
            switch queue.dequeue() {
            case .element(let value):
                let producer = value / perProducer
                if value != next[producer] { outOfOrder += 1 }
                next[producer] = value + 1
                received += 1
            case .empty, .inProgress:
                await Task.yield()
            }
        }
        #expect(outOfOrder == 0)
        while finished.load(ordering: .acquiring) < producers { await Task.yield() }
        #expect(queue.isEmpty)
    }

    @Test("elements left in the queue are released with it")
    func releasesOnDeinit() {
        final class Probe: Sendable {}
        weak var probe: Probe?
        do {
            let queue = MPSCQueue<Probe>()
            let object = Probe()
            probe = object
            queue.enqueue(object)
        }
        #expect(probe == nil)
    }

    @Test("a queue of a concrete node class (as the hot queues declare): FIFO, and taken or left elements released")
    func concreteNode() {
        final class Probe: Sendable { let value: Int; init(_ value: Int) { self.value = value } }
        final class ProbeNode: MPSCLink, MPSCNode {
            @exclusivity(unchecked) var element: Probe?
            init(_ element: Probe) { self.element = element }
        }
        weak var taken: Probe?
        weak var left: Probe?
        do {
            let queue = MPSCNodeQueue<ProbeNode>()
            do {
                let first = Probe(1), second = Probe(2)
                taken = first
                left = second
                queue.enqueue(first)
                queue.enqueue(second)
            }
            guard case .element(let value) = queue.dequeue() else { Issue.record("expected an element"); return }
            #expect(value.value == 1)
            #expect(left != nil)
        }
        #expect(taken == nil)
        #expect(left == nil)
    }
}
