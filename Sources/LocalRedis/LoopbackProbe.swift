import Glibc
import SystemCall

/// How one probe exchange ended.
enum ProbeOutcome: Sendable, Equatable {
    /// The first reply lines, without their CRLF.
    case replied([String])
    /// Nothing listens there (yet).
    case refused
    /// The server closed the connection before the expected lines arrived.
    case closed
    /// No complete answer before the deadline: a stopped (SIGSTOP) server ends here.
    case timedOut
    /// Any other socket error.
    case failed(errno: Int32)
}

/// A blocking, dependency-free Redis prober: one fresh non-blocking socket per exchange, waited
/// on with poll(2) against a deadline. It exists so this module needs no client and can tell
/// "not up yet", "up" and "stalled" apart; it is not a client and parses no RESP beyond lines.
enum LoopbackProbe {
    /// Sends `request` (inline commands, each ending in CRLF) and collects `replyLines` lines.
    static func exchange(_ request: String, with endpoint: ProbeEndpoint, replyLines: Int = 1, timeout: Duration) -> ProbeOutcome {
        let deadline = ContinuousClock.now + timeout
        let descriptor: Int32
        switch connect(to: endpoint, deadline: deadline) {
        case let .success(connected): descriptor = connected
        case let .failure(error): return error.outcome
        }
        defer { close(descriptor) }
        if let failure = send(Array(request.utf8), on: descriptor, deadline: deadline) {
            return failure
        }
        return receive(lines: replyLines, on: descriptor, deadline: deadline)
    }

    /// A TCP port on `host` that nothing listens on right now. Another process may take it
    /// before redis binds it; callers retry on "Address already in use".
    static func unusedPort(host: String) throws(LocalRedisError) -> Int {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw .noFreePort(errno: lastErrno) }
        defer { close(descriptor) }
        let bound = ProbeEndpoint.tcp(host: host, port: 0).withSocketAddress { Glibc.bind(descriptor, $0, $1) }
        guard bound == 0 else { throw .noFreePort(errno: bound == nil ? EINVAL : lastErrno) }
        guard let port = ProbeEndpoint.boundPort(of: descriptor) else { throw .noFreePort(errno: lastErrno) }
        return port
    }

    /// A connected non-blocking socket, or why not. `connect`, `send` and `wait` are shared
    /// with ``RESPReplyExchange``, which drives cluster nodes over the same kind of socket.
    static func connect(to endpoint: ProbeEndpoint, deadline: ContinuousClock.Instant) -> Result<Int32, ProbeOutcomeError> {
        let type = Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue | SOCK_NONBLOCK.rawValue)
        let descriptor = socket(endpoint.domain, type, 0)
        guard descriptor >= 0 else { return .failure(.init(.failed(errno: lastErrno))) }
        let result = endpoint.withSocketAddress { address, length -> Int32 in
            retryingOnInterrupt { Glibc.connect(descriptor, address, length) } == 0 ? 0 : lastErrno
        }
        var error = result ?? EINVAL
        if error == EINPROGRESS || error == EAGAIN {
            guard wait(for: POLLOUT, on: descriptor, until: deadline) else {
                close(descriptor)
                return .failure(.init(.timedOut))
            }
            var length = socklen_t(MemoryLayout<Int32>.size)
            error = 0
            if getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) != 0 { error = lastErrno }
        }
        guard error == 0 else {
            close(descriptor)
            // ENOENT: the Unix socket file does not exist yet, which is "not listening" too.
            let notListening = error == ECONNREFUSED || error == ENOENT
            return .failure(.init(notListening ? .refused : .failed(errno: error)))
        }
        return .success(descriptor)
    }

    static func send(_ bytes: [UInt8], on descriptor: Int32, deadline: ContinuousClock.Instant) -> ProbeOutcome? {
        var pending = bytes[...]
        while !pending.isEmpty {
            // MSG_NOSIGNAL: a server that closed on us must yield EPIPE here, not kill the test process.
            let sent = pending.withUnsafeBytes { buffer in
                retryingOnInterrupt { Glibc.send(descriptor, buffer.baseAddress, buffer.count, Int32(MSG_NOSIGNAL)) }
            }
            if sent >= 0 {
                pending = pending.dropFirst(sent)
                continue
            }
            let error = lastErrno
            guard error == EAGAIN || error == EWOULDBLOCK else {
                return error == EPIPE || error == ECONNRESET ? .closed : .failed(errno: error)
            }
            guard wait(for: POLLOUT, on: descriptor, until: deadline) else { return .timedOut }
        }
        return nil
    }

    private static func receive(lines expected: Int, on descriptor: Int32, deadline: ContinuousClock.Instant) -> ProbeOutcome {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1024)
        while true {
            let lines = completeLines(in: received)
            if lines.count >= expected { return .replied(Array(lines.prefix(expected))) }
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingOnInterrupt { recv(descriptor, buffer.baseAddress, buffer.count, 0) }
            }
            if count > 0 {
                received.append(contentsOf: chunk[0..<count])
                continue
            }
            if count == 0 { return .closed }
            let error = lastErrno
            guard error == EAGAIN || error == EWOULDBLOCK else {
                return error == ECONNRESET ? .closed : .failed(errno: error)
            }
            guard wait(for: POLLIN, on: descriptor, until: deadline) else { return .timedOut }
        }
    }

    /// The CRLF-terminated lines in `bytes`; a trailing partial line is left out.
    static func completeLines(in bytes: [UInt8]) -> [String] {
        var lines: [String] = []
        var start = 0
        var index = 0
        while index + 1 < bytes.count {
            if bytes[index] == UInt8(ascii: "\r") && bytes[index + 1] == UInt8(ascii: "\n") {
                lines.append(String(decoding: bytes[start..<index], as: UTF8.self))
                index += 2
                start = index
            } else {
                index += 1
            }
        }
        return lines
    }

    /// Polls until `events` is ready or `deadline` passes; false on timeout. Errors and hang-ups
    /// count as ready so that the following call reports them.
    static func wait(for events: Int32, on descriptor: Int32, until deadline: ContinuousClock.Instant) -> Bool {
        while true {
            var entry = pollfd(fd: descriptor, events: Int16(events), revents: 0)
            let ready = poll(&entry, 1, deadline.pollTimeoutMilliseconds)
            if ready > 0 { return true }
            if ready == 0 { return false }
            if lastErrno != EINTR { return true }
        }
    }
}

/// Carries a non-success `ProbeOutcome` through `Result`.
struct ProbeOutcomeError: Error {
    var outcome: ProbeOutcome
    init(_ outcome: ProbeOutcome) { self.outcome = outcome }
}
