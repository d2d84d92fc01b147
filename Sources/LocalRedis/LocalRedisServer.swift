import Glibc
import Synchronization

/// A private `redis-server` for tests and benchmarks: its own loopback port, its own temporary
/// directory, no persistence, and no process left behind when the test process exits normally.
///
/// ```swift
/// let server = try LocalRedisServer()
/// defer { server.stop() }
/// connect(to: server.host, port: server.port)
/// ```
///
/// Every method blocks the calling thread (starting waits for PING, stopping waits for the
/// process to exit). Call them from tests or setup code, never from a reactor thread or a
/// cooperative-pool task that other work is waiting on.
///
/// Lifecycle calls (`stop`, `restart`, `pause`, `resume`) are serialized: one waits for another
/// to finish, so a stop racing a restart can never leak the restarted process.
public final class LocalRedisServer: Sendable {
    private struct State {
        var child: ChildProcess?
        var isStopped = false
    }

    /// The configuration the server was started with.
    public let configuration: Configuration
    /// The loopback address the server listens on.
    public let host: String = "127.0.0.1"
    /// The TCP port, fixed for the server's lifetime (`restart()` keeps it).
    public let port: Int
    /// `<directory>/redis.sock` when `Configuration.unixSocket` is set.
    public let unixSocketPath: String?
    /// The private directory holding redis.conf, redis.log and the socket; removed by `stop()`.
    public let directory: String
    /// The version the executable reports, e.g. "7.0.15".
    public let redisVersion: String
    /// The resolved path of the redis-server executable.
    public let executablePath: String
    /// With ``Configuration/tls``: the CA, server and client certificates, in ``directory``.
    public let tlsFiles: TLSFiles?

    private let launch: RedisLaunch
    private let state: Mutex<State>

    /// How often a fresh port is tried when another process grabs the chosen one first.
    private static let portAttempts = 5

    /// Starts a server and returns once it answers PING.
    ///
    /// - Throws: `LocalRedisError.executableNotFound` when redis-server is not installed,
    ///   `.startFailed` (with the log tail) when it exits, `.startTimedOut` when it never answers.
    public init(configuration: Configuration = .init()) throws(LocalRedisError) {
        let name = configuration.executable ?? "redis-server"
        let searchPath = getenv("PATH").map { String(cString: $0) } ?? ""
        guard let executablePath = ExecutableLocator.locate(name, searchPath: searchPath) else {
            throw .executableNotFound(name: name, searchPath: searchPath)
        }
        let directory = try TemporaryDirectory.create()
        do {
            let version = try RedisVersion.cached(executable: executablePath, directory: directory, timeout: configuration.startTimeout)
            let launch = RedisLaunch(
                executable: executablePath, directory: directory, host: host,
                unixSocketPath: configuration.unixSocket ? "\(directory)/redis.sock" : nil,
                configuration: configuration,
                notifies: ReadinessNotification.isSupported(byExecutableAt: executablePath),
                tlsFiles: try configuration.tls.map { options throws(LocalRedisError) in try TestCertificateAuthority.write(options, into: directory) }
            )
            let (port, child) = try Self.startOnUnusedPort(launch)
            self.configuration = configuration
            self.executablePath = executablePath
            self.directory = directory
            self.redisVersion = version
            self.launch = launch
            self.tlsFiles = launch.tlsFiles
            self.unixSocketPath = launch.unixSocketPath
            self.port = port
            self.state = Mutex(State(child: child))
        } catch {
            // Off the lists first: the watchdog must never remove a name this process no longer holds.
            ProcessRegistry.unregister(directory: directory)
            TemporaryDirectory.remove(directory)
            throw error
        }
    }

    deinit {
        stop()
    }

    /// The port is only free when chosen; a parallel test may bind it before redis does.
    private static func startOnUnusedPort(_ launch: RedisLaunch) throws(LocalRedisError) -> (Int, ChildProcess) {
        var lastTail = ""
        var port = 0
        for _ in 0..<portAttempts {
            port = try LoopbackProbe.unusedPort(host: launch.host)
            switch try launch.start(port: port) {
            case let .ready(child): return (port, child)
            case let .portInUse(logTail): lastTail = logTail
            }
        }
        throw .portUnavailable(port: port, logTail: lastTail)
    }

    /// `redis://127.0.0.1:PORT`, for clients configured by URL; under TLS
    /// `rediss://127.0.0.1:PORT?cacert=<the CA file>`, which a client can use as it is.
    public var url: String {
        guard let tlsFiles else { return "redis://\(host):\(port)" }
        return "rediss://\(host):\(port)?cacert=\(tlsFiles.caCertificate)"
    }

    /// The server's process id; nil once stopped or after a failed restart.
    public var pid: Int32? {
        state.withLock { $0.child?.pid }
    }

