import Foundation
import Logging
import Reactor
import RESP
import Synchronization

/// What users hold: N multiplexed, pipelined connections to one server, spread over
/// a group of reactors, plus a bounded pool of dedicated connections for blocking
/// commands.
///
/// Every command goes to the least-loaded connection; the commands of one
/// ``pipeline(_:)`` or ``transaction(_:)`` stay together, contiguous, on one
/// connection. Thread safe; share one client per server and process (see
/// ``shared(_:)``).
///
/// ```swift
/// let client = try RedisClient(6379)
/// try await client.send("RPUSH", "jobs", "resize 42")
/// let job = try await client.lpop("jobs")
/// ```
///
/// Callback variants call their completion on a reactor thread, in reply order per
/// connection: never block inside one.
public final class RedisClient: Sendable {
    /// The server.
    public let endpoint: RedisEndpoint
    /// The effective configuration (URL credentials applied).
    public let configuration: RedisConfiguration
    /// The reactors this client's connections run on: its own, or the group it was given.
    ///
    /// A task that prefers one of them as its executor
    /// (`Task(executorPreference: client.reactors[0])`, or `addTask(executorPreference:)`
    /// in a task group) is resumed by each reply on the thread that read it; a plain task is
    /// resumed through Swift's global pool, which at depth costs the client about 2.5 times
    /// the CPU per awaited command (the README's Performance section). Once ``close()``
    /// has stopped a client's own reactors, a task preferring one runs on the global
    /// executor instead.
    public var reactors: [Reactor] { group.reactors }

    let group: ReactorGroup
    private let ownsGroup: Bool
    let connections: [RedisConnection]
    /// Indices into ``connections``, grouped by reactor: `reactorRanges` gives each
    /// reactor's range of it, and all of it is every connection. Flat, so that choosing
    /// a connection retains no array of its reactor's (a retain and a release a command).
    private let connectionOrder: [Int]
    /// Each reactor that has connections, with its range of ``connectionOrder``.
    private let reactorRanges: [(reactor: ObjectIdentifier, range: Range<Int>)]
    let blocking: BlockingConnectionPool
    /// Open ``RedisSubscription``s, each on a connection of its own.
    let subscriptions = SubscriptionRegistry()
    /// For a cluster endpoint (``RedisEndpoint/cluster(seeds:)``), what routes every
    /// command to its node; nil for one server, whose commands then pay one branch for it.
    /// A cluster client has no connections of its own: each node has a client of its own
    /// (``ClusterNode``) on this client's reactors.
    let router: ClusterRouter?
    /// ``router``, unretained (``withRouter(_:)``).
    private let lentRouter: Unmanaged<ClusterRouter>?
    /// Whether this client talks to one server (no ``router``), for the callback facade's
    /// inlined encoding (``sendEncoding(_:completion:)``): stored, since inlined code
    /// cannot see the router's type to test it for nil.
    @usableFromInline let isSingleServer: Bool
    /// Metrics and spans of this client's commands, and its periodic report; nil when
    /// both are off, and for a cluster's node client (its cluster client observes).
    let observer: ClientObserver?
    /// The periodic report of ``observer``'s gauges and counters.
    let reportTimer = Mutex<ScheduledTimer?>(nil)
    /// Async callers waiting for room while every connection is at its limits.
    private let capacityWaiters = CapacityWaiters()
    private let closed = Atomic<Bool>(false)
    private let cursor = Atomic<UInt>(0)
    /// Whether a command joins a write already forming on its reactor (see
    /// ``writeForming(in:)``): a cluster node's client, whose connections each carry a
    /// fraction of what one server's do.
    private let joinsFormingWrites: Bool

    /// Connects lazily: no socket is opened until the first command.
    ///
    /// - Parameters:
    ///   - endpoint: the server; an integer literal is a port on 127.0.0.1.
    ///   - configuration: connection and queueing settings.
    ///   - group: reactors to run on; by default the client creates (and on ``close()``
    ///     stops) one reactor per core.
    public convenience init(_ endpoint: RedisEndpoint, configuration: RedisConfiguration = .init(), group: ReactorGroup? = nil) throws(RedisError) {
        var configuration = configuration
        // A client's own, even when `configuration` is another client's.
        configuration.observer = nil
        try self.init(endpoint, configuration: configuration, group: group, onConnectionLoss: nil, routedFailures: nil)
    }

