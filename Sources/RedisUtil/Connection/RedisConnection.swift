#if canImport(Glibc)
import Glibc
import SystemCall
#endif
import Logging
import Reactor
import RESP
import Synchronization

/// One socket to one server, driven by one reactor: the thin I/O shell around
/// ``ConnectionStateMachine`` (every decision: what a loss fails, when to reconnect,
/// which deadline is next and what passing it means, how a close drains) and
/// ``OutboundQueue`` (which bytes went out, which replies are owed). The shell opens
/// sockets, reads and writes, keeps one timer at the machine's next deadline, and
/// completes handlers.
///
/// Callers on any thread hand over ``Submission``s through a lock-free inbox; the
/// reactor moves them into the output buffer in batches and writes everything a loop
/// iteration produced with one `send`. Replies are parsed in place and matched to
/// handlers in FIFO order. The object outlives its sockets: after a failure it
/// reconnects with backoff and re-sends the commands that were never written.
final class RedisConnection: @unchecked Sendable, EndOfIterationWork {
    // @unchecked Sendable: `reactor`, `endpoint`, `configuration`, `settings` and
    // `logger` are immutable; `inbox`, `drainScheduled`, `load` and `unsentBytes` are
    // atomic or lock-free and used from any thread; every other stored property is
    // confined to `reactor`'s thread (all paths into them start in a reactor callback,
    // in `reactor.execute`, or in a method guarded by `reactor.preconditionInReactor()`).

    let reactor: Reactor
    let endpoint: RedisEndpoint
    let configuration: RedisConfiguration
    private let logger: Logger

    private let inbox = MPSCNodeQueue<SubmissionNode>()
    private let drainScheduled = Atomic<Bool>(false)
    /// Reply slots taken: commands accepted whose reply has neither arrived nor been
    /// written off with the socket. A timed-out or cancelled command keeps its slot
    /// (and its share of the load) until its late reply is swallowed, so that a stalled
    /// server whose commands all time out still pushes back on callers instead of
    /// letting placeholders pile up; and so that `load == 0` means "no reply owed",
    /// which the blocking pool relies on before it reuses a connection.
    /// Any thread reads it for load balancing and backpressure.
    let load = Atomic<Int>(0)
    /// A blocking connection that lost its socket after serving: it never reconnects,
    /// because the pool's `CLIENT ID` for it would go stale and `CLIENT UNBLOCK` could
    /// then release another client's command. Any thread reads it.
    let isDefunct = Atomic<Bool>(false)
    /// The last attempt to connect found no file descriptor within the process's budget
    /// (``DescriptorBudget``); cleared when a socket connects. The client sends new
    /// commands to other connections while it is set. Any thread reads it.
    let lacksDescriptor = Atomic<Bool>(false)
    /// Attempts to connect that failed (refused, unreachable, a handshake that broke off)
    /// and left the queued commands waiting for the next one, so far. A cluster's map
    /// fetch reads it before and while its command waits, to leave an unreachable seed at
    /// once rather than wait out its timeout while the connection retries. Any thread
    /// reads it.
    let failedAttempts = Atomic<Int>(0)
    /// Encoded bytes accepted and not yet written. Any thread reads it for backpressure.
    let unsentBytes = Atomic<Int>(0)
    /// ``Phase``'s raw value, for the metrics' connection gauges. Any thread reads it.
    private let phase = Atomic<UInt8>(Phase.idle.rawValue)
    /// Where the client's metrics count bytes and reconnects; nil when metrics are off.
    private let counters: ClientCounters?
    /// Whether this connection was ready once: becoming ready again is a reconnect.
    private var wasReady = false

    /// What the metrics' connection gauges see of a connection.
    enum Phase: UInt8 {
        /// No socket: not yet connected, waiting to reconnect, or closed.
        case idle
        /// Connecting, or in the handshake.
        case opening
        /// Ready for commands.
        case open
    }

