import Foundation

/// A value behind a lock, shared by reference with callbacks on reactor threads. It uses
/// `NSLock` (a pthread mutex, which the thread sanitizer intercepts) rather than `Mutex`,
/// whose futex fast path the sanitizer cannot see, so that a TSan report here means a real race.
public final class Locked<Value: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `value` is only read or written inside `lock`.
    private let lock = NSLock()
    private var value: Value

    /// A lock around `value`.
    public init(_ value: Value) { self.value = value }

    /// Runs `body` with the value, under the lock.
    public func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
