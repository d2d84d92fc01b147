import Reactor
import RESP
import Synchronization

/// Pipelines and transactions on a cluster: the batch is split into units (one command,
/// or one whole `MULTI … EXEC`), each unit goes to the node that serves its slot, every
/// node gets its units in one batch (one write, contiguous on one connection, in the
/// caller's order), and the replies come back in the caller's order.
///
/// Units that a node redirects or asks to retry are sent again in rounds, each unit
/// decided by its own ``ClusterRetryMachine``. Within a round a node's units stay in
/// the caller's order, so the units of one slot that a `MOVED` sends elsewhere (all
/// the later ones on that slot, since the node no longer serves it) are re-sent
/// together, in order; and when any unit of a slot must wait for a pause, every unit
/// of that slot being re-sent waits with it, so none overtakes another.
extension ClusterRouter {
    /// One command, or a whole `MULTI … EXEC` (or `… DISCARD`), which must run on one node.
    struct BatchUnit: Sendable {
        /// Its bytes in the batch.
        let range: Range<Int>
        /// How many replies it gets.
        let replies: Int
        /// The index of its first reply among the batch's.
        let firstReply: Int
        /// The slot its keys lie in; for a unit without keys, its neighbours' (so that
        /// it stays on their connection, in order with them), or nil.
        var slot: Int?
        /// Whether it is a `MULTI … EXEC` block.
        let isTransaction: Bool
    }

    /// The units of `bytes`, or the error that keeps the batch from being sent at all:
    /// a unit whose keys lie in several slots, or a command that must run on every primary.
    /// `prefix`: the batch's first commands, read already (``firstRound(_:count:by:)``).
    func units(of bytes: [UInt8], count: Int, keyTable: ClusterKeyTable, prefix: ClusterPlainPrefix = ClusterPlainPrefix()) -> Result<[BatchUnit], RedisError> {
        var units: [BatchUnit] = []
        var keyed: [Bool] = []
        // At most one unit per command (`count`, the batch's): no growth on the way.
        units.reserveCapacity(count)
        keyed.reserveCapacity(count)
        var index = 0
        var reply = 0
        var openMulti: (start: Int, firstReply: Int)?
        while index < bytes.count {
            // A command with a key, of the everyday shape, outside a transaction: one reading
            // (none for those `prefix` read already, the batch's first ones).
            if openMulti == nil, let plain = units.count < prefix.count ? prefix[units.count] : ClusterCommandSlot.plainCommand(bytes, at: index, in: keyTable) {
                units.append(BatchUnit(range: index..<plain.end, replies: 1, firstReply: reply, slot: plain.slot, isTransaction: false))
                keyed.append(true)
                reply += 1
                index = plain.end
                continue
            }
            guard let layout = EncodedCommand.layout(bytes, at: index) else { return .failure(CommandRoute.nameless) }
            let special = SpecialCommand.named(layout.name, in: bytes)
            if let open = openMulti {
                if special == .exec || special == .discard {
                    let range = open.start..<layout.end
                    var slot: Int?
                    switch ClusterCommandSlot.shared(batch: Array(bytes[range]), in: keyTable) {
                    case .slot(let found)?: slot = found
                    case .crossSlot(let keys, let slots)?: return .failure(.crossSlot(keys: keys, slots: slots))
                    default: break
                    }
                    units.append(BatchUnit(range: range, replies: reply + 1 - open.firstReply, firstReply: open.firstReply,
                                           slot: slot, isTransaction: true))
                    keyed.append(slot != nil)
                    openMulti = nil
                }
            } else if special == .multi {
                openMulti = (index, reply)
            } else {
                var slot: Int?
                switch ClusterCommandSlot.of(bytes, at: index, in: keyTable) {
                case .slot(let found): slot = found
                case .keyless, .unknownCommand: break
                case .crossSlot(let keys, let slots): return .failure(.crossSlot(keys: keys, slots: slots))
                case .fanOut: return .failure(Self.fanOutRefusal(Array(bytes[layout.start..<layout.end])))
                }
                units.append(BatchUnit(range: index..<layout.end, replies: 1, firstReply: reply, slot: slot, isTransaction: false))
                keyed.append(slot != nil)
            }
            reply += 1
            index = layout.end
        }
        guard openMulti == nil else {
            return .failure(.unsupportedCommand(command: "MULTI", reason: "without its EXEC or DISCARD in the same batch it would leave a connection inside a transaction"))
        }
        // A unit without keys goes with the keyed unit before it (else after it), so that
        // `PING`s and commands the key table does not know stay in order with their
        // neighbours; a batch without any key goes to one primary, picked at random.
        var previous: Int?
        for position in units.indices {
            if keyed[position] { previous = units[position].slot } else if let previous { units[position].slot = previous }
        }
        let fallback = units.first { $0.slot != nil }?.slot ?? Int.random(in: 0..<HashSlot.count)
        for position in units.indices where units[position].slot == nil { units[position].slot = fallback }
        return .success(units)
    }

