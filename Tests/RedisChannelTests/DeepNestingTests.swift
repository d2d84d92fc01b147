import Testing
@testable import RedisUtil

/// A message nested deeper than any receiver reads (`JSONReader.maxDepth`, 1000 levels,
/// about Python's own limit) is refused by every encoder while it writes, with a typed
/// error, and never overflows the stack.
///
/// Before the fix a `JSONValue` 100,000 deep crashed the sender in `JSONWriter.write`
/// (and a recursive `Codable` type in the encoders), which recursed with no limit and
/// checked the depth only after writing everything. The crashing cases run as exit
/// tests, so that a regression fails its test instead of killing the whole run.
///
/// Building a 100,000-deep `JSONValue` is fine; releasing it is not: Swift's own deinit
/// recurses once per level, and on an 8 MiB test thread (debug build) it survives
/// 40,000 levels and crashes at 50,000. So the tests take such values apart one level
/// at a time (``dismantle(_:)``), and keep to 100,000, a depth that crashed the writer.
@Suite struct DeepNestingTests {
    static let deep = 100_000

    /// `levels` arrays, one inside the other, built as `encode(to:)` runs: a recursive
    /// type's shape (a linked list, a tree) with no deep value to release.
    struct Nest: Codable {
        let levels: Int

        init(levels: Int) { self.levels = levels }
        init(from decoder: any Decoder) throws { levels = 0 }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.unkeyedContainer()
            if levels > 1 { try container.encode(Nest(levels: levels - 1)) }
        }
    }

    /// The same through the tree encoder: an enum with an associated value, which the
    /// streaming encoder leaves to it.
    indirect enum Chain: Encodable {
        case link(Chain)
        case end

        static func levels(_ count: Int) -> Chain {
            var chain = Chain.end
            for _ in 0..<count { chain = .link(chain) }
            return chain
        }
    }

    /// A typed message around a JSONValue.
    struct Envelope: Encodable {
        var id = 1
        var payload: JSONValue
    }

    /// A value of `levels` nested arrays, built without recursion.
    static func nestedArrays(_ levels: Int) -> JSONValue {
        var value: JSONValue = []
        for _ in 1..<levels { value = .array([value]) }
        return value
    }

    /// Releases `value` one level at a time: each level is freed while the test still
    /// holds the one inside it, so no deinit recurses.
    static func dismantle(_ value: inout JSONValue) {
        var rest = value
        value = .null
        while case .array(let elements) = rest, elements.count == 1 {
            let inner = elements[0]
            rest = inner
        }
    }

    /// Expects the channel's encoding of `message` (what `send` writes) to fail with the
    /// depth error, a typed `EncodingError.invalidValue` inside `.unencodable`.
    static func expectRefused<T: Encodable>(_ message: T, sourceLocation: SourceLocation = #_sourceLocation) {
        do throws(RedisChannelError) {
            _ = try MessageCodec.pushCommand(head: MessageCodec.pushHead(key: "/deep/client"), message: message)
            Issue.record("a message nested too deep was encoded", sourceLocation: sourceLocation)
        } catch {
            expectDepthError(error, sourceLocation: sourceLocation)
        }
        // A send with a channel timeout encodes the message alone.
        do throws(RedisChannelError) {
            _ = try MessageCodec.encode(message)
            Issue.record("a message nested too deep was encoded", sourceLocation: sourceLocation)
        } catch {
            expectDepthError(error, sourceLocation: sourceLocation)
        }
    }

    static func expectDepthError(_ error: RedisChannelError, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .unencodable(_, let underlying) = error, let encoding = underlying as? EncodingError,
              case .invalidValue(_, let context) = encoding else {
            Issue.record("expected .unencodable(EncodingError.invalidValue), got \(error)", sourceLocation: sourceLocation)
            return
        }
        #expect(context.debugDescription.contains("nested deeper than 1000 levels"), "\(context.debugDescription)", sourceLocation: sourceLocation)
        #expect(error.description.contains("nested deeper than 1000 levels"), sourceLocation: sourceLocation)
    }

    // MARK: Before the fix: crashed

    @Test func sendingAJSONValue100000DeepFailsWithATypedError() async {
        await #expect(processExitsWith: .success) {
            var value = DeepNestingTests.nestedArrays(DeepNestingTests.deep)
            DeepNestingTests.expectRefused(value)
            DeepNestingTests.expectRefused(Envelope(payload: value))
            DeepNestingTests.expectRefused(["list": [value]] as JSONValue)
            #expect(throws: EncodingError.self) { try JSONValueEncoder.encodeJSONTree(value) }
            do {
                #expect(try JSONStreamEncoder.encode(value) == nil, "the stream encoder leaves it to the tree")
            } catch {
                Issue.record(error)
            }
            DeepNestingTests.dismantle(&value)
        }
    }

    @Test func sendingARecursiveType100000DeepFailsWithATypedError() async {
        await #expect(processExitsWith: .success) {
            DeepNestingTests.expectRefused(Nest(levels: DeepNestingTests.deep))
            DeepNestingTests.expectRefused([Nest(levels: DeepNestingTests.deep)])
            #expect(throws: EncodingError.self) { try JSONValueEncoder.encodeJSONTree(Nest(levels: DeepNestingTests.deep)) }
            #expect(throws: EncodingError.self) { try JSONValue(encoding: Nest(levels: DeepNestingTests.deep)) }
        }
    }

    @Test func describingAJSONValue100000DeepCutsItOffAtTheLimit() async {
        await #expect(processExitsWith: .success) {
            var value = DeepNestingTests.nestedArrays(DeepNestingTests.deep)
            let text = value.description
            #expect(text == String(repeating: "[", count: 1000) + "…")
            #expect(value.jsonBytes == Array(text.utf8))
            DeepNestingTests.dismantle(&value)
        }
    }

    // MARK: Coverage: the limit itself, on every path

    /// 1000 levels are written and read back; 1001 are refused by each encoder.
    @Test func exactlyTheReadersLimitIsSent() throws {
        let limit = JSONReader.maxDepth
        let atLimit = Self.nestedArrays(limit)
        let bytes = try MessageCodec.encode(atLimit)
        #expect(bytes == Array((String(repeating: "[", count: limit) + String(repeating: "]", count: limit)).utf8))
        #expect(try MessageCodec.decode(JSONValue.self, from: bytes, list: "l").jsonBytes == bytes)
        #expect(try MessageCodec.encode(Nest(levels: limit)) == bytes)
        #expect(try MessageCodec.encode(Envelope(payload: Self.nestedArrays(limit - 1))).count == bytes.count - 2 + #"{"id": 1, "payload": }"#.utf8.count)

        Self.expectRefused(Self.nestedArrays(limit + 1))
        Self.expectRefused(Nest(levels: limit + 1))
        Self.expectRefused(Envelope(payload: Self.nestedArrays(limit)))
        Self.expectRefused(Chain.levels(limit + 1))
        #expect(try JSONStreamEncoder.encode(Nest(levels: limit + 1)) == nil, "the stream encoder leaves it to the tree")
        #expect(atLimit.description.hasSuffix("]"))
        #expect(Self.nestedArrays(limit + 1).description.hasSuffix("…"))
    }

    /// Through a channel: too deep a message is refused with the typed error, by both
    /// facades, and nothing reaches Redis; the deepest allowed one arrives whole.
    @Test func aChannelRefusesTooDeepAMessageAndSendsTheDeepestItMay() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client, "/deep")
            let (timed, _) = channelPair(client, "/deep/timed", timeout: .seconds(60))
            for channel in [c, timed] {
                do {
                    try await channel.send(Self.nestedArrays(JSONReader.maxDepth + 1))
                    Issue.record("sent a message nested too deep")
                } catch let error as RedisChannelError {
                    Self.expectDepthError(error)
                }
                await #expect(throws: RedisChannelError.self) { try await channel.send(Nest(levels: JSONReader.maxDepth + 1)) }
            }
            let viaCallback = await callbackResult { c.send(Self.nestedArrays(JSONReader.maxDepth + 1), completion: $0) }
            guard case .failure(.invalidArgument(let reason)) = viaCallback else {
                Issue.record("expected the callback facade's invalidArgument, got \(viaCallback)")
                return
            }
            #expect(reason.contains("nested deeper than 1000 levels"))
            #expect(try await client.send("EXISTS", "/deep/client", "/deep/timed/client").int == 0)

            try await c.send(Nest(levels: JSONReader.maxDepth))
            let received = try await s.recv(as: JSONValue.self)
            #expect(received?.jsonBytes == Self.nestedArrays(JSONReader.maxDepth).jsonBytes)
        }
    }

    /// The tree encoder's error names where the nesting went too deep.
    @Test func theTreeEncodersErrorHasTheCodingPath() {
        let error = #expect(throws: EncodingError.self) { try JSONValueEncoder.encodeJSONTree(Nest(levels: JSONReader.maxDepth + 5)) }
        guard case .invalidValue(_, let context)? = error else { return }
        #expect(context.codingPath.count == JSONReader.maxDepth + 1)
    }
}
