import RESP
import Testing
@testable import RedisUtil

/// Messages that write their own members (``JSONMemberEncodable``) against their own
/// `encode(to:)`: the same bytes for every value, or a decline that leaves the message
/// to `encode(to:)`, so what is sent never depends on which path wrote it.
@Suite struct JSONMemberWriterTests {
    /// Every kind of member the writer has an overload for, and the general path's.
    struct Everything: Codable, JSONMemberEncodable {
        var any: JSONValue
        var big: UInt64
        var count: Int
        var flag: Bool
        var maybe: String?
        var maybeCount: Int?
        var maybeFlag: Bool?
        var maybeRatio: Double?
        var maybeTags: [String]?
        var nested: Job
        var nullable: Int?
        var ratio: Double
        var stamp: Int64
        var tags: [String]
        var text: String
        var table: [String: Int]

        func writeMembers(to members: inout JSONMemberWriter) {
            members.write("any", any)
            members.write("big", big)
            members.write("count", count)
            members.write("flag", flag)
            members.writeIfPresent("maybe", maybe)
            members.writeIfPresent("maybeCount", maybeCount)
            members.writeIfPresent("maybeFlag", maybeFlag)
            members.writeIfPresent("maybeRatio", maybeRatio)
            members.writeIfPresent("maybeTags", maybeTags)
            members.write("nested", nested)
            // Written as `null` when nil: `encode(_:forKey:)`, as this type's own encode(to:) does.
            members.write("nullable", nullable)
            members.write("ratio", ratio)
            members.write("stamp", stamp)
            members.write("tags", tags)
            members.write("text", text)
            // Last, as `encode(to:)` writes it (a dictionary: its own members sorted).
            members.write("table", table)
        }

        enum CodingKeys: String, CodingKey {
            case any, big, count, flag, maybe, maybeCount, maybeFlag, maybeRatio, maybeTags, nested, nullable, ratio, stamp, tags, text, table
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(any, forKey: .any)
            try container.encode(big, forKey: .big)
            try container.encode(count, forKey: .count)
            try container.encode(flag, forKey: .flag)
            try container.encodeIfPresent(maybe, forKey: .maybe)
            try container.encodeIfPresent(maybeCount, forKey: .maybeCount)
            try container.encodeIfPresent(maybeFlag, forKey: .maybeFlag)
            try container.encodeIfPresent(maybeRatio, forKey: .maybeRatio)
            try container.encodeIfPresent(maybeTags, forKey: .maybeTags)
            try container.encode(nested, forKey: .nested)
            try container.encode(nullable, forKey: .nullable)
            try container.encode(ratio, forKey: .ratio)
            try container.encode(stamp, forKey: .stamp)
            try container.encode(tags, forKey: .tags)
            try container.encode(text, forKey: .text)
            try container.encode(table, forKey: .table)
        }
    }

    /// The benchmark's message: synthesized `Codable`, members written in declaration order.
    struct Bench: Codable, Equatable, JSONMemberEncodable {
        var t: UInt64
        var seq: Int
        var kind: String
        var data: String

        func writeMembers(to members: inout JSONMemberWriter) {
            members.write("t", t)
            members.write("seq", seq)
            members.write("kind", kind)
            members.write("data", data)
        }
    }

    /// Members written in another order than `encode(to:)`'s: the writer cannot see it.
    struct OutOfOrder: Codable, Equatable, JSONMemberEncodable {
        var seq = 1
        var data = "d"
        func writeMembers(to members: inout JSONMemberWriter) {
            members.write("data", data)
            members.write("seq", seq)
        }
    }

