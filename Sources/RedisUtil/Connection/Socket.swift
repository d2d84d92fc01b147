#if canImport(Glibc)
import Glibc
import SystemCall
#endif
import Reactor

/// The result of one non-blocking read or write.
enum IOResult: Equatable {
    /// This many bytes moved (always > 0).
    case transferred(Int)
    /// Nothing moved now; wait until the socket is ready for this (a plain socket's read
    /// waits to be readable and its write writable; a TLS read may wait to write).
    case wouldBlock(waitingFor: FDWatcher.Interest)
    /// The peer closed the connection (reads only).
    case endOfFile
    /// A hard error, with its errno.
    case failed(Int32)
    /// The transport's own protocol failed (a TLS alert, a certificate refused, a
    /// corrupt record), in words.
    case broken(String)
}

/// A failed system call's errno.
struct Errno: Error, Equatable {
    let code: Int32
}

/// The socket system calls the connection needs, each with `EINTR` retried and
/// `EAGAIN` turned into a value rather than an error.
enum Socket {
    /// Opens a non-blocking, close-on-exec stream socket and starts connecting.
    /// Returns the fd and whether the connect is still in progress. A socket that
    /// `budget` does not admit is closed again before connecting, and reported as
    /// `EMFILE`, as if the process had run out.
    static func startConnect(to address: SocketAddress, within budget: DescriptorBudget) -> Result<(fd: Int32, inProgress: Bool), Errno> {
        let fd = socket(address.family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return .failure(Errno(code: errno)) }
        guard budget.admits(fd) else {
            close(fd)
            return .failure(Errno(code: EMFILE))
        }
        if address.family != AF_UNIX {
            // Pipelined commands must not wait for Nagle's delayed ACK dance.
            var one: Int32 = 1
            setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        }
        let result = address.withSockAddr { pointer, length in
            retryingOnInterrupt { connect(fd, pointer, length) }
        }
        if result == 0 { return .success((fd, false)) }
        let code = errno
        if code == EINPROGRESS || code == EAGAIN { return .success((fd, true)) }
        close(fd)
        return .failure(Errno(code: code))
    }

    /// After write-readiness on a connecting socket: 0 when connected, else the errno.
    static func connectResult(_ fd: Int32) -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) == 0 else { return errno }
        return code
    }

    /// Writes from `bytes`; `MSG_NOSIGNAL` so a closed peer is an error, never SIGPIPE.
    static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> IOResult {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return .transferred(0) }
        let n = retryingOnInterrupt { Glibc.send(fd, base, bytes.count, Int32(MSG_NOSIGNAL)) }
        if n > 0 { return .transferred(n) }
        let code = errno
        return code == EAGAIN || code == EWOULDBLOCK ? .wouldBlock(waitingFor: .write) : .failed(code)
    }

    /// Reads into `buffer`.
    static func receive(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return .wouldBlock(waitingFor: .read) }
        let n = retryingOnInterrupt { recv(fd, base, buffer.count, 0) }
        if n > 0 { return .transferred(n) }
        if n == 0 { return .endOfFile }
        let code = errno
        return code == EAGAIN || code == EWOULDBLOCK ? .wouldBlock(waitingFor: .read) : .failed(code)
    }

    /// Closes `fd`. `EINTR` is not retried: on Linux the descriptor is released even then,
    /// and a retry could close one another thread has just opened.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }
}
