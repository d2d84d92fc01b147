import Foundation
import RESP
import Testing
@testable import RedisUtil

/// Messages that read their own members (``JSONMemberDecodable``) against their own
/// `init(from:)` and Foundation's `JSONDecoder`: where the reader answers, the same value;
/// where it declines, the channel decodes with `init(from:)`, errors included.
@Suite struct JSONMemberReaderTests {
    struct Message: Codable, Equatable, JSONMemberDecodable {
        var text: String
        var count: Int
        var stamp: Int64
        var big: UInt64
        var ratio: Double
        var flag: Bool
        var maybe: String?
        var maybeCount: Int?
        var maybeStamp: Int64?
        var maybeRatio: Double?
        var maybeFlag: Bool?

        init(text: String, count: Int, stamp: Int64, big: UInt64, ratio: Double, flag: Bool,
             maybe: String?, maybeCount: Int?, maybeStamp: Int64?, maybeRatio: Double?, maybeFlag: Bool?) {
            (self.text, self.count, self.stamp, self.big, self.ratio, self.flag) = (text, count, stamp, big, ratio, flag)
            (self.maybe, self.maybeCount, self.maybeStamp, self.maybeRatio, self.maybeFlag) = (maybe, maybeCount, maybeStamp, maybeRatio, maybeFlag)
        }

        init(members: inout JSONMemberReader) throws {
            // Not in the document's order: a reader looks each key up.
            flag = try members.read("flag")
            text = try members.read("text")
            count = try members.read("count")
            stamp = try members.read("stamp")
            big = try members.read("big")
            ratio = try members.read("ratio")
            maybe = try members.readIfPresent("maybe")
            maybeCount = try members.readIfPresent("maybeCount")
            maybeStamp = try members.readIfPresent("maybeStamp")
            maybeRatio = try members.readIfPresent("maybeRatio")
            maybeFlag = try members.readIfPresent("maybeFlag")
        }
    }

    /// A key beyond ASCII: equal as a Swift string whether composed or not.
    struct Accented: Codable, Equatable, JSONMemberDecodable {
        var café: Int
        init(members: inout JSONMemberReader) throws { café = try members.read("café") }
    }

    static let strings = ["", "plain", "q\"uote\\back", "tab\tnew\nline\u{1}", "é我🎉", String(repeating: "x", count: 70)]

    static func message(_ index: Int) -> Message {
        Message(
            text: strings[index % strings.count], count: index % 5 == 0 ? Int.min : index * 7919 - 40_000,
            stamp: Int64(index) * 1_733_000_000_000, big: index % 3 == 0 ? UInt64(Int64.max) : UInt64(index),
            ratio: [0.0, 0.5, 1e-7, 1e16, 2.5e300, -3.0, 123.456][index % 7], flag: index % 2 == 0,
            maybe: index % 3 == 0 ? nil : strings[(index + 1) % strings.count], maybeCount: index % 4 == 0 ? nil : -index,
            maybeStamp: index % 2 == 0 ? nil : Int64(index), maybeRatio: index % 2 == 0 ? nil : 0.25,
            maybeFlag: index % 5 == 0 ? nil : index % 3 == 0)
    }

