import Foundation
import TestSupport
import Testing
@testable import RedisUtil

/// A message means what Python's `json.loads` says it means, whatever type it is
/// received as. Before the fix the answer depended on the type: a repeated key kept its
/// last value in a `JSONValue` but its first in a typed message (Foundation's
/// `JSONDecoder`), and a typed message read the strings `"NaN"` and `"Infinity"` as
/// numbers and a bare `NaN` as the string `"NaN"`. Each expected value below is what
/// `json.loads` gives for the same text (Python 3).
@Suite struct PythonReadingTests {
    struct Flat: Codable, Equatable { var a: String }
    struct Inner: Codable, Equatable { var a: String }
    struct Nested: Codable, Equatable {
        var n: Inner
        var list: [Inner]
        var m: [String: Inner]
    }
    struct Mixed: Codable, Equatable {
        var a: String
        var b: [String: String]
        var d: [Int]
    }
    struct Optionals: Codable, Equatable {
        var a: String?
        var n: Inner?
        var missing: Int?
    }

    static func decode<T: Decodable>(_ type: T.Type, _ json: String) throws(RedisChannelError) -> T {
        try MessageCodec.decode(T.self, from: Array(json.utf8), list: "l")
    }

    // MARK: Repeated keys: the last value wins, at every depth, through every path

    static let flat = #"{"a":"1","a":"2"}"#
    static let nested = #"{"n":{"a":"1","a":"2"},"list":[{"a":"1","a":"3"}],"m":{"x":{"a":"1"},"x":{"a":"4"}}}"#
    static let mixed = #"{"a":"1","b":{"c":"1","c":"2"},"a":"3","d":[1,2],"d":[3]}"#

    @Test func aFlatRepeatedKeyKeepsItsLastValue() throws {
        #expect(try Self.decode(JSONValue.self, Self.flat) == ["a": "2"])
        #expect(try Self.decode(JSONValue?.self, Self.flat) == ["a": "2"])
        #expect(try Self.decode([String: String].self, Self.flat) == ["a": "2"])
        #expect(try Self.decode([String: JSONValue].self, Self.flat) == ["a": "2"])
        #expect(try Self.decode(Flat.self, Self.flat) == Flat(a: "2"))
        #expect(try Self.decode(Flat?.self, Self.flat) == Flat(a: "2"))
        #expect(try Self.decode(Optionals.self, Self.flat) == Optionals(a: "2"))
        #expect(try Self.decode([String: Int].self, #"{"x":1,"y":2,"x":3}"#) == ["x": 3, "y": 2])
        #expect(try Self.decode([String: Int?].self, #"{"x":null,"x":1}"#) == ["x": 1])
    }

    @Test func nestedRepeatedKeysKeepTheirLastValues() throws {
        let python: JSONValue = ["n": ["a": "2"], "list": [["a": "3"]], "m": ["x": ["a": "4"]]]
        #expect(try Self.decode(JSONValue.self, Self.nested) == python)
        #expect(try Self.decode([String: JSONValue].self, Self.nested) == python.objectValue?.dictionary)
        #expect(try Self.decode(Nested.self, Self.nested) == Nested(n: Inner(a: "2"), list: [Inner(a: "3")], m: ["x": Inner(a: "4")]))
        #expect(try Self.decode(Nested?.self, Self.nested)?.m["x"] == Inner(a: "4"))
        #expect(try Self.decode([String: [String: String]].self, #"{"n":{"a":"1","a":"2"}}"#) == ["n": ["a": "2"]])
        #expect(try Self.decode([[String: String]].self, #"[{"a":"1","a":"2"},{"b":"1"}]"#) == [["a": "2"], ["b": "1"]])
        #expect(try Self.decode(Optionals.self, #"{"n":{"a":"1","a":"2"},"a":null,"a":"x"}"#) == Optionals(a: "x", n: Inner(a: "2")))
        // A JSONValue field holds what a JSONValue message would.
        struct WithAny: Decodable, Equatable { var any: JSONValue }
        #expect(try Self.decode(WithAny.self, #"{"any":{"k":1,"k":[2]}}"#) == WithAny(any: ["k": [2]]))
    }