    /// A key written twice (the general encoder keeps the last value in the first place).
    struct Repeated: Encodable, JSONMemberEncodable {
        func writeMembers(to members: inout JSONMemberWriter) {
            members.write("a", 1)
            members.write("a", 2)
        }
        enum Keys: String, CodingKey { case a }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .a)
            try container.encode(2, forKey: .a)
        }
    }

    /// A key that needs escaping, and a value the general path streams only as a tree.
    struct Escaped: Codable, JSONMemberEncodable {
        var value = 1
        enum CodingKeys: String, CodingKey { case value = "va\"lue" }
        func writeMembers(to members: inout JSONMemberWriter) { members.write("va\"lue", value) }
    }

    enum Shape: Codable { case circle(radius: Double) }

    struct WithEnum: Codable, JSONMemberEncodable {
        var shape = Shape.circle(radius: 2)
        func writeMembers(to members: inout JSONMemberWriter) { members.write("shape", shape) }
    }

    struct TooBig: Codable, JSONMemberEncodable {
        var n = UInt64.max
        func writeMembers(to members: inout JSONMemberWriter) { members.write("n", n) }
    }

    static func everything(_ index: Int) -> Everything {
        let strings = ["", "plain", "q\"uote\\back", "tab\tnew\nline\u{1}", "é我🎉", String(repeating: "x", count: 70)]
        let doubles = [0.0, -0.0, 0.5, 1e-7, 1e16, 2.5e300, -3.0, .nan, .infinity, 9007199254740993.0]
        return Everything(
            any: index % 2 == 0 ? ["k": [1, 2.5, nil, "s"], "a": true] : .string(strings[index % strings.count]),
            big: index % 3 == 0 ? UInt64(Int64.max) : UInt64(index),
            count: index % 5 == 0 ? Int.min : index * 7919 - 40_000,
            flag: index % 2 == 0,
            maybe: index % 3 == 0 ? nil : strings[(index + 1) % strings.count],
            maybeCount: index % 4 == 0 ? nil : -index,
            maybeFlag: index % 5 == 0 ? nil : index % 3 == 0,
            maybeRatio: index % 2 == 0 ? nil : doubles[index % doubles.count],
            maybeTags: index % 2 == 1 ? nil : Array(strings.prefix(index % 4)),
            nested: Job(id: index, name: strings[index % strings.count], ratio: 0.25, tags: ["t"], parent: index % 2 == 0 ? nil : 1),
            nullable: index % 2 == 0 ? nil : index,
            ratio: doubles[(index + 3) % doubles.count],
            stamp: Int64(index) * 1_733_000_000_000,
            tags: Array(strings.prefix(index % strings.count)),
            text: strings[(index + 2) % strings.count],
            table: ["zeta": 1, "alpha": index, "Alpha": -index, "": 0]
        )
    }

    @Test("a push command written over a reused buffer is exactly the command, whatever the buffer held before")
    func pushCommandsWrittenOverAReusedBuffer() throws {
        let head = MessageCodec.pushHead(key: "/q/client")
        var reused: [UInt8] = Array(repeating: UInt8(ascii: "#"), count: 5_000)
        // Members and plain Codable, short and long after one another, so that the buffer
        // both shrinks and grows.
        for index in 0..<40 {
            let size = index * 397 % 3_000
            let members = Bench(t: UInt64(index), seq: -index, kind: "k\(index)", data: String(repeating: "é", count: size / 2))
            try MessageCodec.pushCommand(head: head, message: members, into: &reused)
            #expect(reused == (try MessageCodec.pushCommand(head: head, message: members)), "members \(index)")
            let plain = ["seq": index, "size": size]
            try MessageCodec.pushCommand(head: head, message: plain, into: &reused)
            #expect(reused == (try MessageCodec.pushCommand(head: head, message: plain)), "codable \(index)")
        }
    }

    @Test func membersWrittenInOrderAreExactlyTheCodableBytes() throws {
        for index in 0..<60 {
            let message = Self.everything(index)
            let written = try #require(JSONMemberWriter.bytes(of: message), "declined message \(index)")
            let reference = try JSONMemberWriter.codableBytes(of: message)
            #expect(String(decoding: written, as: UTF8.self) == String(decoding: reference, as: UTF8.self), "message \(index)")
            // And what a channel sends: the same RPUSH either way.
            var expected: [UInt8] = []
            RESPEncoder.encodeCommand(into: &expected, "RPUSH", "/q/client", reference)
            #expect(try MessageCodec.pushCommand(head: MessageCodec.pushHead(key: "/q/client"), message: message) == expected)
        }
        // Larger than the writer's scratch memory: written on the heap from there on.
        for size in [900, 1_100, 70_000] {
            let large = Bench(t: UInt64(size), seq: -size, kind: "large", data: String(repeating: "é", count: size / 2) + "\n")
            let written = try #require(JSONMemberWriter.bytes(of: large))
            #expect(written == (try JSONMemberWriter.codableBytes(of: large)))
            var expected: [UInt8] = []
            RESPEncoder.encodeCommand(into: &expected, "RPUSH", "/q/large", written)
            #expect(try MessageCodec.pushCommand(head: MessageCodec.pushHead(key: "/q/large"), message: large) == expected)
        }
        let bench = Bench(t: 1_733_000_000_000, seq: 42, kind: "bench", data: String(repeating: "x", count: 64))
        #expect(try JSONMemberWriter.bytes(of: bench) == JSONMemberWriter.codableBytes(of: bench))
        // Read back as the plain Codable type.
        #expect(try MessageCodec.decode(Bench.self, from: MessageCodec.encode(bench), list: "l") == bench)
    }

    /// The channel remembers the last message type found to write its own members (and
    /// the last found not to): types taking turns each get their own writing.
    @Test func typesTakingTurnsEachWriteAsThemselves() throws {
        for index in 0..<6 {
            let bench = Bench(t: UInt64(index), seq: index, kind: "k", data: "d")
            #expect(try MessageCodec.encode(bench) == JSONMemberWriter.bytes(of: bench))
            let everything = Self.everything(index)
            #expect(try MessageCodec.encode(everything) == JSONMemberWriter.bytes(of: everything))
            if index % 2 == 0 {
                let job = Job(id: index, name: "j", ratio: 1, tags: [], parent: nil)
                #expect(try MessageCodec.encode(job) == JSONMemberWriter.codableBytes(of: job))
            }
            // Written by its own members, which `encode(to:)` would write otherwise.
            #expect(try MessageCodec.encode(OutOfOrder()) == Array(#"{"data": "d", "seq": 1}"#.utf8))
        }
    }

    @Test func whatTheWriterCannotWriteExactlyGoesThroughEncodeTo() throws {
        // What the writer cannot see (the members in another order than encode(to:)'s, a
        // key twice) it writes as given: other bytes than the general encoder's, which
        // read back as the same value (a repeated key's last), here and in Python.
        #expect(try MessageCodec.encode(OutOfOrder()) == Array(#"{"data": "d", "seq": 1}"#.utf8))
        #expect(try JSONMemberWriter.codableBytes(of: OutOfOrder()) == Array(#"{"seq": 1, "data": "d"}"#.utf8))
        #expect(try MessageCodec.decode(OutOfOrder.self, from: MessageCodec.encode(OutOfOrder()), list: "l") == OutOfOrder())
        #expect(try MessageCodec.encode(Repeated()) == Array(#"{"a": 1, "a": 2}"#.utf8))
        #expect(try JSONMemberWriter.codableBytes(of: Repeated()) == Array(#"{"a": 2}"#.utf8))
        #expect(try MessageCodec.decode(JSONValue.self, from: MessageCodec.encode(Repeated()), list: "l") == ["a": 2])
        // Declined, and the channel sends the general encoder's bytes all the same.
        #expect(JSONMemberWriter.bytes(of: Escaped()) == nil)
        #expect(try MessageCodec.encode(Escaped()) == JSONMemberWriter.codableBytes(of: Escaped()))
        #expect(JSONMemberWriter.bytes(of: WithEnum()) == nil)
        #expect(try MessageCodec.encode(WithEnum()) == JSONMemberWriter.codableBytes(of: WithEnum()))
        // Beyond JSON's integers: the general encoder's error, as a channel error.
        #expect(JSONMemberWriter.bytes(of: TooBig()) == nil)
        #expect(throws: RedisChannelError.self) { try MessageCodec.encode(TooBig()) }
        // After a decline the next message of the type is written by its members again,
        // and a plain Codable type between them does not confuse the type hint.
        #expect(try MessageCodec.encode(Job(id: 1, name: "j", ratio: 1, tags: [], parent: nil)) == JSONMemberWriter.codableBytes(of: Job(id: 1, name: "j", ratio: 1, tags: [], parent: nil)))
        let message = Self.everything(1)
        #expect(try MessageCodec.encode(message) == JSONMemberWriter.bytes(of: message))
    }

    @Test func aMemberNestedPastTheReadersLimitFailsAsEncodeToFails() throws {
        struct Deep: Codable, JSONMemberEncodable {
            var value: JSONValue
            func writeMembers(to members: inout JSONMemberWriter) { members.write("value", value) }
        }
        // One level short of the limit inside the member: fine; at the limit: too deep,
        // counted from the message's own object either way.
        func nested(_ levels: Int) -> JSONValue { (0..<levels).reduce(JSONValue.null) { inner, _ in .array([inner]) } }
        let fits = Deep(value: nested(JSONReader.maxDepth - 1))
        #expect(try MessageCodec.encode(fits) == JSONMemberWriter.codableBytes(of: fits))
        #expect(JSONMemberWriter.bytes(of: fits) != nil)
        let tooDeep = Deep(value: nested(JSONReader.maxDepth))
        #expect(JSONMemberWriter.bytes(of: tooDeep) == nil)
        #expect(throws: (any Error).self) { try JSONMemberWriter.codableBytes(of: tooDeep) }
        #expect(throws: RedisChannelError.self) { try MessageCodec.encode(tooDeep) }
    }
}