    /// Sends a checked pipeline (or transaction) of `count` commands and returns each
    /// command's outcome in the caller's order. Awaited to its end: a cancellation of
    /// the task does not cut it short (its commands may be on several nodes).
    nonisolated(nonsending) func pipeline(_ bytes: [UInt8], count: Int) async throws -> [Result<RESPValue, RedisError>] {
        let taken = snapshot()
        var prefix = ClusterPlainPrefix()
        if let taken {
            switch firstRound(bytes, count: count, by: taken) {
            case .whole(let node, let connection):
                let replies = await withUnsafeContinuation { (continuation: UnsafeContinuation<[Result<RESPValue, RedisError>], Never>) in
                    let collector = PipelineCollector(count: count) { continuation.resume(returning: $0) }
                    connection.submit(Submission(bytes: bytes, handlers: collector.handlers(count: count), timeout: .configured))
                }
                switch settle(replies, of: bytes, count: count, sentTo: node, by: taken) {
                case .finished(let outcome): return try outcome.get()
                case .continues(let run, let round): return try await pipeline(run, taken: nil, after: round)
                }
            case .split(let read):
                prefix = read
            }
        }
        return try await pipeline(pipelineRun(bytes, count: count, keyTable: taken?.keyTable, prefix: prefix), taken: taken, after: nil)
    }

    /// Where a pipeline's first round goes (``firstRound(_:count:by:)``).
    enum FirstRound {
        /// Whole to this primary, on this connection of it.
        case whole(node: ClusterNode, connection: RedisConnection)
        /// Split by node, as every pipeline was; `prefix` holds the first commands read.
        case split(prefix: ClusterPlainPrefix)
    }

    /// The primary that serves every command of `bytes` by `table`, and a connection of
    /// it with room, when each command has a key and the everyday shape (no keyless
    /// command but a transaction's `MULTI` and `EXEC` or `DISCARD`:
    /// ``ClusterCommandSlot/plainCommand(_:at:in:)``), each transaction's keys lie in one
    /// slot, and one primary serves all their slots: the pipeline then goes out whole, as
    /// on one server, and is split into units only when a reply is not a success
    /// (``settle(_:of:count:sentTo:by:)``). A pipeline on one slot, or on a cluster
    /// of one shard, made the units, the round's group, its lists and the connections'
    /// array first, about 7,600 instructions a pipeline of one command (callgrind,
    /// `CLUSTER=1 PROBE_PIPELINE=1 scripts/callgrind-per-op pipeline-callback`); a
    /// transaction of two `RPUSH`es on one slot cost 18,829 split and costs 10,833 whole,
    /// against 8,036 on one server (the same with `PROBE_TRANSACTION=1 PROBE_PIPELINE=2`).
    /// Any other pipeline, and one whose primary's connections have no room, is split: the
    /// check stops at the first command that breaks the rule, and hands the split the
    /// first commands it read before any `MULTI` (up to ``ClusterPlainPrefix/capacity``),
    /// so that a pipeline over several primaries costs what it did before the check; a
    /// transaction over several slots is refused there.
    private func firstRound(_ bytes: [UInt8], count: Int, by table: ClusterRouteTable) -> FirstRound {
        var prefix = ClusterPlainPrefix()
        var index = 0
        var commands = 0
        var shard = -1
        // Since the first MULTI the commands read are no longer the split's prefix (it
        // reads a transaction as one unit).
        var sawMulti = false
        // Inside MULTI … EXEC; the slot of its keys once one is read (else -1).
        var inTransaction = false
        var transactionSlot = -1
        while index < bytes.count {
            if let plain = ClusterCommandSlot.plainCommand(bytes, at: index, in: table.keyTable) {
                if !sawMulti { prefix.append(slot: plain.slot, end: plain.end) }
                if inTransaction {
                    guard transactionSlot < 0 || transactionSlot == plain.slot else { return .split(prefix: prefix) }
                    transactionSlot = plain.slot
                }
                guard let owner = table.topology.shardIndex(ofSlot: plain.slot), shard < 0 || owner == shard else { return .split(prefix: prefix) }
                shard = owner
                index = plain.end
            } else {
                guard let layout = EncodedCommand.layout(bytes, at: index) else { return .split(prefix: prefix) }
                switch SpecialCommand.named(layout.name, in: bytes) {
                case .multi? where !inTransaction:
                    (sawMulti, inTransaction, transactionSlot) = (true, true, -1)
                case .exec? where inTransaction, .discard? where inTransaction:
                    inTransaction = false
                default:
                    return .split(prefix: prefix)
                }
                index = layout.end
            }
            commands &+= 1
        }
        guard !inTransaction, commands == count, shard >= 0, let node = table.primaries[shard],
              let connection = node.client.connectionIfRoom() else {
            return .split(prefix: prefix)
        }
        return .whole(node: node, connection: connection)
    }

