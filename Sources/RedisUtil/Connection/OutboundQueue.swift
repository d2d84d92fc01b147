import DequeModule
import RESP

/// The bytes waiting to be written and the replies waiting to arrive on one
/// connection. Pure: no I/O, so the sent/unsent bookkeeping is tested without sockets.
///
/// Offsets are positions in the byte stream written since the current socket
/// connected. A pending command whose first byte lies before `written` may have
/// reached the server; any other was never sent.
struct OutboundQueue {
    /// A reply slot. It stays in the FIFO after a timeout (handler `nil`) so that the
    /// late reply is swallowed instead of going to the next command; a slot of a
    /// command never written, with no reply coming, is taken out (``dropUnwanted()``).
    struct Pending {
        var handler: ReplyHandler?
        /// Stream offset of the command's first byte.
        var start: UInt64
        /// Monotonic nanoseconds after which the command times out (`.max`: never).
        var deadline: UInt64
        /// For a command that can time out, its timeout and name (an index into
        /// `names`), for the error: the bytes are gone once written. Plain integers, so
        /// that slots stay cheap to move for the commands that cannot time out.
        var timeoutNanoseconds: UInt64 = 0
        var nameIndex: Int32 = -1
    }

    /// A command that timed out, with what its error reports.
    struct Expired {
        var handler: ReplyHandler
        var name: String
        var timeout: Duration
    }

    private(set) var pending = Deque<Pending>()
    /// The names of commands that could time out, each kept once (at most
    /// `maxNames`; beyond that a name is reported as "command").
    private var names: [String] = []
    private static let maxNames = 256
    /// Bytes not yet written; `unsent[head...]` starts at stream offset `written`.
    private var unsent: [UInt8] = []
    private var head = 0
    /// Stream offset just past the last byte handed to the kernel.
    private(set) var written: UInt64 = 0
    /// Stream offset just past the last byte queued.
    private(set) var queued: UInt64 = 0
    /// Pending slots whose handler is still waiting (not timed out or cancelled).
    private(set) var liveCount = 0
    /// Index into `pending` before which every deadline has been checked.
    private var timeoutCursor = 0
    /// The latest deadline queued, and whether an earlier one was queued after it: on
    /// a dedicated connection a command with the configured timeout can follow a
    /// `BLPOP` that waits forever, and the sweep must then look past it.
    private var latestDeadline: UInt64 = 0
    private var deadlinesOutOfOrder = false

    var unsentByteCount: Int { unsent.count - head }
    var hasUnsent: Bool { head < unsent.count }

    /// Queues encoded commands and their handlers; `timeout` is what `deadline` came
    /// from, for the error of a command that runs out of it.
    mutating func append<Handlers: Collection<ReplyHandler>>(_ bytes: [UInt8], handlers: Handlers, deadline: UInt64, timeout: Duration = .zero) {
        // Handlers of a batch share the batch's first byte: if any of it was written,
        // the whole batch is "outcome unknown", which is the safe answer.
        if deadline < latestDeadline { deadlinesOutOfOrder = true }
        latestDeadline = max(latestDeadline, deadline)
        if deadline == .max {
            for handler in handlers {
                pending.append(Pending(handler: handler, start: queued, deadline: deadline))
            }
        } else {
            let commandNames = EncodedCommand.names(bytes, count: handlers.count)
            let nanoseconds = UInt64(timeout.nanosecondsClamped)
            for (index, handler) in handlers.enumerated() {
                let nameIndex = index < commandNames.count ? intern(commandNames[index]) : -1
                pending.append(Pending(handler: handler, start: queued, deadline: deadline, timeoutNanoseconds: nanoseconds, nameIndex: nameIndex))
            }
        }
        liveCount += handlers.count
        if head == unsent.count && head > 0 {
            unsent.removeAll(keepingCapacity: true)
            head = 0
        }
        unsent.append(contentsOf: bytes)
        queued += UInt64(bytes.count)
    }

    private mutating func intern(_ name: String) -> Int32 {
        if let index = names.firstIndex(of: name) { return Int32(index) }
        guard names.count < Self.maxNames else { return -1 }
        names.append(name)
        return Int32(names.count - 1)
    }

