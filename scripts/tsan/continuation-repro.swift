// Evidence for a thread-sanitizer report that RedisUtil's concurrency tests show and
// that does not involve RedisUtil: a plain thread resumes `UnsafeContinuation`s handed
// over under an NSLock, and TSan (Swift 6.3.1, Linux) reports a data race between
// `resume(returning:)` and the resumed task's own frame. See `run-repros`.
import Foundation

final class Handoff: @unchecked Sendable {
    // @unchecked Sendable: `pending` is only touched with `lock` held.
    let lock = NSLock()
    var pending: [UnsafeContinuation<Int, Never>] = []
}

@main
struct ContinuationRepro {
    static func main() {
        let handoff = Handoff()
        Thread.detachNewThread {
            while true {
                handoff.lock.lock()
                let batch = handoff.pending
                handoff.pending.removeAll()
                handoff.lock.unlock()
                for continuation in batch { continuation.resume(returning: 1) }
                usleep(100)
            }
        }
        let done = DispatchSemaphore(value: 0)
        Task.detached {
            let sum = await withTaskGroup(of: Int.self) { group in
                for _ in 0..<64 {
                    group.addTask {
                        var total = 0
                        for _ in 0..<200 {
                            total += await withUnsafeContinuation { (continuation: UnsafeContinuation<Int, Never>) in
                                handoff.lock.lock()
                                handoff.pending.append(continuation)
                                handoff.lock.unlock()
                            }
                        }
                        return total
                    }
                }
                return await group.reduce(0, +)
            }
            print("sum \(sum) (expected 12800)")
            done.signal()
        }
        done.wait()
    }
}