    /// The public initializer, plus `onConnectionLoss`: called on a reactor thread when
    /// one of the multiplexed connections, once ready, is lost (whether or not a command
    /// was waiting on it). A cluster's router learns of a lost node this way. A cluster's
    /// node client gets its cluster client's configuration, observer included: its
    /// connections count into the cluster client's metrics, and it observes no command
    /// itself (the cluster client observes each one once, whichever nodes it reaches).
    /// `routedFailures`: where the multiplexed connections hand the failures of a
    /// cluster's first attempts (``ReplyHandler/routed(_:bytes:)``), the node's router.
    init(_ endpoint: RedisEndpoint, configuration: RedisConfiguration, group: ReactorGroup?,
         onConnectionLoss: (@Sendable () -> Void)?, routedFailures: (any RoutedFailureHandler)?) throws(RedisError) {
        if !endpoint.isCluster, case .tcp(_, let port) = endpoint.address, !(1...65535).contains(port) {
            throw RedisError.invalidArgument("port \(port) is outside 1…65535")
        }
        guard configuration.maxBulkLength > 0 else {
            throw RedisError.invalidArgument("maxBulkLength \(configuration.maxBulkLength) is not positive")
        }
        self.endpoint = endpoint
        joinsFormingWrites = routedFailures != nil
        var configuration = configuration.applying(endpoint)
        if let tls = configuration.tls {
            configuration.tlsContext = try TLSContext(tls, endpoint: endpoint.description)
        }
        if configuration.observer == nil {
            configuration.observer = ClientObserver.make(configuration, endpoint: endpoint)
            observer = configuration.observer
        } else {
            observer = nil
        }
        self.configuration = configuration
        if let group {
            self.group = group
            ownsGroup = false
        } else {
            do {
                self.group = try ReactorGroup(name: "redis")
            } catch {
                throw RedisError.invalidArgument("cannot start reactors: \(error)")
            }
            ownsGroup = true
        }
        if endpoint.isCluster {
            do {
                let made = try ClusterRouter(endpoint: endpoint, configuration: configuration, group: self.group)
                router = made
                lentRouter = Unmanaged.passUnretained(made)
                isSingleServer = false
            } catch {
                if ownsGroup { self.group.shutdown() }
                throw error
            }
            connections = []
            connectionOrder = []
            reactorRanges = []
            blocking = BlockingConnectionPool(endpoint: endpoint, configuration: configuration, group: self.group)
            router?.startPeriodicRefresh()
            startReports()
            return
        }
        router = nil
        lentRouter = nil
        isSingleServer = true
        let count = max(1, configuration.connections ?? self.group.reactors.count)
        let reactors = self.group.reactors
        let waiters = capacityWaiters
        connections = (0..<count).map {
            RedisConnection(reactor: reactors[$0 % reactors.count], endpoint: endpoint, configuration: configuration, capacityWaiters: waiters,
                            onLoss: onConnectionLoss, routedFailures: routedFailures)
        }
        let built = connections
        var order: [Int] = []
        var ranges: [(reactor: ObjectIdentifier, range: Range<Int>)] = []
        for reactor in reactors {
            let start = order.count
            order += built.indices.filter { built[$0].reactor === reactor }
            if order.count > start { ranges.append((ObjectIdentifier(reactor), start..<order.count)) }
        }
        connectionOrder = order
        reactorRanges = ranges
        blocking = BlockingConnectionPool(endpoint: endpoint, configuration: configuration, group: self.group)
        startReports()
    }

    /// Whether ``close()`` has been called.
    public var isClosed: Bool { closed.load(ordering: .acquiring) }

    // MARK: Choosing a connection

    /// `body`'s result with ``router`` lent without a retain; nil for one server. What a
    /// callback command or pipeline is routed with: a retain and release of the one
    /// router, which every reactor thread shares, moved its cache line between the cores
    /// at every command (`redis-bench --cluster --workload rpush --api callback` on two
    /// reactors: 0.51 µs of CPU a command with the retain, 0.455 without).
    ///
    /// Sound: `self` is alive while this runs and holds the router in a `let` for all its
    /// life. What `body` keeps of the router it retains as any reference is.
    @inline(__always)
    func withRouter<Result>(_ body: (ClusterRouter) -> Result) -> Result? {
        guard let lentRouter else { return nil }
        return lentRouter.lend(heldBy: self, body)
    }

