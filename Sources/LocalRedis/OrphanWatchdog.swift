import Glibc
import SystemCall

/// A small shell process that kills the servers this process started if this process dies
/// without stopping them: a crash or a `SIGKILL` runs no `atexit` hook (``ProcessRegistry``'s),
/// and the servers it left behind (169 of them, once, after a test process crashed) loaded
/// the machine until the next runs failed.
///
/// The watchdog reads lines from a socket whose other end only this process holds
/// (close-on-exec, so no child inherits it): `+PID START` when a server starts, `-PID` when
/// it has been reaped. When the socket reaches end of file, which the kernel brings about
/// when this process ends however it ends, the watchdog `SIGKILL`s every process still
/// listed whose start time is still `START` (a pid alone may have been reused since), and
/// exits. It ignores `SIGINT`, `SIGHUP` and `SIGTERM`, so that a Ctrl-C on the terminal
/// (which reaches the whole process group) leaves it to clean up after the test process.
///
/// Why not `PR_SET_PDEATHSIG` in each server: the signal follows the death of the
/// *thread* that spawned the child, and servers are started from short-lived threads.
final class OrphanWatchdog: Sendable {
    /// The watchdog's process.
    let child: ChildProcess
    /// This process's end of the socket. Closed only by ``close()`` (tests) or by the kernel.
    private let descriptor: Int32

    /// The watchdog's program: pure shell built-ins until the end of input, then `cat` to
    /// read each listed process's start time from `/proc/PID/stat` (field 22, counted after
    /// the command name, which may hold spaces and parentheses).
    static let script = """
        trap '' INT HUP TERM PIPE
        listed=' '
        while IFS=' ' read -r entry start; do
            case $entry in
                +*) listed="$listed${entry#+}:$start " ;;
                -*) kept=' '
                    for item in $listed; do
                        [ "${item%%:*}" = "${entry#-}" ] || kept="$kept$item "
                    done
                    listed=$kept ;;
            esac
        done
        for item in $listed; do
            pid=${item%%:*}
            stat=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
            set -- ${stat##*) }
            shift 19
            [ "$1" = "${item#*:}" ] && kill -KILL "$pid" 2>/dev/null
        done
        exit 0
        """

    /// Starts a watchdog, or throws when the socket or the shell cannot be had.
    init() throws(LocalRedisError) {
        var ends: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &ends) == 0 else {
            throw .spawnFailed(executable: "/bin/sh (orphan watchdog)", errno: lastErrno)
        }
        defer { Glibc.close(ends[1]) }
        do {
            child = try ChildProcess.spawn(
                executable: "/bin/sh", arguments: ["-c", Self.script], outputPath: "/dev/null",
                standardInput: ends[1], registered: false
            )
        } catch {
            Glibc.close(ends[0])
            throw error
        }
        descriptor = ends[0]
    }

    /// Lists `pid` (started at `startTicks` after boot) for killing if this process dies.
    func watch(_ pid: pid_t, startTicks: UInt64) {
        write("+\(pid) \(startTicks)\n")
    }

    /// Takes `pid` off the list: it has been reaped.
    func forget(_ pid: pid_t) {
        write("-\(pid)\n")
    }

    /// Ends the watchdog as this process's death would: it kills what is still listed.
    /// For tests; the process-wide watchdog is never closed.
    func close() {
        Glibc.close(descriptor)
    }

    /// One line, in one `send` (a short message on a stream socket is not split; callers
    /// serialise their lines anyway). `MSG_NOSIGNAL`: a watchdog that died (killed from
    /// outside) must cost a lost line, not a `SIGPIPE` that kills this process.
    private func write(_ line: String) {
        var line = line
        line.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let sent = retryingOnInterrupt { send(descriptor, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL)) }
                guard sent > 0 else { return }
                offset += sent
            }
        }
    }
}
