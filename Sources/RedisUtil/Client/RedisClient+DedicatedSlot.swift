extension RedisClient {
    /// Runs `body` with a connection of its own to the server that holds `key`: on a
    /// cluster client, the primary that owns the key's slot now; on one server, that
    /// server (as ``withDedicatedConnection(_:)``).
    ///
    /// ```swift
    /// try await cluster.withDedicatedConnection(forKey: "{account:7}:balance") { connection in
    ///     try await connection.send("WATCH", "{account:7}:balance")
    ///     let balance = try await connection.send("GET", "{account:7}:balance").int ?? 0
    ///     _ = try await connection.transaction { $0.send("SET", "{account:7}:balance", balance + 10) }
    /// }
    /// ```
    ///
    /// On a cluster the connection is leased from that node's pool of blocking
    /// connections, so everything ``RedisDedicatedConnection`` does holds there. It is one
    /// connection to one node: it does not follow redirections. Commands on keys of other
    /// slots (share a hash tag to keep them together), or on this slot once it has moved
    /// away, get the server's `MOVED` as ``RedisError/server(message:)``: the scope's
    /// `WATCH`es would not follow a move either, so the caller starts again.
    nonisolated(nonsending) public func withDedicatedConnection<T>(
        forKey key: String, _ body: nonisolated(nonsending) (RedisDedicatedConnection) async throws -> T
    ) async throws -> T {
        try await withDedicatedConnection(slot: HashSlot.of(key), body)
    }

    /// As ``withDedicatedConnection(forKey:_:)``, to the owner of hash slot `slot`
    /// (`0..<16384`, as `CLUSTER KEYSLOT` gives it); on one server, that server.
    nonisolated(nonsending) public func withDedicatedConnection<T>(
        slot: Int, _ body: nonisolated(nonsending) (RedisDedicatedConnection) async throws -> T
    ) async throws -> T {
        guard (0..<HashSlot.count).contains(slot) else {
            throw RedisError.invalidArgument("slot \(slot) is outside 0…\(HashSlot.count - 1)")
        }
        guard let router else { return try await withDedicatedConnection(body) }
        guard !isClosed else { throw RedisError.closed }
        return try await router.owner(ofSlot: slot).client.withDedicatedConnection(body)
    }
}