    // The state each command (or, one command in flight, each loop iteration) touches
    // skips the run-time exclusivity checks (with their thread-local lookups, about 12%
    // of a pipelined command's instructions, and 8% of a lone command's). Safe because it
    // is confined to the reactor thread, and every access is a plain read or write, a
    // call into a pure struct method (`ConnectionStateMachine`, `OutboundQueue`,
    // `RESPParser`), a syscall or the watcher's interest, none of which can reach back
    // into this object: handlers and other callbacks run only after the value they came
    // out of has been returned.
    @exclusivity(unchecked) private var machine: ConnectionStateMachine
    @exclusivity(unchecked) private var outbound = OutboundQueue()
    @exclusivity(unchecked) private var parser: RESPParser
    @exclusivity(unchecked) private var handshakeBytes: [UInt8] = []
    /// The socket's transport once one is open (plain now; TLS adds one type, no branch here).
    @exclusivity(unchecked) private var transport: (any Transport)?
    /// Whether `transport` is set, as a plain flag: the reply loop tests it per reply,
    /// where loading the existential would cost a retain and a release each time.
    @exclusivity(unchecked) private var isOpen = false
    /// A read that waits for the socket to be writable (a TLS read mid-renegotiation).
    @exclusivity(unchecked) private var readWaitsForWrite = false
    /// A write that wanted the socket readable first (a TLS record to read), to retry
    /// on the next readable event.
    @exclusivity(unchecked) private var writeWaitsForRead = false
    @exclusivity(unchecked) private var watcher: FDWatcher?
    private var addresses: [SocketAddress] = []
    private var nextAddress = 0
    /// The one timer, set to the machine's next deadline (`timerDeadline`; `.max`: none).
    private var timer: ScheduledTimer?
    /// What the timer's body reaches the connection through (not a weak reference: see
    /// ``ReactorOwnerLink``); released when the timer is cancelled or fires.
    private var timerLink: ReactorOwnerLink<RedisConnection>?
    @exclusivity(unchecked) private var timerDeadline: UInt64 = .max
    /// Whether the connection is registered for the end of this iteration: a flush, and
    /// with ``readContinues`` the rest of a read first.
    @exclusivity(unchecked) private var flushScheduled = false
    /// Input is left inside the transport (TLS records read ahead) after a readable
    /// callback used its reads: no readiness event will announce it, so the end of the
    /// iteration goes on reading.
    @exclusivity(unchecked) private var readContinues = false
    /// Callers of ``close(gracePeriod:completion:)`` waiting for it to finish; non-empty
    /// while a close waits for replies.
    private var closeCompletions: [() -> Void] = []
    /// The client's callers waiting for room; told whenever slots or bytes free up.
    private let capacityWaiters: CapacityWaiters?
    /// Where RESP3 push frames go (reactor thread).
    private let onPush: (@Sendable (RESPValue) -> Void)?
    /// Told when a blocking connection is lost for good (reactor thread): a
    /// subscriber's only way to learn of it while no command is pending.
    private let onDefunct: (@Sendable (RedisError) -> Void)?
    /// Told when the connection, once ready, is lost (reactor thread): a cluster's router
    /// watches the node then, even when no command was in flight to fail.
    private let onLoss: (@Sendable () -> Void)?
    /// Where the failures of ``ReplyHandler/routed(_:bytes:)`` commands go: a cluster
    /// node's router. Nil on other connections, which are sent no such command.
    private let routedFailures: (any RoutedFailureHandler)?

    /// Early flush threshold: past this much unsent data, write without waiting for the iteration's end.
    private static let earlyFlushBytes = 64 * 1024
    /// Reads per readiness callback before yielding to other connections on the reactor.
    private static let readsPerWakeup = 16

    init(
        reactor: Reactor, endpoint: RedisEndpoint, configuration: RedisConfiguration, isBlocking: Bool = false,
        capacityWaiters: CapacityWaiters? = nil,
        onPush: (@Sendable (RESPValue) -> Void)? = nil, onDefunct: (@Sendable (RedisError) -> Void)? = nil,
        onLoss: (@Sendable () -> Void)? = nil, routedFailures: (any RoutedFailureHandler)? = nil
    ) {
        self.onLoss = onLoss
        self.routedFailures = routedFailures
        self.onPush = onPush
        self.onDefunct = onDefunct
        self.capacityWaiters = capacityWaiters
        self.reactor = reactor
        self.endpoint = endpoint
        self.configuration = configuration
        self.logger = configuration.logger
        self.counters = configuration.observer?.counters
        self.machine = ConnectionStateMachine(settings: .init(configuration, endpoint: endpoint.description, isBlocking: isBlocking))
        self.parser = RESPParser(limits: RESPLimits(maxBulkLength: configuration.maxBulkLength))
    }

    /// Reached with work outstanding only when the reactor stopped before anyone closed
    /// the connection: its teardown released the socket watcher (the last reference) or
    /// refused the close. Nothing else can reach the object, so whatever thread this
    /// runs on touches it alone: the socket is closed and every command still owed an
    /// answer gets one, as ``close(gracePeriod:completion:)`` would have given it.
    deinit {
        let held = heldByTransport
        transport?.close()
        let written = outbound.connectionLost(held: held)
        let neverSent = outbound.removeAll()
        let reason = "the reactor stopped before the connection was closed"
        for handler in written {
            complete(handler, .failure(.connectionLost(endpoint: endpoint.description, reason: reason, delivery: .written)))
        }
        for handler in neverSent { complete(handler, .failure(.closed)) }
        while case .element(let submission) = inbox.dequeue() {
            for handler in submission.handlers { complete(handler, .failure(.closed)) }
        }
        for completion in closeCompletions { completion() }
    }

