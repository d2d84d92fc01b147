import Reactor

/// Continuations parked by tasks that prefer one reactor, resumed together by that
/// reactor at the end of its loop iteration, as the replies one read brings resume their
/// commands' tasks: what an awaited command costs the Swift runtime (a suspension, a
/// resumption, the task's executor preference looked up), with no command and no
/// cancellation handler. The `await-reactor` operation: the floor under any async
/// facade on this runtime and reactor. Its own work per await is an append and a
/// resume: two buffers taken in turns, and itself as the end-of-iteration work, so that
/// nothing is allocated per batch.
final class ParkedContinuations: EndOfIterationWork, @unchecked Sendable {
    // @unchecked Sendable: `waiting` and `resuming` are read and written on `reactor`'s
    // thread only, by `park` (called by tasks preferring that reactor, which run on it,
    // and checked there) and by `runAtEndOfIteration`, which the reactor runs on it; `init`
    // runs before any task that parks is made.
    private let reactor: Reactor
    // Unchecked: one thread only (above); the run-time checks were a tenth of the floor.
    @exclusivity(unchecked) private var waiting: [UnsafeContinuation<Void, Never>] = []
    @exclusivity(unchecked) private var resuming: [UnsafeContinuation<Void, Never>] = []

    init(_ reactor: Reactor) {
        self.reactor = reactor
        waiting.reserveCapacity(1024)
        resuming.reserveCapacity(1024)
    }

    /// Parks `continuation` until the end of the reactor's current iteration. Reactor thread only.
    func park(_ continuation: UnsafeContinuation<Void, Never>) {
        reactor.preconditionInReactor()
        waiting.append(continuation)
        if waiting.count == 1 { reactor.atEndOfIteration(self) }
    }

    /// Resumes the batch parked so far; those that park again meanwhile wait for the next.
    func runAtEndOfIteration() {
        swap(&waiting, &resuming)
        for continuation in resuming { continuation.resume() }
        resuming.removeAll(keepingCapacity: true)
    }
}
