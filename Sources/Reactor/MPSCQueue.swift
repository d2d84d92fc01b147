import Synchronization

/// A lock-free multi-producer, single-consumer FIFO (Dmitry Vyukov's intrusive
/// MPSC queue with a stub node).
///
/// Why not `Mutex` + `Deque`: on Linux the standard `Mutex` is a priority-inheritance
/// futex, and with more producer threads than cores it was measured to collapse
/// (800,000 contended lock/unlock pairs from 8 threads on 2 cores: 6 ms on most runs,
/// 34 s on some). A producer here is one atomic exchange and one store.
///
/// Producers: `enqueue` from any thread. Consumer: `dequeue` and `isEmpty` only from
/// the one consumer thread (the reactor's).
///
/// The links live in a non-generic base class, and everything is `@inlinable`:
/// with a generic node class, every node's deinit looked up the metadata of
/// `Atomic<Unmanaged<Node<Element>>?>` at run time, which callgrind showed as half
/// the instructions of an async command round trip.
public final class MPSCQueue<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `head` is atomic; `tail` is touched only by the single
    // consumer; a node's `element` is written before the node is published by the
    // releasing exchange in `link` and read by the consumer after the acquiring load
    // of the link that reached it; the `stub` reference is immutable.

    @usableFromInline
    final class Node: MPSCLink {
        // No run-time exclusivity checks (each cost about 75 instructions, four per
        // element): `element` is written by `init` before the node is published and
        // then read and cleared only by the consumer in `take`, so no two accesses
        // can overlap.
        @exclusivity(unchecked) @usableFromInline var element: Element?
        @inlinable init(_ element: Element?) {
            self.element = element
            super.init()
        }
    }

    /// Result of one consumer poll.
    public enum Poll {
        /// The oldest element, now removed.
        case element(Element)
        /// Nothing queued.
        case empty
        /// A producer is between its two steps; its element becomes visible in a moment.
        case inProgress
    }

    @usableFromInline let stub = MPSCLink()
    @usableFromInline let head: Atomic<UnsafeMutableRawPointer>
    /// Consumer only. Unchecked for exclusivity for the same reason as `element`: one
    /// thread touches it, in `dequeue` and `isEmpty`, which call out to nothing.
    @exclusivity(unchecked) @usableFromInline var tail: UnsafeMutableRawPointer

    /// An empty queue.
    @inlinable
    public init() {
        let stub = Unmanaged.passUnretained(self.stub).toOpaque()
        head = Atomic(stub)
        tail = stub
    }

    @inlinable
    deinit {
        while case .element = dequeue() {}
    }

    /// Appends `element`. Any thread; never blocks.
    @inlinable
    public func enqueue(_ element: Element) {
        // The queue owns one retain of every node but the stub, taken here and
        // returned in `take`.
        link(Unmanaged<MPSCLink>.passRetained(Node(element)).toOpaque())
    }

    @inlinable
    func link(_ node: UnsafeMutableRawPointer) {
        MPSCLink.at(node).next.store(nil, ordering: .relaxed)
        let previous = head.exchange(node, ordering: .sequentiallyConsistent)
        MPSCLink.at(previous).next.store(node, ordering: .releasing)
    }

    /// Whether nothing is queued or in progress. Consumer thread only.
    ///
    /// Sequentially consistent, so that together with a sequentially consistent flag
    /// this forms the Dekker pattern the reactor's wakeup relies on.
    @inlinable
    public var isEmpty: Bool {
        let stub = Unmanaged.passUnretained(self.stub).toOpaque()
        return tail == stub && head.load(ordering: .sequentiallyConsistent) == stub
    }

    /// Removes the oldest element. Consumer thread only.
    @inlinable
    public func dequeue() -> Poll {
        let stub = Unmanaged.passUnretained(self.stub).toOpaque()
        var first = tail
        var next = MPSCLink.at(first).next.load(ordering: .acquiring)
        if first == stub {
            guard let afterStub = next else {
                return head.load(ordering: .sequentiallyConsistent) == stub ? .empty : .inProgress
            }
            tail = afterStub
            first = afterStub
            next = MPSCLink.at(afterStub).next.load(ordering: .acquiring)
        }
        if let next {
            tail = next
            return .element(take(first))
        }
        // `first` is the last linked node: only hand it out once something follows
        // it, or a producer linking behind it would write into a freed node.
        guard head.load(ordering: .sequentiallyConsistent) == first else { return .inProgress }
        link(stub)
        guard let afterFirst = MPSCLink.at(first).next.load(ordering: .acquiring) else {
            return .inProgress
        }
        tail = afterFirst
        return .element(take(first))
    }

    @inlinable
    func take(_ pointer: UnsafeMutableRawPointer) -> Element {
        let node = unsafeDowncast(Unmanaged<MPSCLink>.fromOpaque(pointer).takeRetainedValue(), to: Node.self)
        let element = node.element!
        node.element = nil
        return element
    }
}

/// The link part of a queue node, deliberately not generic (see ``MPSCQueue``).
@usableFromInline
class MPSCLink {
    @usableFromInline let next = Atomic<UnsafeMutableRawPointer?>(nil)

    @inlinable init() {}

    /// The node at `pointer`, without retaining it: the queue holds the retain.
    @inlinable
    static func at(_ pointer: UnsafeMutableRawPointer) -> MPSCLink {
        Unmanaged<MPSCLink>.fromOpaque(pointer).takeUnretainedValue()
    }
}
