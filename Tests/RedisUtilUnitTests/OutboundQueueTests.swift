@testable import RedisUtil
import TestSupport
import RESP
import Synchronization
import Testing

/// Records which tagged handlers were completed, to tell handlers apart after the queue returns them.
private final class CompletionLog: Sendable {
    let completed = Locked<[Int]>([])

    func handler(_ tag: Int) -> ReplyHandler {
        .single { [self] _ in completed.withLock { $0.append(tag) } }
    }

    func tags(of handlers: [ReplyHandler]) -> [Int] {
        completed.withLock { $0.removeAll() }
        for handler in handlers { handler.complete(.success(.null), failures: nil) }
        return completed.withLock { $0 }
    }
}

/// Appends command `tag` as a 10-byte command (`bytes` repeated), deadline `deadline`.
private func append(_ queue: inout OutboundQueue, _ log: CompletionLog, tag: Int, size: Int = 10, deadline: UInt64 = .max) {
    queue.append(Array(repeating: UInt8(tag), count: size), handlers: [log.handler(tag)], deadline: deadline)
}

/// Pretends the kernel took `count` bytes; returns the bytes it was offered.
@discardableResult
private func write(_ queue: inout OutboundQueue, _ count: Int) -> [UInt8] {
    var offered: [UInt8] = []
    queue.withUnsentBytes { bytes in
        offered = Array(bytes)
        return min(count, bytes.count)
    }
    return offered
}

