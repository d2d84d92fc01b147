import RESP

/// `SCAN` on a cluster client: each call reads one page from one primary, and the cursor
/// it returns says where the next page comes from (``ClusterScanCursor``), so that
/// iterating from `"0"` back to `"0"` walks every primary in turn. Every form of `SCAN`
/// works unchanged on a cluster: `send("SCAN", …)`, ``RedisClient/scan(match:count:type:)``,
/// ``RedisCommand/scan(cursor:match:count:type:)`` and the channel listing built on them.
extension ClusterRouter {
    /// One page of a cluster `SCAN`: `[cursor, keys]` as a server answers, with the
    /// cluster's cursor. The page is read from the owner of the cursor's slot with the
    /// usual retries (a failover in the middle of a walk goes on with the new primary).
    nonisolated(nonsending) func scan(_ command: ClusterCommand) async throws -> RESPValue {
        guard var arguments = EncodedCommand.arguments(command.bytes), arguments.count >= 2 else {
            throw RedisError.invalidArgument("SCAN needs a cursor")
        }
        var table = snapshot()
        if table == nil {
            try await awaitRefresh(.initial, seen: 0)
            table = snapshot()
        }
        guard let table else { throw RedisError.closed }
        let lowestSlots = table.topology.lowestSlots()
        let text = String(decoding: arguments[1], as: UTF8.self)
        guard let position = ClusterScanCursor(text, lowestSlots: lowestSlots) else {
            throw RedisError.invalidArgument("\(text) is not a cluster SCAN cursor (\"0\" or \"<slot>-<node cursor>\", as a previous SCAN on this cluster client returned)")
        }
        arguments[1] = Array(position.nodeCursor.utf8)
        let bytes = try EncodedCommand.encode(arguments).get()
        let page = try await send(routed: ClusterCommand(bytes: bytes, slot: position.slot, keepsReply: false, blocking: nil), using: table)
        guard let parts = page.array, parts.count == 2, let reply = parts[0].string else {
            throw RedisError.unexpectedReply(RESPConversionError(expected: "a SCAN page (a cursor and keys)", received: page.kind))
        }
        let shardLowest = table.topology.shardIndex(ofSlot: position.slot).flatMap { lowestSlots[$0] } ?? position.slot
        let next = position.next(nodeCursor: reply, shardLowest: shardLowest, lowestSlots: lowestSlots)
        return .array([.bulkString(Array(next.utf8)), parts[1]])
    }
}
