import Foundation
import Glibc
import Synchronization
import Testing
@testable import LocalRedis

@Suite("LocalRedisServer configuration")
struct LocalRedisServerConfigurationTests {
    @Test func requirepassServerCountsAsStartedAndAppliesTheLine() throws {
        let server = try LocalRedisServer(configuration: .init(extraConfig: ["requirepass x"]))
        defer { server.stop() }
        let endpoint = ProbeEndpoint.tcp(host: server.host, port: server.port)
        let unauthenticated = try #require(LoopbackProbe.exchange("PING\r\n", with: endpoint, timeout: .seconds(2)).lines)
        #expect(unauthenticated[0].hasPrefix("-NOAUTH"))
        #expect(!server.ping())
        let reply = LoopbackProbe.exchange("AUTH x\r\nCONFIG GET requirepass\r\n", with: endpoint, replyLines: 6, timeout: .seconds(2))
        #expect(reply == .replied(["+OK", "*2", "$11", "requirepass", "$1", "x"]))
    }

    @Test func aclUserFromExtraConfigCanAuthenticate() throws {
        let server = try LocalRedisServer(configuration: .init(extraConfig: ["user alice on >secret ~* +@all"]))
        defer { server.stop() }
        let reply = LoopbackProbe.exchange("AUTH alice secret\r\nPING\r\n", with: .tcp(host: server.host, port: server.port), replyLines: 2, timeout: .seconds(2))
        #expect(reply == .replied(["+OK", "+PONG"]))
    }

    @Test func unixSocketIsCreatedAndAnswersPing() throws {
        let server = try LocalRedisServer(configuration: .init(unixSocket: true))
        defer { server.stop() }
        let path = try #require(server.unixSocketPath)
        #expect(path == "\(server.directory)/redis.sock")
        var info = stat()
        #expect(stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFSOCK)
        #expect(LoopbackProbe.exchange("PING\r\n", with: .unix(path: path), timeout: .seconds(2)) == .replied(["+PONG"]))
    }

    @Test func withoutTheOptionThereIsNoUnixSocket() throws {
        let server = try LocalRedisServer()
        defer { server.stop() }
        #expect(server.unixSocketPath == nil)
        #expect(!FileManager.default.fileExists(atPath: "\(server.directory)/redis.sock"))
    }

    @Test(arguments: ["/nonexistent/redis-server", "redis-server-that-is-not-installed"])
    func missingExecutableNamesTheAptPackage(executable: String) {
        do {
            _ = try LocalRedisServer(configuration: .init(executable: executable))
            Issue.record("expected executableNotFound")
        } catch {
            guard case let .executableNotFound(name, _) = error else {
                Issue.record("expected executableNotFound, got \(error)")
                return
            }
            #expect(name == executable)
            #expect(error.description.contains("apt-get install redis-server"))
        }
    }

    @Test func invalidConfigLineFailsWithTheLogTail() throws {
        do {
            _ = try LocalRedisServer(configuration: .init(extraConfig: ["no-such-directive yes"]))
            Issue.record("expected startFailed")
        } catch {
            guard case let .startFailed(reason, logTail) = error else {
                Issue.record("expected startFailed, got \(error)")
                return
            }
            #expect(reason.contains("exited"))
            #expect(logTail.contains("no-such-directive"))
        }
    }

    @Test func executableThatIsNotRedisIsRejected() {
        #expect(throws: LocalRedisError.self) {
            _ = try LocalRedisServer(configuration: .init(executable: "/bin/true"))
        }
    }

    @Test func restartReportsPortUnavailableWhileAnotherProcessHoldsThePort() throws {
        let server = try LocalRedisServer(configuration: .init(startTimeout: .milliseconds(600)))
        defer { server.stop() }
        let endpoint = ProbeEndpoint.tcp(host: server.host, port: server.port)
        let failure = Synchronization.Mutex<LocalRedisError?>(nil)
        // Down until the port is occupied (or this test gave up), so the new redis cannot bind it.
        let occupied = Synchronization.Atomic<Bool>(false)
        let deadline = ContinuousClock.now + .seconds(30)
        let restarted = runOnNewThread {
            do throws(LocalRedisError) {
                try server.restart { !occupied.load(ordering: .acquiring) && ContinuousClock.now < deadline }
            } catch {
                failure.withLock { $0 = error }
            }
        }
        while ContinuousClock.now < deadline,
              LoopbackProbe.exchange("PING\r\n", with: endpoint, timeout: .milliseconds(100)) != .refused {}
        let squatter = try Listener(port: server.port)
        occupied.store(true, ordering: .releasing)
        restarted.wait()
        squatter.close()
        let error = try #require(failure.withLock { $0 })
        guard case let .portUnavailable(port, logTail) = error else {
            Issue.record("expected portUnavailable, got \(error)")
            return
        }
        #expect(port == server.port)
        #expect(logTail.contains("Address already in use"))
        #expect(server.pid == nil)
        // Once the port is free again, a restart brings the server back on it, unless a
        // parallel test's server (a cluster node, or its bus) took the freed port first:
        // then the port must really be held by someone else.
        do {
            try server.restart()
            #expect(server.ping())
        } catch {
            guard case .portUnavailable = error else { throw error }
            #expect(!Listener.canBind(port: server.port), "restart said the port was taken, yet it could be bound")
        }
    }
}

/// A plain listening TCP socket on loopback, to occupy a port.
struct Listener {
    let descriptor: Int32

    init(port: Int) throws {
        descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        try #require(Self.bind(descriptor, port: port) == 0)
        try #require(listen(descriptor, 1) == 0)
    }

    func close() { _ = Glibc.close(descriptor) }

    /// Whether a listener could bind `port` now (closed again at once), without
    /// recording an issue when it cannot.
    static func canBind(port: Int) -> Bool {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        defer { _ = Glibc.close(descriptor) }
        return bind(descriptor, port: port) == 0
    }

    private static func bind(_ descriptor: Int32, port: Int) -> Int32 {
        // Without SO_REUSEADDR a leftover TIME_WAIT connection on the port could fail the bind.
        var on: Int32 = 1
        setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
    }
}
