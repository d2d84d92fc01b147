import Glibc

/// Where a probe connects: the server's TCP port or its Unix socket.
enum ProbeEndpoint: Sendable, Equatable {
    case tcp(host: String, port: Int)
    case unix(path: String)

    var domain: Int32 {
        switch self {
        case .tcp: AF_INET
        case .unix: AF_UNIX
        }
    }

    /// Calls `body` with this endpoint as a `sockaddr`, or returns nil when it cannot be one
    /// (a host that is not an IPv4 literal, a socket path longer than `sun_path`).
    func withSocketAddress<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result? {
        switch self {
        case let .tcp(host, port):
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(truncatingIfNeeded: port).bigEndian
            guard inet_pton(AF_INET, host, &address.sin_addr) == 1 else { return nil }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
        case let .unix(path):
            var address = sockaddr_un()
            address.sun_family = sa_family_t(AF_UNIX)
            let bytes = Array(path.utf8)
            let fits = withUnsafeMutableBytes(of: &address.sun_path) { buffer in
                // Keep one byte for the terminator that the zeroed struct already holds.
                guard bytes.count < buffer.count else { return false }
                buffer.copyBytes(from: bytes)
                return true
            }
            guard fits else { return nil }
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
            }
        }
    }

    /// The port the kernel bound `descriptor` to, for `bind(port: 0)`.
    static func boundPort(of descriptor: Int32) -> Int? {
        var address = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let result = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard result == 0 else { return nil }
        return Int(in_port_t(bigEndian: address.sin_port))
    }
}
