/// An aggregate whose header has been read and whose elements are still arriving.
///
/// Completed elements are moved out of the input buffer into the frame, so an aggregate that
/// arrives over many reads is never re-parsed from its start.
struct RESPAggregateFrame: Sendable {
    let kind: RESPAggregateKind
    /// Elements still to come; maps count keys and values, attributes add one for the reply they annotate.
    var remaining: Int
    var elements: [RESPValue] = []
    var pairs: [(key: RESPValue, value: RESPValue)] = []
    var pendingKey: RESPValue?

    /// A frame for `count` elements (pairs for maps and attributes); `count > 0`, or an attribute.
    /// Reserves at most `reserveLimit` slots: the declared count is not trusted beyond the
    /// bytes already received (every element takes at least 3 bytes on the wire).
    init(kind: RESPAggregateKind, count: Int, reserveLimit: Int) {
        self.kind = kind
        switch kind {
        case .array, .set, .push:
            remaining = count
            elements.reserveCapacity(min(count, reserveLimit))
        case .map:
            remaining = count * 2
            pairs.reserveCapacity(min(count, reserveLimit / 2))
        case .attribute:
            remaining = count * 2 + 1
            pairs.reserveCapacity(min(count, reserveLimit / 2))
        }
    }

    /// Adds the next element; true when the aggregate is complete.
    mutating func append(_ value: RESPValue) -> Bool {
        switch kind {
        case .array, .set, .push:
            elements.append(value)
        case .map, .attribute:
            if kind == .attribute && remaining == 1 {
                elements.append(value)
            } else if let key = pendingKey {
                pairs.append((key, value))
                pendingKey = nil
            } else {
                pendingKey = value
            }
        }
        remaining -= 1
        return remaining == 0
    }

    /// The finished value; call once `append` returned true.
    consuming func finish() -> RESPValue {
        switch kind {
        case .array: .array(elements)
        case .set: .set(elements)
        case .push: .push(elements)
        case .map: .map(pairs)
        case .attribute: .attribute(pairs, elements[0])
        }
    }

    /// The value of an aggregate declared with zero elements (never an attribute).
    static func empty(_ kind: RESPAggregateKind) -> RESPValue {
        switch kind {
        case .array: .array([])
        case .set: .set([])
        case .push: .push([])
        case .map, .attribute: .map([])
        }
    }
}
