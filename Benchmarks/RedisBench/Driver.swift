import Reactor
import RedisUtil
import Synchronization

/// One benchmark operation, in both facades. `index` numbers the operation within the run
/// and `lane` the lane that runs it (see ``LaneKeys``); the callback form reports its end
/// to its lane (an object, so that a completion closure capturing it alone needs no
/// context allocation: the user's code, not the harness's, is what a run measures).
struct Operation: Sendable {
    var callback: @Sendable (_ index: Int, _ lane: CallbackLane) -> Void
    /// `nonisolated(nonsending)`, as the library's API is: a plain async closure would run
    /// on the generic executor, a hop in and out per operation that the user's own code,
    /// awaiting the command where it runs, does not make.
    var async: nonisolated(nonsending) @Sendable (_ index: Int, _ lane: Int) async -> Outcome
}

/// How one operation ended.
enum Outcome: Sendable {
    case succeeded
    /// The operation failed (its error; `nil` when it found nothing: an empty pop, a
    /// receive that timed out); the run goes on.
    case failed((any Error)?)
    /// The server is gone: the run stops at once, rather than each further operation
    /// waiting out a reconnect (a run against a killed server took 15 s to give up).
    case serverLost(any Error)

    /// `.succeeded` when `result` is a success that `isWork` accepts.
    init<Value, Failure>(_ result: Result<Value, Failure>, isWork: (Value) -> Bool = { _ in true }) {
        switch result {
        case .success(let value): self = isWork(value) ? .succeeded : .failed(nil)
        case .failure(let error): self.init(failure: error)
        }
    }

    /// The outcome of `body`, which returns whether it did its work.
    nonisolated(nonsending) init(_ body: nonisolated(nonsending) () async throws -> Bool) async {
        do { self = try await body() ? .succeeded : .failed(nil) } catch { self.init(failure: error) }
    }

    /// A failed operation's outcome: `.serverLost` when `error` says the server is gone.
    init(failure error: any Error) {
        self = isConnectionFailure(error) ? .serverLost(error) : .failed(error)
    }
}

/// Whether `error` means the server is gone (rather than one command refused).
func isConnectionFailure(_ error: any Error) -> Bool {
    switch error as? RedisError {
    case .connectionFailed?, .connectionLost?, .closed?: true
    default: false
    }
}

/// Shared counters of one measured run.
final class RunCounters: Sendable {
    let next = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    /// Operations that succeeded (messages received, for channel-pipe): what ops/s counts.
    let succeeded = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    private let firstError = Mutex<String?>(nil)
    let stop = Atomic<Bool>(false)
    /// Set with `stop` when an operation found the server gone: the run then ends with
    /// an error at once, instead of its clean-up and the next run waiting out reconnects.
    let serverLost = Atomic<Bool>(false)
    /// When the latest operation completed (monotonic ns): the measured phase ends
    /// there, not when idle peers notice the end (a 200 ms blocking receive).
    let lastCompletion = Atomic<UInt64>(0)
    let limit: Int

    init(limit: Int) { self.limit = limit }

    /// How many operations were handed out (at most `limit`), once claiming has ended.
    var sent: Int {
        let handed = next.load(ordering: .relaxed)
        return stop.load(ordering: .relaxed) || handed >= limit ? min(handed, limit) : Int.max
    }

    /// Notes an operation that completed at `nanoseconds` (for drivers that tally each
    /// operation here; the lanes below tally their own and ``settle(_:)`` in blocks).
    func completed(at nanoseconds: UInt64, _ outcome: Outcome) {
        completed.add(1, ordering: .relaxed)
        switch outcome {
        case .succeeded: succeeded(count: 1, at: nanoseconds)
        case .failed, .serverLost: failed(outcome)
        }
    }

    /// Counts a failed operation (at once, unlike successes: errors stop a run).
    func failed(_ outcome: Outcome) {
        switch outcome {
        case .succeeded:
            return
        case .failed(let error):
            note(error.map { "\($0)" } ?? "an operation that found nothing (an empty pop, or a receive that timed out)")
            // A failing server would otherwise turn the run into an error storm.
            if errors.add(1, ordering: .relaxed).newValue > 1000 { stop.store(true, ordering: .relaxed) }
        case .serverLost(let error):
            note("\(error)")
            errors.add(1, ordering: .relaxed)
            stopForLostServer()
        }
    }

