#if canImport(Glibc)
import Glibc
#endif

/// How many file descriptors the client may take: all but a reserve below the process's
/// soft `RLIMIT_NOFILE`.
///
/// A client told to open more connections than the process has descriptors for must not
/// take the last ones: libdispatch (and so Swift concurrency) aborts the process when it
/// needs a descriptor and finds none, and the application's own files and logs need
/// some too. Linux hands out the lowest free descriptor, so a new socket numbered `n`
/// means every descriptor below `n` is in use: when `n` falls within the reserve, fewer
/// than `reserved` are left, and the socket is given back.
struct DescriptorBudget: Equatable {
    /// The soft limit on open files.
    let limit: Int
    /// Descriptors left to the rest of the process.
    let reserved: Int

    /// The budget under the process's current limit (read afresh: a program may raise it).
    static func current() -> DescriptorBudget {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0, limits.rlim_cur != rlim_t.max else {
            return DescriptorBudget(limit: Int(Int32.max))
        }
        return DescriptorBudget(limit: Int(clamping: limits.rlim_cur))
    }

    /// A budget for `limit` open files: an eighth of them reserved, at least 16 (what
    /// Dispatch and a small program need) and at most 256 (plenty for any program's own
    /// files while leaving a large limit to the client).
    init(limit: Int) {
        self.limit = limit
        reserved = min(max(limit / 8, 16), 256)
    }

    /// Whether the client may keep descriptor `fd`, just opened.
    func admits(_ fd: Int32) -> Bool {
        Int(fd) < limit - reserved
    }

    /// The error for a command that could not get a connection under this budget.
    var error: RedisError {
        .descriptorLimit(limit: limit, reserved: reserved)
    }

    /// Whether `code`, from `socket()`, means the process (`EMFILE`) or the system
    /// (`ENFILE`) has run out of descriptors.
    static func isExhaustion(_ code: Int32) -> Bool {
        code == EMFILE || code == ENFILE
    }
}
