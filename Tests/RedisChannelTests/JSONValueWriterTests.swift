import RedisUtil
import Testing
import TestSupport

/// The `JSONValue` writer against a plain reference of what Python's
/// `json.dumps(value, ensure_ascii=False)` writes for the same value (a `dict`'s members
/// in their insertion order).
@Suite struct JSONValueWriterTests {
    /// Random objects of 0 to 40 members (an object finds a key by scanning up to 16 and
    /// through an index past them), built in random order with repeated keys, nested, with keys and strings of 0 to 12 characters among escapes,
    /// control characters and non-ASCII ones (a string of at most eight bytes is checked
    /// and stored as one word, a longer one sixteen bytes a step).
    @Test(arguments: 0..<4)
    func writesRandomValuesAsTheReference(seed: Int) {
        var generator = SeededGenerator(seed: UInt64(seed))
        for _ in 0..<200 {
            let value = Self.randomValue(depth: 0, using: &generator)
            let written = String(decoding: value.jsonBytes, as: UTF8.self)
            #expect(written == Self.reference(value), "seed \(seed)")
        }
    }

    /// An object made from a `Dictionary` (which has no order): keys that differ only past
    /// a shared prefix, in length, or in bytes above ASCII sort by their UTF-8 bytes (code
    /// point order), as Python's `sort_keys` sorts.
    @Test func anObjectFromADictionarySortsKeysByTheirBytes() {
        let keys = ["b", "a", "ab", "aa", "a\u{7f}", "é", "z", "", "A", "我", "a\u{01}"]
        let value = JSONValue.object(JSONObject(sortingKeysOf: Dictionary(uniqueKeysWithValues: keys.map { ($0, JSONValue.null) })))
        let sorted = keys.sorted(by: Self.precedesByBytes)
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == "{" + sorted.map { Self.quoted($0) + ": null" }.joined(separator: ", ") + "}")
    }

    /// An object made from a `Dictionary`: keys that share their first eight bytes (the
    /// comparison reads eight at a time), that are a prefix of another with NUL bytes after
    /// it, or of eight bytes exactly, among 12 members (found by scanning) and among 40
    /// (through an index), against the bytes' order.
    @Test(arguments: [12, 40])
    func anObjectFromADictionarySortsKeysSharingTheirFirstEightBytes(members: Int) {
        let crafted = ["abcdefgh", "abcdefghi", "abcdefgha", "abcdefgh\u{0}", "abcdefg", "abcdefg\u{0}", "abcdefg\u{0}\u{0}x",
                       "abcdefghijklmnop", "abcdefghijklmnoo", "abcdefghé", "abcdefgh我", "a\u{0}", "a", "\u{0}", ""]
        var keys = Array(crafted.prefix(members))
        var generator = SeededGenerator(seed: UInt64(members))
        while keys.count < members {
            let key = "abcdefg" + Self.randomText(using: &generator)
            if !keys.contains(key) { keys.append(key) }
        }
        keys.shuffle(using: &generator)
        let numbered = Dictionary(uniqueKeysWithValues: keys.enumerated().map { ($1, JSONValue.number(Double($0))) })
        let value = JSONValue.object(JSONObject(sortingKeysOf: numbered))
        let sorted = keys.sorted(by: Self.precedesByBytes)
        let expected = "{" + sorted.map { Self.quoted($0) + ": " + Self.reference(numbered[$0]!) }.joined(separator: ", ") + "}"
        #expect(String(decoding: value.jsonBytes, as: UTF8.self) == expected)
    }

    static let characters: [String] = ["a", "b", "z", "A", "0", " ", "é", "我", "\"", "\\", "\n", "\r", "\t", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "\u{7F}", "\u{0}"]

    static func randomText(using generator: inout SeededGenerator) -> String {
        // Plain text most of the time, so that the fast paths see their usual input.
        let plain = Bool.random(using: &generator)
        let alphabet = plain ? Array(characters.prefix(8)) : characters
        return (0..<Int.random(in: 0...12, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! }.joined()
    }

    static func randomValue(depth: Int, using generator: inout SeededGenerator) -> JSONValue {
        let kind = depth == 0 ? 5 : Int.random(in: 0...(depth > 2 ? 3 : 5), using: &generator)
        switch kind {
        case 0: return .null
        case 1: return .bool(Bool.random(using: &generator))
        case 2: return .number(Double(Int.random(in: -1_000_000...1_000_000, using: &generator)))
        case 3: return .string(randomText(using: &generator))
        case 4: return .array((0..<Int.random(in: 0...5, using: &generator)).map { _ in randomValue(depth: depth + 1, using: &generator) })
        default:
            var members = JSONObject()
            for _ in 0..<Int.random(in: 0...40, using: &generator) {
                members[randomText(using: &generator)] = randomValue(depth: depth + 1, using: &generator)
            }
            return .object(members)
        }
    }

    /// Python's `json.dumps(value, ensure_ascii=False)` for the values above.
    static func reference(_ value: JSONValue) -> String {
        switch value {
        case .null: "null"
        case .bool(let flag): flag ? "true" : "false"
        case .number(let number): String(Int64(number))
        case .string(let text): quoted(text)
        case .array(let elements): "[" + elements.map(reference).joined(separator: ", ") + "]"
        case .object(let members):
            "{" + members.map { quoted($0.key) + ": " + reference($0.value) }.joined(separator: ", ") + "}"
        }
    }

    /// Python's `sort_keys` order: by UTF-8 bytes, which is code point order.
    static func precedesByBytes(_ a: String, _ b: String) -> Bool {
        Array(a.utf8).lexicographicallyPrecedes(Array(b.utf8))
    }

    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
