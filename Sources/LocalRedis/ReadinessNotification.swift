import Glibc
import Synchronization
import SystemCall

/// The server telling us it is ready, instead of us asking it every few milliseconds:
/// systemd's readiness protocol (`sd_notify(3)`). A server started with `--supervised
/// systemd` and `NOTIFY_SOCKET` in its environment sends a datagram holding `READY=1`
/// to that socket once it accepts commands (after loading its data). Waiting is one
/// `poll(2)` on that socket and the child's pidfd, so a server that exits instead wakes
/// the wait just as promptly.
///
/// Only builds that can notify are asked to: see ``isSupported(byExecutableAt:)``.
final class ReadinessNotification {
    /// What ended a wait.
    enum Event: Equatable {
        /// The server said `READY=1`.
        case ready
        /// The child exited (its pidfd turned readable).
        case exited
        /// Neither before the deadline.
        case timedOut
    }

    /// `NOTIFY_SOCKET=<path>`, for the child's environment.
    let environmentEntry: String
    private let descriptor: Int32
    private let path: String

    /// Binds a datagram socket at `path` (replacing a stale one); nil when that fails,
    /// for example on a path longer than `sun_path`.
    init?(path: String) {
        let descriptor = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        guard descriptor >= 0 else { return nil }
        unlink(path)
        let bound = ProbeEndpoint.unix(path: path).withSocketAddress { bind(descriptor, $0, $1) } == 0
        guard bound else {
            close(descriptor)
            return nil
        }
        self.descriptor = descriptor
        self.path = path
        environmentEntry = "NOTIFY_SOCKET=\(path)"
    }

    deinit {
        close(descriptor)
        unlink(path)
    }

    /// Waits until the server says it is ready, the process behind `pidfd` exits, or
    /// `deadline` passes.
    func wait(orExitOf pidfd: Int32, until deadline: ContinuousClock.Instant) -> Event {
        var entries = [
            pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&entries, nfds_t(entries.count), deadline.pollTimeoutMilliseconds)
            if ready == -1 && lastErrno == EINTR { continue }
            if ready <= 0 { return .timedOut }
            if entries[0].revents != 0, receivedReady() { return .ready }
            if entries[1].revents != 0 { return .exited }
            // Only status lines (`STATUS=…`) so far.
        }
    }

    /// Reads every datagram waiting; true when one of them holds the line `READY=1`.
    private func receivedReady() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        var ready = false
        while true {
            let count = buffer.withUnsafeMutableBytes { bytes in
                retryingOnInterrupt { recv(descriptor, bytes.baseAddress, bytes.count, 0) }
            }
            guard count > 0 else { return ready }
            let lines = buffer[0..<count].split(separator: UInt8(ascii: "\n"))
            if lines.contains(where: { $0.elementsEqual("READY=1".utf8) }) { ready = true }
        }
    }

    /// Whether the redis-server at `path` sends readiness notifications. Redis 7.0 does
    /// so through libsystemd's `sd_notify` and only when built with it (Debian's is); a
    /// build without it ignores `--supervised systemd` and would leave the wait to time
    /// out, so it is started the old way. Read once per executable and process.
    static func isSupported(byExecutableAt path: String) -> Bool {
        if let known = supported.withLock({ $0[path] }) { return known }
        let linked = FileIO.read(path).map { contains($0, Array("libsystemd.so".utf8)) } ?? false
        supported.withLock { $0[path] = linked }
        return linked
    }

    private static let supported = Mutex<[String: Bool]>([:])

    /// Whether `needle` occurs in `bytes`: memchr finds each candidate first byte, so a
    /// binary of a few megabytes is searched in about a millisecond even unoptimised.
    static func contains(_ bytes: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first else { return true }
        return bytes.withUnsafeBytes { file in
            guard let base = file.baseAddress, file.count >= needle.count else { return false }
            var offset = 0
            let last = file.count - needle.count
            while offset <= last, let hit = memchr(base + offset, Int32(first), last - offset + 1) {
                offset = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + offset, needle, needle.count) == 0 { return true }
                offset += 1
            }
            return false
        }
    }
}
