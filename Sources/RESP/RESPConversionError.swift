/// A reply that cannot be read as the Swift type a caller asked for.
///
/// It names the type expected and the reply type received, and carries the server's message
/// when the reply was an error (`-ERR …` or `!…`), so the message is never lost.
public struct RESPConversionError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The Swift type or reply asked for, for example `Int` or `OK`.
    public var expected: String
    /// The reply type that arrived.
    public var received: RESPValue.Kind
    /// The server's error text when `received` is an error, otherwise what was wrong with the payload.
    public var detail: String?

    /// Creates a conversion error.
    public init(expected: String, received: RESPValue.Kind, detail: String? = nil) {
        self.expected = expected
        self.received = received
        self.detail = detail
    }

    /// `expected Int, received bulk string ("abc" is not an integer)`.
    public var description: String {
        var text = "expected \(expected), received \(received)"
        if let detail { text += " (\(detail))" }
        return text
    }
}
