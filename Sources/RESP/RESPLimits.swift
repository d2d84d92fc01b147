/// Bounds the parser enforces so that a hostile or broken peer cannot make it allocate,
/// recurse or buffer without limit.
///
/// Lengths read from the wire are checked against these before anything is reserved, and
/// nothing is ever reserved beyond the bytes that have actually arrived.
public struct RESPLimits: Sendable, Hashable {
    /// Largest bulk payload (`$`, `!`, `=`) accepted. Default 512 MiB, Redis' own `proto-max-bulk-len`.
    public var maxBulkLength: Int
    /// Largest element count of one aggregate (`*`, `~`, `>`; pairs for `%` and `|`).
    /// Default 2^32 − 1, Redis' largest list/set size.
    public var maxAggregateCount: Int
    /// Deepest nesting of aggregates; the outermost one is depth 1. Default 128.
    public var maxDepth: Int
    /// Longest simple line (`+`, `-`, `,`, `(`) without its `\r\n`. Default 1 MiB: Redis sends
    /// status lines of a few dozen bytes; anything big travels as a bulk string.
    public var maxLineLength: Int

    /// Creates limits; every parameter has the safe default described on its property.
    public init(
        maxBulkLength: Int = 512 * 1024 * 1024,
        maxAggregateCount: Int = 4_294_967_295,
        maxDepth: Int = 128,
        maxLineLength: Int = 1024 * 1024
    ) {
        self.maxBulkLength = maxBulkLength
        self.maxAggregateCount = maxAggregateCount
        self.maxDepth = maxDepth
        self.maxLineLength = maxLineLength
    }

    /// The defaults: 512 MiB bulks, 2^32 − 1 elements, depth 128, 1 MiB lines.
    public static let `default` = RESPLimits()
}
