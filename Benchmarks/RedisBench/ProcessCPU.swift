#if canImport(Glibc)
import Glibc
#endif

/// This process's CPU time (user + system), from getrusage.
func processCPUSeconds() -> Double {
    cpuSeconds(RUSAGE_SELF)
}

/// The CPU time (user + system) of this process's children that have ended and been
/// reaped, all threads of each: the difference across one child's run is that child's.
func reapedChildrenCPUSeconds() -> Double {
    cpuSeconds(RUSAGE_CHILDREN)
}

private func cpuSeconds(_ who: __rusage_who) -> Double {
    var usage = rusage()
    getrusage(who.rawValue, &usage)
    func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
    return seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

/// Monotonic seconds.
func monotonicSeconds() -> Double {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
}