/// Keys of every length around the writer's one-word fast path (eight bytes), with and
/// without a byte that needs an escape at each end: the same bytes as `encode(to:)`, or a
/// decline that leaves the message to it.
@Suite struct JSONMemberWriterKeyTests {
    struct Lengths: Encodable, JSONMemberEncodable {
        var value = 1
        enum CodingKeys: String, CodingKey {
            case k0 = "", k1 = "a", k2 = "ab", k7 = "abcdefg", k8 = "abcdefgh", k9 = "abcdefghi", k8high = "abcdefé"
        }
        func writeMembers(to members: inout JSONMemberWriter) {
            members.write("", value)
            members.write("a", value)
            members.write("ab", value)
            members.write("abcdefg", value)
            members.write("abcdefgh", value)
            members.write("abcdefghi", value)
            members.write("abcdefé", value)
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            for key in [CodingKeys.k0, .k1, .k2, .k7, .k8, .k9, .k8high] { try container.encode(value, forKey: key) }
        }
    }

    /// One key that needs an escape, of a given spelling.
    struct Escaping: Encodable, JSONMemberEncodable {
        let key: Int
        static let spellings = ["\u{1}", "a\"", "abcdefg\\", "\u{1F}bcdefgh", "abcdefgh\n"]
        struct Key: CodingKey {
            var stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
        func writeMembers(to members: inout JSONMemberWriter) {
            members.write("ok", 0)
            switch key {
            case 0: members.write("\u{1}", 1)
            case 1: members.write("a\"", 1)
            case 2: members.write("abcdefg\\", 1)
            case 3: members.write("\u{1F}bcdefgh", 1)
            default: members.write("abcdefgh\n", 1)
            }
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            try container.encode(0, forKey: Key(stringValue: "ok"))
            try container.encode(1, forKey: Key(stringValue: Self.spellings[key]))
        }
    }

    @Test func keysOfEveryLengthAreWrittenAsEncodeToWritesThem() throws {
        let written = try #require(JSONMemberWriter.bytes(of: Lengths()))
        #expect(String(decoding: written, as: UTF8.self) == String(decoding: try JSONMemberWriter.codableBytes(of: Lengths()), as: UTF8.self))
    }

    @Test func aKeyThatNeedsAnEscapeIsDeclinedAndSentByEncodeTo() throws {
        for key in Escaping.spellings.indices {
            #expect(JSONMemberWriter.bytes(of: Escaping(key: key)) == nil, "key \(key)")
            #expect(try MessageCodec.encode(Escaping(key: key)) == JSONMemberWriter.codableBytes(of: Escaping(key: key)), "key \(key)")
        }
    }
}
