import CTaskCancellation

/// A wait that a task's cancellation can end: what ``TaskCancellationHandler`` calls.
protocol CancellableWait: AnyObject, Sendable {
    /// Ends the wait as cancelled, unless it has ended; any thread, at most once per
    /// installation, possibly while the waiting task is still arming it.
    func cancelWait()
}

/// A cancellation handler installed on the current task until ``remove()``: what
/// `withTaskCancellationHandler` does around its operation, without the operation being
/// a closure.
///
/// Why: the awaited command's wait (``RedisConnection/perform(_:timeout:keepsReply:)``)
/// ran inside `withTaskCancellationHandler`'s async operation closure. Each async call
/// costs the task a frame of its allocator, and that closure, being of no isolation of
/// its own, switched to the generic executor (`swift_task_switch`), which for a task
/// preferring an executor (a reactor, where an awaited command costs least) reads that
/// preference under the lock of the task's status records. Installed directly, the
/// handler leaves the wait in the caller's own frame: 750 of the 5,990 instructions of
/// an awaited `RPUSH` on a reactor, 600 of 8,130 on the global executor (callgrind).
///
/// How: through the Concurrency runtime's two entry points that
/// `withTaskCancellationHandler` itself calls (`swift_task_addCancellationHandler`, which
/// runs the handler at once when the task is already cancelled, and
/// `swift_task_removeCancellationHandler`; declared in `CTaskCancellation` as the runtime
/// declares them). The handler is a C trampoline calling ``CancellableWait/cancelWait()``
/// on the wait's object, which this value retains until removal. The runtime allocates
/// the record on the task's allocator, whose frees must come in stack order: remove the
/// handler in the function that installed it, before it returns (a `defer` right after
/// installing it), as `withTaskCancellationHandler` does, and once: non-copyable, one value
/// per installation (a second removal would free the record again).
struct TaskCancellationHandler<Wait: CancellableWait>: ~Copyable {
    /// `nil` when the handler ran at once (the task was already cancelled): newer
    /// runtimes then free the record themselves, and removal is a no-op.
    private let record: UnsafeMutableRawPointer?
    private let wait: Wait

    /// Installs a handler cancelling `wait` on the current task: it runs at once, on
    /// this thread, when the task is already cancelled, and otherwise on the thread
    /// that cancels the task, until ``remove()``. Must be called from a task.
    @inline(__always)
    init(cancelling wait: Wait) {
        self.wait = wait
        record = redisutil_add_cancellation(Unmanaged.passUnretained(wait).toOpaque())
    }

    /// Uninstalls the handler. The runtime runs handlers under the lock of the task's
    /// status records, which this takes: once it returns, the handler neither runs nor
    /// is running.
    @inline(__always)
    func remove() {
        redisutil_remove_cancellation(record)
        withExtendedLifetime(wait) {}
    }
}

/// The C trampoline's way back: `wait` is the object a ``TaskCancellationHandler``
/// installed, alive until its removal.
@_cdecl("redisutil_cancel_wait")
func redisutilCancelWait(_ wait: UnsafeMutableRawPointer) {
    // A conformance lookup, paid only when a waiting task is cancelled.
    (Unmanaged<AnyObject>.fromOpaque(wait).takeUnretainedValue() as! any CancellableWait).cancelWait()
}
