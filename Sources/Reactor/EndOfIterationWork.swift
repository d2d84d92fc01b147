/// Work a reactor runs once the current loop iteration's events and submitted work have
/// been handled (``Reactor/atEndOfIteration(_:)-(any EndOfIterationWork)``), given as the
/// object that does it rather than as a closure.
///
/// A connection that flushes at the end of every iteration in which commands were queued
/// schedules itself: appending it costs a retain, where a closure capturing it cost an
/// allocation and a free each time.
public protocol EndOfIterationWork: AnyObject {
    /// Runs on the reactor thread, at the end of the iteration it was scheduled in (or of
    /// the next, when scheduled by other end-of-iteration work).
    func runAtEndOfIteration()
}

/// A closure given to ``Reactor/atEndOfIteration(_:)-(()->Void)``.
final class EndOfIterationClosure: EndOfIterationWork {
    private let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
    }

    func runAtEndOfIteration() {
        body()
    }
}
