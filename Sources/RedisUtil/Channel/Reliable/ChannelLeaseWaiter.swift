import Reactor
import RESP

/// A serve pool's own connection, on which it waits for requests and leases them in one
/// write: `BLMOVE list pending`, then the lease script. A blocked client's later
/// commands wait in its input buffer, so Redis runs the lease right after the move,
/// and a push reaches a handler in one round trip of the pool's, not two (a wait, then
/// a lease).
///
/// The connection is leased from the client's blocking pool for the pool's life. A
/// stop unblocks the wait with `CLIENT UNBLOCK … ERROR` from a shared connection; the
/// lease script still runs after it and its reply still arrives (the batch is awaited
/// to completion), so nothing it leased is left unknown: the pool hands it back.
struct ChannelLeaseWaiter: Sendable {
    let leasing: ChannelLeasing
    private let lease: BlockingConnectionPool.Lease

    /// The server's id of the waiting connection, for `CLIENT UNBLOCK`.
    var clientID: Int { lease.clientID }
    /// The reactor that reads the waiting connection's replies.
    var reactor: Reactor { lease.connection.reactor }

    /// Leases a connection from `leasing`'s client.
    nonisolated(nonsending) init(_ leasing: ChannelLeasing) async throws {
        self.leasing = leasing
        lease = try await leasing.client.blocking.lease(for: "BLMOVE")
    }

    /// Waits up to `wait` for a push (at once when the list holds messages), then leases
    /// up to `count` messages for `duration`.
    nonisolated(nonsending) func waitAndLease(count: Int, for duration: Duration, wait: Duration) async throws -> (leased: [ChannelLeasing.Leased], nextExpiry: Duration?) {
        let digest = try await ChannelLeaseScripts.lease.loadedSHA(on: leasing.client)
        let keys = leasing.keys
        let (timeout, limit) = try ChannelTimeout.blocking(max(wait, .milliseconds(1)))
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, arguments: ["BLMOVE", keys.list, keys.pending, "LEFT", "RIGHT", timeout])
        RESPEncoder.encodeCommand(
            into: &bytes, arguments: ["EVALSHA", digest, 5] + leasing.leaseKeys + leasing.leaseArguments(count: count, lease: duration))
        let commandTimeout: CommandTimeout = limit.limit.map { .after($0) } ?? .never
        let replies = try await lease.connection.performToCompletion(batch: bytes, count: 2, timeout: commandTimeout)
        switch replies[1] {
        case .success(let reply):
            return try ChannelLeasing.leased(from: reply)
        case .failure(.server(let message)) where message.hasPrefix("NOSCRIPT"):
            // The server lost its script cache (a restart): the lease alone, reloading it;
            // what the move put in `pending` is leased first.
            ChannelLeaseScripts.lease.forget()
            return try await leasing.lease(count: count, lease: duration)
        case .failure(let error):
            throw error
        }
    }

    /// Hands the connection back to the pool when it is idle and was never the target of
    /// an unblock that may still be on its way (which could hit its next user's
    /// command); closes it otherwise.
    func end(unblockSent: Bool) {
        let connection = lease.connection
        if unblockSent || connection.load.load(ordering: .acquiring) != 0 || connection.isDefunct.load(ordering: .relaxed) {
            leasing.client.blocking.discard(lease)
        } else {
            leasing.client.blocking.release(lease)
        }
    }
}
