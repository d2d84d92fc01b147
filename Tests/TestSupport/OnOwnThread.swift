import Foundation

/// Runs `body` on a new thread, not on the cooperative pool, whose few threads (one per
/// core, two here) a body that spins or blocks would take from every other test's tasks
/// in a parallel run.
public func onOwnThread<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
    await withCheckedContinuation { (continuation: CheckedContinuation<T, Never>) in
        Thread.detachNewThread { continuation.resume(returning: body()) }
    }
}
