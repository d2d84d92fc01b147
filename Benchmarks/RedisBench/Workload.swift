import ArgumentParser
import Reactor

/// What one benchmark run does.
enum Workload: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// `RPUSH bench:list <payload>`, as redis-benchmark's `rpush` test.
    case rpush
    /// `LPOP bench:list` on a list filled beforehand, as redis-benchmark's `lpop`.
    case lpop
    /// `PING`, as redis-benchmark's `ping_mbulk`.
    case ping
    /// `RedisChannel.send` of a JSON message (RPUSH underneath).
    case channelSend = "channel-send"
    /// `RedisChannel.recv` of messages sent beforehand (LPOP underneath).
    case channelRecv = "channel-recv"
    /// A client peer sends a request and awaits the server peer's reply, as a worker pool does.
    case channelPingpong = "channel-pingpong"
    /// As `channel-pingpong`, answered by a `RedisChannelServer` pool (leases, acks).
    case channelServe = "channel-serve"
    /// P producers → one channel → C consumers; latency from a timestamp inside the message.
    case channelPipe = "channel-pipe"

    /// Whether `--message` picks the workload's message type (the sends and receives the
    /// performance bars compare with a raw `RPUSH` and `LPOP`).
    var takesMessageKind: Bool {
        self == .channelSend || self == .channelRecv
    }

    /// Whether `--keys` spreads the workload (the raw commands, channel-send and
    /// channel-recv); the workloads with answering peers keep one channel, ping has no key.
    var spreadsOverKeys: Bool {
        switch self {
        case .rpush, .lpop, .channelSend, .channelRecv: true
        default: false
        }
    }

    /// The name redis-benchmark's `-t` uses, for the raw workloads it also runs.
    var redisBenchmarkTest: String? {
        switch self {
        case .rpush: "rpush"
        case .lpop: "lpop"
        // Ours sends the multi-bulk form; `-t ping` would also run PING_INLINE (and its
        // CPU would count both).
        case .ping: "ping_mbulk"
        default: nil
        }
    }
}

/// Which facade drives the commands, and for the async facade where its tasks run.
enum API: String, CaseIterable, ExpressibleByArgument, Sendable {
    case callback
    /// Tasks that prefer one of the client's reactors as their executor, as a worker
    /// pool on this library should be written: a reply resumes its task on the thread
    /// that read it.
    case async
    /// Plain tasks on Swift's global executor, as most Swift code is written: a reply
    /// resumes its task through the global pool.
    case asyncGlobal = "async-global"
    /// `callback` and `async`, side by side.
    case both
    /// `callback`, `async` and `async-global`, side by side.
    case all

    var concrete: [API] {
        switch self {
        case .both: [.callback, .async]
        case .all: [.callback, .async, .asyncGlobal]
        default: [self]
        }
    }

    /// The reactors this facade's tasks prefer, from the client's: none for
    /// `async-global`, whose tasks run on the global executor.
    func taskReactors(_ reactors: [Reactor]) -> [Reactor] {
        self == .asyncGlobal ? [] : reactors
    }
}

extension [Reactor] {
    /// The executor preference of task `index` spread over these reactors: `nil` (the
    /// global executor) when there are none.
    func preference(_ index: Int) -> Reactor? {
        isEmpty ? nil : self[index % count]
    }
}

/// One run's parameters.
struct RunPlan: Sendable {
    var workload: Workload
    var api: API
    var connections: Int
    var pipeline: Int
    var messages: Int
    var size: Int
    var duration: Duration?
    var warmup: Int
    var producers: Int
    var consumers: Int
    var cancellation: Cancellation = .prompt
    /// Keys (or channels) the workload spreads over, operation `i` on key `i % keys`.
    var keys: Int = 1
    /// How the lanes share the keys (``KeyLayout/byPrimary`` on a cluster, rpush only).
    var keyLayout: KeyLayout = .spread
    /// The message's type, for channel-send and channel-recv (``Workload/takesMessageKind``).
    var message: MessageKind = .members
}

/// The type a channel workload sends or receives its message as: the same four members
/// and the same bytes on the wire, three ways a channel user can write it.
enum MessageKind: String, CaseIterable, ExpressibleByArgument, Sendable {
    /// A struct that writes and reads its own members (`JSONMemberEncodable`,
    /// `JSONMemberDecodable`): the channel's fast path, and the default.
    case members
    /// The same struct through plain `Codable` (synthesised `encode(to:)`, `init(from:)`).
    case codable
    /// A `JSONValue` object, as code that handles messages of any shape sends and reads them.
    case json
}

/// The client's ``RedisConfiguration/CancellationPolicy``, as the command line spells it.
enum Cancellation: String, CaseIterable, ExpressibleByArgument, Sendable {
    case prompt
    case afterReply = "after-reply"
}