    /// Lets `write` send the unsent bytes; it returns how many the kernel took.
    mutating func withUnsentBytes(_ write: (UnsafeRawBufferPointer) -> Int) {
        guard hasUnsent else { return }
        let count = unsent.withUnsafeBytes { all in
            write(UnsafeRawBufferPointer(rebasing: all[head...]))
        }
        precondition(count >= 0 && count <= unsentByteCount, "write reported \(count) of \(unsentByteCount) bytes")
        head += count
        written += UInt64(count)
        if head == unsent.count {
            unsent.removeAll(keepingCapacity: unsent.capacity <= 1 << 20)
            head = 0
        } else if head > 1 << 20 && head * 2 > unsent.count {
            // Compact a large partially written buffer so it cannot grow without bound.
            unsent.removeFirst(head)
            head = 0
        }
    }

    /// Takes the oldest slot for an arriving reply. `nil` when no reply was expected,
    /// which means the stream is out of step and the connection must close.
    mutating func popForReply() -> ReplyHandler?? {
        guard let first = pending.popFirst() else { return nil }
        if timeoutCursor > 0 { timeoutCursor -= 1 }
        if first.handler != nil { liveCount -= 1 }
        if pending.isEmpty { resetDeadlineOrder() }
        return .some(first.handler)
    }

    private mutating func resetDeadlineOrder() {
        latestDeadline = 0
        deadlinesOutOfOrder = false
    }

    /// Takes every live command whose deadline has passed (the slots stay, to swallow
    /// late replies), for the caller to fail. A command among them never written (nor
    /// among the `held` bytes: see ``dropUnwanted(held:)``) is made harmless where it
    /// lies, its bytes replaced by fillers of the same length, one per command
    /// (``FillerCommands``): a stalled server that starts reading again, or the next
    /// socket, does not run what its caller was told had failed, and nothing moves
    /// (costs in proportion to what expired, however long the queue behind it).
    mutating func expire(now: UInt64, held: Int = 0) -> [Expired] {
        var expired: [Expired] = []
        var emptied: [Int] = []
        if deadlinesOutOfOrder {
            // Rare and short (a dedicated connection): look at every slot.
            for index in pending.indices where pending[index].deadline <= now && pending[index].handler != nil {
                expired.append(take(at: index))
                emptied.append(index)
            }
        } else {
            while timeoutCursor < pending.count {
                // Deadlines only increase along the FIFO while they are queued in order.
                guard pending[timeoutCursor].deadline <= now else { break }
                if pending[timeoutCursor].handler != nil {
                    expired.append(take(at: timeoutCursor))
                    emptied.append(timeoutCursor)
                }
                timeoutCursor += 1
            }
        }
        neutralizeUnwritten(emptied, held: held)
        return expired
    }

    /// Replaces with fillers the bytes of each command at `indices` (slots just emptied,
    /// in queue order) that lies wholly beyond the written and `held` bytes, once its
    /// whole batch (the slots sharing its first byte) is empty.
    private mutating func neutralizeUnwritten(_ indices: [Int], held: Int) {
        let reached = reached(held: held)
        var lastStart: UInt64?
        for index in indices where pending[index].start >= reached && pending[index].start != lastStart {
            let start = pending[index].start
            lastStart = start
            var first = index
            while first > pending.startIndex, pending[first - 1].start == start { first -= 1 }
            let (end, stop) = batchEnd(from: first)
            guard pending[first..<end].allSatisfy({ $0.handler == nil }) else { continue }
            // A batch's slots run out together (they share a deadline), so each becomes
            // fillers once; one too short for them (a raw command under 14 bytes) stays as it is.
            let range = unsentRange(start..<stop)
            guard let filler = FillerCommands.encode(count: end - first, length: range.count) else { continue }
            unsent.replaceSubrange(range, with: filler)
        }
    }

    /// Where the bytes that may reach the server end: past those written, and the `held`
    /// ones a transport may have taken (at most what is unsent).
    private func reached(held: Int) -> UInt64 {
        written + UInt64(min(max(held, 0), unsentByteCount))
    }