    /// Stops the server: SIGTERM, then SIGKILL after `stopGracePeriod`, then reaps it and removes
    /// `directory`. Idempotent; also runs on deinit.
    public func stop() {
        state.withLock { state in
            state.child?.terminate(gracePeriod: configuration.stopGracePeriod)
            state.child = nil
            guard !state.isStopped else { return }
            state.isStopped = true
            // Off the lists first: the watchdog must never remove a name this process no longer holds.
            ProcessRegistry.unregister(directory: directory)
            TemporaryDirectory.remove(directory)
        }
    }

    /// Stops the process and starts a new one on the same port, with the same config, returning
    /// once it answers PING. Data is lost (persistence is off). Use `downtime` to keep the port
    /// closed for a while, e.g. to test reconnection back-off, and `holdingDownWhile` to keep it
    /// closed until a test has seen what it waits for (polled every millisecond after
    /// `downtime`, with this server's lock held: it must not call the server).
    ///
    /// - Throws: `.notRunning` after `stop()`; `.portUnavailable` when another process took the
    ///   port and kept it for the whole start timeout; the start errors of `init`.
    public func restart(downtime: Duration = .zero, holdingDownWhile holdDown: () -> Bool = { false }) throws(LocalRedisError) {
        try state.withLock { (state: inout State) throws(LocalRedisError) in
            guard !state.isStopped else { throw .notRunning }
            state.child?.terminate(gracePeriod: configuration.stopGracePeriod)
            state.child = nil
            blockingSleep(downtime)
            while holdDown() { blockingSleep(.milliseconds(1)) }
            // redis sets SO_REUSEADDR, so our own closed connections in TIME_WAIT do not block
            // the bind; only a foreign listener can, and it may go away, so keep trying a while.
            let deadline = ContinuousClock.now + configuration.startTimeout
            while true {
                switch try launch.start(port: port) {
                case let .ready(child):
                    state.child = child
                    return
                case let .portInUse(logTail):
                    guard ContinuousClock.now < deadline else {
                        throw .portUnavailable(port: port, logTail: logTail)
                    }
                    blockingSleep(.milliseconds(50))
                }
            }
        }
    }

    /// Freezes the server with SIGSTOP: connections stay open and the kernel still accepts new
    /// ones, but nothing is answered, as with a stalled or partitioned server. Returns once the
    /// kernel reports the process stopped.
    public func pause() throws(LocalRedisError) {
        try signalAndAwaitState(SIGSTOP, reached: WSTOPPED)
    }

    /// Continues a paused server (SIGCONT); returns once it is running again.
    public func resume() throws(LocalRedisError) {
        try signalAndAwaitState(SIGCONT, reached: WCONTINUED)
    }



    private func signalAndAwaitState(_ signal: Int32, reached change: Int32) throws(LocalRedisError) {
        try state.withLock { (state: inout State) throws(LocalRedisError) in
            guard let child = state.child else { throw .notRunning }
            // One look at the process's state (`/proc/<pid>/stat`), not a poll of it: an
            // exited server (a zombie not yet reaped) is not running, and continuing a
            // process that is not stopped reports no change to wait for.
            guard let processState = ProcStat.sample(pid: child.pid)?.state, processState != "Z", processState != "X" else {
                throw .notRunning
            }
            let reportsChange = change != WCONTINUED || processState == "T"
            guard child.send(signal) else {
                throw .signalFailed(signal: signal, pid: child.pid, errno: lastErrno)
            }
            // kill(2) only queues the signal; tests that then expect a stall must not race
            // it. waitid blocks until the kernel reports the change (SIGSTOP and SIGCONT
            // can be neither caught nor blocked, so it comes) or the exit; WNOWAIT leaves
            // an exit for ProcessRegistry to reap. A server that has exited is not
            // running: saying so beats a pause that "succeeds" on nothing.
            guard reportsChange else { return }
            guard let code = child.awaitChange(change | WEXITED | WNOWAIT) else {
                throw .signalFailed(signal: signal, pid: child.pid, errno: lastErrno)
            }
            if code == CLD_EXITED || code == CLD_KILLED || code == CLD_DUMPED { throw .notRunning }
        }
    }

    /// User plus system CPU seconds the server process has used so far (from `/proc/<pid>/stat`);
    /// nil when it is not running. Benchmarks report it next to client CPU.
    public func cpuSeconds() -> Double? {
        guard let pid else { return nil }
        return ProcStat.cpuSeconds(pid: pid)
    }

    /// Sends an inline `PING` over a fresh TCP connection (for a TLS server, over its
    /// private Unix socket, which speaks plaintext) and reports whether `+PONG` arrived
    /// within `timeout`. False for a paused or stopped server, and for one that requires AUTH.
    public func ping(timeout: Duration = .seconds(1)) -> Bool {
        let endpoint: ProbeEndpoint = tlsFiles == nil ? .tcp(host: host, port: port) : .unix(path: launch.probeSocketPath)
        return LoopbackProbe.exchange("PING\r\n", with: endpoint, timeout: timeout) == .replied(["+PONG"])
    }
}
