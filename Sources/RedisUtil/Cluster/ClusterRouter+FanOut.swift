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

    /// Sends `command` to every node `fanOut` names and combines the replies.
    nonisolated(nonsending) func send(_ command: ClusterCommand, toEvery fanOut: ClusterFanOut) async throws -> RESPValue {
        var table = state.withLock { $0.table }
        if table == nil {
            try await awaitRefresh(.initial, seen: 0)
            table = state.withLock { $0.table }
        }
        guard let table else { throw RedisError.closed }
        var nodes = table.primaries.compactMap { $0 }
        if fanOut.request == .allNodes {
            for replica in table.topology.shards.flatMap(\.replicas) where replica.health != .failed {
                nodes.append(try node(at: replica.address).get())
            }
        }
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
    static func combine(_ replies: [Result<RESPValue, RedisError>], by policy: ClusterKeySpec.ResponsePolicy?,
                        command: String) -> Result<RESPValue, RedisError> {
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
