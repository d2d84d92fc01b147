import Reactor
import RESP
import Synchronization

/// What receives a command's reply. Called exactly once, on the connection's reactor
/// thread (an awaited command's whose task was cancelled: at most once, the task having
/// had its answer, ``ReplyHandler/isAbandoned``).
typealias ReplyCallback = @Sendable (Result<RESPValue, RedisError>) -> Void

/// Where one pending reply goes.
enum ReplyHandler: Sendable {
    /// One command, one callback.
    case single(ReplyCallback)
    /// One awaited command (``RedisConnection/perform(_:timeout:keepsReply:)``): the reply
    /// goes to the waiting task. A case of its own rather than a callback finishing the
    /// reply, so that the connection can tell a command whose task was cancelled before
    /// it was written (``isAbandoned``) and leave it unsent.
    case awaited(AsyncReply<RESPValue>)
    /// One command of an explicit pipeline, or one node's copy of a cluster command for
    /// every primary; the collector completes the batch.
    case batch(PipelineCollector, index: Int)
    /// A cluster command's first attempt (`bytes`, the command): a success goes to the
    /// callback, a failure to the connection's ``RoutedFailureHandler`` (its node's, for
    /// the router to follow a redirection or retry), which then owes the callback its one
    /// call. A wrapper closure per command did the same at the cost of an allocation and
    /// the retains of what it captured.
    case routed(ReplyCallback, bytes: [UInt8])
    /// A channel's `RPUSH` of one message (``RedisClient/sendPush(_:completion:)``):
    /// the reply read as the channel's send reads it (``ChannelReply/pushed(_:counters:)``)
    /// and handed to the channel's callback, without a wrapper closure per message.
    case pushed(@Sendable (Result<Void, RedisError>) -> Void)
    /// A channel's `LPOP` of one message (``RedisClient/sendPop(_:completion:)``), the
    /// same way: the reply read as the channel's receive reads it
    /// (``ChannelReply/popped(_:counters:)``) and handed, with the command, to the
    /// channel's callback.
    case popped(@Sendable (Result<[UInt8]?, RedisError>, _ command: [UInt8]) -> Void, command: [UInt8])

    /// Delivers `result`; `failures`: the connection's handler for ``routed(_:bytes:)``
    /// failures (without one, they go to the callback as they are). Inlined into the
    /// reply loop, with the channel's cases out of line: a call and a larger loop cost
    /// every other command about 50 instructions.
    @inline(__always)
    consuming func complete(_ result: Result<RESPValue, RedisError>, failures: (any RoutedFailureHandler)?) {
        switch consume self {
        case .single(let callback): callback(result)
        case .awaited(let reply): Self.completeAwaited(reply, result)
        case .batch(let collector, let index): collector.deliver(result, at: index)
        case .routed(let callback, let bytes): Self.completeRouted(callback, consume bytes, result, failures: failures)
        case .pushed(let callback): Self.completePush(callback, result)
        case .popped(let callback, let command): Self.completePop(callback, consume command, result)
        }
    }

    /// Whether nobody waits for this reply any more: an awaited command, a command of an
    /// awaited pipeline, or a node's copy of an awaited command for every primary, whose
    /// task was cancelled (its caller already has ``RedisError/cancelled``). Such a
    /// command, when it was never written, is taken out of the queue unsent
    /// (``OutboundQueue/dropUnwanted()``), or behind a full socket made harmless where it
    /// lies (``OutboundQueue/neutralizeAbandoned(held:)``). Other handlers are always waited for.
    var isAbandoned: Bool {
        switch self {
        case .awaited(let reply): reply.isAbandoned
        case .batch(let collector, _): collector.isAbandoned
        case .single, .routed, .pushed, .popped: false
        }
    }

    /// ``complete(_:failures:)`` for ``awaited(_:)``, out of the reply loop: inlined,
    /// the reply's resumption made the loop larger and an awaited `RPUSH` on a reactor
    /// cost about 25 instructions more than through the callback that used to finish
    /// it; called, about 20 fewer (5,144 → 5,122, `scripts/callgrind-per-op`).
    @inline(never)
    private static func completeAwaited(_ reply: AsyncReply<RESPValue>, _ result: Result<RESPValue, RedisError>) {
        reply.finish(result)
    }

