import Glibc

/// Reads what the benchmark and `pause()` need from `/proc/<pid>/stat` (proc(5)).
enum ProcStat {
    /// The fields of one stat line that this module uses.
    struct Sample: Equatable {
        /// The one-letter state: R, S, D, T (stopped), Z, ...
        var state: Character
        /// The parent's pid.
        var parent: pid_t
        /// Clock ticks spent in user mode.
        var userTicks: UInt64
        /// Clock ticks spent in kernel mode.
        var systemTicks: UInt64
        /// When the process started, in clock ticks after boot: with the pid, it names one
        /// process for good (a pid alone may be reused once its process is reaped).
        var startTicks: UInt64
    }

    /// Parses a stat line. The command name (field 2) is in parentheses and may itself contain
    /// spaces and parentheses, so fields are counted from the last ')'.
    static func parse(_ line: String) -> Sample? {
        guard let close = line.lastIndex(of: ")") else { return nil }
        let fields = line[line.index(after: close)...].split(separator: " ", omittingEmptySubsequences: true)
        // After the name: state is field 3, ppid field 4, utime field 14, stime field 15 and
        // starttime field 22 (1-based, proc(5)).
        guard fields.count > 19, let state = fields[0].first, let parent = pid_t(fields[1]),
              let user = UInt64(fields[11]), let system = UInt64(fields[12]), let start = UInt64(fields[19]) else { return nil }
        return Sample(state: state, parent: parent, userTicks: user, systemTicks: system, startTicks: start)
    }

    /// The current sample for `pid`, nil when the process is gone.
    static func sample(pid: pid_t) -> Sample? {
        guard let bytes = FileIO.read("/proc/\(pid)/stat") else { return nil }
        return parse(String(decoding: bytes, as: UTF8.self))
    }

    /// User plus system CPU time of `pid` in seconds.
    static func cpuSeconds(pid: pid_t) -> Double? {
        guard let sample = sample(pid: pid) else { return nil }
        let ticksPerSecond = sysconf(Int32(_SC_CLK_TCK))
        guard ticksPerSecond > 0 else { return nil }
        return Double(sample.userTicks + sample.systemTicks) / Double(ticksPerSecond)
    }
}
