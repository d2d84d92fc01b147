import Glibc

/// A loopback port that is bound but never listened on, for as long as this lives: a
/// connection to it is refused, and since it is bound without SO_REUSEADDR no server of
/// a test running in parallel can take it meanwhile (a port merely found free could be:
/// a stopped server's port may be taken by another test's server, and a "dead port" test
/// would then reach a live one). Keep it alive until the test's last connection attempt
/// (`withExtendedLifetime`).
public final class ReservedPort: Sendable {
    /// The reserved port.
    public let port: Int
    private let descriptor: Int32

    /// Why the port could not be reserved.
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
    }

    /// Binds a port on 127.0.0.1 chosen by the kernel.
    public init() throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(descriptor, address, length) == 0 && getsockname(descriptor, address, &length) == 0
            }
        }
        guard bound else {
            let error = errno
            close(descriptor)
            throw Failure(description: "bind or getsockname on 127.0.0.1: errno \(error)")
        }
        self.descriptor = descriptor
        port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}
