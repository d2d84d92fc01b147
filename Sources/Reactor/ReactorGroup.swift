#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Synchronization

/// A fixed set of started reactors, handed out round robin.
///
/// ```swift
/// let group = try ReactorGroup()          // one reactor per active core
/// let reactor = group.next()
/// ```
public final class ReactorGroup: Sendable {
    /// The reactors, all started.
    public let reactors: [Reactor]
    private let cursor = Atomic<UInt>(0)

    /// Creates and starts `count` reactors (default: the number of cores this process may run on).
    public init(count: Int = ReactorGroup.activeProcessorCount, name: String = "reactor") throws(ReactorError) {
        precondition(count > 0, "ReactorGroup needs at least one reactor, got \(count)")
        var reactors: [Reactor] = []
        do {
            for index in 0..<count {
                let reactor = try Reactor(name: "\(name)-\(index)")
                try reactor.start()
                reactors.append(reactor)
            }
        } catch {
            for reactor in reactors { reactor.shutdown() }
            throw error
        }
        self.reactors = reactors
    }

    /// The next reactor, round robin. Any thread.
    public func next() -> Reactor {
        let ticket = cursor.wrappingAdd(1, ordering: .relaxed).oldValue
        return reactors[Int(ticket % UInt(reactors.count))]
    }

    /// Shuts every reactor down gracefully. Idempotent; not from one of the group's threads.
    public func shutdown() {
        for reactor in reactors { reactor.shutdown() }
    }

    /// A group released without ``shutdown()`` stops its reactors (their threads keep
    /// them alive, so nothing else would). From a thread of its own, since the last
    /// reference may be dropped on one of those reactors' threads.
    deinit {
        let reactors = self.reactors
        let stop = { for reactor in reactors { reactor.shutdown() } }
        if let thread = try? spawnThread(name: "group-stop", stop) {
            pthread_detach(thread)
        } else if !reactors.contains(where: \.inReactor) {
            stop()
        }
    }

    /// The number of online CPUs, at least 1.
    public static var activeProcessorCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }
}
