import Testing
@testable import RedisUtil

/// The coalescing rules of cluster topology refreshes, as plain values.
@Suite("ClusterRefreshMachine: one fetch for many callers")
struct ClusterRefreshMachineTests {
    private typealias Machine = ClusterRefreshMachine<Int>
    private let second: UInt64 = 1_000_000_000

    private func machine() -> Machine {
        Machine(periodicInterval: 10 * second, failureBackoff: second / 10)
    }

    @Test func manyCallersOneFetch() {
        var machine = machine()
        guard case .start = machine.request(.initial, seen: 0, now: 0, waiter: 0) else { Issue.record("no fetch started"); return }
        for waiter in 1..<1000 {
            guard case .joined(queued: true) = machine.request(.redirected, seen: 0, now: 1, waiter: waiter) else {
                Issue.record("caller \(waiter) was not queued behind the fetch in flight")
                return
            }
        }
        let (resumed, generation) = machine.fetched(changed: true, now: 2)
        #expect(resumed == Array(0..<1000))
        #expect(generation == 1)
        #expect(!machine.fetching)
    }

    @Test func aCallerWhoSawAnOlderMapNeedsNoFetch() {
        var machine = machine()
        _ = machine.request(.initial, seen: 0, now: 0, waiter: 0)
        _ = machine.fetched(changed: true, now: 1)
        _ = machine.request(.redirected, seen: 1, now: 2, waiter: 1)
        _ = machine.fetched(changed: true, now: 3)
        // Redirected while routing with generation 1; generation 2 already holds the move.
        guard case .current = machine.request(.redirected, seen: 1, now: 4, waiter: 2) else {
            Issue.record("a stale redirection started a fetch")
            return
        }
        guard case .start = machine.request(.redirected, seen: 2, now: 5, waiter: 3) else {
            Issue.record("a redirection on the newest map did not start a fetch")
            return
        }
    }

    @Test func anUnchangedMapKeepsItsGeneration() {
        var machine = machine()
        _ = machine.request(.initial, seen: 0, now: 0, waiter: 0)
        #expect(machine.fetched(changed: true, now: 1).generation == 1)
        _ = machine.request(.connectionLost, seen: 1, now: 2, waiter: nil)
        #expect(machine.fetched(changed: false, now: 3).generation == 1)
    }

    @Test func periodicRefreshesAreSpaced() {
        var machine = machine()
        _ = machine.request(.initial, seen: 0, now: 0, waiter: nil)
        _ = machine.fetched(changed: true, now: second)
        guard case .current = machine.request(.periodic, seen: 1, now: 5 * second, waiter: nil) else {
            Issue.record("a periodic refresh ran within its interval")
            return
        }
        guard case .start = machine.request(.periodic, seen: 1, now: 11 * second, waiter: nil) else {
            Issue.record("a periodic refresh did not run after its interval")
            return
        }
    }

    @Test func aFailedFetchBacksOffThenRetries() {
        var machine = machine()
        _ = machine.request(.initial, seen: 0, now: 0, waiter: 0)
        _ = machine.fetched(changed: true, now: 1)
        _ = machine.request(.connectionLost, seen: 1, now: 2, waiter: 1)
        #expect(machine.failed(now: 3) == [1])
        #expect(machine.lastFetchFailed)
        guard case .current = machine.request(.redirected, seen: 1, now: 3 + second / 20, waiter: 2) else {
            Issue.record("a retry within the failure backoff started a fetch")
            return
        }
        guard case .start = machine.request(.redirected, seen: 1, now: 3 + second / 5, waiter: 2) else {
            Issue.record("a retry after the failure backoff did not start a fetch")
            return
        }
    }

    @Test func withoutAMapAFailureDoesNotHoldTheNextCallerBack() {
        var machine = machine()
        _ = machine.request(.initial, seen: 0, now: 0, waiter: 0)
        #expect(machine.failed(now: 1) == [0])
        guard case .start = machine.request(.initial, seen: 0, now: 2, waiter: 1) else {
            Issue.record("a client without a map waited out the backoff")
            return
        }
    }

    @Test func backgroundRequestsAreNotQueued() {
        var machine = machine()
        _ = machine.request(.initial, seen: 0, now: 0, waiter: nil)
        guard case .joined(queued: false) = machine.request(.connectionLost, seen: 0, now: 1, waiter: nil) else {
            Issue.record("a background request was queued")
            return
        }
        #expect(machine.fetched(changed: true, now: 2).resume.isEmpty)
    }

    @Test func cancelledWaitersLeaveAndCloseHandsBackTheRest() {
        var machine = machine()
        _ = machine.request(.initial, seen: 0, now: 0, waiter: 0)
        _ = machine.request(.initial, seen: 0, now: 0, waiter: 1)
        _ = machine.request(.initial, seen: 0, now: 0, waiter: 2)
        #expect(machine.removeWaiter { $0 == 1 } == 1)
        #expect(machine.removeWaiter { $0 == 1 } == nil)
        #expect(machine.close() == [0, 2])
    }
}