    /// How a pipeline sent whole to one primary went (``settle(_:of:count:sentTo:by:)``).
    enum WholeSend: Sendable {
        /// Its outcomes (or what ended it), in the caller's order.
        case finished(Result<[Result<RESPValue, RedisError>], RedisError>)
        /// Units left to send again, after the round's pause: as the general path goes on.
        case continues(PipelineRun, PipelineRound)
    }

    /// The replies of `bytes`, sent whole to `node` as `table` routed them: every reply a
    /// success, they are the outcomes as they stand. Otherwise the run and the round the
    /// general path would have made for this batch are made now and the replies absorbed
    /// into them, each unit decided as any round's are (a redirection followed, a retry
    /// paused for, an error reply kept). Inlined into both facades' paths: out of line it
    /// cost about 120 instructions more a pipeline answered in full (callgrind).
    @inline(__always)
    private func settle(_ replies: [Result<RESPValue, RedisError>], of bytes: [UInt8], count: Int, sentTo node: ClusterNode,
                        by table: ClusterRouteTable) -> WholeSend {
        if PipelineRun.allSucceeded(replies) { return .finished(.success(replies)) }
        var run: PipelineRun
        do throws(RedisError) {
            run = try pipelineRun(bytes, count: count, keyTable: table.keyTable)
        } catch {
            return .finished(.failure(error))
        }
        var group = BatchGroup(node: node, generation: table.generation, expectedUnits: run.units.count)
        for position in run.units.indices { group.add(position, askingPlace: nil, unit: run.units[position], bytes: bytes) }
        var round = PipelineRound(groups: [group], seen: table.generation)
        absorb(replies, into: &round, of: &run)
        return run.pending.isEmpty ? .finished(.success(run.outcomes)) : .continues(run, round)
    }

    /// `bytes` split into units, each pending, before any is routed; the error that keeps
    /// the batch from being sent at all (``units(of:count:keyTable:)``). The key specs
    /// of `keyTable`, the map's, or the built-in table's before any map.
    @inline(__always)
    private func pipelineRun(_ bytes: [UInt8], count: Int, keyTable: ClusterKeyTable?,
                             prefix: ClusterPlainPrefix = ClusterPlainPrefix()) throws(RedisError) -> PipelineRun {
        PipelineRun(bytes: bytes, count: count, units: try units(of: bytes, count: count, keyTable: keyTable ?? .builtIn, prefix: prefix).get(),
                    commandTimeout: configuration.commandTimeout)
    }