    // MARK: Submission (any thread)

    /// Hands commands to the connection. Any thread; never blocks.
    func submit(_ submission: Submission) {
        load.add(submission.handlers.count, ordering: .relaxed)
        unsentBytes.add(submission.bytes.count, ordering: .relaxed)
        if reactor.inReactor {
            accept(submission, now: nil)
            return
        }
        inbox.enqueue(submission)
        // One reactor task per burst of submissions, not one per command.
        if !drainScheduled.exchange(true, ordering: .acquiringAndReleasing) {
            if !reactor.executeIfRunning({ self.drainInbox() }) {
                drainScheduled.store(false, ordering: .releasing)
                failInbox(.closed)
            }
        }
    }

    /// Commands accepted from the inbox and not yet answered (timed-out ones included).
    /// Reactor thread only; for tests of how the inbox is drained.
    var acceptedPendingCount: Int {
        reactor.preconditionInReactor()
        return outbound.pending.count
    }

    /// The commands never written whose tasks were cancelled and which are still queued
    /// as they were (not yet made harmless). Reactor thread only; for tests of the
    /// sweep behind a full socket.
    var abandonedUnwrittenCount: Int {
        reactor.preconditionInReactor()
        return outbound.abandonedUnwrittenCount(held: heldByTransport)
    }

    private func drainInbox() {
        drainScheduled.store(false, ordering: .releasing)
        let now = monotonicNanoseconds()
        // Bounded, as the reactor's own queue is: threads that keep submitting must not
        // hold the reactor here while its sockets and timers wait (under load, another
        // connection's handshake on this reactor ran past its 5 s connect timeout).
        var budget = 4096
        drain: while true {
            switch inbox.dequeue() {
            case .element(let submission):
                accept(submission, now: now)
                budget -= 1
                if budget == 0 { break drain }
            case .empty:
                return
            case .inProgress:
                // A producer is mid-enqueue; it saw the flag set and will not schedule us.
                break drain
            }
        }
        // Later, after the reactor's other work: a drain of our own reactor runs in its next round.
        if !drainScheduled.exchange(true, ordering: .acquiringAndReleasing) {
            reactor.execute { self.drainInbox() }
        }
    }

    private func failInbox(_ error: RedisError) {
        while case .element(let submission) = inbox.dequeue() {
            unsentBytes.subtract(submission.bytes.count, ordering: .relaxed)
            releaseSlots(submission.handlers.count)
            for handler in submission.handlers { complete(handler, .failure(error)) }
        }
    }

    /// Queues `submission` for the next write. `now` is read here, and only when needed
    /// (a deadline to set, or the first command of a burst, which starts the liveness
    /// clock), unless the caller has it (an inbox drain reads it once for all): on the
    /// reactor thread a callback's next command was reading the clock each time, about
    /// 35 instructions of a `PING`'s 2,583 under callgrind, and `clock_gettime` on a
    /// virtual machine can cost more than it counts.
    private func accept(_ submission: Submission, now given: UInt64?) {
        guard machine.state != .closed else {
            unsentBytes.subtract(submission.bytes.count, ordering: .relaxed)
            releaseSlots(submission.handlers.count)
            for handler in submission.handlers { complete(handler, .failure(.closed)) }
            return
        }
        let timeout: Duration? = switch submission.timeout {
        case .configured: configuration.commandTimeout
        case .never: nil
        case .after(let duration): duration
        }
        let wasIdle = outbound.pending.isEmpty
        // 0 only where neither `deadline(timeout:now:)` (no timeout) nor the machine (not
        // the burst's first command) reads it.
        let now = given ?? (timeout != nil || wasIdle ? monotonicNanoseconds() : 0)
        let deadline = deadline(timeout: timeout, now: now)
        outbound.append(submission.bytes, handlers: submission.handlers, deadline: deadline, timeout: timeout ?? .zero)
        switch machine.commandsQueued(now: now, wasIdle: wasIdle) {
        case .write:
            if outbound.unsentByteCount >= Self.earlyFlushBytes { flush() } else { scheduleFlush() }
        case .connect:
            connect()
        case .failQueued:
            failQueued(machine.defunctError)
        case .wait:
            break
        }
        // The liveness check starts with the first command of a burst; a later deadline
        // than the timer's is found when it fires.
        if wasIdle || deadline < timerDeadline { setTimer() }
    }

