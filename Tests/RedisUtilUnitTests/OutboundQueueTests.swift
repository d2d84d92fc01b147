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

    @Test("connectionLost rebases placeholders too: a never-sent timed-out command keeps its slot until dropUnwanted")
    func lostWithPlaceholders() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1, deadline: 100)
        append(&queue, log, tag: 2, deadline: 100)
        append(&queue, log, tag: 3, deadline: 500)
        write(&queue, 10)
        #expect(log.tags(of: queue.expire(now: 100).map(\.handler)) == [1, 2])
        // 1 was written (placeholder dropped, its handler already completed); 2 is a
        // never-sent placeholder: connectionLost alone keeps it, with its bytes, rebased
        // (the connection then takes it out with dropUnwanted before the next socket's
        // first write: `dropTimedOutUnwritten` and `expireAfterDrop` below).
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

    // MARK: Commands never written that nobody waits for

    @Test("dropUnwanted takes out a never-written timed-out command and its bytes; a partly written one stays")
    func dropTimedOutUnwritten() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1, deadline: 500)
        append(&queue, log, tag: 2, deadline: 100)
        append(&queue, log, tag: 3, deadline: 100)
        append(&queue, log, tag: 4, deadline: 500)
        // 1 whole, 2 half: 2 may have reached the server, 3 and 4 did not.
        write(&queue, 15)
        #expect(log.tags(of: queue.expire(now: 100).map(\.handler)) == [2, 3])
        let dropped = queue.dropUnwanted()
        #expect(dropped.slots == 1 && dropped.bytes == 10)
        #expect(queue.pending.count == 3)
        #expect(queue.pending.map(\.start) == [0, 10, 20])
        #expect(queue.queued == 30 && queue.written == 15)
        #expect(queue.liveCount == 2)
        // What goes out next: the rest of 2 (it was started), then 4; never 3.
        #expect(write(&queue, 0) == Array(repeating: 2, count: 5) + Array(repeating: 4, count: 10))
        write(&queue, 15)
        guard case .some(.some(let first)) = queue.popForReply() else { Issue.record("expected 1"); return }
        guard case .some(.none) = queue.popForReply() else { Issue.record("expected 2's placeholder"); return }
        guard case .some(.some(let fourth)) = queue.popForReply() else { Issue.record("expected 4"); return }
        #expect(log.tags(of: [first, fourth]) == [1, 4])
        #expect(queue.popForReply() == nil)
        #expect(queue.dropUnwanted() == (0, 0))
    }

    @Test("dropUnwanted takes out a never-written awaited command whose task was cancelled, not a written one")
    func dropCancelledUnwritten() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        let writtenCancelled = AsyncReply<RESPValue>()
        let cancelled = AsyncReply<RESPValue>()
        let awaited = AsyncReply<RESPValue>()
        queue.append(Array(repeating: 1, count: 10), handlers: [.awaited(writtenCancelled)], deadline: .max)
        append(&queue, log, tag: 2)
        queue.append(Array(repeating: 3, count: 7), handlers: [.awaited(cancelled)], deadline: .max)
        queue.append(Array(repeating: 4, count: 5), handlers: [.awaited(awaited)], deadline: .max)
        append(&queue, log, tag: 5)
        write(&queue, 10)
        writtenCancelled.cancel()
        cancelled.cancel()
        #expect(cancelled.isAbandoned && !awaited.isAbandoned)
        #expect(queue.liveCount == 5)
        let dropped = queue.dropUnwanted()
        #expect(dropped.slots == 1 && dropped.bytes == 7)
        #expect(queue.liveCount == 4)
        #expect(queue.pending.map(\.start) == [0, 10, 20, 25])
        #expect(write(&queue, 0) == Array(repeating: 2, count: 10) + Array(repeating: 4, count: 5) + Array(repeating: 5, count: 10))
        // The written one keeps its slot (its reply will come); 4 is still waited for.
        #expect(queue.pending[0].handler?.isAbandoned == true)
        #expect(queue.pending[2].handler?.isAbandoned == false)
    }

    @Test("a batch goes only when none of its commands is waited for")
    func dropBatches() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        // Two batches of two commands, 12 bytes each, both timed out whole; then a single
        // command that cannot time out.
        queue.append(Array(repeating: 1, count: 12), handlers: [log.handler(11), log.handler(12)], deadline: 100)
        queue.append(Array(repeating: 2, count: 12), handlers: [log.handler(21), log.handler(22)], deadline: 100)
        append(&queue, log, tag: 3, deadline: .max)
        #expect(log.tags(of: queue.expire(now: 100).map(\.handler)) == [11, 12, 21, 22])
        let dropped = queue.dropUnwanted()
        #expect(dropped.slots == 4 && dropped.bytes == 24)
        #expect(queue.pending.map(\.start) == [0])
        #expect(write(&queue, 0) == Array(repeating: 3, count: 10))
    }

    @Test("a batch kept behind dropped commands keeps its commands together, moved to the front")
    func keepBatchBehindDropped() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1, deadline: 100)
        // Two timed-out commands, then a batch that waits for ever: its two commands share
        // their first byte, before and after the drop.
        queue.append(Array(repeating: 2, count: 12), handlers: [log.handler(21)], deadline: 100)
        queue.append(Array(repeating: 3, count: 8), handlers: [log.handler(31), log.handler(32)], deadline: .max)
        #expect(log.tags(of: queue.expire(now: 100).map(\.handler)) == [1, 21])
        let dropped = queue.dropUnwanted()
        #expect(dropped.slots == 2 && dropped.bytes == 22)
        #expect(queue.pending.map(\.start) == [0, 0])
        #expect(queue.liveCount == 2)
        #expect(write(&queue, 0) == Array(repeating: 3, count: 8))
    }

    @Test("after dropUnwanted the timeout cursor still finds the deadlines of commands kept and appended")
    func expireAfterDrop() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        append(&queue, log, tag: 1, deadline: 100)
        append(&queue, log, tag: 2, deadline: 200)
        append(&queue, log, tag: 3, deadline: 300)
        #expect(log.tags(of: queue.expire(now: 100).map(\.handler)) == [1])
        _ = queue.connectionLost()
        #expect(queue.dropUnwanted() == (1, 10))
        #expect(queue.pending.map(\.start) == [0, 10])
        append(&queue, log, tag: 4, deadline: 400)
        #expect(log.tags(of: queue.expire(now: 250).map(\.handler)) == [2])
        #expect(queue.dropUnwanted() == (1, 10))
        #expect(log.tags(of: queue.expire(now: 400).map(\.handler)) == [3, 4])
        #expect(queue.dropUnwanted() == (2, 20))
        #expect(queue.pending.isEmpty && !queue.hasUnsent && queue.queued == 0)
        #expect(queue.nextCommandDeadline == nil)
    }

    @Test("an awaited pipeline whose task was cancelled goes whole when none of it was written")
    func dropCancelledPipeline() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        let cancelled = AsyncReply<[Result<RESPValue, RedisError>]>()
        let awaited = AsyncReply<[Result<RESPValue, RedisError>]>()
        let dropped = PipelineCollector(count: 2, waiter: cancelled) { _ in }
        let kept = PipelineCollector(count: 2, waiter: awaited) { _ in }
        append(&queue, log, tag: 1)
        queue.append(Array(repeating: 2, count: 12), handlers: dropped.handlers(count: 2), deadline: .max)
        queue.append(Array(repeating: 3, count: 12), handlers: kept.handlers(count: 2), deadline: .max)
        cancelled.cancel()
        #expect(dropped.isAbandoned && !kept.isAbandoned)
        #expect(queue.dropUnwanted() == (2, 12))
        #expect(queue.liveCount == 3)
        #expect(queue.pending.map(\.start) == [0, 10, 10])
        #expect(write(&queue, 0) == Array(repeating: 1, count: 10) + Array(repeating: 3, count: 12))
    }

    @Test("the reply of a task cancelled while it waits (armed, then cancelled by the task) is abandoned")
    func armedReplyCancelledByItsTask() async throws {
        let armed = Locked<AsyncReply<RESPValue>?>(nil)
        // `start` runs once the reply is armed with the task's continuation.
        let waiting = Task { try await AsyncReply<RESPValue>.wait { reply in armed.withLock { $0 = reply } } }
        var reply: AsyncReply<RESPValue>?
        while reply == nil {
            await Task.yield()
            reply = armed.withLock { $0 }
        }
        let handler = ReplyHandler.awaited(reply!)
        #expect(!handler.isAbandoned)
        var queue = OutboundQueue()
        queue.append(Array(repeating: 1, count: 10), handlers: [handler], deadline: .max)
        waiting.cancel()
        await #expect(throws: RedisError.cancelled) { try await waiting.value }
        #expect(handler.isAbandoned)
        #expect(queue.dropUnwanted() == (1, 10))
        #expect(queue.pending.isEmpty && !queue.hasUnsent && queue.liveCount == 0)
    }

    @Test("bytes the transport may hold for a retried write count as written: a command starting among them stays")
    func heldBytesStay() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        for tag in 1...4 { append(&queue, log, tag: tag, deadline: 100) }
        write(&queue, 5)
        #expect(log.tags(of: queue.expire(now: 100).map(\.handler)) == [1, 2, 3, 4])
        // 1 is partly written; the transport holds 1's rest and the first byte of 3 (it
        // was offered 21 bytes): 2 and 3 may reach the server, 4 cannot.
        #expect(queue.dropUnwanted(held: 21) == (1, 10))
        #expect(queue.pending.map(\.start) == [0, 10, 20])
        #expect(write(&queue, 0) == Array(repeating: 1, count: 5) + Array(repeating: 2, count: 10) + Array(repeating: 3, count: 10))
        // Held bytes beyond what is unsent count only up to it.
        #expect(queue.dropUnwanted(held: 1 << 20) == (0, 0))
        // A command starting exactly where the held bytes end was not offered: it goes.
        #expect(queue.dropUnwanted(held: 15) == (1, 10))
        #expect(queue.dropUnwanted() == (1, 10))
        #expect(write(&queue, 0) == Array(repeating: 1, count: 5))
    }

    @Test("a lost connection counts the commands among the held bytes as maybe executed, the next one as never sent")
    func heldBytesOnLoss() {
        let log = CompletionLog()
        var queue = OutboundQueue()
        for tag in 1...4 { append(&queue, log, tag: tag) }
        write(&queue, 5)
        // The transport held 1's rest and all of 2 (15 bytes offered): 3 starts where they end.
        #expect(log.tags(of: queue.connectionLost(held: 15)) == [1, 2])
        #expect(queue.pending.map(\.start) == [0, 10])
        #expect(queue.liveCount == 2)
        #expect(write(&queue, 0) == Array(repeating: 3, count: 10) + Array(repeating: 4, count: 10))
    }

    @Test("an expired command never written becomes fillers of its length where it lies; a written or held one stays")
    func expiredUnwrittenBecomesFiller() throws {
        let log = CompletionLog()
        var queue = OutboundQueue()
        var commands: [[UInt8]] = []
        for (tag, value) in ["a", "bb", "ccc", "dddd"].enumerated() {
            var bytes: [UInt8] = []
            RESPEncoder.encodeCommand(into: &bytes, "SET", "key", value)
            commands.append(bytes)
            queue.append(bytes, handlers: [log.handler(tag + 1)], deadline: tag == 3 ? 500 : 100)
        }
        // The first half written, the second held by the transport; the third and fourth not.
        let firstLength = commands[0].count
        write(&queue, firstLength / 2)
        let expired = queue.expire(now: 100, held: firstLength - firstLength / 2 + commands[1].count)
        #expect(log.tags(of: expired.map(\.handler)) == [1, 2, 3])
        let third = try #require(FillerCommands.encode(count: 1, length: commands[2].count))
        #expect(write(&queue, 0) == Array(commands[0][(firstLength / 2)...]) + commands[1] + third + commands[3])
        // Nothing moved: the slots, their offsets, the live count.
        #expect(queue.pending.count == 4 && queue.liveCount == 1)
        #expect(queue.unsentByteCount == commands.map(\.count).reduce(0, +) - firstLength / 2)
    }

    @Test("a cancelled command never written becomes fillers where it lies; a written, held or waited-for one stays")
    func abandonedUnwrittenBecomesFiller() throws {
        var queue = OutboundQueue()
        var commands: [[UInt8]] = []
        let replies = (0..<5).map { _ in AsyncReply<RESPValue>() }
        for (index, value) in ["a", "bb", "ccc", "dddd"].enumerated() {
            var bytes: [UInt8] = []
            RESPEncoder.encodeCommand(into: &bytes, "SET", "key", value)
            commands.append(bytes)
            queue.append(bytes, handlers: [.awaited(replies[index])], deadline: .max)
        }
        // A pipeline of two, cancelled whole.
        var batch: [UInt8] = []
        RESPEncoder.encodeCommand(into: &batch, "INCR", "a")
        RESPEncoder.encodeCommand(into: &batch, "INCR", "b")
        let collector = PipelineCollector(count: 2, waiter: replies[4]) { _ in }
        queue.append(batch, handlers: collector.handlers(count: 2), deadline: .max)
        // The first half written, the second held by the transport; the third cancelled,
        // the fourth still waited for; the pipeline cancelled.
        let firstLength = commands[0].count
        write(&queue, firstLength / 2)
        let held = firstLength - firstLength / 2 + commands[1].count
        for index in [0, 1, 2, 4] { _ = replies[index].cancel() }
        #expect(queue.abandonedUnwrittenCount(held: held) == 3)
        #expect(queue.neutralizeAbandoned(held: held) == 3)
        #expect(queue.abandonedUnwrittenCount(held: held) == 0)
        let third = try #require(FillerCommands.encode(count: 1, length: commands[2].count))
        let fillers = try #require(FillerCommands.encode(count: 2, length: batch.count))
        #expect(write(&queue, 0) == Array(commands[0][(firstLength / 2)...]) + commands[1] + third + commands[3] + fillers)
        // Nothing moved; the written and held ones stay live (their replies may come).
        #expect(queue.pending.count == 6 && queue.liveCount == 3)
        #expect(queue.neutralizeAbandoned(held: held) == 0, "each once")
        #expect(queue.unsentByteCount == commands.map(\.count).reduce(0, +) + batch.count - firstLength / 2)
    }

    @Test("an expired batch never written becomes one filler per command, the same bytes in all")
    func expiredBatchBecomesFillers() throws {
        let log = CompletionLog()
        var queue = OutboundQueue()
        var batch: [UInt8] = []
        RESPEncoder.encodeCommand(into: &batch, "INCR", "a")
        RESPEncoder.encodeCommand(into: &batch, "INCR", "b")
        RESPEncoder.encodeCommand(into: &batch, "GET", "c")
        queue.append(batch, handlers: [log.handler(1), log.handler(2), log.handler(3)], deadline: 100)
        #expect(queue.expire(now: 100).count == 3)
        let fillers = try #require(FillerCommands.encode(count: 3, length: batch.count))
        #expect(write(&queue, 0) == fillers)
        // The three late replies land on the three slots that swallow them.
        write(&queue, batch.count)
        for _ in 1...3 {
            guard case .some(.none) = queue.popForReply() else { Issue.record("expected a placeholder"); return }
        }
        #expect(queue.popForReply() == nil)
    }

    @Test("an expired command longer than a filler's longest part becomes a filler too, of parts within it")
    func expiredLongCommandBecomesFiller() throws {
        let log = CompletionLog()
        var queue = OutboundQueue()
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "SET", "key", String(repeating: "v", count: 1 << 20))
        queue.append(bytes, handlers: [log.handler(1)], deadline: 100)
        #expect(queue.expire(now: 100).count == 1)
        let filler = try #require(FillerCommands.one(bytes.count))
        #expect(write(&queue, 0) == filler)
    }
}
