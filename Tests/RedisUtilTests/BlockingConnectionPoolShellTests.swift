@testable import RedisUtil
import Reactor
import Testing

/// The pool's thin shell around its machine, without a server: with a bound of 0 every
/// caller waits in line, so a wait's ends (cancellation, deadline, drain) are what is tested.
@Suite("Blocking connection pool: the shell's waits", .timeLimit(.minutes(1)))
struct BlockingConnectionPoolShellTests {
    /// Runs `body` with a pool that never grants a connection.
    private func withFullPool(_ body: (BlockingConnectionPool) async throws -> Void) async throws {
        let group = try ReactorGroup(count: 1)
        defer { group.shutdown() }
        let pool = BlockingConnectionPool(endpoint: .tcp(host: "127.0.0.1", port: 1), configuration: .init(maxBlockingConnections: 0), group: group)
        try await body(pool)
        _ = pool.drainAll()
    }

    /// Until `count` callers wait (a hang guard bounds it).
    private func untilWaiting(_ pool: BlockingConnectionPool, _ count: Int) async {
        while pool.waitingCallers < count { await Task.yield() }
    }

    @Test("a cancelled wait ends with .cancelled and leaves the line; others keep their place")
    func cancelledWait() async throws {
        try await withFullPool { pool in
            let first = Task { try await pool.lease() }
            await untilWaiting(pool, 1)
            let second = Task { try await pool.lease() }
            await untilWaiting(pool, 2)
            first.cancel()
            await #expect(throws: RedisError.cancelled) { try await first.value }
            #expect(pool.waitingCallers == 1)
            second.cancel()
            await #expect(throws: RedisError.cancelled) { try await second.value }
            #expect(pool.waitingCallers == 0)
        }
    }

    @Test("a task cancelled before it asks does not wait")
    func cancelledBeforeWaiting() async throws {
        try await withFullPool { pool in
            let task = Task {
                withUnsafeCurrentTask { $0?.cancel() }
                return try await pool.lease()
            }
            await #expect(throws: RedisError.cancelled) { try await task.value }
            #expect(pool.waitingCallers == 0)
        }
    }

    @Test("a wait with a deadline ends with .noBlockingConnection at it, by the pool's timer")
    func deadline() async throws {
        try await withFullPool { pool in
            await #expect {
                try await pool.lease(for: "BLPOP", within: .milliseconds(20))
            } throws: { error in
                guard case RedisError.noBlockingConnection(let command, let waited) = error else { return false }
                return command == "BLPOP" && waited == .milliseconds(20)
            }
            #expect(pool.waitingCallers == 0)
        }
    }

    @Test("draining ends every wait with .closed, and later callers get .closed at once")
    func drain() async throws {
        try await withFullPool { pool in
            let waiters = (0..<3).map { _ in Task { try await pool.lease() } }
            await untilWaiting(pool, 3)
            #expect(pool.drainAll().isEmpty)
            for waiter in waiters {
                await #expect(throws: RedisError.closed) { try await waiter.value }
            }
            await #expect(throws: RedisError.closed) { try await pool.lease() }
        }
    }
}