    private func deadline(timeout: Duration?, now: UInt64) -> UInt64 {
        guard let timeout else { return .max }
        return now &+ timeout.nanosecondsClamped
    }

    /// Completes one handler; every path that calls it has removed the handler from
    /// `outbound` or the inbox first, which is what makes "exactly once" hold.
    private func complete(_ handler: consuming ReplyHandler, _ result: Result<RESPValue, RedisError>) {
        handler.complete(result, failures: routedFailures)
    }

    /// Gives back the load of reply slots that left the FIFO (answered, written off, or never queued).
    private func releaseSlots(_ count: Int) {
        guard count > 0 else { return }
        // Sequentially consistent, as CapacityWaiters requires (the same instruction as
        // relaxed on x86 and ARM's LSE).
        load.subtract(count, ordering: .sequentiallyConsistent)
        capacityWaiters?.roomFreed(count)
    }

    // MARK: Connecting

    private func connect() {
        guard machine.connectStarted(now: monotonicNanoseconds(), commandsQueued: !outbound.pending.isEmpty) else { return }
        phase.store(Phase.opening.rawValue, ordering: .relaxed)
        setTimer()
        AddressResolver.resolve(endpoint) { [self] result in
            if reactor.inReactor {
                resolved(result)
            } else if !reactor.executeIfRunning({ self.resolved(result) }) {
                return
            }
        }
    }

    private func resolved(_ result: Result<[SocketAddress], RedisError>) {
        guard machine.state == .connecting, transport == nil else { return }
        switch result {
        case .failure(let error):
            connectionLost(error.description)
        case .success(let resolved):
            addresses = resolved
            nextAddress = 0
            tryNextAddress(previousError: nil)
        }
    }

    private func tryNextAddress(previousError: String?) {
        guard nextAddress < addresses.count else {
            connectionLost(previousError ?? "no address to connect to")
            return
        }
        let address = addresses[nextAddress]
        nextAddress += 1
        let budget = DescriptorBudget.current()
        switch Socket.startConnect(to: address, within: budget) {
        case .failure(let error) where DescriptorBudget.isExhaustion(error.code):
            outOfDescriptors(budget)
        case .failure(let error):
            tryNextAddress(previousError: errnoDescription(error.code))
        case .success(let (socket, inProgress)):
            guard let opened = openTransport(on: socket, inProgress: inProgress) else {
                Socket.close(socket)
                refuse(.tlsFailed(endpoint: endpoint.description, reason: "OpenSSL could not allocate a session"))
                return
            }
            transport = opened
            isOpen = true
            // The watcher holds the connection strongly while its socket is open: a
            // reply or EOF can arrive after every owner has let go (a client whose
            // close() the reactor refused because it was shutting down), and the call
            // must find a live object. `closeSocket()`, or the reactor's teardown
            // releasing its watchers, breaks the cycle. (Strong is also the cheaper
            // capture: an unowned one is checked and retained on every callback.)
            watcher = reactor.watch(
                fd: socket,
                interest: .write,
                onReadable: { [self] in
                    readable()
                    if writeWaitsForRead {
                        writeWaitsForRead = false
                        flush()
                    }
                },
                onWritable: { [self] in writable() }
            )
            advanceConnect()
        }
    }

    /// Plain, or TLS when the configuration asks for it (its context made by the client).
    private func openTransport(on socket: Int32, inProgress: Bool) -> (any Transport)? {
        guard let context = configuration.tlsContext else {
            return PlainTransport(descriptor: socket, inProgress: inProgress)
        }
        let host: String? = if case .tcp(let host, _) = endpoint.address { host } else { nil }
        return TLSTransport(descriptor: socket, inProgress: inProgress, context: context, host: host)
    }

    /// Takes the connect (TCP, then the transport's own handshake) as far as the socket allows.
    private func advanceConnect() {
        guard let transport else { return }
        switch transport.connectStep() {
        case .done:
            watcher?.setInterest(.read)
            socketConnected()
        case .wants(let interest):
            watcher?.setInterest(interest)
        case .failed(let reason):
            closeSocket()
            tryNextAddress(previousError: reason)
        case .refused(let reason):
            refuse(.tlsFailed(endpoint: endpoint.description, reason: reason))
        }
    }

    private func socketConnected() {
        guard let bytes = machine.connected(now: monotonicNanoseconds()) else {
            becameReady()
            return
        }
        handshakeBytes = bytes
        flush()
    }

