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
/// The queue is generic over its node class, and a hot queue names a final,
/// non-generic one (``MPSCNode``): a generic node's deinit is the unspecialised
/// generic one, which looks up the metadata of `Optional<Element>` at run time to
/// destroy its field (330 instructions a node under callgrind, a tenth of an awaited
/// command's cost), while a concrete node's deinit knows its field's layout. The links
/// live in a non-generic base class, and everything is `@inlinable`, for the same reason.
/// ``MPSCQueue`` is this queue with the generic node, for any element type.
public final class MPSCNodeQueue<Node: MPSCNode>: @unchecked Sendable {
    // @unchecked Sendable: `head` is atomic; `tail` is touched only by the single
    // consumer; a node's `element` is written before the node is published by the
    // releasing exchange in `link` and read by the consumer after the acquiring load
    // of the link that reached it; the `stub` reference is immutable.

    /// What the queue carries.
    public typealias Element = Node.Element

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
    /// Consumer only. Unchecked for exclusivity for the same reason as a node's `element`
    /// (see ``MPSCNode``): one thread touches it, in `dequeue` and `isEmpty`, which call
    /// out to nothing.
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
        // Taken out, so that the node's deinit has nothing left to destroy.
        return node.element.take()!
    }
}

/// A lock-free multi-producer, single-consumer FIFO of any element type: an
/// ``MPSCNodeQueue`` with the generic node ``MPSCBox``. Off the hot path; a queue that
/// carries one type per command declares its own node (see ``MPSCNodeQueue``).
public typealias MPSCQueue<Element: Sendable> = MPSCNodeQueue<MPSCBox<Element>>

/// The link part of a queue node, deliberately not generic (see ``MPSCNodeQueue``).
/// Subclassed only by ``MPSCNode`` classes.
open class MPSCLink {
    @usableFromInline final let next = Atomic<UnsafeMutableRawPointer?>(nil)

    /// A link not yet in any queue.
    @inlinable public init() {}

    /// The node at `pointer`, without retaining it: the queue holds the retain.
    @inlinable
    static func at(_ pointer: UnsafeMutableRawPointer) -> MPSCLink {
        Unmanaged<MPSCLink>.fromOpaque(pointer).takeUnretainedValue()
    }
}

/// A node of an ``MPSCNodeQueue``: a final subclass of ``MPSCLink`` holding one element.
///
/// A queue that carries one type on a hot path declares its own node class, not
/// generic, for its deinit's sake (see ``MPSCNodeQueue``):
///
/// ```swift
/// final class SubmissionNode: MPSCLink, MPSCNode {
///     @exclusivity(unchecked) var element: Submission?
///     init(_ element: Submission) { self.element = element }
/// }
/// ```
///
/// The queue writes `element` only in `init`, before the node is published, and reads
/// and clears it only on the consumer's thread, so no two accesses overlap: a node class
/// may declare it `@exclusivity(unchecked)` (run-time exclusivity checks cost about 75
/// instructions each, four an element).
public protocol MPSCNode: MPSCLink {
    /// What the node carries.
    associatedtype Element: Sendable
    /// A node holding `element`.
    init(_ element: Element)
    /// The element, until the consumer takes it out.
    var element: Element? { get set }
}

/// A node for any element type: for queues off the hot path, and tests. Its deinit
/// is generic (see ``MPSCNodeQueue``).
public final class MPSCBox<Element: Sendable>: MPSCLink, MPSCNode {
    /// The element, until the consumer takes it out (see ``MPSCNode`` for why unchecked).
    @exclusivity(unchecked) public var element: Element?

    /// A node holding `element`.
    @inlinable public init(_ element: Element) {
        self.element = element
        super.init()
    }
}
