import Foundation
import Reactor
import Synchronization

extension RedisClient {
    /// Returns once the server at `endpoint` answers `PING` (the Python
    /// `redisutil.wait_serve`); throws ``RedisError/connectionFailed(endpoint:reason:)``
    /// naming the endpoint and the last error once `timeout` has passed. When the server
    /// answered `LOADING` and a later attempt failed otherwise (a `PING` that timed out on
    /// a server busy loading), the reason names both: the answer says more.
    public static func waitServe(_ endpoint: RedisEndpoint, timeout: Duration = .seconds(5)) async throws {
        let deadline = ContinuousClock.now + timeout
        // Every step bounded by a second at most: a server that accepts and then stalls
        // must not hold a PING past the caller's timeout.
        let step = min(timeout, .seconds(1))
        var configuration = RedisConfiguration(connectTimeout: step, commandTimeout: step, livenessTimeout: step, connections: 1)
        configuration.backoff = .init(initial: .milliseconds(10), maximum: .milliseconds(100))
        let client = try RedisClient(endpoint, configuration: configuration)
        defer { Task { await client.close(gracePeriod: .zero) } }
        var lastError = "no attempt made"
        // The server's last answer (its LOADING message), kept when a later attempt fails
        // without one.
        var lastAnswer: String?
        while true {
            do {
                try await client.ping()
                return
            } catch let error as RedisError {
                switch error {
                case .server(let message) where !message.hasPrefix("LOADING"):
                    // It answers (perhaps NOAUTH to an anonymous client): it is serving.
                    return
                case .handshakeFailed(_, let message) where !message.hasPrefix("LOADING"):
                    // HELLO refused (NOAUTH without credentials, WRONGPASS): an answer all the same.
                    return
                case .tlsFailed:
                    // A server that answers with a certificate this client refuses will
                    // not come to be trusted by waiting.
                    throw error
                case .connectionFailed(_, let reason):
                    // The endpoint is named once, by the error thrown below.
                    lastError = reason
                case .server(let message), .handshakeFailed(_, let message):
                    // LOADING: the server answers, not yet serving.
                    lastError = error.description
                    lastAnswer = message
                default:
                    lastError = error.description
                }
            }
            guard ContinuousClock.now < deadline else {
                var reason = lastError
                // Unless the last error says it already (a handshake's LOADING, then a timeout).
                if let lastAnswer, !lastError.contains(lastAnswer) { reason += " (the server had answered: \(lastAnswer))" }
                throw RedisError.connectionFailed(endpoint: endpoint.description, reason: "not serving after \(timeout): \(reason)")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    /// The blocking form of ``waitServe(_:timeout:)``, for scripts and threads outside
    /// Swift concurrency. Traps when called on a reactor thread, where waiting would deadlock.
    ///
    /// The wait runs on a reactor thread of its own, never on Swift's global pool: a caller
    /// blocked on one of the pool's few threads (two on two cores) would otherwise wait for
    /// work queued behind itself, and two such callers at once would never return.
    public static func waitServeBlocking(_ endpoint: RedisEndpoint, timeout: Duration = .seconds(5)) throws {
        precondition(!Reactor.isReactorThread, "RedisClient.waitServeBlocking called on a reactor thread: it would wait for itself; use the async waitServe")
        let group: ReactorGroup
        do {
            group = try ReactorGroup(count: 1, name: "redis-wait")
        } catch {
            throw RedisError.invalidArgument("cannot start a reactor: \(error)")
        }
        defer { group.shutdown() }
        let outcome = Mutex<Result<Void, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        Task(executorPreference: group.reactors[0]) {
            do { try await waitServe(endpoint, timeout: timeout); outcome.withLock { $0 = .success(()) } }
            catch { outcome.withLock { $0 = .failure(error) } }
            done.signal()
        }
        done.wait()
        try outcome.withLock { $0! }.get()
    }
}