    /// The same value through the member reader, the channel, and Foundation.
    func expectSame(_ bytes: [UInt8], reads: Bool, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let read = JSONMemberReader.message(Message.self, from: bytes)
        #expect((read != nil) == reads, "\(String(decoding: bytes, as: UTF8.self))", sourceLocation: sourceLocation)
        let foundation = try? JSONDecoder().decode(Message.self, from: Data(bytes))
        let channel = try? MessageCodec.decode(Message.self, from: bytes, list: "l")
        if let read { #expect(read == foundation, sourceLocation: sourceLocation) }
        #expect(channel == foundation, sourceLocation: sourceLocation)
    }

    @Test func flatMessagesReadAsInitFromReadsThem() throws {
        for index in 0..<60 {
            let value = Self.message(index)
            // As a Swift peer writes it, and as Foundation writes it (its own order,
            // nulls spelled out), with other spacing, as Python might.
            try expectSame(MessageCodec.encode(value), reads: true)
            var python = try JSONEncoder().encode(value)
            if index % 2 == 0 { python = Data(String(decoding: python, as: UTF8.self).replacingOccurrences(of: ",", with: " ,\n ").utf8) }
            try expectSame(Array(python), reads: true)
        }
        // Explicit nulls for optionals, and a key `init(from:)` does not know: both fine.
        try expectSame(Array(#"{"text": "t", "count": 1, "stamp": 2, "big": 3, "ratio": 0.5, "flag": true, "maybe": null, "maybeFlag": null, "extra": 7}"#.utf8), reads: true)
    }

    /// The channel remembers the last message type found to read its own members (and
    /// the last found not to): types taking turns each get their own reading.
    @Test func typesTakingTurnsEachReadAsThemselves() throws {
        struct Plain: Codable, Equatable { var café: Int }
        for index in 0..<6 {
            let message = Self.message(index)
            #expect(try MessageCodec.decode(Message.self, from: MessageCodec.encode(message), list: "l") == message)
            #expect(try MessageCodec.decode(Accented.self, from: Array(#"{"café": \#(index)}"#.utf8), list: "l") == Accented(café: index))
            if index % 2 == 0 {
                #expect(try MessageCodec.decode(Plain.self, from: Array(#"{"café": \#(index)}"#.utf8), list: "l") == Plain(café: index))
            }
        }
    }

    @Test func whatTheReaderCannotAnswerGoesThroughInitFrom() throws {
        let base = #""text": "t", "count": 1, "stamp": 2, "big": 3, "ratio": 0.5, "flag": true"#
        // A missing key, a value of another type, null for a required member: declined,
        // and the channel's answer (an error here) is init(from:)'s.
        for broken in [#"{"count": 1}"#, "{\(base.replacingOccurrences(of: "\"count\": 1", with: "\"count\": \"1\""))}",
                       "{\(base.replacingOccurrences(of: "\"flag\": true", with: "\"flag\": null"))}",
                       "{\(base.replacingOccurrences(of: "\"count\": 1", with: "\"count\": 1.5"))}"] {
            try expectSame(Array(broken.utf8), reads: false)
            #expect(throws: RedisChannelError.self) { try MessageCodec.decode(Message.self, from: Array(broken.utf8), list: "l") }
        }
        // Not flat (a nested member init(from:) ignores), a repeated key, Python's NaN,
        // a number a field reads by other rules: declined, and init(from:) decides.
        try expectSame(Array("{\(base), \"nested\": {\"a\": [1]}}".utf8), reads: false)
        // A repeated key: the channel keeps the last value, as Python's json.loads does
        // (Foundation keeps the first), by init(from:) over its own reader.
        let repeated = Array("{\(base), \"count\": 2}".utf8)
        #expect(JSONMemberReader.message(Message.self, from: repeated) == nil)
        #expect(try MessageCodec.decode(Message.self, from: repeated, list: "l").count == 2)
        try expectSame(Array("{\(base.replacingOccurrences(of: "0.5", with: "1e3"))}".utf8), reads: true)
        try expectSame(Array("{\(base.replacingOccurrences(of: "\"count\": 1", with: "\"count\": 1e3"))}".utf8), reads: false)
        try expectSame(Array("{\(base.replacingOccurrences(of: "\"big\": 3", with: "\"big\": -3"))}".utf8), reads: false)
        #expect(JSONMemberReader.message(Message.self, from: Array("{\(base.replacingOccurrences(of: "0.5", with: "NaN"))}".utf8)) == nil)
        #expect(JSONMemberReader.message(Message.self, from: Array(#""scalar""#.utf8)) == nil)
        #expect(JSONMemberReader.message(Message.self, from: Array("{\(base)".utf8)) == nil)
    }

    /// Integers of other widths: in range read, out of range declined (then init(from:)
    /// throws), never a trap.
    struct Narrow: Codable, Equatable, JSONMemberDecodable {
        var small: Int8
        var port: UInt16
        var maybe: Int32?
        init(small: Int8, port: UInt16, maybe: Int32?) { (self.small, self.port, self.maybe) = (small, port, maybe) }
        init(members: inout JSONMemberReader) throws {
            small = try members.read("small")
            port = try members.read("port")
            maybe = try members.readIfPresent("maybe")
        }
    }

    @Test func integersOfOtherWidthsReadInRangeAndDeclineOutOfIt() throws {
        let fits = Array(#"{"small": -128, "port": 65535, "maybe": -2147483648}"#.utf8)
        #expect(JSONMemberReader.message(Narrow.self, from: fits) == Narrow(small: -128, port: 65535, maybe: Int32.min))
        #expect(try MessageCodec.decode(Narrow.self, from: fits, list: "l") == JSONDecoder().decode(Narrow.self, from: Data(fits)))
        for outside in [#"{"small": 128, "port": 1}"#, #"{"small": 1, "port": -1}"#, #"{"small": 1, "port": 1, "maybe": 2147483648}"#] {
            #expect(JSONMemberReader.message(Narrow.self, from: Array(outside.utf8)) == nil, "\(outside)")
            #expect(throws: RedisChannelError.self) { try MessageCodec.decode(Narrow.self, from: Array(outside.utf8), list: "l") }
        }
    }

    /// A message of one wide unsigned integer.
    struct Wide: Codable, Equatable, JSONMemberDecodable {
        var big: UInt64
        init(big: UInt64) { self.big = big }
        init(members: inout JSONMemberReader) throws { big = try members.read("big") }
    }

    /// Integers of 19 digits read as they are scanned; of 20 and more from their bytes,
    /// in range or not (a wrapped reading of their digits would give another value).
    @Test func integersOfTwentyDigitsReadFromTheirBytes() throws {
        for (text, value) in [("9999999999999999999", UInt64(9_999_999_999_999_999_999)), ("18446744073709551615", .max),
                              ("10000000000000000000", 10_000_000_000_000_000_000)] {
            let bytes = Array("{\"big\": \(text)}".utf8)
            #expect(JSONMemberReader.message(Wide.self, from: bytes) == Wide(big: value), "\(text)")
            #expect(try MessageCodec.decode(Wide.self, from: bytes, list: "l") == Wide(big: value), "\(text)")
        }
        for text in ["18446744073709551616", "20000000000000000000", "-1"] {
            let bytes = Array("{\"big\": \(text)}".utf8)
            #expect(JSONMemberReader.message(Wide.self, from: bytes) == nil, "\(text)")
            #expect(throws: RedisChannelError.self, "\(text)") { try MessageCodec.decode(Wide.self, from: bytes, list: "l") }
        }
    }

    @Test func aKeyBeyondASCIIMatchesAsASwiftString() throws {
        for spelling in ["café", "cafe\u{301}"] {
            let bytes = Array("{\"\(spelling)\": 7}".utf8)
            #expect(JSONMemberReader.message(Accented.self, from: bytes) == Accented(café: 7), "\(Array(spelling.utf8))")
            #expect(try MessageCodec.decode(Accented.self, from: bytes, list: "l") == Accented(café: 7))
        }
    }
}

extension JSONMemberReaderTests.Accented {
    init(café: Int) { self.café = café }
}