    @Test func aRepeatedKeyMayChangeItsValuesType() throws {
        let python: JSONValue = ["a": "3", "b": ["c": "2"], "d": [3]]
        #expect(try Self.decode(JSONValue.self, Self.mixed) == python)
        #expect(try Self.decode([String: JSONValue].self, Self.mixed) == python.objectValue?.dictionary)
        #expect(try Self.decode(Mixed.self, Self.mixed) == Mixed(a: "3", b: ["c": "2"], d: [3]))
        // The first value would fit, the last does not: the message does not fit.
        #expect(throws: RedisChannelError.self) { try Self.decode(Flat.self, #"{"a":"1","a":2}"#) }
        #expect(try Self.decode(Flat.self, #"{"a":1,"a":"2"}"#) == Flat(a: "2"))
    }

    // MARK: NaN and Infinity: numbers where a number is expected, never strings

    @Test func stringsThatSayNaNOrInfinityAreNotNumbers() {
        #expect(throws: RedisChannelError.self) { try Self.decode([String: Double].self, #"{"a":NaN,"b":"NaN","c":"Infinity"}"#) }
        #expect(throws: RedisChannelError.self) { try Self.decode([String: Double].self, #"{"c":"-Infinity"}"#) }
        #expect(throws: RedisChannelError.self) { try Self.decode(Double.self, #""NaN""#) }
        #expect(throws: RedisChannelError.self) { try Self.decode([Float].self, #"["Infinity"]"#) }
        struct Reading: Decodable { var value: Double }
        #expect(throws: RedisChannelError.self) { try Self.decode(Reading.self, #"{"value":"NaN"}"#) }
        #expect(throws: RedisChannelError.self) { try Self.decode(Reading?.self, #"{"value":"Infinity"}"#) }
    }

    @Test func bareNaNOrInfinityIsNotAString() {
        #expect(throws: RedisChannelError.self) { try Self.decode([String].self, #"["x", NaN]"#) }
        #expect(throws: RedisChannelError.self) { try Self.decode([String: String].self, #"{"a":Infinity}"#) }
        #expect(throws: RedisChannelError.self) { try Self.decode(String.self, "-Infinity") }
        #expect(throws: RedisChannelError.self) { try Self.decode(Flat.self, #"{"a":NaN}"#) }
        #expect(throws: RedisChannelError.self) { try Self.decode(Optionals.self, #"{"a":NaN}"#) }
        // Nor an integer or a Decimal, which have no such values.
        #expect(throws: RedisChannelError.self) { try Self.decode([Int].self, "[NaN]") }
        #expect(throws: RedisChannelError.self) { try Self.decode(Decimal.self, "Infinity") }
    }