    /// Keeps the first error's words, so that a run that counted errors can say what they
    /// were (an error column alone gives nothing to chase).
    func note(_ error: String) {
        firstError.withLock { $0 = $0 ?? error }
    }

    /// What the run's first error was, if it had one.
    var firstErrorDescription: String? { firstError.withLock { $0 } }

    /// Ends the run because the server is gone.
    func stopForLostServer() {
        serverLost.store(true, ordering: .relaxed)
        stop.store(true, ordering: .relaxed)
    }

    /// Notes `count` successes, the latest at `nanoseconds`: the measured phase ends at the
    /// last one (failures trailing a dead server are not part of the work measured).
    func succeeded(count: Int, at nanoseconds: UInt64) {
        succeeded.add(count, ordering: .relaxed)
        var latest = lastCompletion.load(ordering: .relaxed)
        while nanoseconds > latest {
            let (exchanged, original) = lastCompletion.compareExchange(expected: latest, desired: nanoseconds, ordering: .relaxed)
            if exchanged { break }
            latest = original
        }
    }

    /// The next operation index, or `nil` when the run is over.
    func claim() -> Int? {
        guard !stop.load(ordering: .relaxed) else { return nil }
        let index = next.add(1, ordering: .relaxed).oldValue
        return index < limit ? index : nil
    }

    /// Up to `count` consecutive operation indices, or `nil` when the run is over.
    func claim(_ count: Int) -> Range<Int>? {
        guard !stop.load(ordering: .relaxed) else { return nil }
        let first = next.add(count, ordering: .relaxed).oldValue
        return first < limit ? first..<(first + min(count, limit - first)) : nil
    }

    /// Adds a lane's tally of the operations it completed since its last one.
    func settle(_ tally: inout LaneTally) {
        guard tally.completed > 0 else { return }
        completed.add(tally.completed, ordering: .relaxed)
        if tally.succeeded > 0 { succeeded(count: tally.succeeded, at: tally.lastSuccess) }
        tally.completed = 0
        tally.succeeded = 0
    }
}

/// One lane's operations since it last settled with the run's shared counters. Lanes
/// claim indices and settle counts in blocks: a shared counter touched by every operation
/// of every lane (four atomic read-modify-writes, on lines that the two reactor threads
/// passed back and forth) cost the harness more than the command it timed.
struct LaneTally {
    var completed = 0
    var succeeded = 0
    var lastSuccess: UInt64 = 0
    /// When the lane's current operation started: the previous one's end (the next is
    /// issued right away), so one clock read an operation.
    private var start = monotonicNanoseconds()

    /// Indices a lane claims at once: few enough that the end of a run keeps its depth
    /// (at most a block per lane is left when the others finish), enough that claiming
    /// costs little.
    static func block(limit: Int, lanes: Int) -> Int { max(1, min(16, limit / max(1, lanes * 8))) }

    /// Notes operation `index`, which ended now with `outcome`: its latency into `log`,
    /// failures to `counters` at once.
    mutating func finished(_ index: Int, _ outcome: Outcome, log: LatencyLog, counters: RunCounters) {
        let end = monotonicNanoseconds()
        log.record(index: index, nanoseconds: end &- start)
        start = end
        completed += 1
        if case .succeeded = outcome {
            succeeded += 1
            lastSuccess = end
        } else {
            counters.failed(outcome)
        }
    }
}

/// A lane of the callback facade: one operation in flight, the next issued from the
/// previous one's completion, as redis-benchmark's `-P` does.
final class CallbackLane: @unchecked Sendable {
    // @unchecked Sendable: the mutable fields are touched only by `next()` (which starts
    // an operation) and `finished(_:)` (its completion), and a lane has one operation in
    // flight: the completion runs after the library has taken the command (through its
    // queue's lock, or on the reactor that runs the completion), so every access is
    // ordered after the previous one and no two threads ever touch the fields at once.
    /// The lane's number within the run (`0 ..< lanes`).
    let number: Int
    private let counters: RunCounters
    private let log: LatencyLog
    private let operation: Operation
    private let block: Int
    private let done: @Sendable () -> Void
    private var indices: Range<Int> = 0..<0
    private var index = 0
    private var tally = LaneTally()

