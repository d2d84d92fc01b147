import Foundation
import LocalRedis

/// A private redis-server, started on a thread of its own (``onOwnThread(_:)``): the start
/// waits on the child process, which on the cooperative pool would hold one of its threads.
public func startServer(_ configuration: LocalRedisServer.Configuration = .init()) async throws(LocalRedisError) -> LocalRedisServer {
    try await onOwnThread { () throws(LocalRedisError) in try LocalRedisServer(configuration: configuration) }
}

/// Stops `server` on a thread of its own: the stop waits for the process to exit.
public func stopServer(_ server: LocalRedisServer) async {
    await onOwnThread { server.stop() }
}

/// Stops `server` on a thread of its own without waiting, for a `defer`, which cannot
/// await.
public func stopInBackground(_ server: LocalRedisServer) {
    Thread.detachNewThread { server.stop() }
}

/// A private redis-server for `body`, stopped afterwards; both off the cooperative pool.
public func withLocalServer<T>(
    _ configuration: LocalRedisServer.Configuration = .init(),
    _ body: (LocalRedisServer) async throws -> T
) async throws -> T {
    let server = try await startServer(configuration)
    do {
        let result = try await body(server)
        await stopServer(server)
        return result
    } catch {
        await stopServer(server)
        throw error
    }
}