@Suite("OutboundQueue: written vs never-sent bookkeeping, without sockets")
struct OutboundQueueTests {
    @Test("a fully written command is 'maybe executed', an unwritten one is kept for the next connection")
    func writtenVersusNeverSent() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1)
        append(&queue, log, tag: 2)
        append(&queue, log, tag: 3)
        write(&queue, 10)
        #expect(queue.written == 10)
        let lost = queue.connectionLost()
        #expect(log.tags(of: lost) == [1])
        #expect(queue.pending.count == 2)
        #expect(queue.liveCount == 2)
        // Offsets restart at 0 for the next socket, and exactly the bytes of 2 and 3 remain.
        #expect(queue.written == 0)
        #expect(queue.pending.map(\.start) == [0, 10])
        #expect(write(&queue, 0) == Array(repeating: 2, count: 10) + Array(repeating: 3, count: 10))
    }

    @Test("a partially written command is 'maybe executed' and its unwritten tail is dropped", arguments: [1, 5, 9])
    func partialWrite(bytesOfSecond: Int) {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1)
        append(&queue, log, tag: 2)
        append(&queue, log, tag: 3)
        write(&queue, 10 + bytesOfSecond)
        let lost = queue.connectionLost()
        #expect(log.tags(of: lost) == [1, 2])
        #expect(queue.pending.map(\.start) == [0])
        // The half-sent command must not be completed on the next socket: only 3's bytes remain.
        #expect(write(&queue, 0) == Array(repeating: 3, count: 10))
        #expect(queue.unsentByteCount == 10)
    }

    @Test("nothing written: everything is kept; everything written: nothing is kept")
    func extremes() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1)
        append(&queue, log, tag: 2)
        #expect(queue.connectionLost().isEmpty)
        #expect(queue.pending.count == 2)
        write(&queue, 20)
        #expect(log.tags(of: queue.connectionLost()) == [1, 2])
        #expect(queue.pending.isEmpty)
        #expect(queue.liveCount == 0)
        #expect(!queue.hasUnsent)
    }

    @Test("a batch shares its first byte: one written byte makes all of it 'maybe executed'")
    func batch() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        queue.append(Array(repeating: 7, count: 30), handlers: [log.handler(1), log.handler(2), log.handler(3)], deadline: .max)
        append(&queue, log, tag: 4)
        write(&queue, 1)
        #expect(log.tags(of: queue.connectionLost()) == [1, 2, 3])
        #expect(queue.pending.count == 1)
        #expect(write(&queue, 0) == Array(repeating: 4, count: 10))
    }

    @Test("replies pop in order; a reply with nothing pending is reported")
    func popOrder() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        for tag in 1...3 { append(&queue, log, tag: tag) }
        write(&queue, 30)
        var popped: [ReplyHandler] = []
        for _ in 1...3 {
            guard let slot = queue.popForReply(), let handler = slot else { Issue.record("expected a live slot"); return }
            popped.append(handler)
        }
        #expect(log.tags(of: popped) == [1, 2, 3])
        #expect(queue.popForReply() == nil)
        #expect(queue.liveCount == 0)
    }

    @Test("expire() completes overdue commands once and leaves placeholders that swallow their late replies")
    func expirePlaceholders() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1, deadline: 100)
        append(&queue, log, tag: 2, deadline: 200)
        append(&queue, log, tag: 3, deadline: 300)
        write(&queue, 30)
        #expect(queue.expire(now: 50).isEmpty)
        #expect(log.tags(of: queue.expire(now: 250).map(\.handler)) == [1, 2])
        // Expiring again returns nothing twice.
        #expect(queue.expire(now: 250).map(\.handler).isEmpty)
        #expect(queue.liveCount == 1)
        #expect(queue.pending.count == 3)
        // The late replies of 1 and 2 land on placeholders, the third on its handler.
        guard case .some(.none) = queue.popForReply() else { Issue.record("expected a placeholder"); return }
        guard case .some(.none) = queue.popForReply() else { Issue.record("expected a placeholder"); return }
        guard case .some(.some(let third)) = queue.popForReply() else { Issue.record("expected a live slot"); return }
        #expect(log.tags(of: [third]) == [3])
        #expect(queue.expire(now: 1000).isEmpty)
    }

    @Test("a timed-out command's error names it and its timeout; each command of a pipeline by its own name")
    func expiredNamesAndTimeouts() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        var pipeline: [UInt8] = []
        RESPEncoder.encodeCommand(into: &pipeline, "get", "k")
        RESPEncoder.encodeCommand(into: &pipeline, "SET", "k", "a value with $3\r\n inside")
        queue.append(pipeline, handlers: [log.handler(1), log.handler(2)], deadline: 100, timeout: .milliseconds(250))
        var blocking: [UInt8] = []
        RESPEncoder.encodeCommand(into: &blocking, "BLPOP", "jobs", 5)
        queue.append(blocking, handlers: [log.handler(3)], deadline: 200, timeout: .seconds(7))
        // Garbage (not RESP) still expires, under a generic name.
        queue.append(Array("nonsense".utf8), handlers: [log.handler(4)], deadline: 300, timeout: .seconds(1))
        let expired = queue.expire(now: 300)
        #expect(expired.map(\.name) == ["GET", "SET", "BLPOP", "command"])
        #expect(expired.map(\.timeout) == [.milliseconds(250), .milliseconds(250), .seconds(7), .seconds(1)])
    }

    @Test("the timeout cursor follows pops, so a command appended later still expires")
    func expireAfterPops() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1, deadline: 100)
        write(&queue, 10)
        #expect(log.tags(of: queue.expire(now: 100).map(\.handler)) == [1])
        _ = queue.popForReply()
        append(&queue, log, tag: 2, deadline: 300)
        write(&queue, 10)
        #expect(log.tags(of: queue.expire(now: 300).map(\.handler)) == [2])
    }

    @Test("connectionLost rebases placeholders too: a never-sent timed-out command keeps a slot for its reply")
    func lostWithPlaceholders() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1, deadline: 100)
        append(&queue, log, tag: 2, deadline: 100)
        append(&queue, log, tag: 3, deadline: 500)
        write(&queue, 10)
        #expect(log.tags(of: queue.expire(now: 100).map(\.handler)) == [1, 2])
        // 1 was written (placeholder dropped, its handler already completed); 2 is a
        // never-sent placeholder whose bytes still go out, so its slot must stay.
        #expect(queue.connectionLost().isEmpty)
        #expect(queue.pending.count == 2)
        #expect(queue.pending.map(\.start) == [0, 10])
        #expect(queue.liveCount == 1)
        write(&queue, 20)
        guard case .some(.none) = queue.popForReply() else { Issue.record("expected 2's placeholder"); return }
        guard case .some(.some(let third)) = queue.popForReply() else { Issue.record("expected 3"); return }
        #expect(log.tags(of: [third]) == [3])
    }

    @Test("removeAll returns only live handlers and empties the queue")
    func removeAll() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1, deadline: 10)
        append(&queue, log, tag: 2)
        _ = queue.expire(now: 10)
        #expect(log.tags(of: queue.removeAll()) == [2])
        #expect(queue.pending.isEmpty && !queue.hasUnsent && queue.liveCount == 0)
    }

    @Test("appends of encoded commands and partial writes agree on offsets")
    func encodedCommands() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        for (tag, command) in [(1, ["PING"]), (2, ["ECHO", "x"])] {
            var bytes: [UInt8] = []
            RESPEncoder.encodeCommand(into: &bytes, arguments: command)
            queue.append(bytes, handlers: [log.handler(tag)], deadline: .max)
        }
        let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)
        #expect(queue.pending.map(\.start) == [0, UInt64(ping.count)])
        write(&queue, ping.count - 1)
        #expect(log.tags(of: queue.connectionLost()) == [1])
        #expect(write(&queue, 0) == Array("*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n".utf8))
    }
}
