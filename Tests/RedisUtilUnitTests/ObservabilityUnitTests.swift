import Foundation
@testable import RedisUtil
import RESP
import Synchronization
import Testing

@Suite("Observability: operation names, error types, lazy handles")
struct ObservabilityUnitTests {
    private func encoded(_ arguments: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, arguments: arguments.map { $0 as any RESPArgument })
        return bytes
    }

    @Test("Known names map to themselves in capitals, whatever their case; others to `other`")
    func operationNames() {
        for name in OperationName.known {
            let index = OperationName.index(ofFirstCommandIn: encoded([name.lowercased(), "key"]))
            #expect(OperationName.names[index] == name)
        }
        #expect(OperationName.names[OperationName.index(ofFirstCommandIn: encoded(["RpUsH", "k", "v"]))] == "RPUSH")
        for unknown in ["NOSUCH", "RPUSHX2", "GE", "", "ZREMRANGEBYSCOREXX", "A-VERY-LONG-COMMAND-NAME-INDEED"] {
            #expect(OperationName.index(ofFirstCommandIn: encoded([unknown])) == OperationName.other)
        }
        #expect(OperationName.index(ofFirstCommandIn: []) == OperationName.other)
        #expect(OperationName.names[OperationName.pipeline] == "PIPELINE")
        #expect(OperationName.names[OperationName.transaction] == "MULTI")
        #expect(Set(OperationName.names).count == OperationName.names.count)
    }

    @Test("A batch's names, in order")
    func batchNames() {
        let batch = encoded(["MULTI"]) + encoded(["incr", "a"]) + encoded(["whatever"]) + encoded(["EXEC"])
        #expect(OperationName.indices(ofBatch: batch).map { OperationName.names[$0] } == ["MULTI", "INCR", "other", "EXEC"])
    }

    @Test("error.type is bounded: a case name, or a common reply code")
    func errorTypes() {
        #expect(RedisError.server(message: "WRONGTYPE Operation against a key").metricType == "server.WRONGTYPE")
        #expect(RedisError.server(message: "ERR unknown command 'x'").metricType == "server.ERR")
        #expect(RedisError.server(message: "CUSTOMCODE from a module").metricType == "server")
        #expect(RedisError.server(message: "").metricType == "server")
        #expect(RedisError.timeout(command: "GET", after: .seconds(1)).metricType == "timeout")
        #expect(RedisError.connectionLost(endpoint: "e", reason: "r", delivery: .written).metricType == "connection_lost")
        #expect(RedisError.cancelled.metricType == "cancelled")
    }

    final class Tracked: Sendable {
        static let alive = Atomic(0)
        init() { Self.alive.add(1, ordering: .relaxed) }
        deinit { Self.alive.subtract(1, ordering: .relaxed) }
    }

    @Test("A lazy reference is made once, kept, shared by racing threads, and released with its slot")
    func lazyReference() async {
        let made = Atomic(0)
        do {
            let slot = LazyReference<Tracked>()
            #expect(slot.valueIfMade == nil)
            // Eight threads race the first use; every one gets the same object.
            let seen = Synchronization.Mutex<Set<ObjectIdentifier>>([])
            let start = DispatchSemaphore(value: 0)
            let done = DispatchGroup()
            for _ in 0..<8 {
                done.enter()
                Thread.detachNewThread {
                    start.wait()
                    let value = slot.value { made.add(1, ordering: .relaxed); return Tracked() }
                    seen.withLock { _ = $0.insert(ObjectIdentifier(value)) }
                    done.leave()
                }
            }
            for _ in 0..<8 { start.signal() }
            done.wait()
            #expect(seen.withLock { $0.count } == 1)
            #expect(made.load(ordering: .relaxed) >= 1)
            // The losers' values were released: only the kept one is alive.
            #expect(Tracked.alive.load(ordering: .relaxed) == 1)
            let kept = slot.valueIfMade
            #expect(kept.map(ObjectIdentifier.init) == seen.withLock { $0.first })
            // Later uses make nothing.
            let before = made.load(ordering: .relaxed)
            _ = slot.value { made.add(1, ordering: .relaxed); return Tracked() }
            #expect(made.load(ordering: .relaxed) == before)
        }
        // The threads release their closures, which hold the slot too, as they end: after
        // signalling `done`, so possibly after this scope (a run saw the slot alive here).
        let deadline = ContinuousClock.now + .seconds(10)
        while Tracked.alive.load(ordering: .relaxed) != 0, ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(1))
        }
        #expect(Tracked.alive.load(ordering: .relaxed) == 0)
    }
}
