#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import CLibevent
import Dispatch
import Synchronization

/// An event loop: one OS thread running one libevent `event_base`.
///
/// Everything a reactor owns (its libevent events, fd watchers, end-of-iteration
/// callbacks) is touched only on its own thread. Other threads reach it through
/// ``execute(_:)``, ``schedule(after:repeating:_:)`` and ``shutdown()``, which are
/// documented as safe from any thread; every other method must be called on the
/// reactor's thread and checks that it is.
///
/// ```swift
/// let reactor = try Reactor(name: "io-0")
/// try reactor.start()
/// reactor.execute { print("on the reactor thread") }
/// reactor.shutdown()
/// ```
///
/// One iteration of the loop is: wait for readiness or a timer (libevent), run the
/// callbacks that became active, run the work submitted from other threads, then
/// run the end-of-iteration callbacks. Connections use the last step to write
/// everything submitted during the iteration with a single system call.
public final class Reactor: @unchecked Sendable {
    // @unchecked Sendable: the stored properties fall in three groups.
    // 1. Immutable after init (`name`, `base`, `wakeup`).
    // 2. Shared across threads, each atomic or behind `Mutex` (`submissions` is a
    //    lock-free queue whose consumer side only the loop thread uses; `admission`,
    //    `sleeping`, `lifecycle`, `threadID`).
    // 3. Confined to the reactor thread (`localSubmissions`, `runningLocalSubmissions`,
    //    `firstEndOfIteration`, `endOfIteration`, `runningEndOfIteration`,
    //    `resources`, `wakeupEvent`, `timers`, `timerEvent`): every access is inside the loop thread's own code
    //    path or in a method that begins with `preconditionInReactor()`; before
    //    `start()` and after the thread is joined no other thread can be running that
    //    code, and `pthread_create`/`pthread_join` order the memory accesses.

    /// A label for the thread and for diagnostics.
    public let name: String

    let base: OpaquePointer
    private let wakeup: Wakeup
    private let submissions = MPSCNodeQueue<WorkItemNode>()
    /// Bit 0: shutdown requested. Bits 1…: twice the number of other-thread producers
    /// between their admission check and their enqueue; shutdown waits for them, so
    /// an accepted submission is never stranded.
    private let admission = Atomic<Int>(0)
    /// Set by the loop just before it may block; the producer that clears it signals
    /// the eventfd. One wakeup per sleep, however many producers.
    private let sleeping = Atomic<Bool>(false)
    private let lifecycle = Mutex(LifecycleState())
    private let threadID = Atomic<UInt>(0)

    /// Work the reactor's own thread submitted (a task resumed by a reply it read, a
    /// callback's follow-up): no lock-free queue node, no atomics. Unchecked for
    /// exclusivity: only the reactor thread touches these, each access is a single
    /// append, swap or element read, and the work run in between reaches only
    /// `localSubmissions` through `submit`, never the array being run.
    @exclusivity(unchecked) private var localSubmissions: [WorkItem] = []
    @exclusivity(unchecked) private var runningLocalSubmissions: [WorkItem] = []
    /// What runs at the end of the iteration (a connection's flush): the first work
    /// scheduled, then the others in order, and the batch being run. Unchecked for the
    /// same reasons: the bodies reach only `firstEndOfIteration` and `endOfIteration`,
    /// through ``atEndOfIteration(_:)``, never the batch being run. The first has a slot
    /// of its own because it is most often the only one (one connection per reactor
    /// thread with commands queued): taking it out of an optional costs less than an
    /// array's swap, iteration and clearing, which at one command in flight came once a
    /// round trip (about 100 instructions).
    @exclusivity(unchecked) private var firstEndOfIteration: (any EndOfIterationWork)?
    @exclusivity(unchecked) private var endOfIteration: [any EndOfIterationWork] = []
    @exclusivity(unchecked) private var runningEndOfIteration: [any EndOfIterationWork] = []
    private var resources: [ObjectIdentifier: any ReactorResource] = [:]
    private var wakeupEvent: WakeupEvent?
    /// The serial-executor role (see `Reactor+Executor.swift`); immutable after init.
    private(set) var serialExecutorFacet: ReactorSerialExecutor!
    var timers = TimerQueue()
    var timerEvent: TimerWakeEvent?