    /// The callback form of ``pipeline(_:count:)``: `completion` runs once, on a reactor
    /// thread. The first round goes out from here, without a task, when the map is known
    /// and every node it needs has a connection with room (the usual case); a round that
    /// leaves units to retry, and any pipeline that cannot go at once, continues in a task
    /// as ``pipeline(_:count:)`` does, from where it is (nothing sent twice).
    func pipeline(_ bytes: [UInt8], count: Int, completion: @escaping @Sendable (Result<[Result<RESPValue, RedisError>], RedisError>) -> Void) {
        let inTask: @Sendable (PipelineRun?, PipelineRound?) -> Void = { [self] run, round in
            Task(executorPreference: Reactor.current ?? group.next()) {
                do {
                    let replies = if let run { try await self.pipeline(run, taken: nil, after: round) } else { try await self.pipeline(bytes, count: count) }
                    completion(.success(replies))
                } catch {
                    completion(.failure(error as? RedisError ?? .cancelled))
                }
            }
        }
        guard let table = snapshot() else { return inTask(nil, nil) }
        let prefix: ClusterPlainPrefix
        switch firstRound(bytes, count: count, by: table) {
        case .whole(let node, let connection):
            let collector = PipelineCollector(count: count) { [self] replies in
                switch settle(replies, of: bytes, count: count, sentTo: node, by: table) {
                case .finished(let outcome): completion(outcome)
                case .continues(let run, let round): inTask(run, round)
                }
            }
            return connection.submit(Submission(bytes: bytes, handlers: collector.handlers(count: count), timeout: .configured))
        case .split(let read):
            prefix = read
        }
        var run: PipelineRun
        var round: PipelineRound
        do {
            run = try pipelineRun(bytes, count: count, keyTable: table.keyTable, prefix: prefix)
            round = try route(&run, by: table)
        } catch {
            return onReactor { completion(.failure(error)) }
        }
        // Nothing is sent unless every batch can go now: else the whole pipeline starts
        // over in a task (its routing had no effect outside `run`, dropped here). The task
        // splits it again: keeping this split alive for it instead would make every
        // pipeline's results copied on its first write (about 1,300 instructions for a
        // pipeline of one, measured), to save work on a path taken rarely.
        guard !round.needsMap, !round.groups.isEmpty else { return inTask(nil, nil) }
        var connections: [Result<RedisConnection, RedisError>] = []
        connections.reserveCapacity(round.groups.count)
        // By index, here and in the loops below: `for group in` copied each group (its
        // node and three arrays retained and released).
        for group in round.groups.indices {
            guard let connection = round.groups[group].node.client.connectionIfRoom() else { return inTask(nil, nil) }
            connections.append(.success(connection))
        }
        submit(round.groups, of: bytes, places: run.places(for: round), on: connections) { [self, run, round] replies in
            if let whole = run.answeredWhole(by: round, replies: replies) { return completion(.success(whole)) }
            var run = run
            var round = round
            absorb(replies, into: &round, of: &run)
            if run.pending.isEmpty { return completion(.success(run.outcomes)) }
            inTask(run, round)
        }
    }

    /// Runs `run` to its end, round after round, from a round `previous` that has been
    /// absorbed already (its pause comes first), or from the start; `taken`: the map
    /// read for the pipeline's split, for its first round.
    nonisolated(nonsending) private func pipeline(_ run: PipelineRun, taken: ClusterRouteTable?,
                                                  after previous: PipelineRound?) async throws -> [Result<RESPValue, RedisError>] {
        var run = run
        var taken = taken
        if let previous { await pause(after: previous, pending: run.pending) }
        while !run.pending.isEmpty {
            // One map for the round: one lock, not one per unit.
            let table = taken ?? snapshot()
            taken = nil
            var round = try route(&run, by: table)
            if round.needsMap {
                try await awaitRefresh(.initial, seen: 0)
                continue
            }
            let replies = round.groups.isEmpty ? [] : await perform(round.groups, of: run.bytes, places: run.places(for: round))
            if let whole = run.answeredWhole(by: round, replies: replies) { return whole }
            absorb(replies, into: &round, of: &run)
            await pause(after: round, pending: run.pending)
        }
        return run.outcomes
    }

