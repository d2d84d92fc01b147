import RESP
import Testing
@testable import RedisUtil

/// The streaming encoder against the tree encoder: same bytes for every shape, and
/// streaming for the shapes messages usually have.
@Suite struct JSONStreamEncoderTests {
    struct Nested: Codable {
        var job: Job
        var jobs: [Job]
        var byName: [String: Int]
        var byNumber: [Int: String]
        var missing: Int?
        var present: Int?
        var any: JSONValue
        var flags: [Bool]
        var big: UInt64
        var small: Int8
        var single: Float
        var whole: Double
        var unicodeKeys: [String: [Int]]
        var empty: Empty
        var emptyList: [Int]
    }

    struct Empty: Codable {}

    enum Shape: Codable {
        case circle(radius: Double)
        case square(Int)
        case none
    }

    class Base: Codable {
        var id = 1
        var name = "base"
    }

    /// Writes into its superclass's container again, one key repeated: the last value wins.
    final class Derived: Base {
        var extra = [1, 2]
        enum Keys: String, CodingKey { case extra, id }
        override func encode(to encoder: any Encoder) throws {
            try super.encode(to: encoder)
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(extra, forKey: .extra)
            try container.encode(99, forKey: .id)
        }
    }

    /// Writes one key three times among others.
    struct Rewrites: Encodable {
        enum Keys: String, CodingKey { case z, a, m }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .z)
            try container.encode(1, forKey: .a)
            try container.encode(2, forKey: .z)
            try container.encode(2, forKey: .a)
            try container.encode(3, forKey: .m)
            try container.encode(4, forKey: .z)
        }
    }

    /// Uses `superEncoder`, which only the tree encoder supports.
    final class WithSuper: Base {
        enum Keys: String, CodingKey { case own }
        override func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode("o", forKey: .own)
            try super.encode(to: container.superEncoder())
        }
    }

    /// Encodes nothing at all.
    struct Silent: Encodable {
        func encode(to encoder: any Encoder) throws {}
    }

    /// Swallows a member's error and goes on.
    struct Forgiving: Encodable {
        enum Keys: String, CodingKey { case a, b, c }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(1, forKey: .a)
            try? container.encode(UInt64.max, forKey: .b)
            try container.encode(3, forKey: .c)
        }
    }

    static let nested = Nested(
        job: Job(id: 1, name: "q\"\n", ratio: 0.5, tags: ["t"], parent: 2),
        jobs: [Job(id: 2, name: "b", ratio: 2.0, tags: [], parent: nil), Job(id: 3, name: "c", ratio: -1e-7, tags: ["x", "y"], parent: -4)],
        byName: ["zeta": 1, "alpha": 2, "mid": 3, "Alpha": 4, "": 5],
        byNumber: [10: "ten", 2: "two", -1: "minus"],
        missing: nil, present: 0,
        any: ["k": [1, 2.5, nil, "s"], "a": true],
        flags: [true, false], big: UInt64(Int64.max), small: -8, single: 1.5, whole: 3.0,
        unicodeKeys: ["é": [1], "z": [2], "我": [], "E": [3]],
        empty: Empty(), emptyList: []
    )

    func expectSameBytes<T: Encodable>(_ value: T, streams: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let tree = try JSONValueEncoder.encodeJSONTree(value)
        let streamed = try JSONStreamEncoder.encode(value)
        #expect((streamed != nil) == streams, "streamed: \(streamed != nil)", sourceLocation: sourceLocation)
        if let streamed {
            #expect(String(decoding: streamed, as: UTF8.self) == String(decoding: tree, as: UTF8.self), sourceLocation: sourceLocation)
        }
        #expect(try JSONValueEncoder.encodeJSON(value) == tree, sourceLocation: sourceLocation)
        // In place, after bytes already there: the same bytes behind them, or (when the
        // value needs the tree) the bytes left as they were.
        let head = Array("*3\r\n".utf8)
        var appended = head
        let didStream = try JSONStreamEncoder.encode(value, appendingTo: &appended)
        #expect(didStream == streams, sourceLocation: sourceLocation)
        #expect(appended == (streams ? head + tree : head), sourceLocation: sourceLocation)
        // A channel's send writes the message into its RPUSH: exactly the encoder's command.
        for key in ["/q/client", "/é/我/server", String(repeating: "k", count: 120)] {
            var expected: [UInt8] = []
            RESPEncoder.encodeCommand(into: &expected, "RPUSH", key, tree)
            #expect(try MessageCodec.pushCommand(head: MessageCodec.pushHead(key: key), message: value) == expected, sourceLocation: sourceLocation)
        }
    }

    /// Keeps the encoder it is given, which a well-behaved type never does.
    final class Hoarder: Encodable, @unchecked Sendable {
        // @unchecked Sendable: written once, inside `encode(to:)`, and only read after it.
        var kept: (any Encoder)?
        let id: Int
        init(id: Int) { self.id = id }
        enum Keys: String, CodingKey { case id }
        func encode(to encoder: any Encoder) throws {
            kept = encoder
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(id, forKey: .id)
        }
    }

    /// The encoder is reused between messages; one that a type kept hold of is not, and
    /// messages encoded at once on many threads come out whole.
    @Test func aReusedEncoderStartsClean() async throws {
        let hoarder = Hoarder(id: 1)
        try expectSameBytes(hoarder, streams: true)
        try expectSameBytes(Self.nested, streams: true)
        try expectSameBytes(Hoarder(id: 2), streams: true)
        // A message that fell back to the tree, then one that streams.
        try expectSameBytes(Shape.circle(radius: 1), streams: false)
        try expectSameBytes(Job(id: 3, name: "n", ratio: 1, tags: [], parent: nil), streams: true)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for index in 0..<500 {
                        let job = Job(id: task * 1000 + index, name: "t\(task)", ratio: Double(index), tags: ["\(index)"], parent: task)
                        let tree = try JSONValueEncoder.encodeJSONTree(job)
                        #expect(try JSONValueEncoder.encodeJSON(job) == tree)
                    }
                }
            }
            try await group.waitForAll()
        }
        withExtendedLifetime(hoarder) {}
    }

    /// The bulk length in front of a message written in place, at every digit count.
    @Test(arguments: [0, 7, 8, 97, 98, 997, 998, 9_997, 9_998, 99_998, 1 << 20])
    func pushCommandLengthHeader(padding: Int) throws {
        // A string of `padding` characters is `padding + 2` bytes of JSON: 2, 9, 10, 99, 100 …
        let message = String(repeating: "x", count: padding)
        var expected: [UInt8] = []
        RESPEncoder.encodeCommand(into: &expected, "RPUSH", "/q/client", try JSONValueEncoder.encodeJSON(message))
        #expect(try MessageCodec.pushCommand(head: MessageCodec.pushHead(key: "/q/client"), message: message) == expected)
    }

    /// A message that cannot be sent fails as it always did, before anything is built.
    @Test func pushCommandOfAnUnencodableMessageThrows() {
        #expect(throws: RedisChannelError.self) { try MessageCodec.pushCommand(head: MessageCodec.pushHead(key: "/q/client"), message: UInt64.max) }
        #expect(throws: RedisChannelError.self) { try MessageCodec.pushCommand(head: MessageCodec.pushHead(key: "/q/client"), message: Silent()) }
    }

    @Test func structsArraysDictionariesAndScalarsStream() throws {
        try expectSameBytes(Self.nested, streams: true)
        try expectSameBytes(Job(id: 7, name: "résumé", ratio: 2.0, tags: ["a"], parent: nil), streams: true)
        try expectSameBytes([Self.nested, Self.nested], streams: true)
        try expectSameBytes(42, streams: true)
        try expectSameBytes("text", streams: true)
        try expectSameBytes(2.0, streams: true)
        try expectSameBytes([1, 2, 3], streams: true)
        try expectSameBytes(Int?.none, streams: true)
        try expectSameBytes(Empty(), streams: true)
        try expectSameBytes([String: Int](), streams: true)
        try expectSameBytes(JSONValue.object(["b": 1, "a": [.null]]), streams: true)
    }

    /// An object's members come in the order `encode(to:)` wrote them, as Python writes
    /// a `dict` in insertion order; a key written again keeps its first place and takes
    /// its last value, as a `dict` assigned again does.
    @Test func membersKeepTheirWrittenOrderAndARepeatedKeyItsFirstPlaceAndLastValue() throws {
        try expectSameBytes(Derived(), streams: true)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON(Derived()), as: UTF8.self) == #"{"id": 99, "name": "base", "extra": [1, 2]}"#)
        try expectSameBytes(Job(id: 1, name: "n", ratio: 0.5, tags: [], parent: 2), streams: true)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON(Job(id: 1, name: "n", ratio: 0.5, tags: [], parent: 2)), as: UTF8.self)
            == #"{"id": 1, "name": "n", "ratio": 0.5, "tags": [], "parent": 2}"#)
        // Through the tree (a superclass's members under "super"), the same order.
        try expectSameBytes(WithSuper(), streams: false)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON(WithSuper()), as: UTF8.self) == #"{"own": "o", "super": {"id": 1, "name": "base"}}"#)
        // Three writes of one key among others, and a key written again after others.
        try expectSameBytes(Rewrites(), streams: true)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON(Rewrites()), as: UTF8.self) == #"{"z": 4, "a": 2, "m": 3}"#)
    }

    /// A dictionary's members have no order of their own (it changes from process to
    /// process): they are written sorted by key, the same bytes every time, whether the
    /// dictionary is the message, a member, an array's element, or inside the tree.
    @Test func aDictionarysMembersAreSortedByKey() throws {
        #expect(!DictionaryCodingKey.isDictionaryKey(Derived.Keys.self))
        let byName = ["zeta": 1, "alpha": 2, "mid": 3, "Alpha": 4, "": 5]
        let sorted = #"{"": 5, "Alpha": 4, "alpha": 2, "mid": 3, "zeta": 1}"#
        try expectSameBytes(byName, streams: true)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON(byName), as: UTF8.self) == sorted)
        #expect(String(decoding: try JSONValueEncoder.encodeJSONTree(byName), as: UTF8.self) == sorted)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON([10: "a", 9: "b", 100: "c"]), as: UTF8.self) == #"{"10": "a", "100": "c", "9": "b"}"#)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON(["z": byName, "a": [:]]), as: UTF8.self) == #"{"a": {}, "z": \#(sorted)}"#)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON([byName]), as: UTF8.self) == "[\(sorted)]")
        // A struct's members in declaration order around it, its own sorted.
        struct Holder: Codable { var z = 1; var table = ["b": 2, "a": 1]; var a = 0 }
        try expectSameBytes(Holder(), streams: true)
        #expect(String(decoding: try JSONValueEncoder.encodeJSON(Holder()), as: UTF8.self) == #"{"z": 1, "table": {"a": 1, "b": 2}, "a": 0}"#)
    }

    /// Members sort by the keys' own bytes; a key that needs escapes (which lengthen it)
    /// sends the message to the tree encoder, which sorts the unescaped keys.
    @Test func keysThatNeedEscapesGoThroughTheTree() throws {
        try expectSameBytes(["q\"uote": 1, "back\\slash": 2, "tab\t": 3, "plain": 4, "a": 5], streams: false)
        try expectSameBytes(["\u{01}": 1, "b": 2], streams: false)
        // Unescaped non-ASCII keys stream, sorted by UTF-8 bytes.
        try expectSameBytes(["é": 1, "e": 2, "z": 3, "我": 4, "E": 5, "": 6], streams: true)
    }

    @Test func nestedContainersAndSuperEncodersGoThroughTheTree() throws {
        try expectSameBytes(Shape.circle(radius: 1.5), streams: false)
        try expectSameBytes([Shape.square(2), .none], streams: false)
        try expectSameBytes(WithSuper(), streams: false)
        // The fallback is per message: a later message streams again.
        try expectSameBytes(Self.nested, streams: true)
    }

    @Test func errorsAreTheTreeEncodersErrors() throws {
        #expect(throws: EncodingError.self) { try JSONValueEncoder.encodeJSON(UInt64.max) }
        #expect(throws: EncodingError.self) { try JSONValueEncoder.encodeJSON(["n": UInt64.max]) }
        #expect(throws: EncodingError.self) { try JSONValueEncoder.encodeJSON(Silent()) }
        #expect(try JSONStreamEncoder.encode(Silent()) == nil)
        try expectSameBytes([Silent()], streams: true)
        try expectSameBytes(Forgiving(), streams: false)
    }
}
