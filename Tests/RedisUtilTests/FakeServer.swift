#if canImport(Glibc)
import TestSupport
import Glibc
#endif
import Foundation
import Synchronization

/// A tiny TCP listener on 127.0.0.1:0 that answers every chunk of input with the next
/// scripted reply (the last one repeats), for replies no real server would send.
/// Connection n follows script n (the last script serves every later connection).
final class FakeServer: Sendable {
    let port: Int
    private let listener: Int32
    private let state = Locked<(accepted: Int, stopped: Bool, clients: [Int32])>((0, false, []))
    private let scripts: [[[UInt8]]]
    private let listenerClosed = DispatchSemaphore(value: 0)

    /// Connections accepted so far.
    var acceptedConnections: Int { state.withLock { $0.accepted } }

    convenience init(scripts: [[String]]) throws {
        try self.init { _ in scripts }
    }

    /// Scripts that may name the server's own port (a cluster node redirecting to itself).
    init(scriptsForPort makeScripts: (Int) -> [[String]]) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ProbeError(message: "socket: \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && listen(fd, 16) == 0
                    && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { close(fd); throw ProbeError(message: "bind/listen: \(errno)") }
        listener = fd
        port = Int(UInt16(bigEndian: address.sin_port))
        let scripts = makeScripts(port)
        precondition(!scripts.isEmpty && scripts.allSatisfy { !$0.isEmpty })
        self.scripts = scripts.map { $0.map { Array($0.utf8) } }
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    // File descriptors are closed only by the thread that owns them, and shut down by
    // stop() only while still registered under the lock: a descriptor number closed
    // elsewhere may already belong to another test's socket, which a stray
    // shutdown(2) would cut.

    private func acceptLoop() {
        while true {
            let client = accept(listener, nil, nil)
            // accept4 is not in the Glibc module: close-on-exec set after, as early as we can.
            if client >= 0 { _ = fcntl(client, F_SETFD, FD_CLOEXEC) }
            if client < 0 {
                // stop() shut the listener down; it is ours to close.
                close(listener)
                listenerClosed.signal()
                return
            }
            let number = state.withLock { state -> Int? in
                guard !state.stopped else { return nil }
                state.accepted += 1
                state.clients.append(client)
                return state.accepted - 1
            }
            guard let number else {
                close(client)
                continue
            }
            let replies = scripts[min(number, scripts.count - 1)]
            Thread.detachNewThread { [self] in serve(client, replies) }
        }
    }

    private func serve(_ client: Int32, _ replies: [[UInt8]]) {
        defer {
            state.withLock { state in
                state.clients.removeAll { $0 == client }
                close(client)
            }
        }
        var buffer = [UInt8](repeating: 0, count: 4096)
        var index = 0
        while true {
            let count = buffer.withUnsafeMutableBytes { recv(client, $0.baseAddress, $0.count, 0) }
            if count <= 0 { return }
            let reply = replies[min(index, replies.count - 1)]
            index += 1
            let sent = reply.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 { return }
        }
    }

    /// Stops accepting and cuts every open connection (their threads close them). Idempotent.
    /// Returns once the port is closed, so a test may count on it being dead.
    func stop() {
        let first = state.withLock { state -> Bool in
            guard !state.stopped else { return false }
            state.stopped = true
            shutdown(listener, Int32(SHUT_RDWR))
            for client in state.clients { shutdown(client, Int32(SHUT_RDWR)) }
            return true
        }
        if first { listenerClosed.wait() }
    }

    deinit { stop() }
}
