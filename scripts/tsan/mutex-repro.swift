// Evidence for the "Swift access race" reports TSan makes on correct uses of the standard
// `Synchronization.Mutex` on Linux (Swift 6.3.1): four threads insert into a Set behind one
// static Mutex; the count is always right, yet TSan reports an access race, because the
// lock's futex fast path is invisible to it. See `run-repros`.
import Foundation
import Synchronization

enum Registry {
    static let entries = Mutex<Set<Int>>([])
}

@main
struct MutexRepro {
    static func main() {
        let group = DispatchGroup()
        for t in 0..<4 {
            group.enter()
            Thread.detachNewThread {
                for i in 0..<10_000 { Registry.entries.withLock { _ = $0.insert(t * 100_000 + i) } }
                group.leave()
            }
        }
        group.wait()
        print("count \(Registry.entries.withLock { $0.count }) (expected 40000)")
    }
}
