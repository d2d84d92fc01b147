import RESP

/// What a cluster client must do about a server error: follow a redirection (`MOVED`,
/// `ASK`) or retry after a pause (`TRYAGAIN`, `CLUSTERDOWN`, `LOADING`, `MASTERDOWN`).
/// Any other error is not a redirection (`nil`), and goes to the caller as it is.
///
/// ```swift
/// if let redirection = ClusterRedirection(reply: reply) { … }  // -MOVED 3999 127.0.0.1:6381
/// ```
///
/// Parsing looks at the first byte before anything else, so the errors a command meets
/// every day (`ERR`, `WRONGTYPE`, `NOSCRIPT` …) cost one comparison and no allocation.
enum ClusterRedirection: Sendable, Hashable, CustomStringConvertible {
    /// The slot has a new owner: send this command and the slot's next ones there, and
    /// update the slot map (``ClusterTopology/applyMoved(slot:to:)``).
    case moved(slot: Int, to: Target)
    /// The slot is being migrated and this key is already on the target: send `ASKING`
    /// then this one command there; the slot map does not change.
    case ask(slot: Int, to: Target)
    /// The cluster cannot serve the command now; retry it after a pause.
    case retryLater(RetryReason)

    /// Where a redirection sends the command.
    struct Target: Sendable, Hashable, CustomStringConvertible {
        /// The host announced, or nil when the server does not know it (`MOVED 3999 :6380`
        /// under `cluster-preferred-endpoint-type unknown-endpoint`, or `?:6380` when it
        /// prefers hostnames and the node has none): then it is the host of the node that
        /// answered.
        var host: String?
        /// The port, in `1...65535`.
        var port: Int

        /// The address to connect to, `answeringHost` standing in for an unknown host.
        func address(answeredBy answeringHost: String) -> ClusterNodeAddress {
            ClusterNodeAddress(host: host ?? answeringHost, port: port)
        }

        /// `127.0.0.1:6381`, `[::1]:6381`, or `port 6381 on the host that answered`.
        var description: String {
            if let host { ClusterNodeAddress(host: host, port: port).description } else { "port \(port) on the host that answered" }
        }
    }

    /// Why the command is to be retried later.
    enum RetryReason: Sendable, Hashable, CustomStringConvertible {
        /// `TRYAGAIN`: a multi-key command met a slot being migrated with only some of its keys moved.
        case tryAgain
        /// `CLUSTERDOWN`: the cluster is down (a slot without a reachable owner) or the slot is not served.
        case clusterDown
        /// `LOADING`: the node is loading its data set.
        case loading
        /// `MASTERDOWN`: a replica lost its link to its primary and does not serve stale data.
        case masterDown

        /// The error code, then what it means.
        var description: String {
            switch self {
            case .tryAgain: "TRYAGAIN: a multi-key command met a slot being migrated"
            case .clusterDown: "CLUSTERDOWN: the cluster cannot serve the slot"
            case .loading: "LOADING: the node is loading its data set"
            case .masterDown: "MASTERDOWN: the replica lost its link to its primary"
            }
        }
    }

    /// The redirection an error reply (`-…` or RESP3 `!…`) asks for; nil for any other reply.
    init?(reply: RESPValue) {
        switch reply {
        case .error(let bytes), .bulkError(let bytes): self.init(message: bytes)
        default: return nil
        }
    }

    /// The redirection the text of ``RedisError/server(message:)`` asks for.
    init?(message: String) {
        self.init(message: message.utf8)
    }

    /// The redirection an error message (the bytes after `-`, without CRLF) asks for, or
    /// nil when it is no redirection (including a `MOVED` or `ASK` that is malformed,
    /// which then reaches the caller as the server error it is).
    init?<Bytes: Collection<UInt8>>(message: Bytes) {
        guard let first = message.first else { return nil }
        switch first {
        case UInt8(ascii: "M"):
            if let rest = Self.afterWord("MOVED", in: message) {
                guard let (slot, target) = Self.slotAndTarget(message[rest...]) else { return nil }
                self = .moved(slot: slot, to: target)
            } else if Self.afterWord("MASTERDOWN", in: message) != nil {
                self = .retryLater(.masterDown)
            } else {
                return nil
            }
        case UInt8(ascii: "A"):
            guard let rest = Self.afterWord("ASK", in: message),
                  let (slot, target) = Self.slotAndTarget(message[rest...]) else { return nil }
            self = .ask(slot: slot, to: target)
        case UInt8(ascii: "T"):
            guard Self.afterWord("TRYAGAIN", in: message) != nil else { return nil }
            self = .retryLater(.tryAgain)
        case UInt8(ascii: "C"):
            // CROSSSLOT also starts with C and is the caller's mistake, not a redirection.
            guard Self.afterWord("CLUSTERDOWN", in: message) != nil else { return nil }
            self = .retryLater(.clusterDown)
        case UInt8(ascii: "L"):
            guard Self.afterWord("LOADING", in: message) != nil else { return nil }
            self = .retryLater(.loading)
        default:
            return nil
        }
    }

