#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The process-wide clients behind ``RedisClient/shared(_:)``, keyed by endpoint and
/// owned by the process that created them.
private let sharedClients = Mutex<(pid: pid_t, clients: [RedisEndpoint: RedisClient])>((0, [:]))

extension RedisClient {
    /// The process-wide client for `endpoint` (the Python `redisutil.get_client`): the
    /// same instance for the same endpoint, created on first use with the default
    /// configuration (and again after someone closed it). Thread safe. A forked child
    /// gets fresh clients: it must never
    /// share its parent's sockets or reactor threads (which do not survive `fork`).
    public static func shared(_ endpoint: RedisEndpoint) throws(RedisError) -> RedisClient {
        let pid = getpid()
        // A shared client someone closed is replaced, not handed out to fail every command.
        if let existing = sharedClients.withLock({ $0.pid == pid ? $0.clients[endpoint] : nil }), !existing.isClosed {
            return existing
        }
        // Created outside the lock: starting reactors takes a while. A racing caller's
        // client may win; the loser is dropped before it ever connects.
        let created = try RedisClient(endpoint)
        return sharedClients.withLock { state in
            if state.pid != pid {
                state = (pid, [:])
            }
            if let winner = state.clients[endpoint], !winner.isClosed { return winner }
            state.clients[endpoint] = created
            return created
        }
    }
}