    /// The batch whose first slot is `first` (its commands share their first byte): the
    /// index past its last slot, and the stream offset past its last byte.
    private func batchEnd(from first: Int) -> (end: Int, stop: UInt64) {
        let start = pending[first].start
        var end = first + 1
        while end < pending.endIndex, pending[end].start == start { end += 1 }
        return (end, end < pending.endIndex ? pending[end].start : queued)
    }

    /// Where the stream's unwritten bytes `offsets` lie in `unsent`.
    private func unsentRange(_ offsets: Range<UInt64>) -> Range<Int> {
        head + Int(offsets.lowerBound - written)..<head + Int(offsets.upperBound - written)
    }

    /// Empties the slot at `index` (it stays, to swallow the late reply) for its handler to fail.
    private mutating func take(at index: Int) -> Expired {
        let slot = pending[index]
        let name = slot.nameIndex >= 0 ? names[Int(slot.nameIndex)] : "command"
        pending[index].handler = nil
        liveCount -= 1
        return Expired(handler: slot.handler!, name: name, timeout: .nanoseconds(Int64(clamping: slot.timeoutNanoseconds)))
    }

    /// The earliest deadline a command still waiting for its reply can run out at; `nil`
    /// when none can time out. In queue order it is the first unchecked slot's (a
    /// cancelled one's too: the timer then fires a little early, finds nothing and is
    /// set again), found in constant time.
    var nextCommandDeadline: UInt64? {
        let deadline: UInt64
        if deadlinesOutOfOrder {
            // Rare and short (a dedicated connection): look at every slot.
            deadline = pending.lazy.filter { $0.handler != nil }.map(\.deadline).min() ?? .max
        } else {
            deadline = timeoutCursor < pending.count ? pending[timeoutCursor].deadline : .max
        }
        return deadline == .max ? nil : deadline
    }

    /// The oldest pending slot's deadline for liveness: its first byte went out long ago and still no reply.
    var oldestWrittenStart: UInt64? {
        guard let first = pending.first, first.start < written else { return nil }
        return first.start
    }

    /// Makes harmless where they lie the commands never written (nor among the `held`
    /// bytes) whose caller stopped waiting (``ReplyHandler/isAbandoned``: a task
    /// cancelled while its command waited behind a full socket): their slots emptied, to
    /// swallow the fillers' replies, and their bytes replaced by fillers of the same length,
    /// as ``expire(now:held:)`` does for a timed-out one; nothing moves, the queue's
    /// order and the bytes already offered to the socket stay. Returns how many were
    /// emptied. A walk of the unwritten tail: the connection calls it only while the
    /// socket pushes back (``ConnectionStateMachine/abandonedSweepAt``).
    mutating func neutralizeAbandoned(held: Int) -> Int {
        var emptied: [Int] = []
        for index in firstUnwritten(held: held)..<pending.endIndex where pending[index].handler?.isAbandoned == true {
            pending[index].handler = nil
            liveCount -= 1
            emptied.append(index)
        }
        neutralizeUnwritten(emptied, held: held)
        return emptied.count
    }

    /// The never-written commands still waited for whose caller stopped waiting: what
    /// ``neutralizeAbandoned(held:)`` would empty. For tests.
    func abandonedUnwrittenCount(held: Int) -> Int {
        (firstUnwritten(held: held)..<pending.endIndex).count { pending[$0].handler?.isAbandoned == true }
    }

    /// The first slot of the FIFO's tail of commands never written: those that start
    /// past the written bytes and the `held` ones, which count as written.
    private func firstUnwritten(held: Int) -> Int {
        let reached = reached(held: held)
        var first = pending.endIndex
        while first > pending.startIndex, pending[first - 1].start >= reached { first -= 1 }
        return first
    }