    /// Waits as `round` asked before its units are sent again. A pipeline is awaited to
    /// its end despite a cancellation (``pipeline(_:count:)``), and so are its pauses: a
    /// cancelled task's sleep ends at once, which sent its retries again at round-trip
    /// speed for their whole budget, so a cancelled one sleeps in a task of its own.
    nonisolated(nonsending) private func pause(after round: PipelineRound, pending: [Int]) async {
        guard round.pause > 0, !pending.isEmpty else { return }
        let pause = Duration.nanoseconds(Int64(clamping: round.pause))
        let started = ContinuousClock.now
        do {
            try await Task.sleep(for: pause)
        } catch {
            // What is left of it, on a reactor as the pipeline's tasks run (not a reactor's
            // timer: a reactor that stops drops its timers, and the pipeline would never wake).
            let left = pause - (ContinuousClock.now - started)
            if left > .zero {
                await Task(executorPreference: Reactor.current ?? group.next()) { try? await Task.sleep(for: left) }.value
            }
        }
        if round.refreshFirst { try? await awaitRefresh(.connectionLost, seen: round.seen) }
    }

    /// Groups `run`'s pending units by the node `table` (or the current map) sends each
    /// to, in the caller's order; a unit whose slot has no owner is retried or failed by
    /// its machine. Throws what ends the whole pipeline (the client closed).
    private func route(_ run: inout PipelineRun, by table: ClusterRouteTable?) throws(RedisError) -> PipelineRound {
        var round = PipelineRound()
        // A group per node the units reach: room for the few a pipeline usually spans
        // (regrowing from none moved every group twice on a pipeline over three nodes).
        round.groups.reserveCapacity(min(run.pending.count, table?.primaries.count ?? 4))
        for position in run.pending {
            let node: ClusterNode
            let asking: Bool
            let generation: UInt64
            switch target(of: run.hop(position), slot: run.units[position].slot, using: table) {
            case .node(let found, let current, let ask):
                (node, generation, asking) = (found, current, ask)
            case .noMap:
                round.needsMap = true
                return round
            case .noOwner(let current):
                round.seen = current
                let error = Self.noOwnerError(slot: run.units[position].slot)
                switch run.withMachine(position, { $0.unrouted(error, now: monotonicNanoseconds()) }) {
                case .retry(let wait, let refresh):
                    round.pause = max(round.pause, wait)
                    round.refreshFirst = round.refreshFirst || refresh
                    if let slot = run.units[position].slot { round.pausedSlots.insert(slot) }
                default:
                    run.store(.failure(error), for: run.units[position])
                }
                continue
            case .failed(let error):
                throw error
            }
            round.seen = max(round.seen, generation)
            // By index: `firstIndex(where:)` handed its closure a copy of each group (five
            // references retained and released), about 48 copies a pipeline of ten.
            var group = 0
            while group < round.groups.count, round.groups[group].node !== node { group += 1 }
            if group == round.groups.count {
                // Room for every pending unit up to a bound: no regrowth for a short pipeline.
                round.groups.append(BatchGroup(node: node, generation: generation, expectedUnits: min(run.pending.count, 16)))
            }
            round.groups[group].add(position, askingPlace: asking ? run.askingPlace(of: position) : nil, unit: run.units[position], bytes: run.bytes)
        }
        return round
    }