    /// The connection with the fewest pending commands (ties broken round robin),
    /// among those on the caller's own reactor when it runs on one: then neither the
    /// command nor the reply crosses threads (a task preferring a reactor as its
    /// executor, or a callback chaining its next command). On a cluster node's client, a
    /// write already forming there is joined first (``writeForming(in:)``).
    func pickConnection() -> RedisConnection {
        // The caller's reactor by identity: taking a reference to it cost a retain and a release.
        pickConnection(onReactor: Reactor.currentIdentifier)
    }

    /// ``pickConnection()`` for a caller that found its reactor already (`current`, the
    /// identity ``Reactor/currentIdentifier`` gave it): a cluster command, which looked it
    /// up for its route table, spares a second look-up (about 40 instructions).
    func pickConnection(onReactor current: ObjectIdentifier?) -> RedisConnection {
        if let current {
            // A linear scan: a handful of reactors, and hashing cost more than this per command.
            for entry in reactorRanges.indices where reactorRanges[entry].reactor == current {
                let range = reactorRanges[entry].range
                if joinsFormingWrites, let joined = writeForming(in: range) { return connections[joined] }
                let choice = leastLoaded(in: range)
                if !connections[choice].lacksDescriptor.load(ordering: .relaxed) { return connections[choice] }
            }
        }
        return connections[leastLoaded(in: connectionOrder.indices)]
    }

    /// Among one reactor's connections (`range` of ``connectionOrder``), the index of one
    /// whose write is forming in this iteration of its loop (commands queued, not yet
    /// written) and whose load is at most ``joinSlack`` above the least loaded's: the
    /// command then goes out in that write rather than starting a second one. The
    /// iteration's first command still goes to the least loaded, which keeps the loads
    /// level over iterations.
    private func writeForming(in range: Range<Int>) -> Int? {
        guard range.count > 1 else { return nil }
        var forming = -1
        var formingLoad = 0
        var least = Int.max
        for position in range {
            let index = connectionOrder[position]
            let load = connections[index].load.load(ordering: .relaxed)
            least = min(least, load)
            if forming < 0, connections[index].unsentBytes.load(ordering: .relaxed) > 0,
               !connections[index].lacksDescriptor.load(ordering: .relaxed) {
                forming = index
                formingLoad = load
            }
        }
        guard forming >= 0, formingLoad - least <= Self.joinSlack else { return nil }
        return forming
    }

    /// How many more pending commands than the least loaded a connection may hold and
    /// still be joined (``writeForming(in:)``).
    private static let joinSlack = 512

    /// The index in ``connections`` of the least loaded among `range` of ``connectionOrder``.
    private func leastLoaded(in range: Range<Int>) -> Int {
        if range.count == 1 { return connectionOrder[range.lowerBound] }
        let best = leastLoaded(in: range, skippingThoseWithoutDescriptor: false)
        // Only when the choice could not get a socket (the process is at its descriptor
        // limit) does a second scan look past such connections; when every one is in
        // that state, the choice tries again and fails its command clearly.
        guard connections[best].lacksDescriptor.load(ordering: .relaxed) else { return best }
        return leastLoaded(in: range, skippingThoseWithoutDescriptor: true)
    }

    private func leastLoaded(in range: Range<Int>, skippingThoseWithoutDescriptor skipping: Bool) -> Int {
        let count = range.count
        let first = range.lowerBound
        let start = Int(cursor.wrappingAdd(1, ordering: .relaxed).oldValue % UInt(count))
        // The scan keeps an index, not a reference: holding each candidate retained and
        // released it, about 300 instructions of every command's 3,700.
        var best = connectionOrder[first + start]
        var bestLoad = connections[best].load.load(ordering: .relaxed)
        if skipping && connections[best].lacksDescriptor.load(ordering: .relaxed) { bestLoad = .max }
        if bestLoad != 0 {
            var offset = start
            for _ in 1..<count {
                offset = offset + 1 == count ? 0 : offset + 1
                let index = connectionOrder[first + offset]
                if skipping && connections[index].lacksDescriptor.load(ordering: .relaxed) { continue }
                let load = connections[index].load.load(ordering: .relaxed)
                if load < bestLoad {
                    best = index
                    bestLoad = load
                    if load == 0 { break }
                }
            }
        }
        return best
    }

    private func isOverloaded(_ connection: RedisConnection, factor: Int) -> Bool {
        connection.load.load(ordering: .relaxed) >= configuration.maxPendingCommands * factor
            || connection.unsentBytes.load(ordering: .relaxed) >= configuration.maxUnsentBytes * factor
    }

