extension LocalRedisCluster {
    /// A RESP2 reply as a cluster node sent it, for tests that talk to one node directly.
    ///
    /// ```swift
    /// let reply = try cluster.command(["GET", "k"], on: wrongNode)
    /// #expect(reply.errorMessage?.hasPrefix("MOVED") == true)
    /// ```
    public enum Reply: Sendable, Hashable, CustomStringConvertible {
        /// `+OK`, `+PONG`: a status line.
        case simple(String)
        /// `-MOVED 3999 127.0.0.1:7001`: the message without the dash.
        case error(String)
        /// `:42`.
        case integer(Int)
        /// `$3 foo`, decoded as UTF-8 (invalid bytes replaced): this is a control channel
        /// for tests, not a data client.
        case bulk(String)
        /// `$-1` or `*-1`: no value.
        case null
        /// `*N`: the elements in order.
        case array([Reply])

        /// The text of a simple or bulk string; nil for any other kind.
        public var string: String? {
            switch self {
            case let .simple(text), let .bulk(text): text
            default: nil
            }
        }

        /// The value of an integer reply.
        public var integer: Int? {
            if case let .integer(value) = self { return value }
            return nil
        }

        /// The elements of an array reply.
        public var array: [Reply]? {
            if case let .array(elements) = self { return elements }
            return nil
        }

        /// The message of an error reply, e.g. `ASK 3999 127.0.0.1:7002`.
        public var errorMessage: String? {
            if case let .error(message) = self { return message }
            return nil
        }

        /// Shown the way redis-cli shows replies, for messages and test logs.
        public var description: String {
            switch self {
            case let .simple(text): text
            case let .error(message): "(error) \(message)"
            case let .integer(value): "(integer) \(value)"
            case let .bulk(text): "\"\(text)\""
            case .null: "(nil)"
            case let .array(elements): "[" + elements.map(\.description).joined(separator: ", ") + "]"
            }
        }
    }
}
