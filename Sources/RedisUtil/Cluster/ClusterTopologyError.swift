import RESP

/// A `CLUSTER SHARDS` or `CLUSTER SLOTS` reply that does not describe a slot map.
///
/// `reply` names the command, `at` the place in the reply (`shard 2, node 1, "port"`), and
/// the message says what was expected there and what arrived. The client keeps the map
/// it had and reports this; nothing in a reply can make the parser crash.
enum ClusterTopologyError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A value of the wrong type or out of range.
    case unexpected(reply: String, at: String, expected: String, received: String)
    /// A field every node or shard must have is absent.
    case missingField(reply: String, at: String, field: String)
    /// A slot range outside `0...16383`, or one whose start is after its end.
    case invalidSlotRange(reply: String, at: String, start: Int64, end: Int64)
    /// Two shards (or one, twice) claim the same slot.
    case slotClaimedTwice(reply: String, slot: Int, firstOwner: String, secondOwner: String)
    /// A shard owns slots but none of its nodes is a primary.
    case noPrimary(reply: String, at: String)

    /// What is wrong and where, e.g. `malformed CLUSTER SHARDS reply at shard 0, node 1,
    /// "port": expected an integer in 1...65535, received bulk "abc"`.
    var description: String {
        switch self {
        case .unexpected(let reply, let at, let expected, let received):
            "malformed \(reply) reply at \(at): expected \(expected), received \(received)"
        case .missingField(let reply, let at, let field):
            "malformed \(reply) reply at \(at): no \"\(field)\""
        case .invalidSlotRange(let reply, let at, let start, let end):
            "malformed \(reply) reply at \(at): expected a slot range within 0...16383 with start <= end, received \(start)...\(end)"
        case .slotClaimedTwice(let reply, let slot, let firstOwner, let secondOwner):
            "malformed \(reply) reply: slot \(slot) is claimed by both \(firstOwner) and \(secondOwner)"
        case .noPrimary(let reply, let at):
            "malformed \(reply) reply at \(at): the shard owns slots but lists no primary"
        }
    }

    /// A short rendering of what arrived: scalars as they are (cut at 60 characters), an
    /// aggregate by its type and size, so that a message never carries a whole reply.
    static func summary(of value: RESPValue) -> String {
        switch value.withoutAttributes {
        case .array(let elements): return "array of \(elements.count)"
        case .set(let elements): return "set of \(elements.count)"
        case .push(let elements): return "push of \(elements.count)"
        case .map(let pairs): return "map of \(pairs.count)"
        case let scalar:
            let text = scalar.description
            return text.count > 60 ? text.prefix(60) + "…" : text
        }
    }
}
