import Glibc
/// One attempt to bring a redis-server up on a given port and see it answer: the piece that
/// both the first start and `restart()` repeat.
struct RedisLaunch: Sendable {
    /// What a single attempt came to; anything else is thrown.
    enum Outcome {
        case ready(ChildProcess)
        /// Another process holds the port; the caller picks a new one or waits.
        case portInUse(logTail: String)
    }

    let executable: String
    let directory: String
    let host: String
    let unixSocketPath: String?
    let configuration: LocalRedisServer.Configuration
    /// Whether the executable tells us when it is ready (``ReadinessNotification``).
    let notifies: Bool
    /// The certificates of a TLS server (with `configuration.tls`).
    var tlsFiles: LocalRedisServer.TLSFiles? = nil

    var configPath: String { "\(directory)/redis.conf" }
    /// The server always listens here too, whether or not the user asked for a Unix
    /// socket: a PING answered on this private path can only come from this process.
    /// Over TCP, a parallel test that picked the same "unused" port could answer for a
    /// child that is about to exit with "Address already in use"; redis opens its Unix
    /// socket only after binding TCP, so an answer here also proves the TCP port is ours.
    var probeSocketPath: String { unixSocketPath ?? "\(directory)/probe.sock" }
    var logPath: String { "\(directory)/redis.log" }
    /// stdout and stderr: redis reports config errors there, before it opens `logPath`.
    var outputPath: String { "\(directory)/redis.stdout.log" }

    func start(port: Int) throws(LocalRedisError) -> Outcome {
        let config = RedisConfigFile(
            port: port, directory: directory, logPath: logPath,
            unixSocketPath: probeSocketPath, extraLines: configuration.extraConfig,
            tls: tlsFiles.flatMap { files in configuration.tls.map { (files, $0) } }
        )
        if let errno = FileIO.write(config.text, to: configPath) {
            throw .configWriteFailed(path: configPath, errno: errno)
        }
        // Logs are appended across restarts; only this attempt's part explains this attempt.
        let logOffset = FileIO.size(logPath)
        let outputOffset = FileIO.size(outputPath)
        func logTail() -> String {
            [FileIO.tail(outputPath, from: outputOffset), FileIO.tail(logPath, from: logOffset)]
                .filter { !$0.isEmpty }
                .joined(separator: "\n")
        }

        // A command-line option overrides the file: a `daemonize yes` in extraConfig would
        // fork a server we could neither track nor stop.
        var arguments = [configPath, "--daemonize", "no"]
        let notification = notifies ? ReadinessNotification(path: "\(directory)/notify.sock") : nil
        if notification != nil { arguments += ["--supervised", "systemd"] }
        let child = try ChildProcess.spawn(
            executable: executable, arguments: arguments,
            environment: notification.map { [$0.environmentEntry] } ?? [], outputPath: outputPath
        )
        let deadline = ContinuousClock.now + configuration.startTimeout
        let pidfd = PidDescriptor.open(child.pid)
        defer { if let pidfd { close(pidfd) } }
        var waited = false
        while true {
            if let status = child.reapIfExited() {
                let tail = logTail()
                if tail.contains("Address already in use") { return .portInUse(logTail: tail) }
                throw .startFailed(reason: describeWaitStatus(status), logTail: tail)
            }
            if let notification, let pidfd {
                // Told, not polled: one wait for READY=1 or the exit. After READY=1 the
                // PING below confirms, on the private socket, that this process answers.
                if !waited {
                    waited = true
                    if notification.wait(orExitOf: pidfd, until: deadline) == .exited { continue }
                }
            }
            let outcome = LoopbackProbe.exchange("PING\r\n", with: .unix(path: probeSocketPath), timeout: .milliseconds(250))
            if case let .replied(lines) = outcome, Self.isAnswer(lines[0]) {
                return .ready(child)
            }
            if ContinuousClock.now >= deadline {
                child.terminate(gracePeriod: .zero)
                throw .startTimedOut(after: configuration.startTimeout, logTail: logTail())
            }
            // Only a build that cannot notify (or a system without pidfds) comes back here
            // more than once: it is asked every 10 ms.
            blockingSleep(.milliseconds(10))
        }
    }

    /// `+PONG`, but also any error reply: with `requirepass` or ACL users configured the server
    /// answers `-NOAUTH`, and that is still a server that is up and parsing commands.
    static func isAnswer(_ line: String) -> Bool {
        line == "+PONG" || line.hasPrefix("-")
    }
}
