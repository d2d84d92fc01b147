#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// The one place that retries a system call interrupted by a signal.
///
/// `EINTR` means "nothing happened, try again"; every caller would otherwise
/// repeat the same loop and some would forget it. Used by the reactor, the connections built on it
/// and `LocalRedis`.
@inlinable
public func retryingOnInterrupt<T: BinaryInteger>(_ call: () -> T) -> T {
    while true {
        let result = call()
        if result == -1 && errno == EINTR { continue }
        return result
    }
}

/// An `errno` value as readable text with its number, for error messages.
public func errnoDescription(_ code: Int32) -> String {
    String(cString: strerror(code)) + " (errno \(code))"
}
