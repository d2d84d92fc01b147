#if canImport(Glibc)
import Glibc
import SystemCall
#elseif canImport(Musl)
import Musl
#endif

/// Monotonic time in nanoseconds: the clock the reactor's timers use, for deadlines
/// that must agree with them.
public func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) &* 1_000_000_000 &+ UInt64(now.tv_nsec)
}
