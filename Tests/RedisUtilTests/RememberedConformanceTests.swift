import Foundation
@testable import RedisUtil
import Synchronization
import Testing

/// The channel's memory of the last message type's conformance
/// (`RememberedConformance`, read without a lock): the right conformance for each type,
/// the runtime asked once per change of type, nothing remembered for a type that does
/// not conform, and correct answers while several threads switch between types at once
/// (`make test-tsan` runs this module under the thread sanitizer).
@Suite("Remembering a message type's conformance")
struct RememberedConformanceTests {
    private protocol Named { static var name: String { get } }
    private struct First: Named { static let name = "first" }
    private struct Second: Named { static let name = "second" }
    private struct Plain {}

    private static func lookUp(_ type: Any.Type, counting lookUps: borrowing Atomic<Int>) -> (any Named.Type)? {
        lookUps.add(1, ordering: .relaxed)
        return type as? any Named.Type
    }

    @Test func remembersTheLastConformingTypeAndNothingElse() {
        let memory = RememberedConformance<any Named.Type>()
        let lookUps = Atomic(0)
        for _ in 0..<3 { #expect(memory.conformance(of: First.self) { Self.lookUp($0, counting: lookUps) }?.name == "first") }
        #expect(lookUps.load(ordering: .relaxed) == 1)
        #expect(memory.conformance(of: Second.self) { Self.lookUp($0, counting: lookUps) }?.name == "second")
        #expect(memory.conformance(of: Second.self) { Self.lookUp($0, counting: lookUps) }?.name == "second")
        #expect(lookUps.load(ordering: .relaxed) == 2)
        // A type that does not conform is looked up each time and leaves the memory as it was.
        #expect(memory.conformance(of: Plain.self) { Self.lookUp($0, counting: lookUps) } == nil)
        #expect(memory.conformance(of: Plain.self) { Self.lookUp($0, counting: lookUps) } == nil)
        #expect(lookUps.load(ordering: .relaxed) == 4)
        #expect(memory.conformance(of: Second.self) { Self.lookUp($0, counting: lookUps) }?.name == "second")
        #expect(lookUps.load(ordering: .relaxed) == 4)
        // Back to the first: looked up again (one type is remembered), the same answer.
        #expect(memory.conformance(of: First.self) { Self.lookUp($0, counting: lookUps) }?.name == "first")
        #expect(lookUps.load(ordering: .relaxed) == 5)
    }

    /// What the threads share: the memory and two counters.
    private final class Shared: Sendable {
        let memory = RememberedConformance<any Named.Type>()
        let lookUps = Atomic(0)
        let wrong = Atomic(0)
        let finished = Atomic(0)
    }

    @Test func threadsSwitchingBetweenTypesAlwaysGetTheirOwn() async {
        let shared = Shared()
        // On threads of their own, not the cooperative pool's: seconds of CPU there (tens
        // of seconds on a slow machine) held both of the pool's threads from every other
        // test, and a test of `waitServe`'s timeout, running beside this one, saw its task
        // resumed only after its 10 s guard.
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            for worker in 0..<4 {
                Thread.detachNewThread {
                    for step in 0..<20_000 {
                        let first = (step / (worker + 1)) % 2 == 0
                        let found = shared.memory.conformance(of: first ? First.self : Second.self) { Self.lookUp($0, counting: shared.lookUps) }
                        if found?.name != (first ? "first" : "second") { shared.wrong.add(1, ordering: .relaxed) }
                    }
                    if shared.finished.add(1, ordering: .acquiringAndReleasing).newValue == 4 { done.resume() }
                }
            }
        }
        #expect(shared.wrong.load(ordering: .relaxed) == 0)
        #expect(shared.lookUps.load(ordering: .relaxed) > 1)
    }
}
