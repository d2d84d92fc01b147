import Reactor
import RESP

/// The callback shell of a cluster command: the async shell's steps as a chain of
/// completions, each started by the previous one's, so that a command's state (a
/// ``ClusterRetryMachine`` value) passes from step to step by value and is never shared.
/// The completion runs once, on a reactor thread, as on one server.
extension ClusterRouter {
    /// A command and its caller's completion.
    struct CallbackCommand: Sendable {
        let command: ClusterCommand
        let completion: @Sendable (Result<RESPValue, RedisError>) -> Void
    }

    /// Sends one encoded command to the node that serves it; `completion` runs once,
    /// on a reactor thread, with its reply or error (see ``send(_:blocking:)``).
    func send(_ bytes: [UInt8], blocking: BlockingWait?, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        let reading: ClusterCommandReading
        let taken: ClusterRouteTable?
        do {
            // The key table and the map, whichever path the command takes, from this
            // reactor's copy (``reactorSnapshot()``); the reactor, found once, also picks
            // the node's connection.
            let reactor = Reactor.currentIdentifier
            if let table = reactorSnapshot(onReactor: reactor) {
                reading = try ClusterCommandReading.reading(bytes, blocking: blocking, by: table, readFrom: configuration.readFrom)
                if sendFirstAttempt(bytes, reading, by: table, onReactor: reactor, completion: completion) { return }
                taken = table
            } else {
                let route = try ClusterCommandReading.route(of: bytes, blocking: blocking)
                reading = try ClusterCommandReading(bytes, route: route, keyTable: ClusterKeyTable.builtIn, readFrom: configuration.readFrom)
                taken = nil
            }
        } catch {
            return completeLater(completion, .failure(error))
        }
        sendByGeneralPath(bytes, reading, using: taken, completion: completion)
    }

    /// A command that took no first attempt (fanned out, `SCAN`, blocking, a replica's
    /// read, no map yet, or no room on its node): by the retry machine's steps, to every
    /// node for a fan-out, or in a task for `SCAN`. Kept out of ``send(_:blocking:completion:)``, whose frame it
    /// would otherwise enlarge for every command (its task's executor preference alone
    /// cost the common command a metadata look-up and a dynamic stack allocation).
    @inline(never)
    private func sendByGeneralPath(_ bytes: [UInt8], _ reading: ClusterCommandReading, using taken: ClusterRouteTable?,
                                   completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        switch ClusterCommand.make(bytes, reading) {
        case .success(let command) where command.fanOut != nil:
            send(command, toEvery: command.fanOut!, completion: completion)
        case .success(let command) where command.walksShards:
            // On a reactor, so that the completion runs on one, as every callback does.
            Task(executorPreference: Reactor.current ?? group.next()) {
                do {
                    completion(.success(try await self.scan(command)))
                } catch {
                    completion(.failure(error as? RedisError ?? .cancelled))
                }
            }
        case .success(let command):
            step(CallbackCommand(command: command, completion: completion), machine: nil, hop: .route, using: taken)
        case .failure(let error):
            completeLater(completion, .failure(error))
        }
    }

    /// The first attempt of the common command, keyed or without keys (see
    /// ``firstRoute(_:by:)``), with nothing
    /// built for a retry: its reply handler is ``ReplyHandler/routed(_:bytes:)``, whose
    /// failure the node's connection hands to ``firstAttemptFailed(_:bytes:on:completion:)``
    /// through the node's ``ClusterNodeFailures``, where the command's call state is made.
    /// `false`, having sent nothing, for any other command, or when the node's connections
    /// have no room: the general path then takes it.
    @inline(__always)
    private func sendFirstAttempt(_ bytes: [UInt8], _ reading: ClusterCommandReading, by table: ClusterRouteTable,
                                  onReactor reactor: ObjectIdentifier?,
                                  completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) -> Bool {
        // The route the async first attempt takes (a shard, whose client the table lends).
        guard let first = firstRoute(reading, by: table) else { return false }
        return table.withPrimaryClient(ofShard: first.shard) { Self.submitFirstAttempt(bytes, to: $0, onReactor: reactor, completion: completion) } ?? false
    }

    /// Submits a first attempt to one of `client`'s connections; `false`, having sent
    /// nothing, when they have no room.
    @inline(__always)
    private static func submitFirstAttempt(_ bytes: [UInt8], to client: RedisClient, onReactor reactor: ObjectIdentifier?,
                                           completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) -> Bool {
        guard case .ready(let connection) = client.connectionForCallback(onReactor: reactor) else { return false }
        connection.submit(Submission(bytes: bytes, handlers: .one(.routed(completion, bytes: bytes)), timeout: .configured))
        return true
    }

