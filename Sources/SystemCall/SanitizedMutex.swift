import Synchronization

/// `Synchronization.Mutex`, with its critical sections visible to the thread sanitizer.
///
/// `Mutex` locks with a futex, which TSan does not intercept, so correct `withLock`
/// sections on one are reported as races (`scripts/tsan/mutex-repro.swift`); each type
/// whose state lived in a `Mutex` needed a suppression, and a real race beside its lock
/// would have gone unseen. Built with `-DTSAN_ANNOTATIONS` (`make test-tsan`), each
/// section tells TSan that it acquires and then releases the lock (its address, which
/// stays put: a `Mutex` cannot be copied or moved while borrowed), and RedisUtil and
/// LocalRedis name this type `Mutex` (a typealias in each). Other builds keep the standard
/// `Mutex` itself: Swift 6.3 calls this type's `withLock` unspecialised across modules
/// (generic metadata looked up per call: a cluster client's `RPUSH` cost 420 instructions
/// more).
@frozen
package struct SanitizedMutex<Value: ~Copyable>: ~Copyable {
    @usableFromInline
    let mutex: Synchronization.Mutex<Value>

    /// A lock around `initialValue`.
    @inlinable
    package init(_ initialValue: consuming sending Value) {
        mutex = Synchronization.Mutex(initialValue)
    }

    /// Runs `body` with the value while holding the lock, as `Mutex.withLock` does.
    @inlinable
    package borrowing func withLock<Result: ~Copyable, E: Error>(
        _ body: (inout sending Value) throws(E) -> sending Result
    ) throws(E) -> sending Result {
        #if TSAN_ANNOTATIONS
        // The lock's own address, taken before the section: deriving it from the value would
        // itself be an access to the value before the acquire, which TSan reports.
        let address = withUnsafePointer(to: mutex) { UnsafeMutableRawPointer(mutating: $0) }
        #endif
        return try mutex.withLock { (value: inout sending Value) throws(E) -> sending Result in
            #if TSAN_ANNOTATIONS
            tsanAcquire(address)
            defer { tsanRelease(address) }
            #endif
            return try body(&value)
        }
    }
}

extension SanitizedMutex: Sendable where Value: ~Copyable {}

#if TSAN_ANNOTATIONS
/// The thread sanitizer's annotations (its runtime is linked in a `--sanitize=thread` build).
@usableFromInline @_silgen_name("__tsan_acquire") func tsanAcquire(_ address: UnsafeMutableRawPointer)
@usableFromInline @_silgen_name("__tsan_release") func tsanRelease(_ address: UnsafeMutableRawPointer)
#endif
