@testable import RedisUtil
import Testing

/// A stand-in connection: the machine only needs an identity, and `reactor` to test
/// the preference for the caller's reactor.
private struct FakeLease: Identifiable, Equatable {
    var id: Int
    var reactor = 0
}

private typealias Pool = LeasePoolMachine<FakeLease>

private let ms: UInt64 = 1_000_000

private func pool(bound: Int = 4, idleTimeout: UInt64? = 60_000 * ms) -> Pool {
    Pool(settings: .init(bound: bound, idleTimeout: idleTimeout))
}

/// The grant's lease, or `nil` for any other grant.
private func reused(_ grant: Pool.Grant?) -> FakeLease? {
    if case .reuse(let lease)? = grant { return lease }
    return nil
}

private func isCreate(_ grant: Pool.Grant?) -> Bool {
    if case .create? = grant { true } else { false }
}

/// What each ticket was handed, in order: "create", "reuse <id>", "expired", "closed".
private func describe(_ handoffs: [Pool.Handoff]) -> [String] {
    handoffs.map { handoff in
        switch handoff.grant {
        case .create: "\(handoff.ticket): create"
        case .reuse(let lease): "\(handoff.ticket): reuse \(lease.id)"
        case .expired: "\(handoff.ticket): expired"
        case .closed: "\(handoff.ticket): closed"
        }
    }
}

/// Opens a connection through the machine: a grant to create, then `created`.
private func open(_ machine: inout Pool, _ id: Int, ticket: UInt64 = 0, reactor: Int = 0) -> FakeLease {
    let grant = machine.request(ticket, deadline: nil, now: 0)
    #expect(isCreate(grant), "expected room to open connection \(id)")
    let lease = FakeLease(id: id, reactor: reactor)
    let kept = machine.created(lease)
    #expect(kept)
    return lease
}

/// The blocking pool's decisions, driven with plain values and a manual clock.
@Suite("Blocking connection pool: the lease state machine")
struct BlockingLeasePoolTests {
    @Test("a returned connection is reused; the caller's reactor is preferred")
    func leaseAndReturn() {
        var machine = pool()
        let a = open(&machine, 1, reactor: 1)
        let b = open(&machine, 2, reactor: 2)
        #expect(machine.release(a, now: 0).handoffs.isEmpty)
        #expect(machine.release(b, now: 0).handoffs.isEmpty)
        #expect(machine.idleCount == 2)
        // b came back last, but a is on the caller's reactor.
        #expect(reused(machine.request(1, deadline: nil, now: 0) { $0.reactor == 1 }) == a)
        #expect(machine.takeIdle() == b)
        #expect(machine.takeIdle() == nil)
        #expect(machine.open.count == 2)
    }

    @Test("at the bound, callers wait and get returned connections first come, first served")
    func boundAndWaiterOrder() {
        var machine = pool(bound: 2)
        let a = open(&machine, 1)
        let b = open(&machine, 2)
        #expect(machine.request(10, deadline: nil, now: 0) == nil)
        #expect(machine.request(11, deadline: nil, now: 0) == nil)
        #expect(machine.request(12, deadline: nil, now: 0) == nil)
        #expect(machine.waiting == 3)
        #expect(describe(machine.release(b, now: 0).handoffs) == ["10: reuse 2"])
        #expect(describe(machine.release(a, now: 0).handoffs) == ["11: reuse 1"])
        // A discarded connection frees its slot: the next waiter opens one.
        #expect(describe(machine.discard(b).handoffs) == ["12: create"])
        #expect(machine.waiting == 0)
        #expect(machine.open.count == 1 && machine.creating == 1)
    }

    @Test("a discarded connection is closed and its slot goes to the first waiter")
    func discardFreesASlot() {
        var machine = pool(bound: 1)
        let a = open(&machine, 1)
        #expect(machine.request(10, deadline: nil, now: 0) == nil)
        let step = machine.discard(a)
        #expect(step.close == [a])
        #expect(describe(step.handoffs) == ["10: create"])
        #expect(machine.creating == 1)
        // Discarding again (a connection already gone) does nothing.
        let again = machine.discard(a)
        #expect(again.close.isEmpty && again.handoffs.isEmpty)
    }

    @Test("a failed open frees its slot for the next waiter")
    func openFailure() {
        var machine = pool(bound: 1)
        #expect(isCreate(machine.request(1, deadline: nil, now: 0)))
        #expect(machine.request(2, deadline: nil, now: 0) == nil)
        #expect(describe(machine.openFailed().handoffs) == ["2: create"])
        #expect(machine.creating == 1)
        let kept = machine.created(FakeLease(id: 7))
        #expect(kept)
        #expect(machine.open.count == 1)
    }