    /// Takes a round's replies (each at its command's index in the caller's order, as
    /// ``submit(_:of:places:on:completion:)`` leaves them) into `run`: each unit's machine
    /// decides whether it is done, follows a redirection or waits to retry; then which
    /// units are still pending, those of a paused slot re-routed together.
    private func absorb(_ replies: [Result<RESPValue, RedisError>], into round: inout PipelineRound, of run: inout PipelineRun) {
        for group in round.groups {
            for position in group.units {
                let unit = run.units[position]
                // The usual outcome, a command answered: its reply stands (what its machine
                // would say), with nothing else to decide.
                if !unit.isTransaction, case .success = replies[unit.firstReply] {
                    run.store(replies[unit.firstReply], at: unit.firstReply)
                    continue
                }
                let unitReplies = replies[unit.firstReply..<(unit.firstReply + unit.replies)]
                let decisive = Self.decisive(unitReplies, unit: unit)
                if case .failure = decisive { noteFailure(decisive, on: group.node.address) }
                let bytes = run.bytes
                let clientClosed = isClosed.load(ordering: .relaxed)
                let action = run.withMachine(position) { machine in
                    machine.replied(decisive, now: monotonicNanoseconds(), clientClosed: clientClosed) {
                        unit.isTransaction ? "MULTI" : Self.commandName(Array(bytes[unit.range]))
                    }
                }
                switch action {
                case .complete(let result):
                    // A transaction that ran (or failed for good) keeps every reply; a
                    // command that ran out of redirections gets the machine's error.
                    if unit.isTransaction, case .success = result {
                        run.store(unitReplies, for: unit)
                    } else if unit.isTransaction {
                        run.store(result, for: unit)
                    } else {
                        run.store(result, at: unit.firstReply)
                    }
                case .completeAndRefresh:
                    refresh(.connectionLost, seen: group.generation, resume: nil)
                    run.store(unitReplies, for: unit)
                case .follow(let redirection):
                    run.setHop(follow(redirection, seen: group.generation, from: group.node.address), position)
                case .retry(let wait, let refresh):
                    run.setHop(.route, position)
                    round.pause = max(round.pause, wait)
                    round.refreshFirst = round.refreshFirst || refresh
                    if let slot = unit.slot { round.pausedSlots.insert(slot) }
                }
            }
        }
        let pending = run.units.indices.filter { !run.isDecided($0) }
        run.pending = pending
        // Keep a slot's re-sent units together: if one waits, all go after the pause, by the
        // map. Each waits it out as after a retry of its own: its count of redirections in a
        // row starts again (one that followed an `ASK` meets that `ASK` again). A unit of
        // another slot keeps its count: a loop of its own between two nodes that disagree
        // still ends at the bound.
        for position in run.pending where run.units[position].slot.map(round.pausedSlots.contains) == true {
            run.setHop(.route, position)
            run.withMachine(position) { $0.waitedOutAPause() }
        }
    }

    /// What decides a unit's fate: a command's own outcome; for a transaction, the first
    /// redirection among its replies (a queued command the node does not serve fails the
    /// `EXEC` with `EXECABORT`; the whole block goes where the redirection says), else a
    /// connection failure of its `EXEC` (never sent: the block can be sent again whole),
    /// else its replies stand (a success, by convention).
    static func decisive(_ replies: ArraySlice<Result<RESPValue, RedisError>>, unit: BatchUnit) -> Result<RESPValue, RedisError> {
        guard unit.isTransaction else { return replies[replies.startIndex] }
        for reply in replies {
            if case .failure(.server(let message)) = reply, ClusterRedirection(message: message) != nil { return reply }
        }
        if let exec = replies.last, case .failure(let error) = exec {
            switch error {
            case .connectionFailed, .connectionLost, .closed: return exec
            default: break
            }
        }
        return .success(.null)
    }

    /// Submits every group's batch to its node at once and returns the round's replies,
    /// each at its place (``PipelineRun/places(for:)``). Room on each node is waited for
    /// first, so that nothing is submitted while another node's batch could still fail to go.
    nonisolated(nonsending) private func perform(_ groups: [BatchGroup], of source: [UInt8], places: Int) async -> [Result<RESPValue, RedisError>] {
        var connections: [Result<RedisConnection, RedisError>] = []
        connections.reserveCapacity(groups.count)
        for group in groups.indices {
            let client = groups[group].node.client
            if let ready = client.connectionIfRoom() {
                connections.append(.success(ready))
                continue
            }
            do {
                connections.append(.success(try await client.connectionWithCapacity()))
            } catch {
                connections.append(.failure(error as? RedisError ?? .cancelled))
            }
        }
        return await withUnsafeContinuation { (continuation: UnsafeContinuation<[Result<RESPValue, RedisError>], Never>) in
            submit(groups, of: source, places: places, on: connections) { continuation.resume(returning: $0) }
        }
    }

