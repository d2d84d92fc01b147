@testable import RedisUtil
import Synchronization
import Testing
import TestSupport

/// The cancellation handler installed through the Concurrency runtime's own entry points
/// (`CTaskCancellation`), which an awaited command's wait uses instead of
/// `withTaskCancellationHandler`: it must behave as that does.
@Suite struct TaskCancellationHandlerTests {
    /// Counts its cancellations.
    private final class CountingWait: CancellableWait {
        let cancellations = Atomic<Int>(0)
        func cancelWait() { cancellations.add(1, ordering: .sequentiallyConsistent) }
        var count: Int { cancellations.load(ordering: .sequentiallyConsistent) }
    }

    /// A one-shot signal from a task to the test.
    private final class Flag: Sendable {
        private let raised = Atomic<Bool>(false)
        func raise() { raised.store(true, ordering: .sequentiallyConsistent) }
        var isRaised: Bool { raised.load(ordering: .sequentiallyConsistent) }
        /// Waits for the flag (a hang guard, not a timing assertion).
        func wait() async throws {
            #expect(try await waitUntil { self.isRaised }, "the task never got there")
        }
    }

    /// Waits until the current task is cancelled (bounded, as a hang guard). `waitUntil`'s
    /// sleep throws once the task is cancelled, which is what this waits for.
    private static func awaitCancellation() async {
        _ = try? await waitUntil { Task.isCancelled }
    }

    /// Cancelling the task while the handler is installed cancels the wait once, and a
    /// second cancellation does not run it again.
    @Test func cancellingTheTaskCancelsTheWaitOnce() async throws {
        let wait = CountingWait()
        let installed = Flag()
        let task = Task {
            let handler = TaskCancellationHandler(cancelling: wait)
            installed.raise()
            await Self.awaitCancellation()
            // Removal waits for a handler that is running: the count is final here.
            handler.remove()
            return wait.count
        }
        try await installed.wait()
        #expect(wait.count == 0)
        task.cancel()
        task.cancel()
        #expect(await task.value == 1)
        #expect(wait.count == 1)
    }

    /// Installed in a task that is already cancelled, the handler runs at once, on the
    /// installing thread, before the installation returns.
    @Test func aTaskAlreadyCancelledCancelsTheWaitAtOnce() async {
        let wait = CountingWait()
        let task = Task {
            await Self.awaitCancellation()
            let handler = TaskCancellationHandler(cancelling: wait)
            let count = wait.count
            handler.remove()
            return count
        }
        task.cancel()
        #expect(await task.value == 1)
    }

    /// Once removed, the handler no longer runs when the task is cancelled.
    @Test func aRemovedHandlerDoesNotRun() async throws {
        let wait = CountingWait()
        let removed = Flag()
        let task = Task {
            let handler = TaskCancellationHandler(cancelling: wait)
            handler.remove()
            removed.raise()
            await Self.awaitCancellation()
            return Task.isCancelled
        }
        try await removed.wait()
        task.cancel()
        #expect(await task.value)
        #expect(wait.count == 0)
    }

    /// The handler keeps its wait alive until it is removed, even when the installer
    /// holds no other reference: the runtime's record points at it unretained.
    @Test func theHandlerKeepsItsWaitAliveUntilRemoved() async {
        weak var observed: CountingWait?
        do {
            let handler = TaskCancellationHandler(cancelling: {
                let wait = CountingWait()
                observed = wait
                return wait
            }())
            #expect(observed != nil)
            handler.remove()
        }
        #expect(observed == nil)
    }

    /// Handlers installed one inside another (an awaited command inside a task that has
    /// its own `withTaskCancellationHandler`) each run once, and are removed in stack order.
    @Test func nestedHandlersEachRunOnce() async throws {
        let outer = CountingWait()
        let inner = CountingWait()
        let installed = Flag()
        let task = Task {
            await withTaskCancellationHandler {
                let handler = TaskCancellationHandler(cancelling: outer)
                let nested = TaskCancellationHandler(cancelling: inner)
                installed.raise()
                await Self.awaitCancellation()
                nested.remove()
                handler.remove()
            } onCancel: {
                outer.cancelWait()
            }
        }
        try await installed.wait()
        task.cancel()
        await task.value
        #expect(outer.count == 2)
        #expect(inner.count == 1)
    }
}
