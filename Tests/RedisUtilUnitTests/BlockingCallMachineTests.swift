@testable import RedisUtil
import RESP
import Testing
import TestSupport

private let ms: UInt64 = 1_000_000
private typealias Machine = BlockingCallMachine
private typealias Step = BlockingCallMachine.Step

/// A pooled call (answered at its deadline) with a 300 ms deadline, a 50 ms unblock
/// cadence and a 1 s patience, unless told otherwise.
private func call(deadline: UInt64? = 300 * ms, pooled: Bool = true) -> Machine {
    Machine(settings: .init(deadline: deadline, cadence: 50 * ms, patience: 1000 * ms, answersAtDeadline: pooled))
}

private let element = RESPValue.array([.bulkString(Array("q".utf8)), .bulkString(Array("e".utf8))])
private let unblocked = Result<RESPValue, RedisError>.failure(.server(message: "UNBLOCKED client unblocked via CLIENT UNBLOCK"))

/// The steps of one blocking command: when it is sent, unblocked, answered, and when
/// its connection may be reused. A manual clock; no server.
@Suite("Blocking commands: the unblock state machine")
struct BlockingCallMachineTests {
    @Test("a reply answers the caller and frees the connection at once")
    func reply() {
        var machine = call()
        #expect(machine.start(now: 0) == Step(submit: true))
        #expect(machine.wakeAt == 300 * ms, "the deadline")
        #expect(machine.replied(.success(element), now: 10 * ms) == Step(lease: .reuse, answer: .reply(.success(element))))
        #expect(machine.wakeAt == nil)
        // An error reply is a reply: the connection is in step.
        var failing = call(deadline: nil)
        #expect(failing.start(now: 0) == Step(submit: true))
        #expect(failing.wakeAt == nil, "timeout 0: no deadline")
        let wrongType = Result<RESPValue, RedisError>.failure(.server(message: "WRONGTYPE"))
        #expect(failing.replied(wrongType, now: 0) == Step(lease: .reuse, answer: .reply(wrongType)))
    }

    @Test("cancelled before it is submitted: nothing is sent, nothing unblocked, the connection is clean")
    func cancelBeforeSubmit() {
        var machine = call()
        #expect(machine.cancel(now: 0) == Step())
        #expect(machine.start(now: 0) == Step(lease: .reuse, answer: .cancelled))
        #expect(machine.wakeAt == nil)
        #expect(machine.unblocksInFlight == 0)
    }

    @Test("cancelled after: unblocked at once, again at the cadence while no unblock is on its way, and the reply is awaited")
    func cancelAfterSubmit() {
        var machine = call(deadline: nil)
        _ = machine.start(now: 0)
        #expect(machine.cancel(now: 100 * ms) == Step(sendUnblock: true))
        #expect(machine.cancel(now: 101 * ms) == Step(), "one cancellation")
        // While the unblock travels, only the patience is due.
        #expect(machine.wakeAt == 1100 * ms)
        #expect(machine.timerFired(now: 150 * ms) == Step(), "no second unblock while one is on its way")
        // It reached the server before the command did: answered, nothing unblocked.
        #expect(machine.unblockAnswered(now: 160 * ms) == Step())
        #expect(machine.wakeAt == 150 * ms, "the next retry is due")
        #expect(machine.timerFired(now: 160 * ms) == Step(sendUnblock: true))
        #expect(machine.wakeAt == 1100 * ms)
        #expect(machine.unblockAnswered(now: 170 * ms) == Step())
        #expect(machine.wakeAt == 210 * ms, "one cadence after the last")
        #expect(machine.timerFired(now: 209 * ms) == Step(), "early: nothing")
        #expect(machine.timerFired(now: 210 * ms) == Step(sendUnblock: true))
        #expect(machine.unblocksInFlight == 1)
        // The command popped just as it was cancelled: the caller gets the element.
        #expect(machine.replied(.success(element), now: 220 * ms) == Step(), "held: an unblock is still on its way")
        #expect(machine.wakeAt == 1100 * ms, "no retry once the reply is in; only the patience")
        #expect(machine.unblockAnswered(now: 230 * ms) == Step(lease: .reuse, answer: .reply(.success(element))))
        #expect(machine.wakeAt == nil)
    }

    @Test("the connection is reused only once every unblock of ours is answered, whichever comes first")
    func reuseAfterAllAnswered() {
        var machine = call(deadline: nil)
        _ = machine.start(now: 0)
        _ = machine.cancel(now: 0)
        #expect(machine.unblockAnswered(now: 1 * ms) == Step())
        #expect(machine.timerFired(now: 50 * ms) == Step(sendUnblock: true))
        // The unblock's answer before the command's: the connection is reusable at the reply.
        #expect(machine.unblockAnswered(now: 51 * ms) == Step())
        #expect(machine.replied(unblocked, now: 52 * ms) == Step(lease: .reuse, answer: .reply(unblocked)))
        #expect(machine.unblocksInFlight == 0)
    }