    /// ``complete(_:failures:)`` for ``routed(_:bytes:)``, out of the reply loop. An
    /// answered command's bytes go back to the thread as its spare buffer
    /// (``CommandScratch/recycle(_:)``) before the callback runs, which may send the next
    /// command into them: they must arrive here as the only reference (the reply loop
    /// consumes its handler), or the buffer cannot be reused.
    @inline(never)
    private static func completeRouted(_ callback: @escaping ReplyCallback, _ bytes: consuming [UInt8],
                                       _ result: Result<RESPValue, RedisError>, failures: (any RoutedFailureHandler)?) {
        if case .failure = result, let failures {
            failures.attemptFailed(result, bytes: bytes, completion: callback)
        } else {
            CommandScratch.recycle(bytes)
            callback(result)
        }
    }

    /// ``complete(_:failures:)`` for ``pushed(_:)``, out of the reply loop, the outcome
    /// handed on as it is made (why: ``ChannelReply/pushed(_:counters:)``).
    @inline(never)
    private static func completePush(_ callback: @Sendable (Result<Void, RedisError>) -> Void, _ result: Result<RESPValue, RedisError>) {
        ChannelReply.deliverPushed(result, counters: nil, to: callback)
    }

    /// ``complete(_:failures:)`` for ``popped(_:command:)``, out of the reply loop. The
    /// command's buffer then becomes the thread's spare (``CommandScratch/recycle(_:)``),
    /// for the next receive's (``RedisChannel/popCommand()``): after the callback,
    /// which reads the command on a decoding failure. The outcome is handed on as it is
    /// made (why: ``ChannelReply/pushed(_:counters:)``).
    @inline(never)
    private static func completePop(_ callback: @Sendable (Result<[UInt8]?, RedisError>, [UInt8]) -> Void, _ command: consuming [UInt8],
                                    _ result: Result<RESPValue, RedisError>) {
        ChannelReply.deliverPopped(result, counters: nil) { callback($0, command) }
        CommandScratch.recycle(command)
    }
}

/// What a connection hands the failures of its ``ReplyHandler/routed(_:bytes:)`` commands:
/// for a cluster node's connections, the router, which decides what follows (a
/// redirection, a retry, or the error to the caller).
protocol RoutedFailureHandler: AnyObject, Sendable {
    /// The attempt of the command `bytes` ended in `result`, a failure; `completion` is
    /// owed exactly one call, on a reactor thread.
    func attemptFailed(_ result: Result<RESPValue, RedisError>, bytes: [UInt8], completion: @escaping ReplyCallback)
}

/// Gathers the replies of an explicit pipeline and completes once, with all of them in order.
final class PipelineCollector: Sendable {
    // A batch's replies arrive on one reactor thread (a cluster round's batches, on
    // their nodes' connections' threads), but a batch may be failed from the
    // submitting thread when it is refused before reaching the reactor; the lock is
    // taken once per reply of a pipeline, never on the single-command path.
    // The replies in a plain array, handed over whole at the end (not an array of
    // optionals mapped into a new one: each reply was then copied, and each array's
    // elements destroyed through the enum's value witnesses, about 600 instructions a
    // reply under callgrind); which slots are filled, apart: bits of one word for up to
    // 64 replies (no second allocation), an array of flags beyond. Replies on one
    // connection arrive in order, so each is appended (the array only reserved at
    // first: filling it with placeholders cost about 90 instructions a reply, each
    // copied in through the enum's value witnesses); one that comes early (a batch
    // failed from elsewhere, or one of a cluster round's batches, whose nodes answer in
    // any order) finds placeholders up to its place.
    private let state: Mutex<(results: [Result<RESPValue, RedisError>], filled: UInt64, filledBeyond: [Bool], remaining: Int)>
    /// The places of the array handed over.
    private let count: Int
    private let completion: @Sendable ([Result<RESPValue, RedisError>]) -> Void
    /// The task's wait that `completion` finishes, for an awaited pipeline; `nil` when
    /// something other than one task waits (a callback, a cluster round).
    private let waiter: (any AbandonableWait)?

