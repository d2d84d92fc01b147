@testable import RedisUtil
import Synchronization
import Testing

/// The waiter line that the blocking pool and backpressure share.
@Suite struct WaiterListTests {
    /// Resume order, as the waiters record it.
    private final class Order: Sendable {
        let names = Mutex<[String]>([])
        func append(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    /// The line, in a class so that tasks can share it (a `Mutex` cannot be copied).
    private final class Line: Sendable {
        let mutex = Mutex(WaiterList())

        func wait(_ ticket: inout WaiterList.Ticket?) async {
            await WaiterList.wait(in: mutex, list: \.self, ticket: &ticket) { _ in true }
        }

        func wakeFirst() {
            for wake in mutex.withLock({ $0.removeFirst(1) }) { wake.resume() }
        }
    }

    /// Waits until `count` callers are in line (a hang guard, not a timing assertion).
    private static func waitForLine(_ line: Line, count: Int) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while line.mutex.withLock({ $0.count }) < count {
            guard ContinuousClock.now < deadline else {
                Issue.record("waiters never queued")
                return
            }
            try await Task.sleep(for: .milliseconds(1))
        }
    }

    @Test("a woken caller that waits again keeps its place ahead of later arrivals")
    func wokenCallerKeepsItsPlace() async throws {
        let line = Line()
        let order = Order()
        // The first caller waits twice, as a lease does when a newcomer took the
        // connection its wake was for; the second waits once.
        let first = Task {
            var ticket: WaiterList.Ticket?
            await line.wait(&ticket)
            order.append("first, woken once")
            await line.wait(&ticket)
            order.append("first, woken twice")
        }
        try await Self.waitForLine(line, count: 1)
        let second = Task {
            var ticket: WaiterList.Ticket?
            await line.wait(&ticket)
            order.append("second")
        }
        try await Self.waitForLine(line, count: 2)
        line.wakeFirst()
        // The first caller is back in line, in front of the second.
        try await Self.waitForLine(line, count: 2)
        line.wakeFirst()
        await first.value
        line.wakeFirst()
        await second.value
        #expect(order.all == ["first, woken once", "first, woken twice", "second"])
    }

    @Test("without a kept ticket a caller that waits again goes to the back")
    func newTicketGoesToTheBack() async throws {
        let line = Line()
        let order = Order()
        let first = Task {
            var ticket: WaiterList.Ticket?
            await line.wait(&ticket)
            var fresh: WaiterList.Ticket?
            await line.wait(&fresh)
            order.append("first")
        }
        try await Self.waitForLine(line, count: 1)
        let second = Task {
            var ticket: WaiterList.Ticket?
            await line.wait(&ticket)
            order.append("second")
        }
        try await Self.waitForLine(line, count: 2)
        line.wakeFirst()
        try await Self.waitForLine(line, count: 2)
        line.wakeFirst()
        await second.value
        line.wakeFirst()
        await first.value
        #expect(order.all == ["second", "first"])
    }
}