    /// Creates a reactor; its thread begins with ``start()``.
    public init(name: String = "reactor") throws(ReactorError) {
        self.name = name
        self.afterShutdown = DispatchQueue(label: "reactor.\(name).after-shutdown")
        self.wakeup = try Wakeup()
        guard let config = event_config_new() else { throw ReactorError("event_config_new") }
        defer { event_config_free(config) }
        // No libevent locking: only the reactor thread ever calls into this base.
        // The changelist folds several interest changes on one fd within an iteration
        // into a single epoll_ctl.
        event_config_set_flag(config, Int32(EVENT_BASE_FLAG_NOLOCK.rawValue))
        event_config_set_flag(config, Int32(EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST.rawValue))
        guard let base = event_base_new_with_config(config) else { throw ReactorError("event_base_new") }
        self.base = base
        let wakeupEvent = WakeupEvent(base: base, fd: wakeup.fd, wakeup: { [unowned self] in self.wakeup.consume() })
        wakeupEvent.add()
        self.wakeupEvent = wakeupEvent
        self.serialExecutorFacet = ReactorSerialExecutor(reactor: self)
        self.timerEvent = TimerWakeEvent(base: base, fired: { [unowned self] in self.runDueTimers() })
    }

    deinit {
        // Released without ever running its thread (a running one is kept alive by it),
        // yet holding work it accepted: run that here, as the reactor (nothing else can
        // reach an object being deinitialised), rather than drop it.
        threadID.store(UInt(pthread_self()), ordering: .relaxed)
        while case .element(let item) = submissions.dequeue() { runOrphaned(item) }
        while !localSubmissions.isEmpty {
            let items = localSubmissions
            localSubmissions.removeAll()
            for item in items { runOrphaned(item) }
        }
        threadID.store(0, ordering: .relaxed)
        wakeupEvent?.free()
        timerEvent?.free()
        for resource in resources.values { resource.releaseOnShutdown() }
        event_base_free(base)
    }

    /// Runs work accepted by a reactor being deinitialised. A task's job goes to the
    /// global executor (its preference cannot be honoured by a dying reactor); an
    /// actor's job cannot run anywhere else.
    private func runOrphaned(_ item: WorkItem) {
        switch item {
        case .closure(let work): work()
        case .taskJob(let job): globalConcurrentExecutor.enqueue(ExecutorJob(job))
        case .actorJob: preconditionFailure("reactor '\(name)' released with a job of an actor it serves still queued")
        }
    }

    /// Whether the calling thread is this reactor's thread. Any thread.
    public var inReactor: Bool {
        threadID.load(ordering: .acquiring) == UInt(pthread_self())
    }

    /// Traps with a clear message when called off the reactor thread.
    @inlinable
    public func preconditionInReactor(_ function: StaticString = #function) {
        precondition(inReactor, "Reactor.\(function) must be called on the reactor's own thread")
    }

    // MARK: Lifecycle

    /// Starts the reactor's thread. Idempotent; any thread.
    public func start() throws(ReactorError) {
        let shouldSpawn = lifecycle.withLock { state -> Bool in
            guard case .idle = state.phase else { return false }
            state.phase = .starting
            return true
        }
        guard shouldSpawn else { return }
        let thread: pthread_t
        do {
            thread = try spawnThread(name: name) { [self] in runLoop() }
        } catch {
            enter(.idle)
            throw error
        }
        threadID.store(UInt(thread), ordering: .releasing)
        enter(.running(thread))
    }

    /// Where the jobs of an actor whose executor is this reactor run once it has shut
    /// down (``ReactorSerialExecutor``): one after another, in order.
    let afterShutdown: DispatchQueue

    /// Returns once the reactor has stopped (its thread joined). Any thread but the
    /// reactor's; at once when it has stopped already.
    func waitUntilStopped() {
        while true {
            let waiter = lifecycle.withLock { state -> DispatchSemaphore? in
                if case .stopped = state.phase { return nil }
                let waiter = DispatchSemaphore(value: 0)
                state.waiters.append(waiter)
                return waiter
            }
            guard let waiter else { return }
            waiter.wait()
        }
    }

    /// Moves the lifecycle to `phase` and wakes the callers waiting for it to move.
    private func enter(_ phase: Lifecycle) {
        let waiters = lifecycle.withLock { state in
            state.phase = phase
            defer { state.waiters.removeAll() }
            return state.waiters
        }
        for waiter in waiters { waiter.signal() }
    }

    /// Stops the reactor gracefully: work already submitted runs (and the work it
    /// submits in turn), pending timers are dropped, registered fds are released,
    /// then the thread is joined. Idempotent; any thread except the reactor's own,
    /// where waiting for itself would deadlock.
    public func shutdown() {
        precondition(!inReactor, "Reactor.shutdown() called on the reactor's own thread: it would wait for itself. Call it from another thread.")
        enum Step { case join(pthread_t), waitForOtherCaller(DispatchSemaphore), done, startFirst }
        while true {
            let step = lifecycle.withLock { state -> Step in
                switch state.phase {
                case .idle: return .startFirst
                case .running(let thread):
                    state.phase = .stopping
                    return .join(thread)
                case .starting, .stopping:
                    // Another caller is starting or stopping it: wait for that to end.
                    let waiter = DispatchSemaphore(value: 0)
                    state.waiters.append(waiter)
                    return .waitForOtherCaller(waiter)
                case .stopped: return .done
                }
            }
            switch step {
            case .startFirst:
                // A never-started reactor may hold submitted work; running it is the
                // only way to honour "submitted work runs".
                do { try start() } catch {
                    enter(.stopped)
                    return
                }
            case .waitForOtherCaller(let waiter):
                waiter.wait()
            case .done:
                return
            case .join(let thread):
                admission.bitwiseOr(1, ordering: .sequentiallyConsistent)
                wakeup.signal()
                pthread_join(thread, nil)
                enter(.stopped)
                return
            }
        }
    }

