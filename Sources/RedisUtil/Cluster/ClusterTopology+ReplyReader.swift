import RESP

extension ClusterTopology {
    /// Reads typed pieces out of a `CLUSTER SHARDS` or `CLUSTER SLOTS` reply, so that the
    /// two parsers check every value the same way and every failure names the reply, the
    /// place (built only when it fails) and what was expected there.
    struct ReplyReader {
        /// The command, for messages: `CLUSTER SHARDS`.
        let reply: String

        /// The elements of an array (attributes looked through).
        func array(_ value: RESPValue, at place: @autoclosure () -> String) throws(ClusterTopologyError) -> [RESPValue] {
            guard let elements = value.array else { throw unexpected(value, at: place(), expected: "an array") }
            return elements
        }

        /// The pairs of a RESP3 map or of a RESP2 flat key/value array.
        func pairs(_ value: RESPValue, at place: @autoclosure () -> String) throws(ClusterTopologyError) -> [(key: RESPValue, value: RESPValue)] {
            guard let pairs = value.map else {
                throw unexpected(value, at: place(), expected: "a map (or, in RESP2, an array of key/value pairs)")
            }
            return pairs
        }

        /// The value of the first pair whose key is `name`.
        static func field(_ name: String, in pairs: [(key: RESPValue, value: RESPValue)]) -> RESPValue? {
            pairs.first { $0.key.bytes?.elementsEqual(name.utf8) == true }?.value
        }

        /// The value of the field `name`, which must be present.
        func requiredField(_ name: String, in pairs: [(key: RESPValue, value: RESPValue)],
                           at place: @autoclosure () -> String) throws(ClusterTopologyError) -> RESPValue {
            guard let value = Self.field(name, in: pairs) else {
                throw .missingField(reply: reply, at: place(), field: name)
            }
            return value
        }

        /// A simple, bulk or verbatim string, as text.
        func string(_ value: RESPValue, at place: @autoclosure () -> String) throws(ClusterTopologyError) -> String {
            guard let string = value.withoutAttributes.string else { throw unexpected(value, at: place(), expected: "a string") }
            return string
        }

        /// An integer reply in `range`.
        func integer(_ value: RESPValue, in range: ClosedRange<Int64>,
                     at place: @autoclosure () -> String) throws(ClusterTopologyError) -> Int64 {
            guard case .integer(let number) = value.withoutAttributes, range.contains(number) else {
                throw unexpected(value, at: place(), expected: "an integer in \(range.lowerBound)...\(range.upperBound)")
            }
            return number
        }

        /// A TCP port, `1...65535`.
        func port(_ value: RESPValue, at place: @autoclosure () -> String) throws(ClusterTopologyError) -> Int {
            Int(try integer(value, in: 1...65535, at: place()))
        }

        /// Slot ranges written flat, `start, end, start, end …` (`CLUSTER SHARDS`' `slots`).
        func slotRanges(_ flat: [RESPValue], at place: @autoclosure () -> String) throws(ClusterTopologyError) -> [ClosedRange<Int>] {
            guard flat.count % 2 == 0 else {
                throw .unexpected(reply: reply, at: place(), expected: "pairs of slots (start, end)",
                                  received: "\(flat.count) integers")
            }
            var ranges: [ClosedRange<Int>] = []
            ranges.reserveCapacity(flat.count / 2)
            for pair in stride(from: 0, to: flat.count, by: 2) {
                ranges.append(try slotRange(start: flat[pair], end: flat[pair + 1], at: place()))
            }
            return ranges
        }

        /// One slot range from its two integers, checked before the range is formed (a
        /// `ClosedRange` whose start is after its end would trap).
        func slotRange(start: RESPValue, end: RESPValue, at place: @autoclosure () -> String) throws(ClusterTopologyError) -> ClosedRange<Int> {
            guard case .integer(let first) = start.withoutAttributes else {
                throw unexpected(start, at: place(), expected: "an integer slot")
            }
            guard case .integer(let last) = end.withoutAttributes else {
                throw unexpected(end, at: place(), expected: "an integer slot")
            }
            guard first >= 0, first <= last, last < Int64(HashSlot.count) else {
                throw .invalidSlotRange(reply: reply, at: place(), start: first, end: last)
            }
            return Int(first)...Int(last)
        }

        /// The host a client connects to: the endpoint announced, unless the server does
        /// not know it: empty (`cluster-preferred-endpoint-type unknown-endpoint`, where the
        /// documented rule is to use the host the command was sent to), `?` (it prefers
        /// hostnames and the node announced none) or null (`CLUSTER SLOTS`' form of unknown).
        /// `MOVED` is read the same way (``ClusterRedirection/Target/host``), so that a
        /// redirection finds the node this map holds.
        static func host(announced: String?, answeredBy answeringHost: String) -> String {
            guard let announced, !announced.isEmpty, announced != "?" else { return answeringHost }
            return announced
        }

        func unexpected(_ value: RESPValue, at place: String, expected: String) -> ClusterTopologyError {
            .unexpected(reply: reply, at: place, expected: expected, received: ClusterTopologyError.summary(of: value))
        }
    }
}
