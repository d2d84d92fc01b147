import Reactor
import RedisUtil
import Synchronization

/// One benchmark operation, in both facades. `index` numbers the operation within the run.
struct Operation: Sendable {
    var callback: @Sendable (_ index: Int, _ done: @escaping @Sendable (Outcome) -> Void) -> Void
    var async: @Sendable (_ index: Int) async -> Outcome
}

/// How one operation ended.
enum Outcome: Sendable {
    case succeeded
    /// The operation failed (an error reply, an empty pop); the run goes on.
    case failed
    /// The server is gone: the run stops at once, rather than each further operation
    /// waiting out a reconnect (a run against a killed server took 15 s to give up).
    case serverLost

    /// `.succeeded` when `result` is a success that `isWork` accepts.
    init<Value, Failure>(_ result: Result<Value, Failure>, isWork: (Value) -> Bool = { _ in true }) {
        switch result {
        case .success(let value): self = isWork(value) ? .succeeded : .failed
        case .failure(let error): self.init(failure: error)
        }
    }

    /// The outcome of `body`, which returns whether it did its work.
    init(_ body: () async throws -> Bool) async {
        do { self = try await body() ? .succeeded : .failed } catch { self.init(failure: error) }
    }

    /// A failed operation's outcome: `.serverLost` when `error` says the server is gone.
    init(failure error: any Error) {
        self = isConnectionFailure(error) ? .serverLost : .failed
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

    /// Notes an operation that completed at `nanoseconds`.
    func completed(at nanoseconds: UInt64, _ outcome: Outcome) {
        completed.add(1, ordering: .relaxed)
        switch outcome {
        case .succeeded:
            succeeded(count: 1, at: nanoseconds)
        case .failed:
            // A failing server would otherwise turn the run into an error storm.
            if errors.add(1, ordering: .relaxed).newValue > 1000 { stop.store(true, ordering: .relaxed) }
        case .serverLost:
            errors.add(1, ordering: .relaxed)
            stopForLostServer()
        }
    }

    /// Ends the run because the server is gone.
    func stopForLostServer() {
        serverLost.store(true, ordering: .relaxed)
        stop.store(true, ordering: .relaxed)
    }

    /// Notes `count` successes at `nanoseconds`: the measured phase ends at the last one
    /// (failures trailing a dead server are not part of the work measured).
    func succeeded(count: Int, at nanoseconds: UInt64) {
        succeeded.add(count, ordering: .relaxed)
        if nanoseconds > lastCompletion.load(ordering: .relaxed) { lastCompletion.store(nanoseconds, ordering: .relaxed) }
    }

    /// The next operation index, or `nil` when the run is over.
    func claim() -> Int? {
        guard !stop.load(ordering: .relaxed) else { return nil }
        let index = next.add(1, ordering: .relaxed).oldValue
        return index < limit ? index : nil
    }
}

/// Keeps `lanes` operations in flight (connections × pipeline depth): each lane issues
/// its next operation when the previous one completes, as redis-benchmark's `-P` does.
enum Driver {
    /// Drives `operation` through `api`'s facade (`.both` is split into runs before here;
    /// it drives callbacks, as the first of the two).
    static func run(_ api: API, lanes: Int, reactors: [Reactor], counters: RunCounters, log: LatencyLog, operation: Operation) async {
        switch api {
        case .callback, .both: await runCallbacks(lanes: lanes, counters: counters, log: log, operation: operation)
        case .async: await runAsync(lanes: lanes, reactors: reactors, counters: counters, log: log, operation: operation)
        }
    }

    static func runCallbacks(lanes: Int, counters: RunCounters, log: LatencyLog, operation: Operation) async {
        await withCheckedContinuation { (finished: CheckedContinuation<Void, Never>) in
            let remaining = Atomic<Int>(lanes)
            @Sendable func laneDone() {
                if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { finished.resume() }
            }
            @Sendable func step() {
                guard let index = counters.claim() else {
                    laneDone()
                    return
                }
                let start = monotonicNanoseconds()
                operation.callback(index) { outcome in
                    let end = monotonicNanoseconds()
                    log.record(index: index, nanoseconds: end &- start)
                    counters.completed(at: end, outcome)
                    step()
                }
            }
            for _ in 0..<lanes { step() }
        }
    }

    /// The async facade: one task per lane, each preferring a reactor as its executor so
    /// that awaiting a reply costs no thread hop.
    static func runAsync(lanes: Int, reactors: [Reactor], counters: RunCounters, log: LatencyLog, operation: Operation) async {
        await withTaskGroup(of: Void.self) { group in
            for lane in 0..<lanes {
                group.addTask(executorPreference: reactors.isEmpty ? nil : reactors[lane % reactors.count]) {
                    while let index = counters.claim() {
                        let start = monotonicNanoseconds()
                        let outcome = await operation.async(index)
                        let end = monotonicNanoseconds()
                        log.record(index: index, nanoseconds: end &- start)
                        counters.completed(at: end, outcome)
                    }
                }
            }
        }
    }
}