    // MARK: Cross-thread submission

    /// Runs `work` on the reactor thread, in submission order per submitting thread. Any thread.
    ///
    /// Work submitted from the reactor's own thread runs after the current step, never inline.
    /// Submitting to a reactor that has shut down is a programming error and traps;
    /// code that can race with shutdown uses ``executeIfRunning(_:)``.
    public func execute(_ work: @escaping @Sendable () -> Void) {
        guard submit(.closure(work)) else {
            preconditionFailure("Reactor.execute(_:) on reactor '\(name)' after it shut down")
        }
    }

    /// Like ``execute(_:)`` but returns `false` instead of trapping when the reactor
    /// no longer accepts work (the work is then not run). Any thread.
    @discardableResult
    public func executeIfRunning(_ work: @escaping @Sendable () -> Void) -> Bool {
        submit(.closure(work))
    }

    func submit(_ item: WorkItem) -> Bool {
        if inReactor {
            // The loop drains this before it blocks, so no wakeup is needed; and during
            // a graceful shutdown work spawned by accepted work must still run.
            localSubmissions.append(item)
            return true
        }
        let state = admission.add(2, ordering: .sequentiallyConsistent).newValue
        defer { admission.subtract(2, ordering: .sequentiallyConsistent) }
        guard state & 1 == 0 else { return false }
        submissions.enqueue(item)
        if sleeping.load(ordering: .sequentiallyConsistent) && sleeping.exchange(false, ordering: .sequentiallyConsistent) {
            wakeup.signal()
        }
        return true
    }

    // MARK: Reactor-thread API

    /// Runs `body` on the reactor thread once the current loop iteration's events and
    /// submitted work have been handled. Reactor thread only.
    ///
    /// This is where connections flush: everything queued during an iteration leaves
    /// in one write.
    public func atEndOfIteration(_ body: @escaping () -> Void) {
        atEndOfIteration(EndOfIterationClosure(body))
    }

    /// Runs `work` as ``atEndOfIteration(_:)-(()->Void)`` runs a closure, for an object
    /// that schedules itself: a retain, where a closure capturing it is allocated and
    /// freed each time (at one command in flight, a connection's flush every iteration).
    public func atEndOfIteration(_ work: any EndOfIterationWork) {
        preconditionInReactor()
        if firstEndOfIteration == nil && endOfIteration.isEmpty {
            firstEndOfIteration = work
        } else {
            endOfIteration.append(work)
        }
    }

    /// Keeps `resource` alive while libevent may call it, and releases it at shutdown.
    func register(_ resource: any ReactorResource, key: ObjectIdentifier) {
        resources[key] = resource
    }

    @discardableResult
    func unregister(key: ObjectIdentifier) -> (any ReactorResource)? {
        resources.removeValue(forKey: key)
    }

    // MARK: The loop