    /// Submits each group's batch on its connection (a failure to connect fails its
    /// batch); `completion` runs once, on the reactor thread of the last reply, with the
    /// round's `places` replies: each command's at its index in the caller's order (one
    /// collector for every node: no per-node lists to gather and merge), an `ASKING`'s
    /// past them, a command not in the round's a placeholder.
    private func submit(_ groups: [BatchGroup], of source: [UInt8], places: Int, on connections: [Result<RedisConnection, RedisError>],
                        completion: @escaping @Sendable ([Result<RESPValue, RedisError>]) -> Void) {
        var deliveries = 0
        for group in groups.indices { deliveries &+= groups[group].sentCount }
        let collector = PipelineCollector(count: places, deliveries: deliveries, completion: completion)
        for group in groups.indices {
            let handlers = groups[group].handlers(into: collector)
            switch connections[group] {
            case .success(let connection):
                connection.submit(Submission(bytes: groups[group].batch(of: source), handlers: handlers, timeout: .configured))
            case .failure(let error):
                for handler in handlers { handler.complete(.failure(error), failures: nil) }
            }
        }
    }
}

/// The units a round sends to one node, as one batch.
struct BatchGroup {
    let node: ClusterNode
    /// The map generation the units were routed with.
    let generation: UInt64
    /// The units, by position in the batch, in the caller's order.
    private(set) var units: [Int] = []
    /// The bytes to send: the units', each after an `ASKING` when an `ASK` sent it here;
    /// gathered only once they stop being the start of the batch (see ``batch(of:)``).
    private var bytes: [UInt8] = []
    /// Where each reply of the batch goes among the round's (``ClusterRouter/PipelineRun/places(for:)``):
    /// a command's, to its index in the caller's order; an `ASKING`'s, past the pipeline's
    /// replies. Made, like ``bytes``, only once the units stop being the start of the
    /// batch: until then reply `i` is the pipeline's reply `i`.
    private var places: [Int] = []
    /// While the units are the batch's from its first byte, in order and without an
    /// `ASKING`, where they end; nil once ``bytes`` holds them.
    private var prefixEnd: Int? = 0
    /// How many replies the batch gets, `ASKING`'s included.
    private(set) var sentCount = 0
    /// Whether an `ASKING` goes before any of the units.
    private(set) var hasAsking = false

    init(node: ClusterNode, generation: UInt64, expectedUnits: Int = 0) {
        self.node = node
        self.generation = generation
        units.reserveCapacity(expectedUnits)
    }

    /// Adds unit `position`; `askingPlace`: where the reply of the `ASKING` that goes
    /// before it lands, when an `ASK` sent it here.
    mutating func add(_ position: Int, askingPlace: Int?, unit: ClusterRouter.BatchUnit, bytes source: [UInt8]) {
        if askingPlace == nil, let end = prefixEnd, end == unit.range.lowerBound {
            prefixEnd = unit.range.upperBound
        } else if let end = prefixEnd {
            // Room for what the group may still take (this unit and all after it), up to
            // a bound: a short pipeline's gather then never regrows (about 6 regrowths a
            // pipeline of ten over three nodes, 2,000 instructions, measured).
            bytes.reserveCapacity(min(end &+ source.count &- unit.range.lowerBound &+ ClusterRouter.asking.count, 1 << 16))
            bytes.append(contentsOf: source[0..<end])
            places.reserveCapacity(max(units.capacity, sentCount) &+ unit.replies &+ 1)
            // One by one: `append(contentsOf:)` a range went through its generic path
            // (about 70 instructions a call, measured).
            for place in 0..<sentCount { places.append(place) }
            prefixEnd = nil
        }
        if let askingPlace {
            // Before a transaction's MULTI, ASKING holds until its EXEC.
            bytes += ClusterRouter.asking
            places.append(askingPlace)
            hasAsking = true
            sentCount += 1
        }
        units.append(position)
        if prefixEnd == nil {
            bytes.append(contentsOf: source[unit.range])
            for place in unit.firstReply..<(unit.firstReply &+ unit.replies) { places.append(place) }
        }
        sentCount += unit.replies
    }

    /// The batch to send, from `source`, the pipeline's bytes the units were added from:
    /// `source` itself, uncopied, when the group is all of it (a pipeline on one node).
    func batch(of source: [UInt8]) -> [UInt8] {
        guard let end = prefixEnd else { return bytes }
        return end == source.count ? source : Array(source[0..<end])
    }

    /// The batch's handlers, each reply to its place in `collector`.
    func handlers(into collector: PipelineCollector) -> ReplyHandlers {
        prefixEnd == nil ? collector.handlers(places: places) : collector.handlers(count: sentCount)
    }
}
