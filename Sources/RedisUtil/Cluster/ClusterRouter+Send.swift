import Reactor
import RESP

/// Where a command goes next: by the map, or straight to a node a redirection named.
enum ClusterHop: Sendable {
    /// To the owner of the command's slot in the current map (any primary when keyless).
    case route
    /// To this node; after `ASKING` in the same write when `asking`.
    case node(ClusterNodeAddress, asking: Bool)
}

/// One command on its way through the cluster: its bytes and what routing needs of them,
/// read once before the first attempt.
struct ClusterCommand: Sendable {
    let bytes: [UInt8]
    /// The slot its keys lie in; nil for any primary.
    let slot: Int?
    /// Awaited despite a cancellation once sent (``CommandRoute/removing``).
    let keepsReply: Bool
    /// For a blocking command, how long it may block (it then runs on a leased connection).
    let blocking: BlockingWait?
    /// For a command that runs on every primary (or node), how; `slot` is then nil.
    var fanOut: ClusterFanOut?
    /// `SCAN`: one page from one primary, walking them in turn (``ClusterScanCursor``).
    var walksShards = false
    /// Only reads, and ``RedisConfiguration/readFrom`` lets reads go to replicas.
    var readsFromReplicas = false
    /// For a blocking command, when it was handed to the router (monotonic
    /// nanoseconds; 0 for any other): an attempt after the first blocks for what is left
    /// of its timeout (``blockingAttempt(_:first:)``).
    var blockingSince: UInt64

    /// A command as routing read it; a blocking one's clock starts here.
    init(bytes: [UInt8], slot: Int?, keepsReply: Bool, blocking: BlockingWait?, fanOut: ClusterFanOut? = nil) {
        (self.bytes, self.slot, self.keepsReply, self.blocking, self.fanOut) = (bytes, slot, keepsReply, blocking, fanOut)
        blockingSince = blocking == nil ? 0 : monotonicNanoseconds()
    }

    /// The command `bytes` as `reading` found it, or the error that keeps it from being
    /// sent: a command that runs on every node in a way this client does not combine
    /// (`INFO`). (The reading threw the others.)
    @inline(__always)
    static func make(_ bytes: [UInt8], _ reading: ClusterCommandReading) -> Result<ClusterCommand, RedisError> {
        var keepsReply = false
        var wait: BlockingWait?
        switch reading.route {
        case .shared: break
        case .removing: keepsReply = true
        case .blocking(let found): wait = found
        }
        switch reading.keys {
        case .slot(let slot):
            var command = ClusterCommand(bytes: bytes, slot: slot, keepsReply: keepsReply, blocking: wait)
            command.readsFromReplicas = reading.readsFromReplicas
            return .success(command)
        case .keyless, .unknownCommand:
            return .success(ClusterCommand(bytes: bytes, slot: nil, keepsReply: keepsReply, blocking: wait))
        case .fanOut(let fanOut):
            if fanOut.request == .special, let name = EncodedCommand.firstName(bytes), EncodedCommand.equalsIgnoringCase(bytes, name, "SCAN") {
                var command = ClusterCommand(bytes: bytes, slot: nil, keepsReply: keepsReply, blocking: wait)
                command.walksShards = true
                return .success(command)
            }
            guard ClusterRouter.combines(fanOut) else { return .failure(ClusterRouter.fanOutRefusal(bytes)) }
            return .success(ClusterCommand(bytes: bytes, slot: nil, keepsReply: keepsReply, blocking: wait, fanOut: fanOut))
        }
    }

    /// What a caller is told when the command's slot has no owner until its retries end.
    var noOwnerError: RedisError { ClusterRouter.noOwnerError(slot: slot) }

    /// The retry machine for this command's first failure, with the client's retry budget
    /// (`commandTimeout`, ``ClusterRetryMachine/defaultBudget`` without one); for a
    /// blocking command with a timeout, retries end with its wait too (its timeout and
    /// ``BlockingCommand/grace`` since the call, ``ClusterRetryMachine/endsBy``), so that a
    /// `BLMOVE … 1` that meets `TRYAGAIN` on a slot that does not finish moving ends with
    /// that error about when its wait would have, not the client's whole budget later;
    /// whenever its first retry comes (a `MOVED` first, then a `CLUSTERDOWN` to the
    /// blocked command, say).
    func retryMachine(commandTimeout: Duration?) -> ClusterRetryMachine {
        let machine = ClusterRetryMachine(commandTimeout: commandTimeout)
        guard blockingSince != 0, let limit = blocking?.limit?.nanosecondsClamped else { return machine }
        return ClusterRetryMachine(budget: machine.budget, endsBy: blockingSince &+ limit)
    }

