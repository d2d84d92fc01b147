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
