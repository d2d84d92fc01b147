/// The reactor as an executor for Swift concurrency.
///
/// As a `TaskExecutor`, `withTaskExecutorPreference(reactor) { … }` runs the task's
/// nonisolated code on the reactor thread, so awaiting a reply that the reactor
/// resumes costs no thread hop. As a `SerialExecutor` it can back an actor whose
/// state then shares the reactor's thread.
extension Reactor: SerialExecutor, TaskExecutor {
    /// Enqueues a job to run on the reactor thread. Any thread.
    public func enqueue(_ job: consuming ExecutorJob) {
        guard submit(.job(UnownedJob(job))) else {
            // Dropping the job would leave its task suspended forever.
            preconditionFailure("Swift concurrency job enqueued on reactor '\(name)' after it shut down")
        }
    }

    /// This reactor as an unowned serial executor.
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    /// Traps unless called on the reactor thread; lets `assumeIsolated` work on it.
    public func checkIsolated() {
        preconditionInReactor()
    }
}