    /// Takes out of the queue, bytes and all, the commands never written that nobody
    /// waits for: a slot a timeout emptied, or one whose handler is abandoned (an awaited
    /// command whose task was cancelled, ``ReplyHandler/isAbandoned``). They would
    /// otherwise go out when the connection can write (after a reconnect: a command
    /// its caller was told had failed, run later; an `LPOP`'s element popped into a
    /// slot that only swallows it), and hold their place meanwhile. A batch (its
    /// commands share their first byte) goes only when none of its commands is waited
    /// for. `held`: unsent bytes, from the first, that the transport may hold already (a
    /// TLS write that wanted the socket has encrypted them into a record, and is retried
    /// with the same bytes): a command that starts among them stays, as if written.
    /// Returns the slots and bytes removed, for the connection's load and gauges. A walk of
    /// the queue: only the connection's one-off points call it (before a new socket's
    /// first write, a loss, a close), never the reply loop or the timer.
    mutating func dropUnwanted(held: Int = 0) -> (slots: Int, bytes: Int) {
        let first = firstUnwritten(held: held)
        var anyUnwanted = false
        for index in first..<pending.endIndex {
            if pending[index].handler == nil {
                anyUnwanted = true
            } else if pending[index].handler!.isAbandoned {
                pending[index].handler = nil
                liveCount -= 1
                anyUnwanted = true
            }
        }
        guard anyUnwanted else { return (0, 0) }
        // Rebuilt in one pass: a mass expiry while disconnected must not cost a move of
        // the whole tail per command. The bytes kept start with every byte before the
        // first command that may go: the unwritten end of a partly written command and
        // the commands the transport may hold (they may reach the server: they stay).
        var keptSlots: [Pending] = []
        var keptBytes: [UInt8] = []
        keptBytes.reserveCapacity(unsentByteCount)
        keptBytes.append(contentsOf: unsent[unsentRange(written..<pending[first].start)])
        var removedBytes: UInt64 = 0
        var removedSlots = 0
        var index = first
        while index < pending.endIndex {
            let start = pending[index].start
            let (end, stop) = batchEnd(from: index)
            if pending[index..<end].allSatisfy({ $0.handler == nil }) {
                removedBytes += stop - start
                removedSlots += end - index
            } else {
                for kept in index..<end {
                    var slot = pending[kept]
                    slot.start -= removedBytes
                    keptSlots.append(slot)
                }
                keptBytes.append(contentsOf: unsent[unsentRange(start..<stop)])
            }
            index = end
        }
        pending.removeLast(pending.count - first)
        pending.append(contentsOf: keptSlots)
        unsent = keptBytes
        head = 0
        queued -= removedBytes
        // Every slot before the cursor had run out; the ones kept keep their order, so
        // looking again from the first slot rebuilt only re-reads emptied slots.
        timeoutCursor = min(timeoutCursor, first)
        if pending.isEmpty { resetDeadlineOrder() }
        return (removedSlots, Int(removedBytes))
    }

    /// The connection broke: returns the handlers of commands that may have reached
    /// the server (to fail with "outcome unknown") and keeps the never-sent ones, with
    /// their bytes, rebased for the next connection. `held`: unsent bytes, from the first,
    /// that the transport may have sent without saying so (a TLS write that wanted the
    /// socket: see ``dropUnwanted(held:)``); a command starting among them may have
    /// reached the server too.
    mutating func connectionLost(held: Int = 0) -> [ReplyHandler] {
        let reached = reached(held: held)
        var maybeExecuted: [ReplyHandler] = []
        while let first = pending.first, first.start < reached {
            pending.removeFirst()
            if let handler = first.handler {
                maybeExecuted.append(handler)
                liveCount -= 1
            }
        }
        // Drop the unwritten (or held) tail of a partially written command, then restart
        // offsets at 0.
        let keepFrom = pending.first?.start ?? queued
        let skip = Int(keepFrom - written)
        head += skip
        if head > 0 {
            unsent.removeFirst(head)
            head = 0
        }
        for index in pending.indices { pending[index].start -= keepFrom }
        queued -= keepFrom
        written = 0
        timeoutCursor = 0
        if pending.isEmpty { resetDeadlineOrder() }
        // Slots of never-sent commands emptied by a timeout stay here, with their bytes;
        // the connection takes them out with ``dropUnwanted()``.
        return maybeExecuted
    }

    /// Removes everything, returning the live handlers (for shutdown or a hard failure).
    mutating func removeAll() -> [ReplyHandler] {
        let handlers = pending.compactMap(\.handler)
        pending.removeAll()
        unsent.removeAll()
        head = 0
        written = 0
        queued = 0
        liveCount = 0
        timeoutCursor = 0
        resetDeadlineOrder()
        return handlers
    }
}