    /// The slot of a `MOVED` or `ASK`.
    var slot: Int? {
        switch self {
        case .moved(let slot, _), .ask(let slot, _): slot
        case .retryLater: nil
        }
    }

    /// Where a `MOVED` or `ASK` sends the command.
    var target: Target? {
        switch self {
        case .moved(_, let target), .ask(_, let target): target
        case .retryLater: nil
        }
    }

    /// `MOVED slot 3999 to 127.0.0.1:6381`, `TRYAGAIN: … (retry after a pause)`.
    var description: String {
        switch self {
        case .moved(let slot, let target): "MOVED slot \(slot) to \(target)"
        case .ask(let slot, let target): "ASK slot \(slot) to \(target)"
        case .retryLater(let reason): "\(reason) (retry after a pause)"
        }
    }

    /// The index just past `word` and the space after it, when `message` starts with that
    /// whole word (followed by a space or the end): `MOVEDX` is not `MOVED`.
    private static func afterWord<Bytes: Collection<UInt8>>(_ word: StaticString, in message: Bytes) -> Bytes.Index? {
        var index = message.startIndex
        // A literal of a few ASCII letters: its UTF-8 is in the binary, nothing is copied.
        let matched = word.withUTF8Buffer { expected in
            for byte in expected {
                guard index != message.endIndex, message[index] == byte else { return false }
                message.formIndex(after: &index)
            }
            return true
        }
        guard matched else { return nil }
        if index == message.endIndex { return index }
        guard message[index] == UInt8(ascii: " ") else { return nil }
        return message.index(after: index)
    }

    /// `<slot> <host>:<port>`, exactly: the slot in `0..<16384`, the port in `1...65535`,
    /// split at the last colon so that an IPv6 host (`::1:6380`) keeps its colons.
    private static func slotAndTarget<Bytes: Collection<UInt8>>(_ text: Bytes) -> (Int, Target)? {
        guard let space = text.firstIndex(of: UInt8(ascii: " ")),
              let slot = decimal(text[..<space], maxDigits: 5), slot < HashSlot.count else { return nil }
        let endpoint = text[text.index(after: space)...]
        var lastColon: Bytes.Index?
        for index in endpoint.indices {
            switch endpoint[index] {
            case UInt8(ascii: ":"): lastColon = index
            // One token: anything after it means this is not the reply we know.
            case UInt8(ascii: " "), UInt8(ascii: "\r"), UInt8(ascii: "\n"): return nil
            default: break
            }
        }
        guard let lastColon,
              let port = decimal(endpoint[endpoint.index(after: lastColon)...], maxDigits: 5),
              (1...65535).contains(port) else { return nil }
        var host = endpoint[..<lastColon]
        // Redis writes IPv6 bare (`::1:6380`); a bracketed form is accepted all the same.
        if host.first == UInt8(ascii: "["), let close = host.firstIndex(of: UInt8(ascii: "]")),
           host.index(after: close) == host.endIndex {
            host = host[host.index(after: host.startIndex)..<close]
        }
        // Empty: the server does not know its clients' route to the node (unknown-endpoint);
        // `?`: it prefers hostnames and the node announced none. Either way, the answering host.
        let unknown = host.isEmpty || host.elementsEqual(CollectionOfOne(UInt8(ascii: "?")))
        return (slot, Target(host: unknown ? nil : String(decoding: host, as: UTF8.self), port: port))
    }

    /// A non-negative decimal of 1 to `maxDigits` digits, nothing else.
    private static func decimal<Bytes: Collection<UInt8>>(_ digits: Bytes, maxDigits: Int) -> Int? {
        var value = 0
        var count = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9"), count < maxDigits else { return nil }
            value = value * 10 + Int(byte - UInt8(ascii: "0"))
            count += 1
        }
        return count == 0 ? nil : value
    }
}