    /// A first attempt's failure on the node at `node` (see ``sendFirstAttempt(_:by:completion:)``):
    /// the command is read again (it found a first route, so it is one command with a
    /// slot, or without keys) and the retry machine takes it from there. The map generation it is judged
    /// against is the one held now, not the one that routed it, which the handler does
    /// not carry: at worst a refresh that one already made redundant (the refresh
    /// machine coalesces them).
    func firstAttemptFailed(_ result: Result<RESPValue, RedisError>, bytes: [UInt8], on node: ClusterNodeAddress,
                            completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        let taken = snapshot()
        // `.primary`: its first route was its slot's primary, so it is no read that goes elsewhere.
        let command: ClusterCommand
        do {
            command = try ClusterCommand.make(bytes, ClusterCommandReading(bytes, blocking: nil, table: taken, readFrom: .primary)).get()
        } catch {
            // Not reachable for a command that was routed (its bytes do not change), but
            // the caller is owed an answer whatever: the node's.
            return completion(result)
        }
        failed(result, CallbackCommand(command: command, completion: completion), machine: nil, on: node, seen: taken?.generation ?? 0)
    }

    /// An attempt on `node` (routed by map `seen`) failed: the machine (made now at the
    /// first failure) decides what follows.
    private func failed(_ result: Result<RESPValue, RedisError>, _ call: CallbackCommand, machine: ClusterRetryMachine?,
                        on node: ClusterNodeAddress, seen: UInt64) {
        noteFailure(result, on: node)
        var machine = machine ?? call.command.retryMachine(commandTimeout: configuration.commandTimeout)
        let action = machine.replied(result, now: monotonicNanoseconds(), clientClosed: isClosed.load(ordering: .relaxed)) {
            Self.commandName(call.command.bytes)
        }
        perform(action, call, machine: machine, seen: seen, from: node)
    }

    /// Sends the command where `hop` says, and hands its outcome to ``handle``.
    /// `machine`: nil until the command's first failure (a command answered at once
    /// needs none); `taken`: the route table the caller read already, for the first route.
    private func step(_ call: CallbackCommand, machine: ClusterRetryMachine?, hop: ClusterHop, using taken: ClusterRouteTable? = nil) {
        let node: ClusterNode
        let generation: UInt64
        let asking: Bool
        switch target(of: hop, slot: call.command.slot, reads: call.command.readsFromReplicas, using: taken) {
        case .node(let found, let seen, let ask):
            (node, generation, asking) = (found, seen, ask)
        case .noMap:
            refresh(.initial, seen: 0) { [self] result in
                switch result {
                case .success: onReactor { self.step(call, machine: machine, hop: .route) }
                case .failure(let error): completeLater(call.completion, .failure(error))
                }
            }
            return
        case .noOwner(let seen):
            var retrying = machine ?? call.command.retryMachine(commandTimeout: configuration.commandTimeout)
            let action = retrying.unrouted(call.command.noOwnerError, now: monotonicNanoseconds())
            // Not inline: this may be the caller's own `send`, where a completion must not run.
            onReactor { [retrying] in self.perform(action, call, machine: retrying, seen: seen, from: nil) }
            return
        case .failed(let error):
            completeLater(call.completion, .failure(error))
            return
        }
        let handle: @Sendable (Result<RESPValue, RedisError>) -> Void = { [self, generation] result in
            if case .success = result { return call.completion(result) }
            failed(result, call, machine: machine, on: node.address, seen: generation)
        }
        if let wait = call.command.blocking {
            let (bytes, limit) = call.command.blockingAttempt(wait, first: machine == nil)
            return node.client.sendBlocking(bytes, deadline: limit, asking: asking, completion: handle)
        }
        switch node.client.connectionForCallback() {
        case .ready(let connection):
            if asking {
                let collector = PipelineCollector(count: 2) { handle($0[1]) }
                connection.submit(Submission(bytes: Self.asking + call.command.bytes, handlers: collector.handlers(count: 2), timeout: .configured))
            } else {
                connection.submit(Submission(bytes: call.command.bytes, handlers: .one(.single(handle)), timeout: .configured))
            }
        case .refused(let refusal):
            // Overloaded or closed, found in the caller's `send`: handled on a reactor.
            onReactor { handle(.failure(refusal.error)) }
        }
    }

    /// Does what the machine said, on a reactor thread.
    private func perform(_ action: ClusterRetryMachine.Action, _ call: CallbackCommand, machine: ClusterRetryMachine,
                         seen: UInt64, from node: ClusterNodeAddress?) {
        switch action {
        case .complete(let result):
            call.completion(result)
        case .completeAndRefresh(let error):
            refresh(.connectionLost, seen: seen, resume: nil)
            call.completion(.failure(error))
        case .follow(let redirection):
            step(call, machine: machine, hop: follow(redirection, seen: seen, from: node))
        case .retry(let pause, let refreshFirst):
            (Reactor.current ?? group.next()).schedule(after: .nanoseconds(Int64(clamping: pause))) { [self] in
                guard refreshFirst else { return step(call, machine: machine, hop: .route) }
                refresh(.connectionLost, seen: seen) { [self] _ in
                    onReactor { self.step(call, machine: machine, hop: .route) }
                }
            }
        }
    }

    /// Runs `work` on a reactor thread, later (the current one when on one); when the
    /// reactors have stopped, inline: there is no other thread left.
    func onReactor(_ work: @escaping @Sendable () -> Void) {
        let reactor = Reactor.current ?? group.next()
        if !reactor.executeIfRunning(work) { work() }
    }

    /// Completes a callback that failed before reaching a node, on a reactor thread.
    func completeLater(_ completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void, _ result: Result<RESPValue, RedisError>) {
        onReactor { completion(result) }
    }
}