    /// What an attempt of this blocking command (`wait`, its ``blocking``) sends, and the
    /// client-side deadline it gets: the first attempt, the command as it is; a later one
    /// (after the server's `MOVED` to a client blocked on a slot that moved, a
    /// `CLUSTERDOWN`, an `ASK`, a pause for `TRYAGAIN`), the command with its server-side
    /// timeout set to what is left of it since ``blockingSince``, the call
    /// (``BlockingCommand/resending(_:timeLeft:)``), so that the caller's timeout holds
    /// across a resharding step; a command that blocks forever, as it is. Once nothing is
    /// left, an attempt still goes, with the shortest timeout: the server's own answer
    /// to a timed-out command, not one made up here.
    func blockingAttempt(_ wait: BlockingWait, first: Bool) -> (bytes: [UInt8], limit: Duration?) {
        guard !first, blockingSince != 0, let limit = wait.limit else { return (bytes, wait.limit) }
        let elapsed = Duration.nanoseconds(Int64(clamping: monotonicNanoseconds() &- blockingSince))
        guard let resent = BlockingCommand.resending(bytes, timeLeft: limit - BlockingCommand.grace - elapsed) else { return (bytes, wait.limit) }
        return (resent.bytes, resent.wait.limit)
    }
}

/// What routing reads of a command's bytes, once, whichever way the command then goes
/// (a first attempt by ``ClusterFirstRoute``, or a ``ClusterCommand``): how it may be
/// sent and the slot its keys lie in. Plain values only, so that holding and dropping
/// it costs the common command nothing; what would carry more (a refusal, keys in
/// several slots) is thrown by the reading itself, as nothing is then sent.
struct ClusterCommandReading {
    /// ``CommandRoute`` without its refusal.
    enum Route: Equatable {
        case shared, removing, blocking(BlockingWait)
    }

    /// ``ClusterCommandSlot`` without its cross-slot error.
    enum Keys: Equatable {
        case slot(Int), keyless, unknownCommand, fanOut(ClusterFanOut)
    }

    let route: Route
    let keys: Keys
    /// A read with a slot, not blocking, that ``RedisConfiguration/readFrom`` lets go to a
    /// replica (the key table is asked only when `readFrom` is not `.primary`).
    let readsFromReplicas: Bool

    private init(route: Route, keys: Keys, readsFromReplicas: Bool) {
        self.route = route
        self.keys = keys
        self.readsFromReplicas = readsFromReplicas
    }

    /// `bytes`, found to go by `route` (``route(of:blocking:)``), read by `keyTable`. Throws
    /// keys in several slots, as nothing is then sent.
    @inline(__always)
    init(_ bytes: [UInt8], route: Route, keyTable: borrowing ClusterKeyTable, readFrom: RedisConfiguration.ReadFrom) throws(RedisError) {
        self.route = route
        switch ClusterCommandSlot.of(bytes, in: keyTable) {
        case .slot(let slot):
            keys = .slot(slot)
            readsFromReplicas = readFrom != .primary && !route.blocks && keyTable.isReadOnly(bytes)
        case .keyless: (keys, readsFromReplicas) = (.keyless, false)
        case .unknownCommand: (keys, readsFromReplicas) = (.unknownCommand, false)
        case .fanOut(let fanOut): (keys, readsFromReplicas) = (.fanOut(fanOut), false)
        case .crossSlot(let keys, let slots): throw .crossSlot(keys: keys, slots: slots)
        }
    }

    /// `bytes` read by `table`'s key table, for the hot paths (both facades' first
    /// attempt): a plain command in one pass (``plain(_:table:readFrom:)``), any other
    /// by ``route(of:blocking:)`` and the general reading. Throws what sends nothing.
    @inline(__always)
    static func reading(_ bytes: [UInt8], blocking: BlockingWait?, by table: ClusterRouteTable,
                        readFrom: RedisConfiguration.ReadFrom) throws(RedisError) -> ClusterCommandReading {
        if blocking == nil, let plain = plain(bytes, table: table, readFrom: readFrom) { return plain }
        return try ClusterCommandReading(bytes, route: route(of: bytes, blocking: blocking), keyTable: table.keyTable, readFrom: readFrom)
    }