    @Test("a server that does not let go within the patience: the caller is answered, the connection dropped")
    func patienceExpiry() {
        var machine = call(deadline: nil)
        _ = machine.start(now: 0)
        _ = machine.cancel(now: 100 * ms)
        var sent = 1
        var now = 100 * ms
        #expect(machine.unblockAnswered(now: now) == Step())
        while let wake = machine.wakeAt, wake < 1100 * ms {
            now = max(now, wake)
            let step = machine.timerFired(now: now)
            if step.sendUnblock { sent += 1 }
            if machine.unblocksInFlight > 0 { #expect(machine.unblockAnswered(now: now) == Step()) }
        }
        #expect(sent == 20, "one every 50 ms of the 1 s patience")
        #expect(machine.timerFired(now: 1100 * ms) == Step(lease: .discard, answer: .cancelled))
        #expect(machine.wakeAt == nil)
        // The dropped connection fails the command: nothing more happens.
        let lost = Result<RESPValue, RedisError>.failure(.connectionLost(endpoint: "e", reason: "closed", delivery: .written))
        #expect(machine.replied(lost, now: 1101 * ms) == Step())
    }

    @Test("a reply in hand but an unblock stuck past the patience: the caller gets the reply, the connection is dropped")
    func patienceExpiryWithReply() {
        var machine = call(deadline: nil)
        _ = machine.start(now: 0)
        _ = machine.cancel(now: 0)
        #expect(machine.replied(.success(element), now: 10 * ms) == Step())
        #expect(machine.wakeAt == 1000 * ms)
        #expect(machine.timerFired(now: 1000 * ms) == Step(lease: .discard, answer: .reply(.success(element))))
        #expect(machine.unblockAnswered(now: 2000 * ms) == Step(), "a late answer changes nothing")
    }

    @Test("past the deadline a pooled caller gets .timedOut at once; the connection is unblocked, then reused")
    func timeoutPooled() {
        var machine = call()
        _ = machine.start(now: 0)
        #expect(machine.timerFired(now: 299 * ms) == Step())
        #expect(machine.timerFired(now: 300 * ms) == Step(sendUnblock: true, lease: .settling, answer: .timedOut))
        #expect(machine.cancel(now: 301 * ms) == Step(), "answered: a cancellation is too late")
        #expect(machine.wakeAt == 1300 * ms)
        #expect(machine.replied(unblocked, now: 310 * ms) == Step())
        #expect(machine.unblockAnswered(now: 311 * ms) == Step(lease: .reuse))
    }

    @Test("past the deadline a dedicated connection's caller is answered .timedOut once the connection settled")
    func timeoutDedicated() {
        var machine = call(pooled: false)
        _ = machine.start(now: 0)
        #expect(machine.timerFired(now: 300 * ms) == Step(sendUnblock: true))
        #expect(machine.cancel(now: 305 * ms) == Step(), "unblocking already")
        #expect(machine.unblockAnswered(now: 310 * ms) == Step())
        #expect(machine.replied(unblocked, now: 320 * ms) == Step(lease: .reuse, answer: .timedOut))
    }

    @Test("a lost connection answers the failure and drops the connection, unblocks in flight or not")
    func connectionLost() {
        let lost = Result<RESPValue, RedisError>.failure(.connectionLost(endpoint: "e", reason: "reset", delivery: .notSent))
        var machine = call()
        _ = machine.start(now: 0)
        _ = machine.cancel(now: 0)
        #expect(machine.replied(lost, now: 1) == Step(lease: .discard, answer: .reply(lost)))
        #expect(machine.unblockAnswered(now: 2) == Step())
        #expect(machine.wakeAt == nil)
    }

    @Test("an unblock that cannot be sent (the client is closing) ends the wait at once")
    func unblockNotSent() {
        var machine = call(deadline: nil)
        _ = machine.start(now: 0)
        #expect(machine.cancel(now: 0) == Step(sendUnblock: true))
        #expect(machine.unblockNotSent(now: 0) == Step(lease: .discard, answer: .cancelled))
        // After the reply, one that cannot be sent leaves nothing on its way.
        var replied = call(deadline: nil)
        _ = replied.start(now: 0)
        _ = replied.cancel(now: 0)
        #expect(replied.replied(.success(.null), now: 1) == Step())
        #expect(replied.unblockNotSent(now: 2) == Step(lease: .reuse, answer: .reply(.success(.null))))
    }

    /// Every order of events a shell can see (seeded, so a failure replays): the caller
    /// is answered at most once and the connection settled at most once; once the reply
    /// is in and every unblock answered, both have happened.
    @Test("any order of events answers the caller once and settles the connection once", arguments: 0..<200)
    func exactlyOnce(seed: UInt64) {
        var random = SeededGenerator(seed: seed)
        var machine = call(deadline: random.next() % 2 == 0 ? nil : 300 * ms, pooled: random.next() % 2 == 0)
        var answers = 0
        var settlements = 0
        var inFlight = 0
        var submitted = false
        var replied = false
        var now: UInt64 = 0
        func take(_ step: Step) {
            if step.submit { submitted = true }
            if step.answer != nil { answers += 1 }
            if step.lease == .reuse || step.lease == .discard { settlements += 1 }
            if step.sendUnblock { inFlight += 1 }
        }
        if random.next() % 4 == 0 { take(machine.cancel(now: now)) }
        take(machine.start(now: now))
        for _ in 0..<40 {
            now += random.next() % (80 * ms)
            switch random.next() % 5 {
            case 0: take(machine.cancel(now: now))
            case 1: take(machine.timerFired(now: now))
            case 2 where inFlight > 0:
                inFlight -= 1
                take(random.next() % 8 == 0 ? machine.unblockNotSent(now: now) : machine.unblockAnswered(now: now))
            case 3 where submitted && !replied:
                replied = true
                take(machine.replied(random.next() % 2 == 0 ? .success(.null) : unblocked, now: now))
            default: take(machine.timerFired(now: now))
            }
            #expect(answers <= 1 && settlements <= 1, "seed \(seed)")
        }
        // Whatever is still owed arrives.
        if submitted && !replied { take(machine.replied(.success(.null), now: now)) }
        while inFlight > 0 {
            inFlight -= 1
            take(machine.unblockAnswered(now: now))
        }
        #expect(answers == 1, "seed \(seed): answered \(answers) times")
        #expect(settlements == 1, "seed \(seed): settled \(settlements) times")
        #expect(machine.wakeAt == nil)
    }
}
