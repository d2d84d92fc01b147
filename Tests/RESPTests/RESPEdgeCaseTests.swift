@testable import RESP
import Testing

/// Faults a review found (each test failed before its fix) and coverage the other RESP suites lack.
@Suite("RESP edge cases: huge headers, depth, big numbers, attributes", .timeLimit(.minutes(4)))
struct RESPEdgeCaseTests {
    // MARK: Faults fixed after a review (each failed before its fix)

    /// RESPAggregateFrame.init computes `count * 2` (map) and `count * 2 + 1` (attribute) with
    /// trapping arithmetic. The bulk path guards `Int.max / 4` "whatever the limits say"; the
    /// aggregate path does not, so a peer can crash a parser whose aggregate limit was lifted.
    @Test("the common status replies share one payload; their near misses, other cases and lengths are copied")
    func sharedStatusPayloads() throws {
        func parsed(_ text: String) throws -> RESPValue? {
            var parser = RESPParser()
            parser.feed(Array(text.utf8))
            return try parser.next()
        }
        func storage(_ value: RESPValue?) -> UnsafeRawPointer? {
            guard case .simpleString(let bytes) = value else { return nil }
            return bytes.withUnsafeBytes { $0.baseAddress }
        }
        for status in ["OK", "PONG", "QUEUED"] {
            let first = try parsed("+\(status)\r\n")
            let second = try parsed("+\(status)\r\n")
            #expect(first == .simple(status) && second == .simple(status))
            #expect(storage(first) != nil && storage(first) == storage(second), "+\(status) was copied")
        }
        for other in ["OL", "Ok", "PANG", "PONGS", "PON", "QUEUEE", "queued", "O", ""] {
            #expect(try parsed("+\(other)\r\n") == .simple(other))
        }
        #expect(try parsed("*3\r\n+QUEUED\r\n+PONG\r\n+OK\r\n") == .array([.simple("QUEUED"), .simple("PONG"), .simple("OK")]))
    }