    /// The reading of `bytes` when it is a command of the commonest shape whose name says
    /// how it goes (``ClusterCommandSlot/plainFirstKey(_:in:)``), read by `table`'s key
    /// table in one pass, where ``CommandRoute`` would read the name a second time; nil
    /// for any other. The key table is read where it lies in `table`: passed on its own,
    /// its three arrays were retained and released around the call (and as an
    /// initialiser's arguments, owned by convention, `bytes` and `table` too).
    @inline(__always)
    static func plain(_ bytes: [UInt8], table: ClusterRouteTable, readFrom: RedisConfiguration.ReadFrom) -> ClusterCommandReading? {
        guard let plain = ClusterCommandSlot.plainFirstKey(bytes, in: table.keyTable) else { return nil }
        guard plain.slot >= 0 else {
            return ClusterCommandReading(route: plain.route == .removing ? .removing : .shared, keys: .keyless, readsFromReplicas: false)
        }
        return ClusterCommandReading(route: plain.route == .removing ? .removing : .shared, keys: .slot(plain.slot),
                                     readsFromReplicas: readFrom != .primary && plain.isReadOnly)
    }

    /// How `bytes` may be sent; `blocking`, when the caller knows the command blocks,
    /// spares reading that back. Throws a command refused on shared connections (as on
    /// one server).
    @inline(__always)
    static func route(of bytes: [UInt8], blocking: BlockingWait?) throws(RedisError) -> Route {
        if let blocking { return .blocking(blocking) }
        switch CommandRoute.of(bytes) {
        case .shared: return .shared
        case .removing: return .removing
        case .blocking(let wait): return .blocking(wait)
        case .refused(let error): throw error
        }
    }

    /// `bytes` read whole by the key table of `table` (the built-in one before the first
    /// map), for the paths that take no first route. The hot paths bind `table` once
    /// themselves and read its key table where it lies: a second binding here cost a
    /// retain and a release per command, and a copy of the key table three.
    init(_ bytes: [UInt8], blocking: BlockingWait?, table: ClusterRouteTable?, readFrom: RedisConfiguration.ReadFrom) throws(RedisError) {
        let route = try Self.route(of: bytes, blocking: blocking)
        if let table {
            try self.init(bytes, route: route, keyTable: table.keyTable, readFrom: readFrom)
        } else {
            try self.init(bytes, route: route, keyTable: ClusterKeyTable.builtIn, readFrom: readFrom)
        }
    }
}

extension ClusterCommandReading.Route {
    /// Whether it goes to a dedicated connection.
    var blocks: Bool {
        if case .blocking = self { true } else { false }
    }
}

/// Where a command's first attempt goes (both facades'): the primary of its slot, or
/// for a command without keys any primary, as the general path would send it.
enum ClusterFirstAttempt: Equatable {
    case slot(Int)
    case anyPrimary
}

extension ClusterCommandReading {
    /// The first attempt of a command that may take one: not blocking, not a read that
    /// ``RedisConfiguration/readFrom`` sends elsewhere, and either its keys in one slot or
    /// no keys (or a command the key table does not know, which the general path also
    /// sends to any primary); nil for a fan-out or `SCAN`, which take the general path.
    var firstAttempt: ClusterFirstAttempt? {
        guard !route.blocks, !readsFromReplicas else { return nil }
        switch keys {
        case .slot(let slot): return .slot(slot)
        case .keyless, .unknownCommand: return .anyPrimary
        case .fanOut: return nil
        }
    }
}

/// Where the common command's first attempt goes: a command that does not block, whose
/// keys lie in one slot, sent to the slot's primary, or one without keys, sent to any
/// primary. Such a command needs nothing of ``ClusterCommand`` unless it fails, so its
/// first attempt builds none (the general path's command value, copied into the
/// attempt's context, cost about a dozen retains and releases per command under callgrind).
///
/// It names its primary by shard index in the table that routed it, not by node: the node
/// and its client, shared by every reactor thread, are lent by the table
/// (``ClusterRouteTable/withPrimaryClient(ofShard:_:)``) rather than retained, and the
/// node is looked up again only when the attempt fails (``node(in:)``).
struct ClusterFirstRoute: Sendable {
    /// The index, in the routing table's ``ClusterRouteTable/primaries``, of the slot's
    /// primary, or of the primary chosen for a command without keys (present there).
    let shard: Int
    /// Nil for a command without keys.
    let slot: Int?
    /// The generation of the map that named `node`.
    let generation: UInt64
    /// ``ClusterCommand/keepsReply``.
    let keepsReply: Bool

