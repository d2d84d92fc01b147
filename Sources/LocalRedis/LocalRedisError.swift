import Glibc

/// Why a `LocalRedisServer` or `LocalRedisCluster` could not be started or driven. Each
/// message names what was expected and what happened, and start failures carry the end of
/// the server's own log.
public enum LocalRedisError: Error, CustomStringConvertible, Sendable, Equatable {
    /// No redis-server binary: `name` was neither an executable path nor found on `searchPath`.
    case executableNotFound(name: String, searchPath: String)
    /// `mkdtemp` failed under `path`.
    case temporaryDirectoryFailed(path: String, errno: Int32)
    /// The generated redis.conf could not be written.
    case configWriteFailed(path: String, errno: Int32)
    /// `posix_spawn` refused to start `executable`.
    case spawnFailed(executable: String, errno: Int32)
    /// `executable --version` did not print a redis version; it is probably not redis-server.
    case versionUnreadable(executable: String, output: String)
    /// No loopback port could be reserved.
    case noFreePort(errno: Int32)
    /// The server process exited before it answered PING (a bad extra config line, for example).
    case startFailed(reason: String, logTail: String)
    /// The server ran but did not answer PING within the start timeout.
    case startTimedOut(after: Duration, logTail: String)
    /// Every attempt to listen on `port` found it taken by another process.
    case portUnavailable(port: Int, logTail: String)
    /// `restart()`, `pause()` or `resume()` on a server after `stop()`, or one whose restart failed.
    case notRunning
    /// A signal could not be delivered to the server process.
    case signalFailed(signal: Int32, pid: Int32, errno: Int32)
    /// The throw-away TLS certificates could not be made or written (OpenSSL's reason).
    case certificatesFailed(reason: String)
    /// A ``LocalRedisCluster/Configuration`` that cannot make a cluster (no primaries, say).
    case invalidClusterConfiguration(reason: String)
    /// A cluster operation that does not apply: a failover to a primary, a node of another
    /// cluster, a slot outside 0...16383.
    case invalidClusterOperation(reason: String)
    /// A cluster node gave no reply to `command`: `outcome` says whether it refused, closed
    /// or stayed silent until the timeout.
    case clusterCommandFailed(command: String, node: String, outcome: String)
    /// A cluster node answered `command` with something other than what the step needs
    /// (an error reply, a malformed reply, a reply of the wrong shape).
    case clusterReplyUnexpected(command: String, node: String, expected: String, reply: String)
    /// A cluster did not reach the state waited for; `lastObstacle` is what still stood in
    /// the way at the deadline.
    case clusterWaitTimedOut(waitingFor: String, after: Duration, lastObstacle: String)

    /// A message for test logs.
    public var description: String {
        switch self {
        case let .executableNotFound(name, searchPath):
            "redis-server executable '\(name)' not found (PATH=\(searchPath)); install it with `apt-get install redis-server`"
        case let .temporaryDirectoryFailed(path, errno):
            "cannot create a temporary directory under \(path): \(Self.describe(errno))"
        case let .configWriteFailed(path, errno):
            "cannot write redis config \(path): \(Self.describe(errno))"
        case let .spawnFailed(executable, errno):
            "cannot start \(executable): \(Self.describe(errno))"
        case let .versionUnreadable(executable, output):
            "expected '\(executable) --version' to print 'Redis server v=...', got: \(output)"
        case let .noFreePort(errno):
            "cannot reserve a free loopback port: \(Self.describe(errno))"
        case let .startFailed(reason, logTail):
            "redis-server \(reason) before answering PING; log tail:\n\(logTail)"
        case let .startTimedOut(after, logTail):
            "redis-server did not answer PING within \(after); log tail:\n\(logTail)"
        case let .portUnavailable(port, logTail):
            "redis-server could not listen on 127.0.0.1:\(port) (address in use); log tail:\n\(logTail)"
        case .notRunning:
            "the redis server is not running (stopped, or its restart failed)"
        case let .signalFailed(signal, pid, errno):
            "cannot send signal \(signal) to redis-server pid \(pid): \(Self.describe(errno))"
        case let .certificatesFailed(reason):
            "cannot make the TLS test certificates: \(reason)"
        case let .invalidClusterConfiguration(reason):
            "invalid LocalRedisCluster configuration: \(reason)"
        case let .invalidClusterOperation(reason):
            "invalid LocalRedisCluster operation: \(reason)"
        case let .clusterCommandFailed(command, node, outcome):
            "cluster node \(node) gave no reply to '\(command)': \(outcome)"
        case let .clusterReplyUnexpected(command, node, expected, reply):
            "cluster node \(node) answered '\(command)' with \(reply); expected \(expected)"
        case let .clusterWaitTimedOut(waitingFor, after, lastObstacle):
            "gave up waiting for \(waitingFor) after \(after); still: \(lastObstacle)"
        }
    }

    private static func describe(_ errno: Int32) -> String {
        "\(String(cString: strerror(errno))) (errno \(errno))"
    }
}