    @Test("a wait ends at its deadline, never sent; the timer is set to the earliest one")
    func deadlineExpiry() {
        var machine = pool(bound: 1, idleTimeout: nil)
        let a = open(&machine, 1)
        #expect(machine.wakeAt == nil)
        #expect(machine.request(10, deadline: 500 * ms, now: 100 * ms) == nil)
        #expect(machine.request(11, deadline: 300 * ms, now: 100 * ms) == nil)
        #expect(machine.request(12, deadline: nil, now: 100 * ms) == nil)
        #expect(machine.wakeAt == 300 * ms)
        #expect(machine.timerFired(now: 299 * ms).handoffs.isEmpty)
        #expect(describe(machine.timerFired(now: 300 * ms).handoffs) == ["11: expired"])
        #expect(machine.wakeAt == 500 * ms)
        #expect(describe(machine.timerFired(now: 600 * ms).handoffs) == ["10: expired"])
        #expect(machine.wakeAt == nil)
        // The one left still gets the connection when it comes back.
        #expect(describe(machine.release(a, now: 700 * ms).handoffs) == ["12: reuse 1"])
        // A deadline already past when asking expires at once.
        var full = pool(bound: 0)
        if case .expired? = full.request(1, deadline: 5, now: 5) {} else { Issue.record("not expired at once") }
    }

    @Test("a cancelled waiter leaves the line and strands no one")
    func cancelledWaiter() {
        var machine = pool(bound: 1)
        let a = open(&machine, 1)
        #expect(machine.request(10, deadline: nil, now: 0) == nil)
        #expect(machine.request(11, deadline: nil, now: 0) == nil)
        #expect(machine.cancelWait(10).waited)
        #expect(!machine.cancelWait(10).waited, "a second cancellation finds nothing")
        #expect(describe(machine.release(a, now: 0).handoffs) == ["11: reuse 1"])
        #expect(!machine.cancelWait(11).waited, "handed over already: its grant is on its way")
    }

    @Test("idle connections close after the idle timeout, longest idle first, by one timer")
    func idleTimeout() {
        var machine = pool(idleTimeout: 1000 * ms)
        let a = open(&machine, 1)
        let b = open(&machine, 2)
        _ = machine.release(a, now: 0)
        _ = machine.release(b, now: 400 * ms)
        #expect(machine.wakeAt == 1000 * ms)
        #expect(machine.timerFired(now: 999 * ms).close.isEmpty)
        #expect(machine.timerFired(now: 1000 * ms).close == [a])
        #expect(machine.wakeAt == 1400 * ms)
        // Reused before its time: nothing left to close, no timer.
        #expect(machine.takeIdle() == b)
        #expect(machine.wakeAt == nil)
        #expect(machine.open.count == 1)
        // Without an idle timeout, they stay.
        var keeping = pool(idleTimeout: nil)
        _ = keeping.release(open(&keeping, 3), now: 0)
        #expect(keeping.wakeAt == nil)
        #expect(keeping.timerFired(now: .max / 2).close.isEmpty)
    }

    @Test("callers wait for a settling connection rather than open another; beyond those, they open")
    func settling() {
        var machine = pool(bound: 3)
        let a = open(&machine, 1)
        machine.settle(a)
        #expect(machine.request(10, deadline: nil, now: 0) == nil, "waits for the settling one")
        #expect(isCreate(machine.request(11, deadline: nil, now: 0)), "second in line: room, and nothing settling for it")
        #expect(describe(machine.release(a, now: 0).handoffs) == ["10: reuse 1"])
        // A settling connection that is dropped hands its waiter a slot instead.
        machine.settle(a)
        #expect(machine.request(12, deadline: nil, now: 0) == nil)
        let step = machine.discard(a)
        #expect(step.close == [a])
        #expect(describe(step.handoffs) == ["12: create"])
    }

    @Test("a granted connection found dead is replaced by a slot to open one")
    func replaceDefunct() {
        var machine = pool(bound: 1)
        let a = open(&machine, 1)
        _ = machine.release(a, now: 0)
        #expect(reused(machine.request(1, deadline: nil, now: 0)) == a)
        let (grant, step) = machine.replace(a)
        #expect(isCreate(grant))
        #expect(step.close == [a])
        #expect(machine.open.isEmpty && machine.creating == 1)
    }

    @Test("draining hands back every connection, ends every wait, and grants nothing after")
    func drain() {
        var machine = pool(bound: 2)
        _ = open(&machine, 1)
        let b = open(&machine, 2)
        machine.settle(b)
        #expect(machine.request(10, deadline: 5, now: 0) == nil)
        #expect(machine.request(11, deadline: nil, now: 0) == nil)
        let step = machine.drain()
        #expect(Set(step.close.map(\.id)) == [1, 2])
        #expect(describe(step.handoffs) == ["10: closed", "11: closed"])
        #expect(machine.wakeAt == nil)
        if case .closed? = machine.request(12, deadline: nil, now: 0) {} else { Issue.record("granted after drain") }
        #expect(machine.takeIdle() == nil)
        // A connection opened meanwhile, or coming back, is closed.
        let kept = machine.created(FakeLease(id: 3))
        #expect(!kept)
        #expect(machine.release(b, now: 0).close == [b])
    }
}