    /// The node this attempt went to, read from `table`, the table that routed it (an
    /// immutable snapshot, where ``firstRoute(_:by:)`` found that shard's primary).
    func node(in table: ClusterRouteTable) -> ClusterNodeAddress {
        table.primaries[shard]!.address
    }

    /// The command value of `bytes`, for the retries that follow a failed first attempt.
    func command(_ bytes: [UInt8]) -> ClusterCommand {
        ClusterCommand(bytes: bytes, slot: slot, keepsReply: keepsReply, blocking: nil)
    }
}

/// A failed attempt, which the retry machine is to judge.
struct ClusterFailedAttempt: Sendable {
    let result: Result<RESPValue, RedisError>
    /// The node that answered (or failed to).
    let node: ClusterNodeAddress
    /// The generation of the map that routed it (0: a redirection's target).
    let generation: UInt64
}

/// What happens after an outcome: another hop, or the caller's answer.
enum ClusterNext: Sendable {
    case hop(ClusterHop)
    case done(Result<RESPValue, RedisError>)
}

/// The async shell of a cluster command: route, send, and let ``ClusterRetryMachine``
/// say what each outcome means.
extension ClusterRouter {
    /// Sends one encoded command to the node that serves it and returns its reply,
    /// following redirections and retrying what the cluster asks to (see the type).
    /// `blocking`, when the caller knows the command blocks, spares reading that back.
    nonisolated(nonsending) func send(_ bytes: [UInt8], blocking: BlockingWait?) async throws -> RESPValue {
        let reading: ClusterCommandReading
        let taken: ClusterRouteTable?
        // The key table and the map the first route uses, from this reactor's copy
        // (``reactorSnapshot()``; on any other thread, the router's under its lock).
        // The reactor, found once, for the table and for the node's connection.
        let reactor = Reactor.currentIdentifier
        if let table = reactorSnapshot(onReactor: reactor) {
            reading = try ClusterCommandReading.reading(bytes, blocking: blocking, by: table, readFrom: configuration.readFrom)
            if let first = firstRoute(reading, by: table),
               let connection = table.withPrimaryClient(ofShard: first.shard, { $0.connectionIfRoom(onReactor: reactor) }) ?? nil {
                let result: Result<RESPValue, RedisError>
                do {
                    return try await connection.perform(bytes, keepsReply: first.keepsReply)
                } catch let error as RedisError {
                    result = .failure(error)
                } catch {
                    result = .failure(.cancelled)
                }
                let failure = ClusterFailedAttempt(result: result, node: first.node(in: table), generation: first.generation)
                return try await send(routed: first.command(bytes), using: nil, after: failure)
            }
            taken = table
        } else {
            let route = try ClusterCommandReading.route(of: bytes, blocking: blocking)
            reading = try ClusterCommandReading(bytes, route: route, keyTable: ClusterKeyTable.builtIn, readFrom: configuration.readFrom)
            taken = nil
        }
        let command = try ClusterCommand.make(bytes, reading).get()
        if let fanOut = command.fanOut { return try await send(command, toEvery: fanOut) }
        if command.walksShards { return try await scan(command) }
        return try await send(routed: command, using: taken)
    }

