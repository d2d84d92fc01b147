import Dispatch

/// A serial executor on a dispatch queue of its own, so that code can tell whether it
/// runs there (``isCurrent``), and an actor on it may block its thread (a test holding
/// it busy) without holding one of Swift's cooperative threads, which every other test's
/// tasks share.
public final class QueueExecutor: SerialExecutor {
    private let queue = DispatchQueue(label: "queue-executor")
    private let key = DispatchSpecificKey<Bool>()

    public init() { queue.setSpecific(key: key, value: true) }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedSerialExecutor()
        queue.async { job.runSynchronously(on: executor) }
    }

    /// Whether the caller runs on this executor's queue.
    public var isCurrent: Bool { DispatchQueue.getSpecific(key: key) == true }
}