    @Test func bareNaNAndInfinityAreNumbersWhereANumberIsExpected() throws {
        let mixed = #"{"a":NaN,"b":"NaN","c":"Infinity"}"#
        #expect(try Self.decode(JSONValue.self, mixed).jsonBytes == Array(#"{"a": NaN, "b": "NaN", "c": "Infinity"}"#.utf8))
        #expect(try Self.decode([String: JSONValue].self, mixed)["b"] == "NaN")
        #expect(try Self.decode([Double].self, "[NaN, Infinity, -Infinity]").map(\.description) == ["nan", "inf", "-inf"])
        #expect(try Self.decode([Float?].self, "[-Infinity, null]") == [-.infinity, nil])
        #expect(try Self.decode(Double.self, "Infinity") == .infinity)
        struct Reading: Decodable { var value: Double; var label: String }
        let reading = try Self.decode(Reading.self, #"{"value":NaN,"label":"NaN"}"#)
        #expect(reading.value.isNaN && reading.label == "NaN")
    }

    // MARK: Every path, on random nested messages

    /// Random nested messages, with repeated keys, `NaN`, escapes and now and then
    /// something that is not JSON, read as a `JSONValue` (the reader alone), as a
    /// `[String: JSONValue]` and as a type that walks the document through the decoder's
    /// containers: the same value, or the same refusal, every way. Where the message is
    /// strict JSON without a repeated key, Foundation reads the walking type the same.
    @Test func randomNestedMessagesReadAlikeThroughEveryPath() throws {
        var gen = RandomJSON(rng: SeededGenerator(seed: 0x5EED_0DD5_0002))
        for _ in 0..<800 {
            let bytes = gen.nestedObject(depth: 0)
            let shown = FlatJSONDecoderTests.show(bytes)
            let reference = try? MessageCodec.decode(JSONValue.self, from: bytes, list: "l")
            let members = try? MessageCodec.decode([String: JSONValue].self, from: bytes, list: "l")
            let walked = try? MessageCodec.decode(Walked.self, from: bytes, list: "l")
            // A dictionary has no order: compared with every object's keys sorted.
            #expect(members.map { JSONValue.object(JSONObject(sortingKeysOf: $0)).sortingKeys.jsonBytes } == reference?.sortingKeys.jsonBytes, "\(shown)")
            #expect(walked?.value.jsonBytes == reference?.jsonBytes, "\(shown)")
            if (try? JSONReader.read(bytes, as: StrictJSONProbe.self))?.isStrict == true {
                // Foundation's `allKeys` come in no set order.
                let foundation = try? JSONDecoder().decode(Walked.self, from: Data(bytes))
                #expect(foundation?.value.sortingKeys.jsonBytes == reference?.sortingKeys.jsonBytes, "Foundation: \(shown)")
            }
        }
    }

    /// Any JSON value, decoded through keyed, unkeyed and single-value containers
    /// (`allKeys`, `isAtEnd`, `decodeNil`, scalars tried in turn), never through the
    /// channel's own reading of a ``JSONValue``.
    struct Walked: Decodable {
        let value: JSONValue

        struct AnyKey: CodingKey {
            let stringValue: String
            var intValue: Int? { nil }
            init(stringValue: String) { self.stringValue = stringValue }
            init?(intValue: Int) { nil }
        }

        init(from decoder: any Decoder) throws {
            if let keyed = try? decoder.container(keyedBy: AnyKey.self) {
                var members = JSONObject()
                for key in keyed.allKeys { members[key.stringValue] = try keyed.decode(Walked.self, forKey: key).value }
                value = .object(members)
            } else if var unkeyed = try? decoder.unkeyedContainer() {
                var elements: [JSONValue] = []
                while !unkeyed.isAtEnd {
                    elements.append(try unkeyed.decodeNil() ? .null : try unkeyed.decode(Walked.self).value)
                }
                value = .array(elements)
            } else {
                let single = try decoder.singleValueContainer()
                if single.decodeNil() {
                    value = .null
                } else if let flag = try? single.decode(Bool.self) {
                    value = .bool(flag)
                } else if let number = try? single.decode(Double.self) {
                    value = .number(number)
                } else {
                    value = .string(try single.decode(String.self))
                }
            }
        }
    }
}

extension RandomJSON {
    /// A random object nested up to four levels, keys often repeated.
    mutating func nestedObject(depth: Int) -> [UInt8] {
        var members: [[UInt8]] = []
        for _ in 0..<Int.random(in: 0...5, using: &rng) {
            let key = pick(["a", "b", "c", "é", "e\u{301}", #"\u0061"#])
            members.append(Array("\"\(key)\": ".utf8) + nestedValue(depth: depth + 1))
        }
        return Array("{".utf8) + Array(members.joined(separator: Array(", ".utf8))) + Array("}".utf8)
    }

    mutating func nestedValue(depth: Int) -> [UInt8] {
        switch Int.random(in: 0..<10, using: &rng) {
        case 0...1 where depth < 4: return nestedObject(depth: depth)
        case 2 where depth < 4:
            let elements = (0..<Int.random(in: 0...3, using: &rng)).map { _ in nestedValue(depth: depth + 1) }
            return Array("[".utf8) + Array(elements.joined(separator: Array(",".utf8))) + Array("]".utf8)
        case 3: return Array(pick(["NaN", "Infinity", "-Infinity", "1.5", "-2.25", "1e3", "0.1"]).utf8)
        case 4...5: return string()
        case 6: return Array(String(Int.random(in: -1000...1000, using: &rng)).utf8)
        default: return Array(pick(["true", "false", "null", "\"NaN\"", "\"x\""]).utf8)
        }
    }
}