    /// Sends `command` to the owner of its slot (any primary when it has none), following
    /// redirections and retrying as ``send(_:blocking:)`` says; `taken`: the route table the
    /// caller read already, for the first route; `failure`: an attempt the caller made
    /// already, which failed, to be judged first.
    nonisolated(nonsending) func send(routed command: ClusterCommand, using taken: ClusterRouteTable?,
                                      after failure: ClusterFailedAttempt? = nil) async throws -> RESPValue {
        var taken = taken
        var failed = failure
        let bytes = command.bytes
        // Made at the first failure: a command answered at once needs none.
        var machine: ClusterRetryMachine?
        var hop = ClusterHop.route
        while true {
            defer { taken = nil }
            if let judged = failed {
                failed = nil
                noteFailure(judged.result, on: judged.node)
                var deciding = machine ?? command.retryMachine(commandTimeout: configuration.commandTimeout)
                let action = deciding.replied(judged.result, now: monotonicNanoseconds(), clientClosed: isClosed.load(ordering: .relaxed)) {
                    Self.commandName(bytes)
                }
                machine = deciding
                switch await next(after: action, seen: judged.generation, from: judged.node) {
                case .hop(let following): hop = following
                case .done(let result): return try result.get()
                }
            }
            let node: ClusterNode
            let generation: UInt64
            let asking: Bool
            switch target(of: hop, slot: command.slot, reads: command.readsFromReplicas, using: taken) {
            case .node(let found, let seen, let ask):
                (node, generation, asking) = (found, seen, ask)
            case .noMap:
                try await awaitRefresh(.initial, seen: 0)
                continue
            case .noOwner(let seen):
                var retrying = machine ?? command.retryMachine(commandTimeout: configuration.commandTimeout)
                let action = retrying.unrouted(command.noOwnerError, now: monotonicNanoseconds())
                machine = retrying
                switch await next(after: action, seen: seen, from: nil) {
                case .hop(let following): hop = following
                case .done(let result): return try result.get()
                }
                continue
            case .failed(let error):
                throw error
            }
            let result = await attempt(command, on: node, asking: asking, first: machine == nil)
            if case .success(let value) = result { return value }
            failed = ClusterFailedAttempt(result: result, node: node.address, generation: generation)
        }
    }

    /// Does what the machine said: pauses and refreshes for a retry, patches the map for
    /// a `MOVED`, and says where the command goes next or what the caller gets.
    nonisolated(nonsending) private func next(after action: ClusterRetryMachine.Action, seen: UInt64, from node: ClusterNodeAddress?) async -> ClusterNext {
        switch action {
        case .complete(let result):
            return .done(result)
        case .completeAndRefresh(let error):
            refresh(.connectionLost, seen: seen, resume: nil)
            return .done(.failure(error))
        case .follow(let redirection):
            return .hop(follow(redirection, seen: seen, from: node))
        case .retry(let pause, let refreshFirst):
            do {
                try await Task.sleep(for: .nanoseconds(Int64(clamping: pause)))
            } catch {
                return .done(.failure(.cancelled))
            }
            // A failed fetch is no reason to stop: the next attempt says what is wrong.
            if refreshFirst { try? await awaitRefresh(.connectionLost, seen: seen) }
            return .hop(.route)
        }
    }

    /// The hop a `MOVED` or `ASK` from the node at `node` leads to; a `MOVED` also patches the map.
    func follow(_ redirection: ClusterRedirection, seen: UInt64, from node: ClusterNodeAddress?) -> ClusterHop {
        guard let node, let target = redirection.target, let slot = redirection.slot else {
            preconditionFailure("only MOVED and ASK are followed, and only after a node answered")
        }
        let address = Self.address(of: target, answeredBy: node)
        if case .moved = redirection {
            moved(slot: slot, to: address, seen: seen)
            return .node(address, asking: false)
        }
        return .node(address, asking: true)
    }

    /// One attempt on `node`: the command's outcome, never a thrown error. `first`: no attempt
    /// went before it (a later one of a blocking command blocks for what is left of its timeout).
    @inline(__always)
    nonisolated(nonsending) private func attempt(_ command: ClusterCommand, on node: ClusterNode, asking: Bool, first: Bool) async -> Result<RESPValue, RedisError> {
        do {
            if let wait = command.blocking {
                let (bytes, limit) = command.blockingAttempt(wait, first: first)
                return .success(try await node.client.sendBlocking(bytes, deadline: limit, asking: asking))
            }
            let client = node.client
            let connection = if let ready = client.connectionIfRoom() { ready } else { try await client.connectionWithCapacity() }
            if asking {
                let replies = try await connection.perform(batch: Self.asking + command.bytes, count: 2, keepsReplies: command.keepsReply)
                return replies[1]
            }
            return .success(try await connection.perform(command.bytes, keepsReply: command.keepsReply))
        } catch let error as RedisError {
            return .failure(error)
        } catch {
            return .failure(.cancelled)
        }
    }
}
