import Foundation
import Reactor
import Synchronization

/// Starts a reactor for one test and shuts it down afterwards.
func withReactor<T>(_ body: (Reactor) async throws -> T) async throws -> T {
    let reactor = try Reactor(name: "test")
    try reactor.start()
    defer { reactor.shutdown() }
    return try await body(reactor)
}

/// Waits until the reactor has run everything submitted before this call.
func drain(_ reactor: Reactor) async {
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        reactor.execute { continuation.resume() }
    }
}

/// The blocking form of ``drain(_:)``, for code on a thread of its own.
func drainBlocking(_ reactor: Reactor) {
    let drained = DispatchSemaphore(value: 0)
    reactor.execute { drained.signal() }
    drained.wait()
}

/// A Sendable list for recording what callbacks saw.
final class Recorder<Element: Sendable>: Sendable {
    private let storage = Mutex<[Element]>([])
    func append(_ element: Element) { storage.withLock { $0.append(element) } }
    var values: [Element] { storage.withLock { $0 } }
}

/// Runs `body` while `reactor` is held busy by a job of the test's, so that nothing it
/// schedules can run or fire until `body` has returned, however late a loaded machine
/// runs this thread (a fixed margin of 200 or 500 ms before a timer was due could pass).
func whileHeld<T>(_ reactor: Reactor, _ body: () async throws -> T) async rethrows -> T {
    let released = Atomic<Bool>(false)
    await withCheckedContinuation { (holding: CheckedContinuation<Void, Never>) in
        reactor.execute {
            holding.resume()
            while !released.load(ordering: .acquiring) { usleep(200) }
        }
    }
    defer { released.store(true, ordering: .releasing) }
    return try await body()
}
