import Glibc
import SystemCall
import Synchronization

/// Every redis child and temp directory this process owns, so that a normal exit of the test
/// process kills and removes them even when a server object was leaked or never deinitialized
/// (globals and objects captured by static state are never deinitialized at exit).
///
/// Reaping goes through here too: a pid leaves the registry in the same critical section that
/// reaps it, so the exit hook can never signal a pid the kernel has already handed to someone else.
///
/// A death that runs no exit hook (a crash, `SIGKILL`) is covered by ``OrphanWatchdog``:
/// each pid is listed with it, and taken off its list when reaped, in the same critical
/// sections; each directory likewise when made and when removed.
enum ProcessRegistry {
    private struct Entries {
        var pids: Set<pid_t> = []
        var directories: Set<String> = []
    }

    private static let entries = Mutex(Entries())

    /// `atexit` is installed lazily, once, by the first registration: Swift runs a static
    /// initializer exactly once even when several threads race to it.
    private static let exitHook: Void = {
        atexit { ProcessRegistry.killEverythingAtExit() }
    }()

    /// Started by the first registration; nil when it could not be (the exit hook still
    /// covers a normal exit).
    private static let watchdog: OrphanWatchdog? = try? OrphanWatchdog()

    static func register(pid: pid_t) {
        _ = exitHook
        // Started (once) before the lock is taken: spawning it under the lock would hold
        // every other registration and reap meanwhile.
        _ = watchdog
        let started = ProcStat.sample(pid: pid)?.startTicks
        entries.withLock {
            _ = $0.pids.insert(pid)
            if let started { watchdog?.watch(pid, startTicks: started) }
        }
    }

    static func register(directory: String) {
        _ = exitHook
        _ = watchdog
        entries.withLock {
            _ = $0.directories.insert(directory)
            watchdog?.watch(directory: directory)
        }
    }

    static func unregister(directory: String) {
        entries.withLock {
            if $0.directories.remove(directory) != nil { watchdog?.forget(directory: directory) }
        }
    }

    /// Reaps `pid` if it has exited and returns its wait status; nil while it still runs.
    /// Never blocks.
    static func reapIfExited(_ pid: pid_t) -> Int32? {
        entries.withLock { entries in
            var status: Int32 = 0
            let result = retryingOnInterrupt { waitpid(pid, &status, WNOHANG) }
            if result == pid {
                entries.pids.remove(pid)
                watchdog?.forget(pid)
                return status
            }
            if result == -1 && lastErrno == ECHILD {
                // Someone else reaped it (a waitpid(-1) elsewhere in the process); it is gone either way.
                entries.pids.remove(pid)
                watchdog?.forget(pid)
                return 0
            }
            return nil
        }
    }

    /// Runs from `atexit`. Other threads may still be alive at that point, but they hold
    /// the lock only for O(1) work and never call `exit` inside it, so taking it waits
    /// briefly and cannot deadlock the exit.
    private static func killEverythingAtExit() {
        let taken = entries.withLock { entries in
            defer { entries = Entries() }
            return entries
        }
        for pid in taken.pids {
            // SIGKILL also ends a SIGSTOPped server, which SIGTERM would not.
            kill(pid, SIGKILL)
            var status: Int32 = 0
            _ = retryingOnInterrupt { waitpid(pid, &status, 0) }
            watchdog?.forget(pid)
        }
        for directory in taken.directories {
            // Off the watchdog's list first, so that it, which sees this process end next,
            // has nothing to remove: a name freed here could be another process's by then.
            watchdog?.forget(directory: directory)
            TemporaryDirectory.remove(directory)
        }
    }
}