    /// A collector of `count` places that completes after `deliveries` of them are
    /// filled (by default all); a place never filled holds a placeholder, `.success(.null)`.
    /// A cluster pipeline's round sends some of its commands, to several nodes, and their
    /// replies go straight to the commands' places in the caller's order.
    /// `waiter`: the wait of the task that `completion` resumes, when one task awaits the
    /// batch (``isAbandoned``).
    init(count: Int, deliveries: Int? = nil, waiter: (any AbandonableWait)? = nil,
         completion: @escaping @Sendable ([Result<RESPValue, RedisError>]) -> Void) {
        var results: [Result<RESPValue, RedisError>] = []
        results.reserveCapacity(count)
        state = Mutex((results, 0, count > 64 ? Array(repeating: false, count: count) : [], deliveries ?? count))
        self.count = count
        self.completion = completion
        self.waiter = waiter
    }

    /// Whether the task awaiting the batch stopped waiting (it was cancelled): its
    /// commands, when none was written, need not be sent (``ReplyHandler/isAbandoned``).
    var isAbandoned: Bool { waiter?.isAbandoned ?? false }

    func deliver(_ result: Result<RESPValue, RedisError>, at index: Int) {
        let finished: [Result<RESPValue, RedisError>]? = state.withLock { state in
            if state.filledBeyond.isEmpty {
                let bit: UInt64 = 1 << UInt64(index)
                guard state.filled & bit == 0 else { return nil }
                state.filled |= bit
            } else {
                guard !state.filledBeyond[index] else { return nil }
                state.filledBeyond[index] = true
            }
            while state.results.count < index { state.results.append(.success(.null)) }
            if index == state.results.count { state.results.append(result) } else { state.results[index] = result }
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            while state.results.count < count { state.results.append(.success(.null)) }
            defer { state.results = [] }
            return state.results
        }
        if let finished { completion(finished) }
    }

    /// Handlers for each command of the batch.
    func handlers(count: Int) -> ReplyHandlers {
        .batch(self, count: count)
    }

    /// Handlers for a batch whose command `i` fills place `places[i]`.
    func handlers(places: [Int]) -> ReplyHandlers {
        .mapped(self, places: places)
    }
}

/// One handler per command of a submission. Not an array: a single command (the hot
/// path) then costs no extra allocation, and a pipeline's handlers are made on demand.
enum ReplyHandlers: RandomAccessCollection, Sendable {
    case one(ReplyHandler)
    /// Command `i` fills the collector's place `i`.
    case batch(PipelineCollector, count: Int)
    /// Command `i` fills the collector's place `places[i]`.
    case mapped(PipelineCollector, places: [Int])

    var startIndex: Int { 0 }

    var endIndex: Int {
        switch self {
        case .one: 1
        case .batch(_, let count): count
        case .mapped(_, let places): places.count
        }
    }

    subscript(position: Int) -> ReplyHandler {
        switch self {
        case .one(let handler): handler
        case .batch(let collector, _): .batch(collector, index: position)
        case .mapped(let collector, let places): .batch(collector, index: places[position])
        }
    }
}

/// A command (or explicit pipeline) on its way from a caller's thread to the connection.
struct Submission: Sendable {
    /// The encoded command(s).
    var bytes: [UInt8]
    /// One handler per command in `bytes`, in order.
    var handlers: ReplyHandlers
    /// When the caller stops waiting for the replies.
    var timeout: CommandTimeout
}

/// A node of a connection's inbox: not generic, so that its deinit knows its field's
/// layout (see ``MPSCNodeQueue``).
final class SubmissionNode: MPSCLink, MPSCNode {
    // Unchecked: see ``MPSCNode``.
    @exclusivity(unchecked) var element: Submission?
    init(_ element: Submission) { self.element = element }
}

/// How long a submitted command may wait for its reply.
enum CommandTimeout: Sendable, Equatable {
    /// The configuration's ``RedisConfiguration/commandTimeout``.
    case configured
    /// Never: a blocking command with server-side timeout 0 waits as long as the server does.
    case never
    /// This long: blocking commands carry their server-side timeout plus a grace period.
    case after(Duration)
}