    private func becameReady() {
        lacksDescriptor.store(false, ordering: .relaxed)
        phase.store(Phase.open.rawValue, ordering: .relaxed)
        if wasReady { counters?.reconnects.add(1, ordering: .relaxed) }
        wasReady = true
        logger.debug("connected", metadata: ["endpoint": "\(endpoint)", "protocol": "\(machine.negotiated)"])
        // Before the queue's first write on this socket: nothing of it is in the transport yet.
        dropUnwanted()
        if machine.closeMayFinish(liveCommands: outbound.liveCount) {
            finishClose()
            return
        }
        flush()
        setTimer()
    }

    // MARK: I/O

    private func writable() {
        if machine.state == .connecting {
            advanceConnect()
            return
        }
        if readWaitsForWrite {
            readWaitsForWrite = false
            readable()
        }
        flush()
    }

    private func scheduleFlush() {
        guard !flushScheduled else { return }
        flushScheduled = true
        reactor.atEndOfIteration(self)
    }

    /// Goes on reading at the end of the iteration (after the other connections' events)
    /// what the transport holds.
    private func scheduleReadContinuation() {
        readContinues = true
        scheduleFlush()
    }

    /// The flush ``scheduleFlush()`` asked for (see ``EndOfIterationWork``), after the
    /// rest of a read when ``scheduleReadContinuation()`` asked for that.
    func runAtEndOfIteration() {
        flushScheduled = false
        // Reset with the socket it was for (`closeSocket()`); a connect since never sets it.
        if readContinues {
            readContinues = false
            readable()
        }
        flush()
    }

    /// Writes the handshake, or once ready the queued commands, until done or the kernel pushes back.
    private func flush() {
        guard let transport else { return }
        if !handshakeBytes.isEmpty {
            let result = handshakeBytes.withUnsafeBytes { transport.send($0) }
            switch result {
            case .transferred(let count):
                handshakeBytes.removeFirst(count)
                counters?.bytesWritten.add(count, ordering: .relaxed)
            case .wouldBlock, .endOfFile: break
            case .failed(let code):
                connectionLost("write failed: \(errnoDescription(code))")
                return
            case .broken(let reason):
                refuse(.tlsFailed(endpoint: endpoint.description, reason: reason))
                return
            }
            watcher?.setInterest(handshakeBytes.isEmpty ? .read : [.read, .write])
            return
        }
        guard machine.state == .ready else { return }
        while outbound.hasUnsent {
            var result = IOResult.wouldBlock(waitingFor: .write)
            outbound.withUnsentBytes { bytes in
                result = transport.send(bytes)
                if case .transferred(let count) = result { return count }
                return 0
            }
            switch result {
            case .transferred(let count):
                unsentBytes.subtract(count, ordering: .sequentiallyConsistent)
                counters?.bytesWritten.add(count, ordering: .relaxed)
                capacityWaiters?.roomFreed(.max)
            case .wouldBlock(let interest):
                // A TLS write may need a record read first; the next readable retries it.
                if interest.contains(.read) { writeWaitsForRead = true }
                watcher?.setInterest(interest.union(.read))
                // What waits behind the full socket is looked through for cancelled
                // commands until it is written (`writeBlocked(now:)`).
                if machine.writeBlocked(now: monotonicNanoseconds()) { setTimer() }
                return
            case .endOfFile:
                watcher?.setInterest([.read, .write])
                return
            case .failed(let code):
                connectionLost("write failed: \(errnoDescription(code))")
                return
            case .broken(let reason):
                connectionLost("TLS: \(reason)")
                return
            }
        }
        watcher?.setInterest(readWaitsForWrite ? [.read, .write] : .read)
    }

    private func readable() {
        if machine.state == .connecting {
            advanceConnect()
            return
        }
        for _ in 0..<Self.readsPerWakeup {
            guard let transport else { return }
            var result = IOResult.wouldBlock(waitingFor: .read)
            var capacity = 0
            parser.withUnsafeWritableTail(minimumCapacity: 64 * 1024) { buffer in
                capacity = buffer.count
                result = transport.receive(into: buffer)
                if case .transferred(let count) = result { return count }
                return 0
            }
            switch result {
            case .transferred(let count):
                counters?.bytesRead.add(count, ordering: .relaxed)
                machine.progress(at: monotonicNanoseconds())
                processReplies()
                closeIfDrained()
                // A short read means the socket is drained; skip the EAGAIN round trip.
                if count < capacity && !transport.hasBufferedInput { return }
            case .wouldBlock(let interest):
                if interest.contains(.write) {
                    readWaitsForWrite = true
                    watcher?.setInterest([.read, .write])
                }
                return
            case .endOfFile:
                processReplies()
                connectionLost(machine.state == .ready ? "the server closed the connection" : Self.closedDuringHandshake(tls: configuration.tlsContext != nil))
                return
            case .failed(let code):
                let closedEarly = code == ECONNRESET && machine.state != .ready
                connectionLost(closedEarly ? Self.closedDuringHandshake(tls: configuration.tlsContext != nil) : "read failed: \(errnoDescription(code))")
                return
            case .broken(let reason):
                // Before the handshake's replies, a TLS failure is a refusal (a server
                // that wants a client certificate says so with the first record).
                if machine.state == .ready {
                    connectionLost("TLS: \(reason)")
                } else {
                    refuse(.tlsFailed(endpoint: endpoint.description, reason: reason))
                }
                return
            }
        }
        // The reads ran out with decrypted or read-ahead TLS input still held by the
        // transport, perhaps all there is: the socket may have nothing more, and would
        // never wake this connection for it (a run of small records read ahead at once
        // then waited for the liveness timeout, replies and all). Plain input left in the
        // kernel wakes the reactor again by itself.
        if transport?.hasBufferedInput == true { scheduleReadContinuation() }
    }

