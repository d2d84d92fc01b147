@testable import RedisUtil
import Synchronization
import Testing

/// The waiter line that the blocking pool and backpressure share.
@Suite struct WaiterListTests {
    /// Resume order, as the waiters record it.
    private final class Order: Sendable {
        let names = Synchronization.Mutex<[String]>([])
        func append(_ name: String) { names.withLock { $0.append(name) } }
        var all: [String] { names.withLock { $0 } }
    }

    /// The line, in a class so that tasks can share it (a `Mutex` cannot be copied).
    private final class Line: Sendable {
        let mutex = WaiterList.Lock(WaiterList())

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

    /// The first caller waits, the second queues behind it; the first is woken, finds
    /// nothing (as when a newcomer took the connection its wake was for) and waits again,
    /// with its ticket or with a new one. Returns who was resumed, in order.
    private static func rewait(keepingTicket: Bool) async throws -> [String] {
        let line = Line()
        let order = Order()
        let first = Task {
            var ticket: WaiterList.Ticket?
            await line.wait(&ticket)
            if !keepingTicket { ticket = nil }
            await line.wait(&ticket)
            order.append("first")
        }
        try await waitForLine(line, count: 1)
        let second = Task {
            var ticket: WaiterList.Ticket?
            await line.wait(&ticket)
            order.append("second")
        }
        try await waitForLine(line, count: 2)
        line.wakeFirst()
        // The first caller is back in line; each remaining wake resumes the head, and
        // the next wake waits until that one has recorded itself.
        try await waitForLine(line, count: 2)
        line.wakeFirst()
        let deadline = ContinuousClock.now + .seconds(60)
        while order.all.isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(1)) }
        line.wakeFirst()
        await first.value
        await second.value
        return order.all
    }

    @Test("a woken caller that waits again with its ticket keeps its place ahead of later arrivals")
    func wokenCallerKeepsItsPlace() async throws {
        #expect(try await Self.rewait(keepingTicket: true) == ["first", "second"])
    }

    @Test("the control: with a new ticket, a caller that waits again goes to the back")
    func newTicketGoesToTheBack() async throws {
        #expect(try await Self.rewait(keepingTicket: false) == ["second", "first"])
    }
}
