/// The reactor as an executor for Swift concurrency.
///
/// As a `TaskExecutor`, `withTaskExecutorPreference(reactor) { … }` runs the task's
/// nonisolated code on the reactor thread, so awaiting a reply that the reactor
/// resumes costs no thread hop. As a `SerialExecutor` it can back an actor whose
/// state then shares the reactor's thread; its callers should prefer the reactor too, as
/// a continuation resumes on the generic executor (without a preference, the global pool)
/// before the actor's code hops back to the actor.
///
/// The two roles enqueue through two objects. A job run "isolated to" the reactor as
/// a serial executor makes every nonisolated `await` inside it look like leaving an
/// actor, and the runtime re-enqueues the task at each one: callgrind counted ten
/// trips through the queue per Redis command. So the reactor's own `enqueue` serves
/// the task-executor role, running jobs with the task executor alone, and actors
/// reach the reactor through ``serialExecutorFacet``, whose jobs run isolated to it.
/// (The facet is on the serial side because the runtime retains and releases task
/// executors through the identity it is given, while serial executors stay unowned.)
extension Reactor: SerialExecutor, TaskExecutor {
    /// Enqueues a job of a task that prefers this reactor. Any thread.
    /// Once the reactor has shut down, the job runs on the global concurrent executor:
    /// a preference is not a promise, and dropping the job would leave its task
    /// suspended for ever.
    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        if !submit(.taskJob(job)) {
            globalConcurrentExecutor.enqueue(ExecutorJob(job))
        }
    }

    /// The reactor as the serial executor of an actor (its serial-executor facet).
    public func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: serialExecutorFacet)
    }

    /// Traps unless called on the reactor thread; lets `assumeIsolated` work on it.
    public func checkIsolated() {
        preconditionInReactor()
    }
}

/// The reactor's serial-executor role: jobs of actors whose executor is the reactor.
///
/// Once the reactor has shut down, an actor's jobs run one at a time, in order, on a
/// serial queue of the reactor's (``Reactor/afterShutdown``), each only once the
/// reactor's thread has ended: the reactor may still be running the jobs it accepted
/// before, and none may run beside them. An actor that outlives its reactor (a late
/// call during an application's shutdown) goes on working, off the reactor thread; its
/// jobs are neither dropped (its tasks would hang) nor run concurrently.
final class ReactorSerialExecutor: SerialExecutor {
    unowned let reactor: Reactor

    init(reactor: Reactor) {
        self.reactor = reactor
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        guard reactor.submit(.actorJob(job)) else {
            // The reactor, held by the block, keeps this facet alive until the job has run.
            let reactor = self.reactor
            reactor.afterShutdown.async {
                reactor.waitUntilStopped()
                job.runSynchronously(on: reactor.asUnownedSerialExecutor())
            }
            return
        }
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func checkIsolated() {
        reactor.preconditionInReactor()
    }
}
