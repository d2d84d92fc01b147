/// A malformed RESP stream, or one that breaks a configured ``RESPLimits`` value.
///
/// Once a ``RESPParser`` reports an error it keeps reporting the same error: a byte stream
/// that went out of step cannot be trusted again, so the connection must be closed.
public struct RESPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong, one case per cause.
    public enum Kind: Sendable, Equatable, Hashable, CustomStringConvertible {
        /// The first byte of a value is not one of the RESP2/RESP3 type bytes.
        case invalidTypeByte
        /// A length header (`$`, `*`, `%`, …) holds something other than decimal digits.
        case invalidLength
        /// A length is negative and is not the RESP2 null marker `-1` (only `$` and `*` may use it).
        case negativeLength
        /// A length or integer does not fit in 64 bits.
        case overflow
        /// An integer reply (`:`) holds something other than an optionally signed decimal.
        case invalidInteger
        /// A line or payload is not terminated by `\r\n`.
        case missingCRLF
        /// A line grew past its limit without a terminating `\r\n`.
        case lineTooLong
        /// A bulk payload is declared longer than ``RESPLimits/maxBulkLength``.
        case bulkTooLarge
        /// An aggregate declares more elements than ``RESPLimits/maxAggregateCount``.
        case tooManyElements
        /// Aggregates nest deeper than ``RESPLimits/maxDepth``.
        case depthExceeded
        /// A RESP3 double (`,`) is not a decimal number, `inf`, `-inf` or `nan`.
        case invalidDouble
        /// A RESP3 boolean (`#`) is not `t` or `f`.
        case invalidBoolean
        /// A RESP3 big number (`(`) is not an optionally signed run of digits.
        case invalidBigNumber
        /// A RESP3 null (`_`) carries bytes before its `\r\n`.
        case invalidNull
        /// A RESP3 verbatim string (`=`) lacks its three-byte format and `:` separator.
        case invalidVerbatimFormat

        /// A short name for logs.
        public var description: String {
            switch self {
            case .invalidTypeByte: "invalid type byte"
            case .invalidLength: "invalid length"
            case .negativeLength: "negative length"
            case .overflow: "overflow"
            case .invalidInteger: "invalid integer"
            case .missingCRLF: "missing CRLF"
            case .lineTooLong: "line too long"
            case .bulkTooLarge: "bulk too large"
            case .tooManyElements: "too many elements"
            case .depthExceeded: "depth exceeded"
            case .invalidDouble: "invalid double"
            case .invalidBoolean: "invalid boolean"
            case .invalidBigNumber: "invalid big number"
            case .invalidNull: "invalid null"
            case .invalidVerbatimFormat: "invalid verbatim format"
            }
        }
    }

    /// The cause.
    public var kind: Kind
    /// Absolute offset, in bytes from the start of the stream, of the byte that broke the rule.
    public var offset: Int
    /// One line saying what was expected and what arrived.
    public var reason: String

    /// Creates an error; the parser does this, tests and fake servers may too.
    public init(_ kind: Kind, offset: Int, reason: String) {
        self.kind = kind
        self.offset = offset
        self.reason = reason
    }

    /// `RESP protocol error (kind) at byte N: reason`.
    public var description: String {
        "RESP protocol error (\(kind)) at byte \(offset): \(reason)"
    }
}
