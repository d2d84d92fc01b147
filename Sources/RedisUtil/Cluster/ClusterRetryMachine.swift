import Reactor
import RESP

/// What a cluster client does with each outcome of one command, as a value: follow a
/// `MOVED` or `ASK`, retry after a pause (`TRYAGAIN`, `CLUSTERDOWN`, `LOADING`,
/// `MASTERDOWN`, a node that could not be reached), or hand the outcome to the caller.
/// No I/O, no clock: the router's two shells (async and callbacks) feed it outcomes with
/// the time and do what it says, so both facades follow the same rules and tests drive
/// it with plain values.
///
/// Bounds: at most ``maxRedirections`` redirections in a row, after which the command fails
/// with ``RedisError/tooManyRedirections(command:redirections:last:)``; a retry after a pause
/// starts the count again (an `ASK` whose target answers `TRYAGAIN`, a command on several
/// keys of a slot mid-migration, is the cluster saying to wait, not two nodes that
/// disagree, and may come again until the slot has moved); retries go on with
/// exponential backoff only while the retry budget lasts (the command timeout), counted
/// from the first outcome that asked for one, after which the last error goes to the
/// caller as it came. Nothing is retried that may have run: a redirection or a
/// `TRYAGAIN`-like error means the node did not run the command, and a connection
/// failure is retried only when the command was never written.
struct ClusterRetryMachine: Sendable {
    /// The most times one command follows `MOVED` or `ASK` in a row, with no pause for a
    /// retry between them. A slot moves once per resharding step, and a failover adds one
    /// more hop: five is plenty for a healthy cluster and ends a loop between two nodes
    /// that disagree quickly.
    static let maxRedirections = 5
    /// The first pause before a retry; it doubles up to ``maximumBackoff``.
    static let initialBackoff: UInt64 = 10_000_000
    /// The longest pause between two retries: a failover (about a second with a short
    /// `cluster-node-timeout`) is noticed within this of its end.
    static let maximumBackoff: UInt64 = 200_000_000
    /// The retry budget when the configuration sets no command timeout: long enough for
    /// a failover after a crash (node timeout plus an election), short enough that a
    /// cluster that stays down is reported.
    static let defaultBudget: UInt64 = 10_000_000_000

    /// What the shell does next.
    enum Action: Sendable {
        /// Hand this outcome to the caller.
        case complete(Result<RESPValue, RedisError>)
        /// Hand this failure to the caller, and refresh the slot map in the background:
        /// the command was written to a node whose connection then broke (outcome
        /// unknown), and a failover may be under way.
        case completeAndRefresh(RedisError)
        /// Follow a `MOVED` (update the slot, send to its new owner) or an `ASK` (send
        /// `ASKING` and the command to the target, map unchanged).
        case follow(ClusterRedirection)
        /// Route the command again after `after` nanoseconds; when `refreshFirst`, after
        /// a fresh slot map too (the owner may have changed or been unreachable).
        case retry(after: UInt64, refreshFirst: Bool)
    }

    /// How long retries may go on, in nanoseconds.
    let budget: UInt64
    /// Redirections followed since the last retry after a pause.
    private(set) var redirections = 0
    /// Retries after a pause so far.
    private(set) var retries = 0
    /// The last redirection followed, for the error that ends a loop of them.
    private(set) var lastRedirection: ClusterRedirection?
    /// When retries stop, set by the first outcome that asks for one.
    private(set) var deadline: UInt64?
    /// A moment past which no retry goes, whenever the first one came: a blocking
    /// command's wait's end (``ClusterCommand/retryMachine(commandTimeout:)``).
    let endsBy: UInt64?

    /// A machine whose retries stop `budget` nanoseconds after the first of them, and
    /// in any case by `endsBy`.
    init(budget: UInt64, endsBy: UInt64? = nil) {
        self.budget = budget
        self.endsBy = endsBy
    }

    /// A machine for a client with `commandTimeout` (nil: ``defaultBudget``).
    init(commandTimeout: Duration?) {
        self.init(budget: commandTimeout.map { max($0.nanosecondsClamped, 1) } ?? Self.defaultBudget)
    }

    /// The command's outcome from the node it was sent to; `now` is read only when a
    /// retry is considered (a success reads no clock). `clientClosed`: the cluster
    /// client itself is closed, so that ``RedisError/closed`` from a node's connection
    /// set (replaced after a topology change) is not mistaken for the end of everything.
    /// `command` names the command, for the error that ends a redirection loop; it is
    /// called only then.
    mutating func replied(_ result: Result<RESPValue, RedisError>, now: @autoclosure () -> UInt64, clientClosed: Bool = false,
                          command: () -> String) -> Action {
        guard case .failure(let error) = result else { return .complete(result) }
        switch error {
        case .server(let message):
            guard let redirection = ClusterRedirection(message: message) else { return .complete(result) }
            switch redirection {
            case .moved, .ask:
                guard redirections < Self.maxRedirections else {
                    return .complete(.failure(.tooManyRedirections(command: command(), redirections: redirections,
                                                                   last: (lastRedirection ?? redirection).description)))
                }
                redirections += 1
                lastRedirection = redirection
                return .follow(redirection)
            case .retryLater(let reason):
                // A slot without a reachable owner may have a new one the map does not show yet.
                return retry(or: error, now: now(), refreshFirst: reason == .clusterDown)
            }
        case .connectionFailed:
            return retry(or: error, now: now(), refreshFirst: true)
        case .connectionLost(_, _, .notSent):
            return retry(or: error, now: now(), refreshFirst: true)
        case .connectionLost(_, _, .written):
            return .completeAndRefresh(error)
        case .closed where !clientClosed:
            // The node's connections were closed because the node left the slot map; the
            // command was never sent, and the next route finds the current owner.
            return retry(or: error, now: now(), refreshFirst: false)
        default:
            return .complete(result)
        }
    }

    /// The slot map names no owner for the command's slot (a node was lost, or the map
    /// is still empty): retry after a fresh map, or fail with `error` once out of time.
    mutating func unrouted(_ error: RedisError, now: UInt64) -> Action {
        retry(or: error, now: now, refreshFirst: true)
    }

    /// The command waited out a pause that another command asked for (a cluster pipeline's
    /// next round waits for its slowest unit's): as after a retry of its own, its count of
    /// redirections in a row starts again.
    mutating func waitedOutAPause() {
        redirections = 0
    }

    /// A retry after the next pause, or `error` to the caller when that pause would end
    /// past the deadline.
    private mutating func retry(or error: RedisError, now: UInt64, refreshFirst: Bool) -> Action {
        let deadline = self.deadline ?? min(now &+ budget, endsBy ?? .max)
        self.deadline = deadline
        let pause = min(Self.initialBackoff << UInt64(min(retries, 16)), Self.maximumBackoff)
        guard now &+ pause < deadline else { return .complete(.failure(error)) }
        retries += 1
        redirections = 0
        return .retry(after: pause, refreshFirst: refreshFirst)
    }
}