    private func runLoop() {
        threadID.store(UInt(pthread_self()), ordering: .releasing)
        markCurrentThread()
        var moreWork = false
        while true {
            let stopping = admission.load(ordering: .sequentiallyConsistent) & 1 != 0
            if !moreWork && !stopping {
                // Dekker with `submit`: either a producer sees `sleeping` and signals,
                // or this check sees its element.
                sleeping.store(true, ordering: .sequentiallyConsistent)
                if !submissions.isEmpty || !localSubmissions.isEmpty {
                    sleeping.store(false, ordering: .relaxed)
                    moreWork = true
                }
            }
            // While stopping the loop never blocks: a producer refused by admission
            // does not signal, and the loop must notice it has left.
            let flags = moreWork || stopping ? EVLOOP_ONCE | EVLOOP_NONBLOCK : EVLOOP_ONCE
            if event_base_loop(base, Int32(flags)) < 0 {
                preconditionFailure("event_base_loop failed on reactor '\(name)'")
            }
            sleeping.store(false, ordering: .relaxed)
            let moreSubmitted = drainSubmissions()
            let moreAtEnd = runEndOfIteration()
            moreWork = moreSubmitted || moreAtEnd
            // Exit only once shutdown was requested, no producer is mid-submission,
            // and nothing is queued: everything accepted has run.
            if !moreWork && admission.load(ordering: .sequentiallyConsistent) == 1 && submissions.isEmpty && localSubmissions.isEmpty { break }
        }
        // Teardown, still as the reactor thread: releasing fd watchers and dropping
        // pending timers (not run: their bodies may expect a live reactor) ends objects
        // whose deinit may submit work, which lands in `localSubmissions`. Run it, and
        // what it submits in turn, before this thread stops passing for the reactor.
        // Bounded, against work that resubmits itself for ever.
        for _ in 0..<64 {
            do {
                // Moved out first, then released: a deinit that schedules a timer or
                // watches an fd again must not find `timers` or `resources` mid-change.
                let released = resources
                resources.removeAll()
                let dropped = timers
                timers = TimerQueue()
                for resource in released.values { resource.releaseOnShutdown() }
                withExtendedLifetime((released, dropped)) {}
            }
            let moreSubmitted = drainSubmissions()
            let more = runEndOfIteration() || moreSubmitted
            if !more && resources.isEmpty && localSubmissions.isEmpty && firstEndOfIteration == nil && endOfIteration.isEmpty && timers.earliestDeadline == nil { break }
        }
        // pthread_t values are reused once a thread is joined: a later thread with this
        // id must not pass for the reactor (it would have work accepted that never runs).
        threadID.store(0, ordering: .releasing)
        wakeupEvent?.free()
        wakeupEvent = nil
        timerEvent?.free()
        timerEvent = nil
    }

    /// Runs submitted work, other threads' and then the reactor's own, each in FIFO
    /// order; bounded so that work which keeps resubmitting itself cannot starve I/O
    /// (what the reactor's own work submits runs in the next round). Returns whether
    /// work remains.
    private func drainSubmissions() -> Bool {
        var more = true
        drain: for _ in 0..<4096 {
            switch submissions.dequeue() {
            case .element(let item): run(item)
            case .empty:
                more = false
                break drain
            case .inProgress: break drain
            }
        }
        if !localSubmissions.isEmpty {
            swap(&localSubmissions, &runningLocalSubmissions)
            for index in runningLocalSubmissions.indices { run(runningLocalSubmissions[index]) }
            runningLocalSubmissions.removeAll(keepingCapacity: true)
        }
        return more || !localSubmissions.isEmpty
    }

    private func runEndOfIteration() -> Bool {
        for _ in 0..<4 {
            // The batch is taken whole before any of it runs: work scheduled meanwhile
            // (into an empty first slot, or the array) belongs to the next pass.
            guard let first = firstEndOfIteration.take() else { return false }
            if endOfIteration.isEmpty {
                first.runAtEndOfIteration()
                continue
            }
            swap(&endOfIteration, &runningEndOfIteration)
            first.runAtEndOfIteration()
            for work in runningEndOfIteration { work.runAtEndOfIteration() }
            runningEndOfIteration.removeAll(keepingCapacity: true)
        }
        return firstEndOfIteration != nil
    }

    private func run(_ item: WorkItem) {
        switch item {
        case .closure(let work):
            work()
        case .actorJob(let job):
            job.runSynchronously(on: asUnownedSerialExecutor())
        case .taskJob(let job):
            job.runSynchronously(on: asUnownedTaskExecutor())
        }
    }
}

/// A node of the reactor's submission queue: not generic, so that its deinit knows its
/// field's layout (see ``MPSCNodeQueue``).
final class WorkItemNode: MPSCLink, MPSCNode {
    // Unchecked: see ``MPSCNode``.
    @exclusivity(unchecked) var element: WorkItem?
    init(_ element: WorkItem) { self.element = element }
}

/// What other threads hand to the reactor.
enum WorkItem: Sendable {
    case closure(@Sendable () -> Void)
    /// A job of an actor whose serial executor is the reactor.
    case actorJob(UnownedJob)
    /// A job of a task that prefers the reactor as its task executor.
    case taskJob(UnownedJob)
}

enum Lifecycle {
    case idle, starting, running(pthread_t), stopping, stopped
}

/// The lifecycle, and the callers of `shutdown()` waiting for another caller's start or
/// stop to finish (woken by the move, not by polling).
struct LifecycleState {
    var phase = Lifecycle.idle
    var waiters: [DispatchSemaphore] = []
}

/// Something the reactor must release when it stops (timers, fd watchers).
protocol ReactorResource: AnyObject {
    func releaseOnShutdown()
}

/// The eventfd's persistent read event.
private final class WakeupEvent: LibeventEvent {
    private let wakeup: () -> Void

    init(base: OpaquePointer, fd: Int32, wakeup: @escaping () -> Void) {
        self.wakeup = wakeup
        super.init(base: base, fd: fd, what: Int16(EV_READ | EV_PERSIST))
    }

    override func fire(_ what: Int16) { wakeup() }
}
