import Glibc

/// Ends a node's process without reaping it, for `kill` and `stopNode`: the zombie keeps its
/// pid ours until the node's ``LocalRedisServer`` reaps it in `restart()` or `stop()`, so those
/// can never signal a pid the kernel has handed to another process.
enum ClusterNodeSignal {
    /// Sends `signal` to `pid` and waits until the process has exited (its sockets are then
    /// closed), up to `timeout`. Returns nil once it has (a process already gone counts),
    /// else why not: the `kill(2)` errno, or `ETIMEDOUT`.
    static func signalAndAwaitExit(pid: Int32, signal: Int32, timeout: Duration) -> Int32? {
        let deadline = ContinuousClock.now + timeout
        let pidfd = PidDescriptor.open(pid)
        defer { if let pidfd { close(pidfd) } }
        guard Glibc.kill(pid, signal) == 0 || lastErrno == ESRCH else { return lastErrno }
        // A SIGSTOPped (paused) server must run to act on SIGTERM.
        _ = Glibc.kill(pid, SIGCONT)
        if let pidfd {
            // A pidfd turns readable at exit, zombie or not: an event, not a poll.
            var entry = pollfd(fd: pidfd, events: Int16(POLLIN), revents: 0)
            while true {
                let ready = poll(&entry, 1, deadline.pollTimeoutMilliseconds)
                if ready > 0 { return nil }
                if ready == 0 { return ETIMEDOUT }
                if lastErrno != EINTR { break }
            }
        }
        while ContinuousClock.now < deadline {
            guard let state = ProcStat.sample(pid: pid)?.state, state != "Z", state != "X" else { return nil }
            blockingSleep(.milliseconds(2))
        }
        return ETIMEDOUT
    }
}
