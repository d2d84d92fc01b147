import Foundation

/// Runs `body` on a new thread, not on the cooperative pool, whose few threads (one per
/// core, two here) a body that spins or blocks would take from every other test's tasks
/// in a parallel run. Swift Testing runs every suite of the bundle in one process on that
/// one pool: two tests blocked in it at once (a server's start or restart, a child
/// process's exit, a semaphore) stall every other test's tasks for as long, and tests
/// that bound their waits then fail for no fault of the code they test.
public func onOwnThread<T: Sendable, Failure: Error>(_ body: @escaping @Sendable () throws(Failure) -> T) async throws(Failure) -> T {
    try await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, Failure>, Never>) in
        Thread.detachNewThread { continuation.resume(returning: Result { () throws(Failure) in try body() }) }
    }.get()
}
