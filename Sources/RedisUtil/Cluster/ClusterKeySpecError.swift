import RESP

/// Why a `COMMAND` or `COMMAND INFO` reply could not be read into key specs.
///
/// A reply that is not a list of commands fails as a whole; a malformed entry fails
/// only itself (``ClusterKeyTable/parse(commandReply:)`` lists it under `rejected` and
/// goes on), so one odd module command does not cost the whole table.
enum ClusterKeySpecError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The reply is not an array of command entries (an error reply, say).
    case notACommandList(RESPValue.Kind)
    /// An entry lacks a field, or has one of the wrong type; `command` is its name
    /// when that much could be read.
    case malformedEntry(command: String?, reason: String)
    /// The `index`th key spec (from 0) of `command` cannot be followed safely: a
    /// field is missing or mistyped, or a value would point before the arguments or
    /// never advance (a `keystep` of 0).
    case malformedKeySpec(command: String, index: Int, reason: String)

    var description: String {
        switch self {
        case .notACommandList(let kind):
            "expected the COMMAND reply to be an array of command entries, got a \(kind)"
        case .malformedEntry(let command?, let reason):
            "malformed COMMAND entry for \(command): \(reason)"
        case .malformedEntry(nil, let reason):
            "malformed COMMAND entry: \(reason)"
        case .malformedKeySpec(let command, let index, let reason):
            "malformed key spec #\(index) of \(command): \(reason)"
        }
    }
}
