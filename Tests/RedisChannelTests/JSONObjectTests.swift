import Foundation
@testable import RedisUtil
import Testing
import TestSupport

/// A ``JSONObject`` is a Python `dict`: members in insertion order (read, literal or
/// added), a repeated key in its first place with its last value, equality without order.
@Suite struct JSONObjectTests {
    @Test func membersKeepTheOrderTheyWereGivenIn() {
        let object: JSONObject = ["zeta": 1, "alpha": "a", "mid": [true]]
        #expect(object.keys == ["zeta", "alpha", "mid"])
        #expect(object.values == [1, "a", [true]])
        #expect(object.map(\.key) == ["zeta", "alpha", "mid"])
        #expect(object[1].key == "alpha" && object[1].value == "a")
        #expect(object.description == #"{"zeta": 1, "alpha": "a", "mid": [true]}"#)
        // A JSONValue literal too, nested ones included, as Python writes a dict literal.
        let value: JSONValue = ["b": ["y": 1, "x": 2], "a": nil]
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == #"{"b": {"y": 1, "x": 2}, "a": null}"#)
    }

    @Test func aRepeatedKeyKeepsItsFirstPlaceAndTakesItsLastValue() throws {
        let object: JSONObject = ["a": 1, "b": 2, "a": 3]
        #expect(object.keys == ["a", "b"] && object["a"] == 3)
        #expect(JSONObject([("k", 1), ("j", 2), ("k", 3), ("k", 4)]).description == #"{"k": 4, "j": 2}"#)
        // Python: json.dumps(json.loads('{"a": 1, "b": 2, "a": 3}')) == '{"a": 3, "b": 2}'
        let read = try JSONValue(json: Array(#"{"a": 1, "b": 2, "a": 3}"#.utf8))
        #expect(String(decoding: read.jsonBytes, as: UTF8.self) == #"{"a": 3, "b": 2}"#)
    }

    /// A literal's members are taken as they are when no key repeats: past 16 members
    /// with an index, and a repeated key still found, at any size.
    @Test func literalsOfAnySizeFindTheirKeysAndTheirRepeatedKeys() {
        let wide: JSONObject = ["k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16]
        #expect(wide.keys == (0...16).map { "k\($0)" })
        #expect((0...16).allSatisfy { wide["k\($0)"] == .number(Double($0)) })
        #expect(wide["k17"] == nil)
        let repeated: JSONObject = ["k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k3": 33]
        #expect(repeated.count == 16 && repeated["k3"] == 33 && repeated.keys[3] == "k3")
        let small: JSONValue = ["a": 1, "b": 2, "c": 3, "b": 4]
        #expect(small.description == #"{"a": 1, "b": 4, "c": 3}"#)
    }

    @Test func settingAndRemovingMembers() {
        var object: JSONObject = ["a": 1, "b": 2, "c": 3]
        object["d"] = 4
        object["b"] = 20
        #expect(object.description == #"{"a": 1, "b": 20, "c": 3, "d": 4}"#)
        #expect(object.updateValue(30, forKey: "c") == 3)
        #expect(object.updateValue(5, forKey: "e") == nil)
        object["a"] = nil
        #expect(object.removeValue(forKey: "d") == 4)
        #expect(object.removeValue(forKey: "missing") == nil)
        #expect(object.description == #"{"b": 20, "c": 30, "e": 5}"#)
        #expect(object["a"] == nil && object["b"] == 20 && object.count == 3)
        object["a"] = 1
        #expect(object.keys == ["b", "c", "e", "a"])
    }

    /// Random sets, removals and look-ups over 60 keys against a plain list of pairs, so
    /// that objects grow past the 16 members where keys start to be found through an
    /// index, shrink below it again, and have members removed while indexed.
    @Test(arguments: 0..<3)
    func bigObjectsBehaveAsSmallOnes(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(0x0B1E_C700 + seed))
        var object = JSONObject()
        var model: [(key: String, value: Int)] = []
        for step in 0..<4000 {
            let key = "k\(Int.random(in: 0..<60, using: &generator))"
            // Grow for a while, then mostly shrink, then grow again.
            let removing = Int.random(in: 0..<10, using: &generator) < ((step / 1000) % 2 == 0 ? 3 : 7)
            if removing {
                let expected = model.firstIndex { $0.key == key }.map { model.remove(at: $0).value }
                #expect(object.removeValue(forKey: key)?.intValue == expected, "step \(step)")
            } else if let position = model.firstIndex(where: { $0.key == key }) {
                model[position].value = step
                object[key] = .number(Double(step))
            } else {
                model.append((key, step))
                object[key] = .number(Double(step))
            }
            let probe = "k\(Int.random(in: 0..<60, using: &generator))"
            #expect(object[probe]?.intValue == model.first { $0.key == probe }?.value, "step \(step)")
        }
        #expect(object.keys == model.map(\.key))
        #expect(object.values == model.map { .number(Double($0.value)) })
        #expect(model.allSatisfy { object[$0.key]?.intValue == $0.value })
    }

    @Test func equalityAndHashingIgnoreOrder() {
        let one: JSONValue = ["a": 1, "b": ["x": nil, "y": [1, 2]]]
        let other: JSONValue = ["b": ["y": [1, 2], "x": nil], "a": 1]
        #expect(one == other)
        #expect(one.hashValue == other.hashValue)
        #expect(Set([one, other]).count == 1)
        #expect(one != ["a": 1, "b": ["x": nil, "y": [2, 1]]])
        #expect(one != ["a": 1])
        #expect(["a": 1] as JSONObject != ["a": 1, "b": 1])
        #expect(["a": 1, "b": 2] as JSONObject != ["a": 1, "c": 2])
        // Past the index threshold as well.
        let pairs = (0..<40).map { ("k\($0)", JSONValue.number(Double($0))) }
        #expect(JSONObject(pairs) == JSONObject(pairs.reversed()))
        #expect(JSONObject(pairs).hashValue == JSONObject(pairs.reversed()).hashValue)
    }

    @Test func anObjectFromADictionaryIsSortedAndGivesItBack() {
        let dictionary: [String: JSONValue] = ["b": 1, "a": 2, "é": 3, "Z": 4, "aa": 5]
        let object = JSONObject(sortingKeysOf: dictionary)
        #expect(object.keys == ["Z", "a", "aa", "b", "é"])
        #expect(object.dictionary == dictionary)
    }

    /// A message read keeps its members' order at every depth, so a value received and
    /// sent on unchanged is sent as it came (what Python's `json` does with a `dict`).
    @Test func messagesReadKeepTheirMembersOrder() throws {
        let text = #"{"zeta": 1, "alpha": {"y": 2, "b": [{"q": 1, "a": 2}]}, "mid": "m"}"#
        let value = try JSONValue(json: Array(text.utf8))
        #expect(value.objectValue?.keys == ["zeta", "alpha", "mid"])
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == text)
        #expect(try MessageCodec.decode(JSONValue.self, from: Array(text.utf8), list: "l").jsonBytes == Array(text.utf8))
        // A JSONValue field of a typed message is read the same way.
        struct WithAny: Decodable { var any: JSONValue }
        let typed = try MessageCodec.decode(WithAny.self, from: Array(#"{"any": \#(text)}"#.utf8), list: "l")
        #expect(typed.any.jsonBytes == Array(text.utf8))
        // A JSONObject, as the message or as a field, flat or nested.
        let flat = #"{"z": 1, "a": "x", "m": null}"#
        for text in [text, flat] {
            #expect(try MessageCodec.decode(JSONObject.self, from: Array(text.utf8), list: "l").description == text)
            struct WithObject: Decodable { var object: JSONObject }
            let field = try MessageCodec.decode(WithObject.self, from: Array(#"{"object": \#(text)}"#.utf8), list: "l")
            #expect(field.object.description == text)
        }
        #expect(throws: RedisChannelError.self) { try MessageCodec.decode(JSONObject.self, from: Array("[1]".utf8), list: "l") }
    }

    /// A value encoded into a ``JSONValue`` keeps the order `encode(to:)` wrote (a struct's
    /// declaration order), and sorts a dictionary's: the bytes the channel sends for it.
    @Test func encodingKeepsDeclarationOrderAndSortsDictionaries() throws {
        struct Zebra: Encodable { var zeta = 1, alpha = 2, inner = ["y": 1, "b": 2] }
        let value = try JSONValue(encoding: Zebra())
        #expect(value.objectValue?.keys == ["zeta", "alpha", "inner"])
        #expect(value["inner"]?.objectValue?.keys == ["b", "y"])
        #expect(value.jsonBytes == (try MessageCodec.encode(Zebra())))
        // A JSONObject or JSONValue field is written in its own order, through either encoder.
        struct Holder: Encodable { var object: JSONObject = ["z": 1, "a": 2]; var any: JSONValue = ["y": [], "b": nil] }
        let expected = #"{"object": {"z": 1, "a": 2}, "any": {"y": [], "b": null}}"#
        #expect(String(decoding: try MessageCodec.encode(Holder()), as: UTF8.self) == expected)
        #expect(String(decoding: try JSONValueEncoder.encodeJSONTree(Holder()), as: UTF8.self) == expected)
        #expect(try JSONValue(encoding: Holder()).description == expected)
    }

    /// A literal of 16 members or more (its index built when it is adopted) changed after;
    /// a message of more than 16 members with a repeated key after the index exists.
    @Test func bigAdoptedLiteralsAndBigMessagesStayConsistent() throws {
        var object: JSONObject = ["k0": 0, "k1": 1, "k2": 2, "k3": 3, "k4": 4, "k5": 5, "k6": 6, "k7": 7, "k8": 8, "k9": 9, "k10": 10, "k11": 11, "k12": 12, "k13": 13, "k14": 14, "k15": 15, "k16": 16]
        object["k3"] = nil
        object["k16"] = 160
        object["k17"] = 17
        #expect(object.keys == (0...17).filter { $0 != 3 }.map { "k\($0)" })
        #expect(object["k16"] == 160 && object["k17"] == 17 && object["k4"] == 4 && object["k3"] == nil)
        object["k0"] = nil
        object["k1"] = nil
        #expect(object.count == 15 && object["k2"] == 2 && object["k17"] == 17)
        let members = (0..<20).map { "\"m\($0)\": \($0)" } + [#""m5": "again""#, #""m19": null"#, #""new": true"#]
        let read = try JSONValue(json: Array(("{" + members.joined(separator: ", ") + "}").utf8))
        let expected = (0..<20).map { $0 == 5 ? #""m5": "again""# : $0 == 19 ? #""m19": null"# : "\"m\($0)\": \($0)" } + [#""new": true"#]
        #expect(read.description == "{" + expected.joined(separator: ", ") + "}")
        #expect(read["m5"] == "again" && read.objectValue?.count == 21)
    }

    /// Ten thousand members: built, sent as a message and as a field, read back, and
    /// emptied from the back (a removal moves the members after it, none there). Each
    /// step was quadratic in some form before (a `JSONObject` sent through its
    /// `encode(to:)` checked its keys pair by pair for repeats; a removal rebuilt the
    /// whole index): with both, this test took 47 s in a debug build here, 0.1 s since.
    @Test func tenThousandMembers() throws {
        var object = JSONObject((0..<10_000).map { ("key \($0)", JSONValue.number(Double($0))) })
        let bytes = try MessageCodec.encode(object)
        #expect(try MessageCodec.decode(JSONObject.self, from: bytes, list: "l") == object)
        #expect(bytes == JSONValue.object(object).jsonBytes)
        struct Holder: Encodable { var object: JSONObject }
        #expect(try MessageCodec.encode(Holder(object: object)) == Array(#"{"object": "#.utf8) + bytes + Array("}".utf8))
        for index in (0..<10_000).reversed() { #expect(object.removeValue(forKey: "key \(index)") != nil) }
        #expect(object.isEmpty)
    }

    /// A whole message that is a JSONObject, with a key that needs an escape (which a
    /// struct's members would send through the tree), is sent in order, escaped as Python.
    @Test func aJSONObjectMessageIsSentInOrder() throws {
        let object: JSONObject = ["z": 1, "quote\"key": "v", "a": [1]]
        #expect(String(decoding: try MessageCodec.encode(object), as: UTF8.self) == #"{"z": 1, "quote\"key": "v", "a": [1]}"#)
        #expect(String(decoding: try JSONValueEncoder.encodeJSONTree(object), as: UTF8.self) == #"{"z": 1, "quote\"key": "v", "a": [1]}"#)
    }

    @Test func throughFoundationCodable() throws {
        let object: JSONObject = ["n": 3, "list": [true, nil], "o": ["k": "v"]]
        let data = try JSONEncoder().encode(object)
        #expect(try JSONDecoder().decode(JSONObject.self, from: data) == object)
        // Foundation's keyed container has no order: the members come sorted.
        let decoded = try JSONDecoder().decode(JSONObject.self, from: Data(#"{"z": 1, "b": {"y": 2, "a": 3}, "m": 4}"#.utf8))
        #expect(decoded.description == #"{"b": {"a": 3, "y": 2}, "m": 4, "z": 1}"#)
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(JSONObject.self, from: Data("[1]".utf8)) }
    }
}
