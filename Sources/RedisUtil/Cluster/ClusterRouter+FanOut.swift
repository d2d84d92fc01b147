import RESP

/// Commands that a cluster runs on every primary, or every node, by their tips
/// (`request_policy:all_shards` / `all_nodes`): `PING`, `DBSIZE`, `KEYS`, `FLUSHALL`,
/// `WAIT`, `SCRIPT LOAD` … Each node gets the command once, on its own connections, and
/// the replies become one as the `response_policy` tip says.
///
/// No redirections or retries here: a keyless command is not redirected, and a node
/// that fails makes the combined reply fail (with that node's error), except under
/// `one_succeeded`.
extension ClusterRouter {
    /// Whether this version combines the replies of `fanOut`: not `SCAN` (a cursor per
    /// node: walked in turn instead, see ``scan(_:)``) nor `INFO` (`special`: text per node).
    static func combines(_ fanOut: ClusterFanOut) -> Bool {
        switch fanOut.request {
        case .allShards, .allNodes: fanOut.response != .special
        case .multiShard, .special: false
        }
    }

    /// Sends `command` to every node `fanOut` names and combines the replies: each node
    /// gets it on its own connections, its reply into one collector, and the last reply to
    /// arrive combines them, so a fan-out costs its nodes' commands and one small
    /// collector (through a task group, `PING` on a one-node cluster cost 15 times a
    /// single server's under callgrind). A task cancelled while it waits gets
    /// ``RedisError/cancelled`` at once, as for any command (the nodes' late replies are
    /// dropped), unless ``RedisConfiguration/CancellationPolicy/afterReply`` says to wait;
    /// its copies not yet written (a node unreachable, or its socket full) are then taken
    /// out unsent or made harmless, as an awaited command's are. A blocking one (`WAIT`) runs in child tasks instead, so that
    /// a cancellation unblocks it on every node rather than leaving it there to its timeout.
    nonisolated(nonsending) func send(_ command: ClusterCommand, toEvery fanOut: ClusterFanOut) async throws -> RESPValue {
        if command.blocking != nil { return try await sendInChildTasks(command, toEvery: fanOut) }
        if configuration.cancellation == .afterReply {
            return try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<RESPValue, any Error>) in
                guard !Task.isCancelled else { return continuation.resume(throwing: RedisError.cancelled) }
                send(command, toEvery: fanOut) { continuation.resume(with: $0.mapError { $0 as any Error }) }
            }
        }
        return try await AsyncReply<RESPValue>.wait { reply in send(command, toEvery: fanOut, waiter: reply) { reply.finish($0) } }
    }

    /// The callback form of ``send(_:toEvery:)``: `completion` runs once, on a reactor
    /// thread, with the combined reply. `refreshed`: a first map was fetched for this
    /// command already (none still means the client closed meanwhile). `waiter`: the
    /// awaiting task's wait, whose cancellation leaves the copies still unwritten to be
    /// taken out of their nodes' queues (``OutboundQueue/dropUnwanted(held:)``, or made
    /// harmless behind a full socket, ``OutboundQueue/neutralizeAbandoned(held:)``); once it
    /// is abandoned, `completion` may never run (nothing waits for it: the task has its
    /// ``RedisError/cancelled``).
    func send(_ command: ClusterCommand, toEvery fanOut: ClusterFanOut, refreshed: Bool = false, waiter: (any AbandonableWait)? = nil,
              completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        guard let table = snapshot() else {
            if refreshed { return completeLater(completion, .failure(.closed)) }
            return refresh(.initial, seen: 0) { [self] result in
                switch result {
                case .success:
                    onReactor {
                        // A task cancelled while the map came has its answer: nothing is sent.
                        if waiter?.isAbandoned == true { return }
                        self.send(command, toEvery: fanOut, refreshed: true, waiter: waiter, completion: completion)
                    }
                case .failure(let error): completeLater(completion, .failure(error))
                }
            }
        }
        let nodes: [ClusterNode]
        do {
            nodes = try fanOutNodes(fanOut, in: table)
        } catch {
            return completeLater(completion, .failure(error))
        }
        let policy = fanOut.response
        let bytes = command.bytes
        switch nodes.count {
        case 0:
            completeLater(completion, Self.combine([], by: policy, command: Self.commandName(bytes)))
        case 1 where waiter == nil:
            // One node (a cluster of one shard): its reply combined alone, no collector.
            nodes[0].client.send(encoded: bytes, blocking: command.blocking) { completion(Self.combine([$0], by: policy, command: Self.commandName(bytes))) }
        default:
            let collector = PipelineCollector(count: nodes.count, waiter: waiter) { completion(Self.combine($0, by: policy, command: Self.commandName(bytes))) }
            // Awaited, each copy goes straight to a connection with the collector's
            // handler, which tells the connection when nobody waits any more (a node client
            // observes no command itself, so its callback path would add only the route,
            // read here once); any other way, through that path.
            let direct = if waiter != nil, case .shared = CommandRoute.of(bytes) { true } else { false }
            for (index, node) in nodes.enumerated() {
                guard direct else {
                    node.client.send(encoded: bytes, blocking: command.blocking) { collector.deliver($0, at: index) }
                    continue
                }
                if let refusal = node.client.submitForCallback(bytes, .batch(collector, index: index)) {
                    // Overloaded or closed: failed on a reactor, never inline in the caller's send.
                    onReactor { collector.deliver(.failure(refusal), at: index) }
                }
            }
        }
    }

    /// The nodes `fanOut` names by `table`, in the order their replies are combined: the
    /// primaries, then (for every node) the replicas the map does not flag failed.
    private func fanOutNodes(_ fanOut: ClusterFanOut, in table: ClusterRouteTable) throws(RedisError) -> [ClusterNode] {
        var nodes = table.primaries.compactMap { $0 }
        if fanOut.request == .allNodes {
            for replica in table.topology.shards.flatMap(\.replicas) where replica.health != .failed {
                nodes.append(try node(at: replica.address).get())
            }
        }
        return nodes
    }

    /// ``send(_:toEvery:)`` for a blocking command: a child task per node, whose
    /// cancellation unblocks the command on its node.
    nonisolated(nonsending) private func sendInChildTasks(_ command: ClusterCommand, toEvery fanOut: ClusterFanOut) async throws -> RESPValue {
        var table = snapshot()
        if table == nil {
            try await awaitRefresh(.initial, seen: 0)
            table = snapshot()
        }
        guard let table else { throw RedisError.closed }
        let nodes = try fanOutNodes(fanOut, in: table)
        let replies = await withTaskGroup(of: (Int, Result<RESPValue, RedisError>).self) { group in
            for (index, node) in nodes.enumerated() {
                group.addTask {
                    do {
                        return (index, .success(try await node.client.send(encoded: command.bytes, blocking: command.blocking)))
                    } catch {
                        return (index, .failure(error as? RedisError ?? .cancelled))
                    }
                }
            }
            // Gathered then put in node order. (Storing each into a pre-sized array by its
            // index crashed in a release build, an out-of-range Array write at that line with
            // indices all within range: the compiler's, not found; this form does not.)
            var gathered: [(Int, Result<RESPValue, RedisError>)] = []
            gathered.reserveCapacity(nodes.count)
            for await reply in group { gathered.append(reply) }
            return gathered.sorted { $0.0 < $1.0 }.map(\.1)
        }
        return try Self.combine(replies, by: fanOut.response, command: Self.commandName(command.bytes)).get()
    }

    /// One reply from every node's, in node order, as `policy` says.
    /// (`command`, the name an error gives, is read only for such an error.)
    static func combine(_ replies: [Result<RESPValue, RedisError>], by policy: ClusterKeySpec.ResponsePolicy?,
                        command: @autoclosure () -> String) -> Result<RESPValue, RedisError> {
        // The usual case (`PING`, `FLUSHALL`, `SCRIPT LOAD` …): every node answered, and
        // any answer is the answer, with no arrays made to find that out.
        if policy == .allSucceeded || policy == .oneSucceeded || policy == .special,
           case .success(let first)? = replies.first, !replies.contains(where: { if case .failure = $0 { true } else { false } }) {
            return .success(first)
        }
        let command = command()
        let successes = replies.compactMap { try? $0.get() }
        let firstError = replies.lazy.compactMap(\.failureValue).first
        if policy == .oneSucceeded {
            if let first = successes.first { return .success(first) }
            return .failure(firstError ?? .server(message: "no node answered \(command)"))
        }
        if let firstError { return .failure(firstError) }
        guard let first = successes.first else { return .failure(.server(message: "no node to send \(command) to")) }
        func integers() -> [Int64]? {
            let values = successes.compactMap { value -> Int64? in
                if case .integer(let number) = value.withoutAttributes { return number }
                return nil
            }
            return values.count == successes.count ? values : nil
        }
        func unexpected(_ expected: String) -> Result<RESPValue, RedisError> {
            .failure(.unexpectedReply(RESPConversionError(expected: "\(expected) from every node for \(command)", received: first.kind)))
        }
        switch policy {
        case .allSucceeded?, .oneSucceeded?, .special?:
            return .success(first)
        case .minimum?:
            guard let values = integers() else { return unexpected("an integer") }
            return .success(.integer(values.min()!))
        case .maximum?:
            guard let values = integers() else { return unexpected("an integer") }
            return .success(.integer(values.max()!))
        case .sum?:
            guard let values = integers() else { return unexpected("an integer") }
            return .success(.integer(values.reduce(0, +)))
        case .logicalAnd?, .logicalOr?:
            let arrays = successes.compactMap { $0.array?.compactMap { element -> Int64? in
                if case .integer(let number) = element.withoutAttributes { return number }
                return nil
            } }
            guard arrays.count == successes.count, let length = arrays.first?.count, arrays.allSatisfy({ $0.count == length }) else {
                return unexpected("an array of integers of one length")
            }
            let and = policy == .logicalAnd
            return .success(.array((0..<length).map { position in
                let bits = arrays.map { $0[position] != 0 }
                return .integer((and ? bits.allSatisfy { $0 } : bits.contains(true)) ? 1 : 0)
            }))
        case nil:
            // Collected together: arrays concatenated (`KEYS`), else the first non-null (`RANDOMKEY`).
            let arrays = successes.compactMap(\.array)
            if arrays.count == successes.count { return .success(.array(arrays.flatMap { $0 })) }
            return .success(successes.first { !$0.isNull } ?? first)
        }
    }
}

extension Result {
    /// The error of a failure, nil for a success.
    var failureValue: Failure? {
        if case .failure(let error) = self { error } else { nil }
    }
}
