import Foundation
import RedisUtil
import Testing

/// The JSON codec alone: Python-identical output, lenient-as-Python input, no server.
@Suite struct JSONValueTests {
    @Test(arguments: [
        (JSONValue.null, "null"), (true, "true"), (false, "false"), (0, "0"), (-42, "-42"),
        (1.0, "1"), (0.1, "0.1"), (2.5, "2.5"), (1e15, "1000000000000000"), (1e16, "1e+16"), (1e-5, "1e-05"), (-0.0, "-0.0"),
        (9_007_199_254_740_992, "9007199254740992"), (-9_007_199_254_740_992, "-9007199254740992"),
        (9_007_199_254_740_994.0, "9007199254740994.0"),
        (.number(.nan), "NaN"), (.number(.infinity), "Infinity"), (.number(-.infinity), "-Infinity"),
        ("héllo 我", #""héllo 我""#), ("q\"b\\n\n\t\u{01}\u{7f}", #""q\"b\\n\n\t\u0001\#u{7f}""#),
        ([1, [2, 3], [:]], "[1, [2, 3], {}]"), (["b": 1, "a": [nil, true]], #"{"b": 1, "a": [null, true]}"#),
    ] as [(JSONValue, String)])
    func writesAsPythonJsonDumps(value: JSONValue, expected: String) {
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == expected)
    }

    @Test(arguments: [
        (#" {"a" : [1, 2.5, -3e2, "x\u00e9\ud83d\ude00"], "b": null} "#, ["a": [1, 2.5, -300.0, "xé😀"], "b": nil] as JSONValue),
        ("[NaN, Infinity, -Infinity]", [.number(.nan), .number(.infinity), .number(-.infinity)]),
        (#"{"k": 1, "k": 2}"#, ["k": 2]),
        ("123456789012345678901234567890", .number(123456789012345678901234567890.0)),
        // A Python float with an integral value reads as that number: the documented loss.
        ("[1.0, -2.0, 1e2, -0]", [1, -2, 100, 0]),
    ] as [(String, JSONValue)])
    func readsAsPythonJsonLoads(text: String, expected: JSONValue) throws {
        let value = try JSONValue(json: Array(text.utf8))
        // NaN never equals itself; compare the written form instead.
        #expect(value.jsonBytes == expected.jsonBytes)
    }

    /// Every object read starts empty and makes room for its members at its first one:
    /// each must come out with its own members only, nested or side by side, past that
    /// room too, and changing one must leave the others and later reads alone.
    @Test func objectsReadAreIndependent() throws {
        let wide = (0..<40).map { "\"k\($0)\": \($0)" }.joined(separator: ",")
        let text = #"[{"a": 1, "b": {"c": 2}}, {}, {"d": {"e": {}}}, {"# + wide + "}]"
        guard case .array(var objects) = try JSONValue(json: Array(text.utf8)), objects.count == 4,
              case .object(var first) = objects[0], case .object(let empty) = objects[1],
              case .object(let third) = objects[2], case .object(let fourth) = objects[3]
        else { Issue.record("not four objects"); return }
        #expect(Set(first.keys) == ["a", "b"] && first["b"] == ["c": 2])
        #expect(empty.isEmpty)
        #expect(Set(third.keys) == ["d"] && third["d"] == ["e": [:]])
        #expect(fourth.count == 40 && (0..<40).allSatisfy { fourth["k\($0)"] == .number(Double($0)) })
        first["z"] = 9
        objects[0] = .object(first)
        #expect(objects[1] == [:])
        #expect(try JSONValue(json: Array("{}".utf8)) == [:])
        #expect(try JSONValue(json: Array(#"{"y": 1}"#.utf8)) == ["y": 1])
    }

    @Test(arguments: ["", "[1,]", "{1: 2}", "01", "\"\\ud800\"", "[1] x", "\"a\nb\"", "tru", String(repeating: "[", count: 600)])
    func rejectsWhatPythonRejects(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(json: Array(text.utf8)) }
    }

    @Test func encodesCodableTypesAsJSONValue() throws {
        let job = Job(id: 7, name: "résumé", ratio: 2.0, tags: ["a"], parent: nil)
        let value = try JSONValue(encoding: job)
        // Synthesized Codable skips a nil optional (encodeIfPresent), as JSONEncoder does;
        // in a JSONValue the whole float 2.0 is the number 2.
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == #"{"id": 7, "name": "résumé", "ratio": 2, "tags": ["a"]}"#)
        #expect(value == ["id": 7, "name": "résumé", "ratio": 2, "tags": ["a"]])
    }

    @Test(arguments: [0, 1, -1, 42, 123_456_789_012_345, 9_007_199_254_740_991, 9_007_199_254_740_992, -9_007_199_254_740_992] as [Int])
    func integersRoundTripExactlyUpTo2To53(integer: Int) throws {
        let text = String(integer)
        let value = try JSONValue(json: Array(text.utf8))
        #expect(value == .number(Double(integer)))
        #expect(value.intValue == integer)
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == text)
        #expect(JSONValue(integerLiteral: integer).jsonBytes == Array(text.utf8))
    }

    @Test func integersBeyond2To53AreRoundedAndWrittenAsFloats() throws {
        // 2^53 + 1 has no Double: it reads as 2^53, as in most JSON readers.
        #expect(try JSONValue(json: Array("9007199254740993".utf8)) == .number(9_007_199_254_740_992))
        #expect(String(decoding: JSONValue.number(1e17).jsonBytes, as: UTF8.self) == "1e+17")
    }

    @Test func jsonValueThroughFoundationCodable() throws {
        let value: JSONValue = ["n": 3, "f": 0.5, "a": [true, nil, "s"]]
        let data = try JSONEncoder().encode(value)
        #expect(try JSONDecoder().decode(JSONValue.self, from: data) == value)
        // Integral numbers are encoded as integers, so no encoder writes "3.0".
        #expect(String(decoding: data, as: UTF8.self).contains(#""n":3"#))
    }

    @Test func literalsAndAccessors() {
        let value: JSONValue = ["size": [640, 480], "name": "x", "ok": true, "r": 1.5]
        #expect(value["size"]?[1]?.intValue == 480)
        #expect(value["name"]?.stringValue == "x")
        #expect(value["ok"]?.boolValue == true)
        #expect(value["r"]?.doubleValue == 1.5)
        #expect(value["missing"] == nil)
        #expect(JSONValue.number(2.0).intValue == 2)
        #expect(JSONValue.number(2.5).intValue == nil)
        #expect(JSONValue.number(.nan).intValue == nil)
        #expect(JSONValue.string("2").intValue == nil)
    }
}
