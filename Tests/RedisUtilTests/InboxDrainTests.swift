import Dispatch
import Foundation
@testable import RedisUtil
import Synchronization
import TestSupport
import Testing

/// How a connection takes commands submitted from other threads: in bounded batches, so
/// that threads which keep submitting cannot hold its reactor away from sockets and timers.
@Suite("A connection's inbox is drained in bounded batches", .timeLimit(.minutes(4)))
struct InboxDrainTests {
    /// Before the fix: the first drain accepted all 10,000 waiting submissions before the
    /// reactor ran anything else; under the thread sanitizer a handshake on the same
    /// reactor ran past its connect timeout that way.
    @Test func otherWorkRunsBetweenBatches() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(connections: 1)) { client async throws in
                try await client.ping()
                let connection = client.pickConnection()
                let total = 10_000
                let completed = Atomic<Int>(0)
                let seen = Locked<Int?>(nil)
                await onOwnThread {
                    // Hold the reactor while the inbox fills, so that the submissions and the
                    // probe queued behind them are all waiting when it resumes.
                    let gate = DispatchSemaphore(value: 0)
                    connection.reactor.execute { gate.wait() }
                    for index in 0..<total {
                        client.send("ECHO", "\(index)") { _ in completed.add(1, ordering: .relaxed) }
                    }
                    connection.reactor.execute { seen.withLock { $0 = connection.acceptedPendingCount } }
                    gate.signal()
                }
                #expect(try await waitUntil { completed.load(ordering: .relaxed) == total })
                let accepted = seen.withLock { $0 }
                #expect(accepted.map { $0 > 0 && $0 < total } == true,
                        "the probe queued behind the submissions saw \(accepted.map(String.init) ?? "nothing") of \(total) accepted")
            }
        }
    }
}