    init(number: Int, counters: RunCounters, log: LatencyLog, operation: Operation, block: Int, done: @escaping @Sendable () -> Void) {
        self.number = number
        self.counters = counters
        self.log = log
        self.operation = operation
        self.block = block
        self.done = done
    }

    /// Ends the current operation with `outcome` and starts the next.
    func finished(_ outcome: Outcome) {
        tally.finished(index, outcome, log: log, counters: counters)
        next()
    }

    /// Starts the lane's next operation (the first when called by the driver).
    func next() {
        if indices.isEmpty {
            counters.settle(&tally)
            guard let claimed = counters.claim(block) else { return done() }
            indices = claimed
        } else if counters.stop.load(ordering: .relaxed) {
            counters.settle(&tally)
            return done()
        }
        index = indices.removeFirst()
        operation.callback(index, self)
    }
}

/// Keeps `lanes` operations in flight (connections × pipeline depth): each lane issues
/// its next operation when the previous one completes, as redis-benchmark's `-P` does.
enum Driver {
    /// Drives `operation` through `api`'s facade (`.both` and `.all` are split into runs
    /// before here; they drive callbacks, as the first of their facades).
    ///
    /// `placement`: where lanes start. `nil` leaves callback lanes to start on the caller
    /// (the library picks each first command's connection) and puts async lane `l` on
    /// reactor `l % R`; a count `n` puts lanes `c × n ..< (c + 1) × n` (connection `c`'s, as
    /// ``KeyLayout/byPrimary`` groups them) on reactor `c % R`, in both facades, so that
    /// one connection's lanes share one reactor and so one socket to their node, as each of
    /// redis-benchmark's clients has one.
    static func run(_ api: API, lanes: Int, reactors: [Reactor], placement: Int? = nil, counters: RunCounters, log: LatencyLog, operation: Operation) async {
        switch api {
        case .callback, .both, .all: await runCallbacks(lanes: lanes, reactors: placement == nil ? [] : reactors, placement: placement ?? 1, counters: counters, log: log, operation: operation)
        case .async, .asyncGlobal:
            await runAsync(lanes: lanes, reactors: api.taskReactors(reactors), placement: placement ?? 1, counters: counters, log: log, operation: operation)
        }
    }

    /// Callback lanes, started on `reactors[(lane / placement) % R]` (on the caller when `reactors` is empty).
    static func runCallbacks(lanes: Int, reactors: [Reactor], placement: Int, counters: RunCounters, log: LatencyLog, operation: Operation) async {
        let block = LaneTally.block(limit: counters.limit, lanes: lanes)
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let remaining = Atomic<Int>(lanes)
            let laneDone: @Sendable () -> Void = {
                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { finished.resume() }
            }
            for number in 0..<lanes {
                let lane = CallbackLane(number: number, counters: counters, log: log, operation: operation, block: block, done: laneDone)
                if reactors.isEmpty { lane.next() } else { reactors[(number / placement) % reactors.count].execute { lane.next() } }
            }
        }
    }

    /// The async facade: one task per lane, each preferring a reactor as its executor so
    /// that awaiting a reply costs no thread hop (lane `l` on `reactors[(l / placement) % R]`),
    /// or, with no reactors (`async-global`), plain tasks on the global executor.
    /// Each lane claims and tallies in blocks, as the callback lanes do.
    static func runAsync(lanes: Int, reactors: [Reactor], placement: Int, counters: RunCounters, log: LatencyLog, operation: Operation) async {
        let block = LaneTally.block(limit: counters.limit, lanes: lanes)
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask(executorPreference: reactors.preference(lane / placement)) {
                    var tally = LaneTally()
                    while let indices = counters.claim(block) {
                        for index in indices {
                            if counters.stop.load(ordering: .relaxed) { break }
                            let outcome = await operation.async(index, lane)
                            tally.finished(index, outcome, log: log, counters: counters)
                        }
                        counters.settle(&tally)
                    }
                }
            }
        }
    }
}