    private func processReplies() {
        while isOpen {
            let reply: RESPValue
            do {
                guard let next = try parser.next() else { return }
                reply = next
            } catch {
                logger.error("protocol error, closing", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
                if machine.state == .handshaking {
                    // No user command has been written yet, so none would learn of the
                    // error; a server that answers the handshake with garbage will do so
                    // again, so fail what waits now rather than after the connect timeout.
                    failQueued(.protocolError(error))
                }
                connectionLost("protocol error: \(error)", protocolError: error)
                return
            }
            if case .push = reply {
                onPush?(reply)
                continue
            }
            switch machine.state {
            case .handshaking:
                handshakeReply(reply)
            case .ready:
                guard let slot = outbound.popForReply() else {
                    connectionLost("the server sent a reply with no command pending")
                    return
                }
                releaseSlots(1)
                if let handler = consume slot {
                    if let message = reply.errorMessage {
                        complete(consume handler, .failure(.server(message: message)))
                    } else {
                        complete(consume handler, .success(reply))
                    }
                } else {
                    // A timed-out or cancelled command's late reply: its load was already released.
                }
            case .connecting, .disconnected, .closed:
                return
            }
        }
    }

    private func handshakeReply(_ reply: RESPValue) {
        switch machine.handshakeReply(reply, now: monotonicNanoseconds()) {
        case .wait:
            break
        case .write(let bytes):
            handshakeBytes += bytes
            flush()
        case .ready:
            becameReady()
        case .fail(let error):
            logger.warning("handshake failed", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
            lose { now, _, random in machine.attemptRefused(error, now: now, random: random) }
        }
    }

    /// A connect that will fail the same way every time (a TLS handshake refused): what
    /// is queued fails now with `error`.
    private func refuse(_ error: RedisError) {
        logger.warning("connection refused", metadata: ["endpoint": "\(endpoint)", "error": "\(error)"])
        lose { now, _, random in machine.attemptRefused(error, now: now, random: random) }
    }

    /// Why a connection closed (or was reset) before the handshake was answered, with
    /// the usual cause: a TLS port reached in plaintext.
    static func closedDuringHandshake(tls: Bool) -> String {
        tls ? "the server closed the connection during the handshake"
            : "the server closed the connection during the handshake (if this port serves TLS, connect with rediss:// or RedisConfiguration.tls)"
    }

    // MARK: Failure and reconnect

    private func closeSocket() {
        phase.store(Phase.idle.rawValue, ordering: .relaxed)
        watcher?.cancel()
        watcher = nil
        transport?.close()
        transport = nil
        isOpen = false
        readWaitsForWrite = false
        writeWaitsForRead = false
        readContinues = false
        parser = RESPParser(limits: parser.limits)
        handshakeBytes.removeAll()
    }

    /// The socket is unusable: fail what may have executed, keep what was never sent,
    /// and reconnect with backoff while commands are waiting.
    private func connectionLost(_ reason: String, protocolError: RESPError? = nil) {
        lose { now, queueRemains, random in
            machine.connectionLost(reason: reason, protocolError: protocolError, now: now, queueRemains: queueRemains, random: random)
        }
    }

    /// Closes the socket, takes the commands that may have reached the server out of
    /// the queue, and performs what `decide` (the machine, given the time, whether
    /// commands remain queued and a random draw for the jitter) says of the loss.
    private func lose(_ decide: (_ now: UInt64, _ queueRemains: Bool, _ random: Double) -> ConnectionStateMachine.LossDecision?) {
        let held = heldByTransport
        closeSocket()
        guard machine.state != .closed else { return }
        let written = takeOutOfLostQueue(held: held)
        guard let decision = decide(monotonicNanoseconds(), !outbound.pending.isEmpty, Double.random(in: 0...1)) else { return }
        // Only where the queue is kept waiting for the next attempt: a refusal (a handshake
        // refused, no descriptor) fails what is queued itself, with the error to report.
        if !decision.wasReady && decision.failQueued == nil { failedAttempts.wrappingAdd(1, ordering: .relaxed) }
        if decision.wasReady {
            logger.info("connection lost", metadata: ["endpoint": "\(endpoint)", "reason": "\(machine.lastError)"])
            onLoss?()
        }
        for handler in written { complete(handler, .failure(decision.writtenError)) }
        if decision.becameDefunct { isDefunct.store(true, ordering: .relaxed) }
        if let error = decision.failQueued { failQueued(error) }
        if decision.becameDefunct { onDefunct?(decision.writtenError) }
        setTimer()
        closeIfDrained()
    }

    /// No descriptor for a socket: another attempt would find none either, so what is
    /// queued fails now, never sent, and the client routes around this connection
    /// (``lacksDescriptor``) until it next connects.
    private func outOfDescriptors(_ budget: DescriptorBudget) {
        lacksDescriptor.store(true, ordering: .relaxed)
        logger.warning("no file descriptor for a connection", metadata: [
            "endpoint": "\(endpoint)", "limit": "\(budget.limit)", "reserved": "\(budget.reserved)",
        ])
        lose { now, _, random in machine.attemptRefused(budget.error, now: now, random: random) }
    }

    private func failQueued(_ error: RedisError) {
        let slots = outbound.pending.count
        let bytes = outbound.unsentByteCount
        let handlers = outbound.removeAll()
        queueShrank(slots: slots, bytes: bytes)
        for handler in handlers { complete(handler, .failure(error)) }
        machine.queueEmptied()
        closeIfDrained()
    }

    // MARK: The timer

    /// Sets the one timer to the machine's next deadline when that comes before the
    /// moment it is set to (a later one is found when it fires: moving it for every
    /// command or reply would cost a timer operation each).
    private func setTimer() {
        let next = machine.nextDeadline(commandDeadline: outbound.nextCommandDeadline, hasPending: !outbound.pending.isEmpty) ?? .max
        guard next < timerDeadline else { return }
        cancelTimer()
        timerDeadline = next
        let now = monotonicNanoseconds()
        // Through a link released on cancel: a cancelled timer stays in the reactor's
        // queue until its deadline, and must not keep a closed connection's buffers alive
        // that long.
        let link = ReactorOwnerLink(self)
        timerLink = link
        timer = reactor.scheduleOnReactor(after: .nanoseconds(Int64(clamping: next > now ? next - now : 0))) {
            link.owner?.timerFired()
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
        timerLink?.release()
        timerLink = nil
        timerDeadline = .max
    }

    /// A deadline passed: commands past their own fail (the slots stay, to swallow late
    /// replies; those never written become fillers), and the machine says what else is due.
    private func timerFired() {
        // Done with this timer: what cancelling it does (a cancel of a fired one-shot
        // timer changes nothing else).
        cancelTimer()
        let now = monotonicNanoseconds()
        // The queue's unwritten expired and abandoned commands are made harmless before
        // any handler runs (a callback's next command could flush the queue).
        let expired = outbound.expire(now: now, held: heldByTransport)
        if machine.sweepDue(now: now, queueUnwritten: outbound.hasUnsent) {
            _ = outbound.neutralizeAbandoned(held: heldByTransport)
        }
        for expired in expired {
            complete(expired.handler, .failure(machine.expiryError(command: expired.name, timeout: expired.timeout)))
        }
        switch machine.deadlinePassed(now: now, hasWrittenPending: outbound.oldestWrittenStart != nil) {
        case .none: break
        case .lose(let reason): connectionLost(reason)
        case .connect: connect()
        case .finishClose:
            finishClose()
            return
        }
        closeIfDrained()
        setTimer()
    }

    /// Takes the commands never written that nobody waits for out of the queue, unsent
    /// (``OutboundQueue/dropUnwanted(held:)``), with their load and bytes: before a new
    /// socket's first write of the queue, and at a close. One-off points, each a walk of
    /// the queue: not the timer, which can fire at every deadline of a long queue (a
    /// timed-out command is made harmless there instead, in place: ``OutboundQueue/expire(now:held:)``).
    /// So a task cancelled while its command waits for a socket leaves it queued until
    /// the next connect or close; one cancelled while a ready connection's socket is
    /// full is made harmless in place by the timer's next sweep instead (every 50 ms
    /// while the socket pushes back, ``ConnectionStateMachine/writeBlocked(now:)``),
    /// unless the server reads it first.
    /// What the transport may hold already of a write that did not go through (a TLS
    /// record, ``Transport/heldForRetry``) stays: it is on its way.
    private func dropUnwanted() {
        let dropped = outbound.dropUnwanted(held: heldByTransport)
        guard dropped.slots > 0 else { return }
        queueShrank(slots: dropped.slots, bytes: dropped.bytes)
        if outbound.pending.isEmpty { machine.queueEmptied() }
    }

    /// The socket is gone: takes out of the queue the commands that may have reached the
    /// server (returned, to fail as written; ``OutboundQueue/connectionLost(held:)``, `held`
    /// read before the socket closed) and those never written that nobody waits for, and
    /// lowers the counters for every slot and byte that left (a partly written command's
    /// rest, what the transport held). Submissions still in the inbox stay counted.
    private func takeOutOfLostQueue(held: Int) -> [ReplyHandler] {
        let slotsBefore = outbound.pending.count
        let unsentBefore = outbound.unsentByteCount
        let written = outbound.connectionLost(held: held)
        _ = outbound.dropUnwanted()
        queueShrank(slots: slotsBefore - outbound.pending.count, bytes: unsentBefore - outbound.unsentByteCount)
        return written
    }

    /// The queue gave up `slots` reply slots and `bytes` unsent bytes other than by a
    /// write or a reply. Bytes first, then the slots, whose release wakes callers waiting
    /// for room (``CapacityWaiters``): a caller held back by the unsent bytes must find
    /// them lowered when it looks again; and every waiter once bytes went, as a write wakes them.
    private func queueShrank(slots: Int, bytes: Int) {
        unsentBytes.subtract(bytes, ordering: .sequentiallyConsistent)
        releaseSlots(slots)
        if bytes > 0 { capacityWaiters?.roomFreed(.max) }
    }

    /// The unsent bytes, from the first, that the transport may hold or have sent
    /// without saying so (``Transport/heldForRetry``): only the queue's writes count, and
    /// the queue is written only while the connection is ready.
    private var heldByTransport: Int {
        machine.state == .ready ? transport?.heldForRetry ?? 0 : 0
    }

    // MARK: Closing

    /// ``close(gracePeriod:completion:)`` from any thread, on the connection's reactor
    /// (later, when called on it). `false` when the reactor has stopped: nothing to close.
    @discardableResult
    func closeOnReactor(gracePeriod: Duration = .zero, completion: @escaping @Sendable () -> Void = {}) -> Bool {
        reactor.executeIfRunning { self.close(gracePeriod: gracePeriod, completion: completion) }
    }

    /// Stops the connection for good: waits up to `gracePeriod` for replies to commands
    /// already accepted, then closes and fails whatever is left. Reactor thread; calls
    /// `completion` there. The wait ends on an event, never a poll: the reply, timeout
    /// or loss that leaves no live command (``closeIfDrained()``), or one timer set to
    /// the end of the grace period.
    func close(gracePeriod: Duration, completion: @escaping () -> Void) {
        reactor.preconditionInReactor()
        drainInbox()
        dropUnwanted()
        closeCompletions.append(completion)
        switch machine.closeRequested(now: monotonicNanoseconds(), gracePeriod: gracePeriod, liveCommands: outbound.liveCount) {
        case .finish: finishClose()
        case .waitUntil: setTimer()
        }
    }

    /// Finishes a close in progress once no live command is left to answer.
    private func closeIfDrained() {
        if machine.closeMayFinish(liveCommands: outbound.liveCount) { finishClose() }
    }

    private func finishClose() {
        let completions = closeCompletions
        closeCompletions.removeAll()
        let held = heldByTransport
        machine.close()
        closeSocket()
        cancelTimer()
        let written = takeOutOfLostQueue(held: held)
        for handler in written {
            complete(handler, .failure(.connectionLost(endpoint: endpoint.description, reason: "the client was closed", delivery: .written)))
        }
        failQueued(.closed)
        failInbox(.closed)
        for completion in completions { completion() }
    }

    // MARK: Metrics

    /// Adds this connection's state, pending replies and unsent bytes to `sample`. Any thread.
    func addGauges(to sample: inout ReportedInstruments.Gauges) {
        switch Phase(rawValue: phase.load(ordering: .relaxed)) {
        case .open?: sample.open += 1
        case .opening?: sample.opening += 1
        case .idle?, nil: break
        }
        sample.pending += load.load(ordering: .relaxed)
        sample.unsentBytes += unsentBytes.load(ordering: .relaxed)
    }
}
