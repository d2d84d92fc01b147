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
/// listed whose start time is still `START` (a pid alone may have been reused since), then
/// removes every server directory still listed (`+/PATH` when made, `-/PATH` when removed;
/// only paths ``isListable(directory:)`` accepts, which the script checks again before its
/// `rm -rf`), and exits. It ignores `SIGINT`, `SIGHUP` and `SIGTERM`, so that a Ctrl-C on the terminal
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
    /// the command name, which may hold spaces and parentheses), and `rm` for the
    /// directories. Globbing is off (`set -f`): no listed word is a pattern.
    static let script = """
        trap '' INT HUP TERM PIPE
        set -f
        listed=' '
        directories=' '
        while IFS=' ' read -r entry start; do
            case $entry in
                +/*) directories="$directories${entry#+} " ;;
                -/*) kept=' '
                    for item in $directories; do
                        [ "$item" = "${entry#-}" ] || kept="$kept$item "
                    done
                    directories=$kept ;;
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
        for directory in $directories; do
            case $directory in
                *..*) ;;
                /*/local-redis.??????) rm -rf -- "$directory" ;;
            esac
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

    /// Lists `path`, a server's private directory, for removal if this process dies;
    /// `false`, listing nothing, for a path ``isListable(directory:)`` refuses.
    @discardableResult
    func watch(directory path: String) -> Bool {
        guard Self.isListable(directory: path) else { return false }
        write("+\(path)\n")
        return true
    }

    /// Takes `path` off the list: it has been removed.
    func forget(directory path: String) {
        guard Self.isListable(directory: path) else { return }
        write("-\(path)\n")
    }

    /// Whether the watchdog may be given `path` to `rm -rf`: what ``TemporaryDirectory``
    /// makes (`/BASE/local-redis.XXXXXX`), absolute, of letters, digits, `.`, `_`, `-` and
    /// `/` only (one shell word, no pattern, no line break), without `..`. Any other path
    /// is left to the exit hook, as before the watchdog listed directories.
    static func isListable(directory path: String) -> Bool {
        let bytes = Array(path.utf8)
        let components = path.split(separator: "/")
        guard bytes.first == UInt8(ascii: "/"), bytes.last != UInt8(ascii: "/"), !path.contains(".."), components.count >= 2,
              let last = components.last, last.hasPrefix("local-redis."), last.utf8.count == "local-redis.".utf8.count + 6 else { return false }
        return bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
                 UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "-"), UInt8(ascii: "/"):
                true
            default:
                false
            }
        }
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
