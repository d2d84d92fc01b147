#if canImport(Glibc)
import Glibc
#endif
import Dispatch

/// A resolved socket address (IPv4, IPv6 or Unix), stored by value.
struct SocketAddress: Sendable {
    private var storage = sockaddr_storage()
    private(set) var length: socklen_t = 0

    var family: Int32 { Int32(storage.ss_family) }

    /// Calls `body` with the address as the `sockaddr` pointer the socket calls take.
    func withSockAddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }

    /// A numeric IPv4 or IPv6 address, without any lookup.
    static func numeric(host: String, port: Int) -> SocketAddress? {
        var address = SocketAddress()
        var v4 = sockaddr_in()
        if inet_pton(AF_INET, host, &v4.sin_addr) == 1 {
            v4.sin_family = sa_family_t(AF_INET)
            v4.sin_port = in_port_t(UInt16(port).bigEndian)
            address.set(v4)
            return address
        }
        var v6 = sockaddr_in6()
        if inet_pton(AF_INET6, host, &v6.sin6_addr) == 1 {
            v6.sin6_family = sa_family_t(AF_INET6)
            v6.sin6_port = in_port_t(UInt16(port).bigEndian)
            address.set(v6)
            return address
        }
        return nil
    }

    /// A Unix socket path, or `nil` when it does not fit `sun_path`.
    static func unix(path: String) -> SocketAddress? {
        var un = sockaddr_un()
        un.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: un.sun_path)
        guard !bytes.isEmpty, bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &un.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        var address = SocketAddress()
        address.set(un)
        return address
    }

    private mutating func set<T>(_ value: T) {
        precondition(MemoryLayout<T>.size <= MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { raw in
            withUnsafeBytes(of: value) { raw.copyMemory(from: $0) }
        }
        length = socklen_t(MemoryLayout<T>.size)
    }

    /// Copies an address returned by `getaddrinfo`.
    init(copying address: UnsafePointer<sockaddr>, length: socklen_t) {
        let count = min(Int(length), MemoryLayout<sockaddr_storage>.size)
        withUnsafeMutableBytes(of: &storage) { raw in
            raw.copyMemory(from: UnsafeRawBufferPointer(start: address, count: count))
        }
        self.length = socklen_t(count)
    }

    private init() {}
}

/// Turns an endpoint into socket addresses without ever blocking a reactor thread.
enum AddressResolver {
    /// Resolves `endpoint`; `completion` is called exactly once, on an arbitrary thread.
    /// Numeric addresses and Unix paths complete inline; host names go to a
    /// background queue because `getaddrinfo` blocks.
    static func resolve(_ endpoint: RedisEndpoint, completion: @escaping @Sendable (Result<[SocketAddress], RedisError>) -> Void) {
        switch endpoint.address {
        case .unix(let path):
            guard let address = SocketAddress.unix(path: path) else {
                completion(.failure(.invalidArgument("Unix socket path is empty or longer than 107 bytes: \(path)")))
                return
            }
            completion(.success([address]))
        case .tcp(let host, let port):
            guard (1...65535).contains(port) else {
                completion(.failure(.invalidArgument("port \(port) is outside 1…65535")))
                return
            }
            if let address = SocketAddress.numeric(host: host, port: port) {
                completion(.success([address]))
                return
            }
            DispatchQueue.global().async {
                completion(lookUp(host: host, port: port, endpoint: endpoint))
            }
        }
    }

    private static func lookUp(host: String, port: Int, endpoint: RedisEndpoint) -> Result<[SocketAddress], RedisError> {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_family = AF_UNSPEC
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = String(cString: gai_strerror(status))
            return .failure(.connectionFailed(endpoint: endpoint.description, reason: "cannot resolve \(host): \(reason)"))
        }
        defer { freeaddrinfo(list) }
        var addresses: [SocketAddress] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let entry = cursor {
            if let address = entry.pointee.ai_addr {
                addresses.append(SocketAddress(copying: address, length: entry.pointee.ai_addrlen))
            }
            cursor = entry.pointee.ai_next
        }
        guard !addresses.isEmpty else {
            return .failure(.connectionFailed(endpoint: endpoint.description, reason: "\(host) has no addresses"))
        }
        return .success(addresses)
    }
}
