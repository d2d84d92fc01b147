import Glibc
import SystemCall

/// The calling thread's `errno`, read in one place so the rest of the module never touches the C global.
var lastErrno: Int32 { errno }

/// Blocks the calling thread. This module is test tooling and blocks by design; see `LocalRedisServer`.
func blockingSleep(_ duration: Duration) {
    guard duration > .zero else { return }
    let components = duration.components
    var request = timespec(tv_sec: Int(components.seconds), tv_nsec: Int(components.attoseconds / 1_000_000_000))
    var remaining = timespec()
    // nanosleep reports the unslept rest when a signal interrupts it; sleeping that rest keeps the total exact.
    while nanosleep(&request, &remaining) == -1 && errno == EINTR {
        request = remaining
    }
}

extension ContinuousClock.Instant {
    /// Milliseconds from now until this instant, rounded up and clamped for `poll(2)`.
    var pollTimeoutMilliseconds: Int32 {
        let remaining = self - ContinuousClock.now
        guard remaining > .zero else { return 0 }
        let (seconds, attoseconds) = remaining.components
        let milliseconds = seconds * 1000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: milliseconds)
    }
}

/// Describes a `waitpid` status the way a shell would, for error messages.
func describeWaitStatus(_ status: Int32) -> String {
    // The W* macros are not imported into Swift; these are their Linux definitions.
    let signal = status & 0x7f
    if signal == 0 {
        return "exited with status \((status >> 8) & 0xff)"
    }
    return "killed by signal \(signal)"
}
