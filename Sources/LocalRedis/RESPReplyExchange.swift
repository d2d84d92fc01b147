import Glibc
import SystemCall

/// One blocking request/reply exchange with a node: a fresh socket, the commands sent as RESP
/// arrays in one write, one reply read per command, the socket closed. It reuses
/// ``LoopbackProbe``'s connect, send and poll, so it shares their deadline handling.
///
/// A fresh connection per exchange costs about 100 µs on loopback, far below the 10 ms a
/// cluster wait sleeps between looks; in exchange nothing is ever left half-read on a kept
/// connection after a timeout.
enum RESPReplyExchange {
    /// Why an exchange brought no replies.
    enum Failure: Error, Equatable {
        /// Refused, closed, timed out or failed before every reply arrived.
        case noAnswer(ProbeOutcome)
        /// The bytes were not RESP2.
        case malformed(String)

        /// For error messages.
        var description: String {
            switch self {
            case .noAnswer(.refused): "connection refused (not listening)"
            case .noAnswer(.closed): "the connection was closed before the reply was complete"
            case .noAnswer(.timedOut): "no complete reply before the timeout"
            case let .noAnswer(.failed(errno)): "socket error \(errno): \(String(cString: strerror(errno)))"
            case .noAnswer(.replied): "an incomplete reply"
            case let .malformed(reason): "a malformed reply: \(reason)"
            }
        }
    }

    /// Sends `commands` and returns their replies, in order; error replies are replies.
    static func run(_ commands: [[String]], with endpoint: ProbeEndpoint, timeout: Duration) -> Result<[LocalRedisCluster.Reply], Failure> {
        let deadline = ContinuousClock.now + timeout
        let descriptor: Int32
        switch LoopbackProbe.connect(to: endpoint, deadline: deadline) {
        case let .success(connected): descriptor = connected
        case let .failure(error): return .failure(.noAnswer(error.outcome))
        }
        defer { close(descriptor) }
        var request: [UInt8] = []
        for command in commands { encode(command, into: &request) }
        if let failure = LoopbackProbe.send(request, on: descriptor, deadline: deadline) {
            return .failure(.noAnswer(failure))
        }
        var reader = RESPReplyReader()
        var replies: [LocalRedisCluster.Reply] = []
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        while true {
            do throws(RESPReplyReader.Malformed) {
                while replies.count < commands.count, let reply = try reader.next() { replies.append(reply) }
            } catch {
                return .failure(.malformed(error.reason))
            }
            if replies.count == commands.count { return .success(replies) }
            let count = chunk.withUnsafeMutableBytes { buffer in
                retryingOnInterrupt { recv(descriptor, buffer.baseAddress, buffer.count, 0) }
            }
            if count > 0 {
                reader.append(chunk[0..<count])
                continue
            }
            if count == 0 { return .failure(.noAnswer(.closed)) }
            let error = lastErrno
            guard error == EAGAIN || error == EWOULDBLOCK else {
                return .failure(.noAnswer(error == ECONNRESET ? .closed : .failed(errno: error)))
            }
            guard LoopbackProbe.wait(for: POLLIN, on: descriptor, until: deadline) else {
                return .failure(.noAnswer(.timedOut))
            }
        }
    }

    /// Appends `arguments` as a RESP array of bulk strings, the form servers accept for any
    /// argument (inline commands cannot carry spaces or empty strings, which MIGRATE needs).
    static func encode(_ arguments: [String], into bytes: inout [UInt8]) {
        bytes.append(contentsOf: "*\(arguments.count)\r\n".utf8)
        for argument in arguments {
            bytes.append(contentsOf: "$\(argument.utf8.count)\r\n".utf8)
            bytes.append(contentsOf: argument.utf8)
            bytes.append(contentsOf: "\r\n".utf8)
        }
    }
}
