import Reactor
import RedisUtil
import Synchronization

/// One benchmark operation, in both facades. `index` numbers the operation within the run.
struct Operation: Sendable {
    var callback: @Sendable (_ index: Int, _ done: @escaping @Sendable (Bool) -> Void) -> Void
    var async: @Sendable (_ index: Int) async -> Bool
}

/// Shared counters of one measured run.
final class RunCounters: Sendable {
    let next = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
    /// Operations that succeeded (messages received, for channel-pipe): what ops/s counts.
    let succeeded = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let stop = Atomic<Bool>(false)
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
    func completed(at nanoseconds: UInt64, ok: Bool) {
        completed.add(1, ordering: .relaxed)
        guard ok else {
            // A failing server would otherwise turn the run into an error storm.
            if errors.add(1, ordering: .relaxed).newValue > 1000 { stop.store(true, ordering: .relaxed) }
            return
        }
        succeeded(count: 1, at: nanoseconds)
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
                operation.callback(index) { ok in
                    let end = monotonicNanoseconds()
                    log.record(index: index, nanoseconds: end &- start)
                    counters.completed(at: end, ok: ok)
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
                        let ok = await operation.async(index)
                        let end = monotonicNanoseconds()
                        log.record(index: index, nanoseconds: end &- start)
                        counters.completed(at: end, ok: ok)
                    }
                }
            }
        }
    }
}
