import Foundation
import Testing
@testable import RedisUtil

/// The member reader's first way (``JSONMemberStream``): members read in the order they
/// come. Where it answers, the same value as `init(from:)` and Foundation; where the message
/// leaves that order, it declines and the look-up reading answers as before.
@Suite struct JSONMemberStreamTests {
    /// Reads its members in declaration order, the order its `encode(to:)` writes them.
    struct InOrder: Codable, Equatable, JSONMemberDecodable {
        var text: String
        var count: Int
        var big: UInt64
        var ratio: Double
        var flag: Bool
        var maybe: String?

        init(text: String, count: Int, big: UInt64, ratio: Double, flag: Bool, maybe: String?) {
            (self.text, self.count, self.big, self.ratio, self.flag, self.maybe) = (text, count, big, ratio, flag, maybe)
        }

        init(members: inout JSONMemberReader) throws {
            text = try members.read("text")
            count = try members.read("count")
            big = try members.read("big")
            ratio = try members.read("ratio")
            flag = try members.read("flag")
            maybe = try members.readIfPresent("maybe")
        }
    }

    /// Reads one key twice, as `init(from:)` may: with a repeated key in the message, both
    /// reads must give the value `init(from:)` gives (the last, as Python's `json.loads`).
    struct Twice: Codable, Equatable, JSONMemberDecodable {
        var first: Int
        var again: Int
        init(first: Int, again: Int) { (self.first, self.again) = (first, again) }
        enum CodingKeys: String, CodingKey { case a }
        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            first = try container.decode(Int.self, forKey: .a)
            again = try container.decode(Int.self, forKey: .a)
        }
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(first, forKey: .a)
        }
        init(members: inout JSONMemberReader) throws {
            first = try members.read("a")
            again = try members.read("a")
        }
    }

    static func message(_ index: Int) -> InOrder {
        let strings = ["", "plain", "q\"uote\\back", "tab\tnew\nline", "é我🎉", String(repeating: "x", count: 70)]
        return InOrder(text: strings[index % strings.count], count: index * 7919 - 40_000, big: UInt64(index) << 40,
                       ratio: [0.0, 0.5, 1e-7, -3.0, 123.456][index % 5], flag: index % 2 == 0,
                       maybe: index % 3 == 0 ? nil : strings[(index + 1) % strings.count])
    }

    /// The reading's answer against Foundation's and the channel's; `streams`: whether the
    /// stream itself answers.
    func expectSame(_ text: String, streams: Bool, sourceLocation: SourceLocation = #_sourceLocation) {
        let bytes = Array(text.utf8)
        let streamed = try? JSONMemberReader.streamed(InOrder.self, from: bytes)
        #expect((streamed != nil) == streams, "\(text)", sourceLocation: sourceLocation)
        let foundation = try? JSONDecoder().decode(InOrder.self, from: Data(bytes))
        if let streamed { #expect(streamed == foundation, "\(text)", sourceLocation: sourceLocation) }
        if let read = JSONMemberReader.message(InOrder.self, from: bytes) {
            #expect(read == foundation, "\(text)", sourceLocation: sourceLocation)
        }
        #expect((try? MessageCodec.decode(InOrder.self, from: bytes, list: "l")) == foundation, "\(text)", sourceLocation: sourceLocation)
    }

    @Test func messagesInDeclarationOrderAreReadAsTheyCome() throws {
        for index in 0..<40 {
            let value = Self.message(index)
            let encoded = try String(decoding: MessageCodec.encode(value), as: UTF8.self)
            // A missing optional (the last member) is looked up: the stream cannot tell a
            // missing key from one that comes in another order.
            expectSame(encoded, streams: value.maybe != nil)
            // Other spacing, as Python or a hand-written message might have.
            let spaced = " \n" + encoded.replacingOccurrences(of: ",\"", with: " ,\t\"").replacingOccurrences(of: "\":", with: "\" :\r\n") + "\n "
            expectSame(spaced, streams: value.maybe != nil)
        }
        expectSame(#"{"text": "t", "count": 1, "big": 2, "ratio": 0.5, "flag": true, "maybe": null}"#, streams: true)
    }

    @Test func whatLeavesTheOrderIsReadByLookUp() {
        let members = [#""text": "t""#, #""count": 1"#, #""big": 2"#, #""ratio": 0.5"#, #""flag": true"#, #""maybe": "m""#]
        let plain = "{" + members.joined(separator: ", ") + "}"
        expectSame(plain, streams: true)
        // Another order, a member the type does not read, an escaped key: read by look-up.
        expectSame("{" + [members[1], members[0]] .joined(separator: ", ") + ", " + members[2...].joined(separator: ", ") + "}", streams: false)
        expectSame("{" + members.joined(separator: ", ") + #", "extra": 7}"#, streams: false)
        expectSame(plain.replacingOccurrences(of: #""text""#, with: #""\u0074ext""#), streams: false)
        // Not strict JSON, or not one object: declined by both readings, and the channel's
        // answer is an error (Foundation's decoder would take the trailing comma).
        for broken in [plain + " x", plain.replacingOccurrences(of: "}", with: ",}"), String(plain.dropLast()),
                       plain.replacingOccurrences(of: #""count": 1"#, with: #""count" 1"#),
                       plain.replacingOccurrences(of: #""count""#, with: #""count"#), "[" + plain + "]", #""text""#, ""] {
            #expect((try? JSONMemberReader.streamed(InOrder.self, from: Array(broken.utf8))) == nil, "\(broken)")
            #expect(JSONMemberReader.message(InOrder.self, from: Array(broken.utf8)) == nil, "\(broken)")
            #expect(throws: RedisChannelError.self, "\(broken)") { try MessageCodec.decode(InOrder.self, from: Array(broken.utf8), list: "l") }
        }
    }

    @Test func aKeyReadTwiceGetsWhatInitFromGets() throws {
        // One member: both reads find it (the stream leaves at the second; the look-up answers).
        let single = Array(#"{"a": 1}"#.utf8)
        #expect(JSONMemberReader.message(Twice.self, from: single) == Twice(first: 1, again: 1))
        // A repeated key: in order it would give 1 then 2; init(from:) gives the last twice.
        let repeated = Array(#"{"a": 1, "a": 2}"#.utf8)
        #expect((try? JSONMemberReader.streamed(Twice.self, from: repeated)) == nil)
        #expect(JSONMemberReader.message(Twice.self, from: repeated) == nil)
        #expect(try MessageCodec.decode(Twice.self, from: repeated, list: "l") == Twice(first: 2, again: 2))
    }

    /// Many keys whose hash bits collide: each is looked for among those read before it,
    /// and a message of distinct keys still streams.
    @Test func manyDistinctKeysStream() throws {
        struct Wide: Decodable, JSONMemberDecodable, Equatable {
            var values: [Int]
            static let keys: [StaticString] = ["k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8", "k9", "ka", "kb",
                                               "kc", "kd", "ke", "kf", "kg", "kh", "ki", "kj", "kk", "kl", "km", "kn"]
            init(from decoder: any Decoder) throws {
                struct Key: CodingKey {
                    var stringValue: String
                    init(stringValue: String) { self.stringValue = stringValue }
                    var intValue: Int? { nil }
                    init?(intValue: Int) { nil }
                }
                let container = try decoder.container(keyedBy: Key.self)
                values = try Self.keys.map { try container.decode(Int.self, forKey: Key(stringValue: $0.description)) }
            }
            init(members: inout JSONMemberReader) throws {
                values = []
                for key in Self.keys { values.append(try members.read(key)) }
            }
        }
        let text = "{" + Wide.keys.enumerated().map { "\"\($0.element)\": \($0.offset)" }.joined(separator: ", ") + "}"
        let streamed = try JSONMemberReader.streamed(Wide.self, from: Array(text.utf8))
        #expect(streamed.values == Array(0..<24))
    }

    /// The typed reads (``JSONMemberStream/nextString(_:)``, ``JSONMemberStream/nextInteger(_:as:)``)
    /// answer exactly as the scalar and its conversion do (``JSONMemberStream/next(_:)``
    /// then ``FlatJSONDocument/Scalar``'s readers), for every kind of value, in and out of
    /// each type's range, well formed or not, followed by the object's end, another
    /// member or something else; where they answer, as Foundation decodes the member.
    @Test func typedReadsAnswerAsTheScalarsDo() {
        let values = [#""""#, #""plain""#, #""q\"uote\\""#, #""\u00e9""#, #""é我""#, #""\ud83c\udf89""#,
                      "\"" + String(repeating: "x", count: 70) + "\"", #""bad\q""#, "\"tab\t\"", #""open"#,
                      "0", "-0", "-1", "42", "127", "128", "-128", "-129", "255", "256", "65535", "65536",
                      "9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
                      "18446744073709551615", "18446744073709551616", "99999999999999999999", "-10000000000000000000",
                      "-00", "01",
                      "1.5", "1e3", "-0.0", "2E-1", "-", "1.", "true", "false", "null", "nul", "[1]", "{}", ""]
        func check<T: FixedWidthInteger & Decodable>(_ type: T.Type, _ bytes: [UInt8], _ text: String) {
            var typed = JSONMemberStream(bytes)
            var scalar = JSONMemberStream(bytes)
            let read = typed.nextInteger("v", as: T.self)
            let value = scalar.next("v")
            #expect(read == value?.integer(in: bytes, as: T.self), "\(T.self) \(text)")
            // No answer leaves the stream, but for an integer that does not fit.
            if read == nil { #expect(typed.left == !(value?.kind == .integer || value?.kind == .longInteger), "\(T.self) \(text)") }
            if let read {
                let (typedFinished, scalarFinished) = (typed.finished(), scalar.finished())
                #expect(typedFinished == scalarFinished, "\(T.self) \(text)")
                #expect(read == (try? JSONDecoder().decode(Member<T>.self, from: Data(bytes)))?.v, "\(T.self) \(text)")
            }
        }
        for value in values {
            for rest in ["}", #", "w": 1}"#, " \n}", " x}", ""] {
                let text = #"{"v": "# + value + rest
                let bytes = Array(text.utf8)
                var typed = JSONMemberStream(bytes)
                var scalar = JSONMemberStream(bytes)
                let string = typed.nextString("v")
                #expect(string == scalar.next("v")?.string(in: bytes), "\(text)")
                if string == nil { #expect(typed.left, "\(text)") }
                if let string {
                    let (typedFinished, scalarFinished) = (typed.finished(), scalar.finished())
                    #expect(typedFinished == scalarFinished, "\(text)")
                    #expect(string == (try? JSONDecoder().decode(Member<String>.self, from: Data(bytes)))?.v, "\(text)")
                }
                check(Int.self, bytes, text)
                check(Int64.self, bytes, text)
                check(UInt64.self, bytes, text)
                check(Int8.self, bytes, text)
                check(UInt16.self, bytes, text)
                check(Int32.self, bytes, text)
            }
        }
        // Bytes that are not UTF-8 inside a string: no answer from either.
        for bytes in [Array(#"{"v": ""#.utf8) + [0xFF] + Array(#""}"#.utf8), Array(#"{"v": ""#.utf8) + [0xC3] + Array(#""}"#.utf8)] {
            var typed = JSONMemberStream(bytes)
            var scalar = JSONMemberStream(bytes)
            #expect(typed.nextString("v") == nil && scalar.next("v") == nil)
        }
        // Another key, or one after the object closed: no answer from either.
        var other = JSONMemberStream(Array(#"{"w": 1}"#.utf8))
        #expect(other.nextInteger("v", as: Int.self) == nil)
        var closed = JSONMemberStream(Array(#"{"v": "a"}"#.utf8))
        #expect(closed.nextString("v") == "a")
        #expect(closed.nextString("v") == nil)
        let finished = closed.finished()
        #expect(!finished)
    }

    /// A message of one member `v`, for Foundation's answer.
    struct Member<Value: Decodable>: Decodable { var v: Value }

    /// The key comparison, the one place the stream reads through pointers: a match only
    /// of `"key"` exactly, never past either buffer's end.
    @Test func keyMatchingStaysInBoundsAndWantsPlainASCII() {
        func match(_ wanted: String, _ text: String, at open: Int) -> Bool {
            Array(wanted.utf8).withUnsafeBufferPointer { wanted in
                Array(text.utf8).withUnsafeBufferPointer { JSONMemberStream.matchKey(wanted, in: $0, at: open) != nil }
            }
        }
        #expect(match("ab", #""ab""#, at: 0))
        #expect(match("ab", #"x "ab": 1"#, at: 2))
        #expect(match("", #""""#, at: 0))
        #expect(!match("ab", #""ab"#, at: 0))
        #expect(!match("ab", #""abc""#, at: 0))
        #expect(!match("ab", #""ab""#, at: 1))
        #expect(!match("ab", #""ab""#, at: 4))
        #expect(!match("ab", #""ab""#, at: -1))
        #expect(!match("ab", "", at: 0))
        // With eight bytes after the opening quote, a short key is loaded as one word:
        // only its own bytes count, and the closing quote must follow them.
        #expect(match("ab", #""ab": 12345678"#, at: 0))
        #expect(match("abcdefgh", #""abcdefgh": 1"#, at: 0))
        #expect(!match("ab", #""ac": 12345678"#, at: 0))
        #expect(!match("ab", #""abc": 12345678"#, at: 0))
        #expect(!match("abc", #""ab": 12345678"#, at: 0))
        #expect(!match("abcdefgh", #""abcdefgX": 1"#, at: 0))
        // Longer keys, a byte at a time.
        #expect(match("a_longer_key", #""a_longer_key": 1"#, at: 0))
        #expect(!match("a_longer_key", #""a_longer_kez": 1"#, at: 0))
        #expect(!match("a_longer_key", #""a_longer_key"#, at: 0))
        // Wanted keys the stream leaves to the look-up: a quote, a backslash, a control
        // character, a byte beyond ASCII (equal bytes would not settle equality there).
        #expect(!match("a\"", #""a"""#, at: 0))
        #expect(!match("a\\", #""a\""#, at: 0))
        #expect(!match("a\t", "\"a\t\"", at: 0))
        #expect(!match("é", #""é""#, at: 0))
        #expect(!match("a\"", #""a"": 12345678"#, at: 0))
        #expect(!match("é", #""é": 12345678"#, at: 0))
        #expect(!match("a\u{7}", "\"a\u{7}\": 12345678", at: 0))
        #expect(!match("a_longer_ké", #""a_longer_ké": 1"#, at: 0))
    }
}