    /// A connection with room for more, or `nil` when the one picked has none (or the
    /// client is closed): the synchronous common case of ``connectionWithCapacity()``,
    /// which spares async callers an async call level per command.
    func connectionIfRoom() -> RedisConnection? {
        connectionIfRoom(onReactor: Reactor.currentIdentifier)
    }

    /// ``connectionIfRoom()`` for a caller that found its reactor already
    /// (``pickConnection(onReactor:)``): an async cluster command.
    func connectionIfRoom(onReactor current: ObjectIdentifier?) -> RedisConnection? {
        guard !isClosed else { return nil }
        let connection = pickConnection(onReactor: current)
        return isOverloaded(connection, factor: 1) ? nil : connection
    }

    /// A connection with room for more, for async callers: suspends (without holding a
    /// thread) while every connection is at its limit, so memory stays bounded when
    /// the server stalls.
    nonisolated(nonsending) func connectionWithCapacity() async throws -> RedisConnection {
        var ticket: WaiterList.Ticket?
        while true {
            if let connection = connectionIfRoom() { return connection }
            guard !isClosed else { throw RedisError.closed }
            // Cancellation is reported as the package's own error, as for a command in flight.
            guard !Task.isCancelled else { throw RedisError.cancelled }
            await capacityWaiters.wait(ticket: &ticket) { [self] in isClosed || connectionIfRoom() != nil }
        }
    }

    /// A connection for a callback submission, or why there is none (the error to
    /// complete it with): callbacks cannot wait, so past twice the limits they fail fast.
    func connectionForCallback() -> CallbackConnection {
        connectionForCallback(onReactor: Reactor.currentIdentifier)
    }

    /// ``connectionForCallback()`` for a caller that found its reactor already
    /// (``pickConnection(onReactor:)``).
    func connectionForCallback(onReactor current: ObjectIdentifier?) -> CallbackConnection {
        guard !isClosed else { return .refused(.closed) }
        let connection = pickConnection(onReactor: current)
        if isOverloaded(connection, factor: 2) {
            return .refused(.overloaded(pending: connection.load.load(ordering: .relaxed), unsentBytes: connection.unsentBytes.load(ordering: .relaxed)))
        }
        return .ready(connection)
    }

    // MARK: Closing

    /// Closes the client: new commands fail with ``RedisError/closed``, commands in
    /// flight get up to `gracePeriod` to be answered, subscriptions end with
    /// ``RedisError/closed``, then sockets close and owned reactors stop. Idempotent. Must not be called from a reactor thread.
    public func close(gracePeriod: Duration = .seconds(5)) async {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        capacityWaiters.close()
        // Sampled before the close, so the last report sees the connections' final counts.
        defer { finishReports() }
        await router?.close(gracePeriod: gracePeriod)
        let subscribed = subscriptions.closeAll()
        for subscription in subscribed { subscription.end(throwing: .closed) }
        await withTaskGroup(of: Void.self) { group in
            for connection in connections + blocking.drainAll() + subscribed.flatMap(\.connections) {
                group.addTask {
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        if !connection.closeOnReactor(gracePeriod: gracePeriod, completion: { done.resume() }) { done.resume() }
                    }
                }
            }
        }
        if ownsGroup {
            // The group's threads are joined from a thread that is none of them.
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                Thread.detachNewThread { [group] in
                    group.shutdown()
                    done.resume()
                }
            }
        }
    }

    /// For the deinit of the cluster client that owns this node client: marks it closed
    /// (so that its own deinit does nothing) and hands over its connections, which that
    /// deinit closes on their reactors before it stops them.
    func detachForDeinit() -> [RedisConnection] {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return [] }
        capacityWaiters.close()
        return connections + blocking.drainAll()
    }

    deinit {
        guard !closed.load(ordering: .acquiring) else { return }
        // Nothing can reach the client any more, but its connections live on their
        // reactors: sockets (whose watchers hold them), timers (through links released
        // on close) and commands in flight.
        // Close each there, so that every pending command completes with an error and
        // nothing fires into a freed connection, then stop the threads we own. From a
        // thread of its own: this deinit may run on a reactor thread.
        capacityWaiters.close()
        reportTimer.withLock { $0?.cancel() }
        let connections = self.connections + blocking.drainAll() + (router?.detachForDeinit() ?? [])
        let group = self.group
        let ownsGroup = self.ownsGroup
        Thread.detachNewThread {
            for connection in connections {
                let done = DispatchSemaphore(value: 0)
                if connection.closeOnReactor(completion: { done.signal() }) {
                    done.wait()
                }
            }
            if ownsGroup { group.shutdown() }
        }
    }
}
