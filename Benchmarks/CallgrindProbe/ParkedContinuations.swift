import Reactor

/// Continuations parked by tasks that prefer one reactor, resumed together by that
/// reactor at the end of its loop iteration, as the replies one read brings resume their
/// commands' tasks: what an awaited command costs the Swift runtime (a suspension, a
/// resumption, the task's executor preference looked up), with no command and no
/// cancellation handler. The `await-reactor` operation: the floor under any async
/// facade on this runtime and reactor.
final class ParkedContinuations: @unchecked Sendable {
    // @unchecked Sendable: `waiting` is read and written on `reactor`'s thread only, by
    // `park` (called by tasks preferring that reactor, which run on it) and by the
    // end-of-iteration work it schedules there.
    private let reactor: Reactor
    // Unchecked: one thread only (above); the run-time checks were a tenth of the floor.
    @exclusivity(unchecked) private var waiting: [UnsafeContinuation<Void, Never>] = []

    init(_ reactor: Reactor) {
        self.reactor = reactor
        waiting.reserveCapacity(1024)
    }

    /// Parks `continuation` until the end of the reactor's current iteration. Reactor thread only.
    func park(_ continuation: UnsafeContinuation<Void, Never>) {
        reactor.preconditionInReactor()
        waiting.append(continuation)
        if waiting.count == 1 { reactor.atEndOfIteration { self.resumeAll() } }
    }

    private func resumeAll() {
        let resumed = waiting
        waiting.removeAll(keepingCapacity: true)
        for continuation in resumed { continuation.resume() }
    }
}
