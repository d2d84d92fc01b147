import RedisUtil
import Testing

/// The JSON codec alone: Python-identical output, lenient-as-Python input, no server.
@Suite struct JSONValueTests {
    @Test(arguments: [
        (JSONValue.null, "null"), (true, "true"), (false, "false"), (0, "0"), (-42, "-42"),
        (1.0, "1.0"), (0.1, "0.1"), (1e16, "1e+16"), (1e-5, "1e-05"), (-0.0, "-0.0"),
        (.double(.nan), "NaN"), (.double(.infinity), "Infinity"), (.double(-.infinity), "-Infinity"),
        ("héllo 我", #""héllo 我""#), ("q\"b\\n\n\t\u{01}\u{7f}", #""q\"b\\n\n\t\u0001\#u{7f}""#),
        ([1, [2, 3], [:]], "[1, [2, 3], {}]"), (["b": 1, "a": [nil, true]], #"{"a": [null, true], "b": 1}"#),
    ] as [(JSONValue, String)])
    func writesAsPythonJsonDumps(value: JSONValue, expected: String) {
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == expected)
    }

    @Test(arguments: [
        (#" {"a" : [1, 2.5, -3e2, "x\u00e9\ud83d\ude00"], "b": null} "#, ["a": [1, 2.5, -300.0, "xé😀"], "b": nil] as JSONValue),
        ("[NaN, Infinity, -Infinity]", [.double(.nan), .double(.infinity), .double(-.infinity)]),
        (#"{"k": 1, "k": 2}"#, ["k": 2]),
        ("123456789012345678901234567890", .double(123456789012345678901234567890.0)),
    ] as [(String, JSONValue)])
    func readsAsPythonJsonLoads(text: String, expected: JSONValue) throws {
        let value = try JSONValue(json: Array(text.utf8))
        // NaN never equals itself; compare the written form instead.
        #expect(value.jsonBytes == expected.jsonBytes)
    }

    @Test(arguments: ["", "[1,]", "{1: 2}", "01", "\"\\ud800\"", "[1] x", "\"a\nb\"", "tru", String(repeating: "[", count: 600)])
    func rejectsWhatPythonRejects(text: String) {
        #expect(throws: JSONSyntaxError.self) { try JSONValue(json: Array(text.utf8)) }
    }

    @Test func encodesCodableTypesKeepingFloatsFloats() throws {
        let job = Job(id: 7, name: "résumé", ratio: 2.0, tags: ["a"], parent: nil)
        let value = try JSONValue(encoding: job)
        // Synthesized Codable skips a nil optional (encodeIfPresent), as JSONEncoder does.
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == #"{"id": 7, "name": "résumé", "ratio": 2.0, "tags": ["a"]}"#)
    }

    @Test func literalsAndAccessors() {
        let value: JSONValue = ["size": [640, 480], "name": "x", "ok": true, "r": 1.5]
        #expect(value["size"]?[1]?.intValue == 480)
        #expect(value["name"]?.stringValue == "x")
        #expect(value["ok"]?.boolValue == true)
        #expect(value["r"]?.doubleValue == 1.5)
        #expect(value["missing"] == nil)
        #expect(JSONValue.double(2.0).intValue == 2)
    }
}
