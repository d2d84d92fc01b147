import Foundation
import Synchronization

/// Runs blocking work for several nodes at once, one thread each. Starting a redis-server
/// is mostly waiting (spawn, then the readiness notice), so six nodes start in about the
/// time of one even on two cores, where the cooperative pool or `concurrentPerform` would
/// run only two at a time.
enum ClusterParallel {
    /// Calls `body(0) … body(count - 1)` on their own threads and returns each outcome, in
    /// order, once all have returned.
    static func map<T: Sendable>(
        _ count: Int, _ body: @escaping @Sendable (Int) throws(LocalRedisError) -> T
    ) -> [Result<T, LocalRedisError>] {
        let outcomes = Outcomes<T>(count: count)
        let group = DispatchGroup()
        for index in 0..<count {
            group.enter()
            Thread.detachNewThread {
                let outcome = Result { () throws(LocalRedisError) in try body(index) }
                outcomes.slots.withLock { $0[index] = outcome }
                group.leave()
            }
        }
        group.wait()
        return outcomes.slots.withLock { $0.map { $0! } }
    }

    /// A class, because the threads' closures must share one lock, and a `Mutex` is not copyable.
    private final class Outcomes<T: Sendable>: Sendable {
        let slots: Mutex<[Result<T, LocalRedisError>?]>
        init(count: Int) { slots = Mutex(Array(repeating: nil, count: count)) }
    }
}