    @Test("a map/attribute header above Int.max / 2 does not trap when maxAggregateCount is lifted")
    func hugePairCountDoesNotTrap() async {
        await #expect(processExitsWith: .success) {
            for header in ["%4611686018427387904\r\n", "|4611686018427387904\r\n", "%9223372036854775807\r\n"] {
                var parser = RESPParser(limits: RESPLimits(maxAggregateCount: .max))
                parser.feed(Array(header.utf8))
                _ = try? parser.next()
            }
        }
    }

    /// RESPParser.next() returns zero-count aggregates before the `frames.count >= maxDepth`
    /// check, so an empty aggregate one level past the limit is accepted.
    @Test("an empty aggregate nested past maxDepth is refused like a non-empty one")
    func emptyAggregateCountsTowardDepth() {
        let one = RESPLimits(maxDepth: 1)
        // Control: a non-empty inner array is refused.
        #expect(parse(wire("*1\r\n*1\r\n:1\r\n"), limits: one).error?.kind == .depthExceeded)
        #expect(parse(wire("*1\r\n*0\r\n"), limits: one).error?.kind == .depthExceeded)
        #expect(parse(wire("*1\r\n%0\r\n"), limits: one).error?.kind == .depthExceeded)
        // 129 levels under the default limit of 128.
        let deep = wire(String(repeating: "*1\r\n", count: 128) + "~0\r\n")
        #expect(parse(deep).error?.kind == .depthExceeded)
    }

    /// asInt/asDouble handle `.integer`, `.double` and strings, but not RESP3 big numbers
    /// (`(123\r\n`, sent e.g. by a Lua script returning `{big_number=...}` under HELLO 3).
    @Test("big numbers convert with asInt when they fit, and with asDouble")
    func bigNumberConversions() {
        #expect((try? RESPValue.bigNumber(bytes("12345")).asInt()) == 12345)
        #expect((try? RESPValue.bigNumber(bytes("-9223372036854775808")).asInt()) == Int.min)
        #expect((try? RESPValue.bigNumber(bytes("3492890328409238509324850943850943825024385")).asDouble())
            == 3492890328409238509324850943850943825024385.0)
        // Too big for Int: still refused, but as a payload problem, not a type mismatch.
        #expect(throws: RESPConversionError.self) { try RESPValue.bigNumber(bytes("99999999999999999999")).asInt() }
    }

    /// `map` (and `array`) do not strip attributes, while every conversion does: a RESP3
    /// HGETALL reply that carries an attribute reads as "not a map".
    @Test("map and array accessors see through attributes, like the conversions")
    func accessorsSeeThroughAttributes() {
        let pairs: [(key: RESPValue, value: RESPValue)] = [(.bulk("f"), .bulk("v"))]
        let annotated = RESPValue.attribute([(.simple("ttl"), .integer(5))], .map(pairs))
        #expect(annotated.map?.count == 1)
        let list = RESPValue.attribute([], .array([.bulk("a")]))
        #expect((try? list.asStrings()) == ["a"]) // the conversion strips it...
        #expect(list.array == [.bulk("a")]) // ...the accessor does not
    }

    // MARK: Behaviour no other suite covers

    @Test("RESP2 doubles sent as bulk strings, in every form redis-server formats them, convert with asDouble")
    func resp2DoubleForms() throws {
        let cases: [(String, Double)] = [
            ("inf", .infinity), ("-inf", -.infinity), ("0", 0), ("-0", -0.0),
            ("3.0000000000000001e-05", 3.0000000000000001e-05), ("1e+20", 1e20),
            ("1e+300", 1e300), ("10.5", 10.5), ("100000000000000000000", 1e20),
        ]
        for (text, expected) in cases {
            #expect(try RESPValue.bulk(text).asDouble() == expected, "\(text)")
            #expect(try RESPValue.simple(text).asDouble() == expected, "\(text)")
        }
        #expect(try RESPValue.attribute([], .bulk("2.5")).asDouble() == 2.5)
        #expect(try RESPValue.bulk("nan").asDouble().isNaN)
        for bad in ["", " 1", "1 ", "0x10", "infinity", "1e", "--1", "1.5x"] {
            #expect(throws: RESPConversionError.self, "\(bad)") { try RESPValue.bulk(bad).asDouble() }
        }
    }

    @Test("Double and String arguments encode the text and bytes redis reads back")
    func argumentEdgeCases() {
        func encoded(_ argument: some RESPArgument) -> [UInt8] {
            var out: [UInt8] = []
            RESPEncoder.encodeCommand(into: &out, argument)
            return out
        }
        #expect(encoded(Double.nan) == wire("*1\r\n$3\r\nnan\r\n"))
        #expect(encoded(-Double.nan) == wire("*1\r\n$3\r\nnan\r\n"))
        #expect(encoded(-0.0) == wire("*1\r\n$4\r\n-0.0\r\n"))
        #expect(encoded(Double.greatestFiniteMagnitude) == wire("*1\r\n$23\r\n1.7976931348623157e+308\r\n"))
        #expect(encoded(Double.leastNonzeroMagnitude) == wire("*1\r\n$6\r\n5e-324\r\n"))
        #expect(encoded(1e16) == wire("*1\r\n$5\r\n1e+16\r\n"))
        // A lone UTF-16 surrogate cannot survive into a Swift String: it becomes U+FFFD (3 bytes).
        let repaired = String(decoding: [0x61, 0xD800, 0x62] as [UInt16], as: UTF16.self)
        #expect(encoded(repaired) == wire("*1\r\n$5\r\na\u{EF}\u{BF}\u{BD}b\r\n"))
        #expect(encoded("a\0b") == wire("*1\r\n$3\r\na\0b\r\n"))
        // Every argument type's count matches what it writes, through the dynamic form too.
        let arguments: [any RESPArgument] = [Double.nan, -0.0, repaired, Int.min, UInt.max, Int64.min, [UInt8]()]
        var dynamic: [UInt8] = []
        RESPEncoder.encodeCommand(into: &dynamic, arguments: arguments)
        #expect(parse(dynamic).values == [.array([
            .bulk("nan"), .bulk("-0.0"), .bulk(repaired), .bulk("-9223372036854775808"),
            .bulk("18446744073709551615"), .bulk("-9223372036854775808"), .bulkString([]),
        ])])
    }

    @Test("a 1 MiB argument is encoded with an exact header and parses back")
    func hugeArgument() {
        let payload = [UInt8](repeating: 0x0D, count: 1 << 20)
        var out: [UInt8] = []
        RESPEncoder.encodeCommand(into: &out, "SET", "k", payload)
        #expect(out.count == 4 + 9 + 7 + (1 + 7 + 2) + (1 << 20) + 2)
        #expect(parse(out).values == [.array([.bulk("SET"), .bulk("k"), .bulkString(payload)])])
    }
}
