@testable import RedisUtil
import Testing

/// The one JSON token grammar both readers use: what a number, a string and its escapes
/// are, where a scan stops, and what the fast path and the tree make of the result.
@Suite struct JSONScannerTests {
    private static func scanner(_ text: String) -> JSONScanner { JSONScanner(Array(text.utf8)) }

    /// The error `JSONReader` gives for `bytes`, as "offset: message".
    private static func readerError(_ bytes: [UInt8]) -> String? {
        do {
            _ = try JSONReader.read(bytes, as: JSONNode.self)
            return nil
        } catch {
            return "\(error.offset): \(error.message)"
        }
    }

    // MARK: Numbers

    @Test(arguments: [
        ("0", 1, true), ("42", 2, true), ("-7", 2, true), ("-0", 2, true), ("1.5", 3, false), ("-0.25", 5, false),
        ("1e5", 3, false), ("2E-3", 4, false), ("6e+07", 5, false), ("10.0e1", 6, false),
        // A leading zero ends the number: what follows is the reader's to refuse.
        ("01", 1, true), ("-00", 2, true), ("0x1", 1, true), ("1]", 1, true), ("7 ", 1, true),
    ])
    func numbersEndWhereJSONSaysTheyDo(text: String, end: Int, isInteger: Bool) throws {
        var scanner = Self.scanner(text)
        let number = try scanner.scanNumber()
        #expect(number.range == 0..<end)
        #expect(number.isInteger == isInteger)
        #expect((number.magnitude != nil) == isInteger, "an integer's digits are read as they are scanned, no other number's")
        #expect(scanner.position == end)
    }

    @Test(arguments: [
        ("-", "1: expected a digit"), ("-x", "1: expected a digit"), ("1.", "2: expected a digit after '.'"),
        ("1.e3", "2: expected a digit after '.'"), ("1e", "2: expected a digit in the exponent"),
        ("1e+", "3: expected a digit in the exponent"), ("-1E-x", "4: expected a digit in the exponent"),
        ("01", "1: extra data after the document"), ("-01", "2: extra data after the document"),
        ("[1.5.2]", "4: expected ',' or ']' in an array"), (".5", "0: expected a value, found byte 0x2e"), ("+1", "0: expected a value, found byte 0x2b"),
    ])
    func malformedNumbersAreRefusedWhereTheyGoWrong(text: String, expected: String) {
        #expect(Self.readerError(Array(text.utf8)) == expected)
    }

    @Test func integersConvertExactlyOrNotAtAll() throws {
        func integer<I: FixedWidthInteger>(_ text: String, _ type: I.Type) -> I? {
            JSONScanner.integer(Array(text.utf8), in: 0..<text.utf8.count, as: I.self)
        }
        #expect(integer("0", Int.self) == 0)
        #expect(integer("-0", Int64.self) == 0)
        #expect(integer("-42", Int.self) == -42)
        #expect(integer("9223372036854775807", Int64.self) == .max)
        #expect(integer("-9223372036854775808", Int64.self) == .min)
        #expect(integer("9223372036854775808", Int64.self) == nil)
        #expect(integer("9223372036854775808", UInt64.self) == 9_223_372_036_854_775_808)
        #expect(integer("18446744073709551615", UInt64.self) == .max)
        #expect(integer("18446744073709551616", UInt64.self) == nil)
        #expect(integer("-9223372036854775809", Int64.self) == nil)
        #expect(integer("123456789012345678901234567890", UInt64.self) == nil)
        #expect(integer("127", Int8.self) == 127)
        #expect(integer("128", Int8.self) == nil)
        #expect(integer("-128", Int8.self) == -128)
        #expect(integer("-1", UInt8.self) == nil)
        var longest = Self.scanner("-12345678901234567")
        #expect(try JSONReader.shortInteger(longest.scanNumber()) == -12_345_678_901_234_567)
        // The sign as scanned, and `-0` told from every other number.
        for (text, negative, minusZero) in [("-0", true, true), ("0", false, false), ("-5", true, false), ("-0.0", true, false),
                                            ("-0e1", true, false), ("-00", true, true), ("-10", true, false), ("5", false, false)] {
            var scanner = Self.scanner(text)
            let number = try scanner.scanNumber()
            #expect(number.isNegative == negative && number.isMinusZero == minusZero, "\(text)")
        }
        // Nineteen digits are read without overflow checks, the rest with them.
        #expect(integer("9999999999999999999", UInt64.self) == 9_999_999_999_999_999_999)
        #expect(integer("99999999999999999999", UInt64.self) == nil)
        #expect(integer("-9999999999999999999", Int64.self) == nil)
        // Against Swift's own parsing, for digit strings of every length up to 24, inside
        // a longer buffer (the range need not start at 0).
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3_000 {
            let length = Int.random(in: 1...24, using: &generator)
            var digits = String((0..<length).map { _ in Character(String(Int.random(in: 0...9, using: &generator))) })
            if digits.count > 1 { digits = String(Int.random(in: 1...9, using: &generator)) + digits.dropFirst() }
            let negative = Bool.random(using: &generator)
            let text = (negative ? "-" : "") + digits
            let buffer = Array(("[" + text + "]").utf8)
            let range = 1..<(buffer.count - 1)
            #expect(JSONScanner.integer(buffer, in: range, as: Int64.self) == Int64(text), "\(text)")
            #expect(JSONScanner.integer(buffer, in: range, as: UInt64.self) == (text == "-0" ? 0 : UInt64(text)), "\(text)")
            #expect(JSONScanner.integer(buffer, in: range, as: Int32.self) == Int32(text), "\(text)")
            // The digits the scan reads as it goes: up to 19 of them, the same value.
            var scanner = JSONScanner(buffer)
            scanner.position = 1
            let number = try scanner.scanNumber()
            #expect(number.range == range)
            #expect(number.isInteger)
            #expect(number.magnitude == (digits.count <= 19 ? UInt64(digits) : nil), "\(text)")
            if let magnitude = number.magnitude {
                #expect(JSONScanner.integer(magnitude: magnitude, negative: negative, as: Int64.self) == Int64(text), "\(text)")
                #expect(JSONScanner.integer(magnitude: magnitude, negative: negative, as: UInt64.self) == (text == "-0" ? 0 : UInt64(text)), "\(text)")
            }
        }
    }

    @Test func doublesReadAsSwiftParsesThem() {
        func double(_ text: String) -> Double? { JSONScanner.double(Array(text.utf8), in: 0..<text.utf8.count) }
        #expect(double("2.5") == 2.5)
        #expect(double("-0")?.sign == .minus)
        #expect(double("1E2") == 100)
        #expect(double("1e400") == .infinity)
        #expect(double("-1e400") == -.infinity)
        #expect(double("1e-400") == 0)
        #expect(double("123456789012345678901234567890") == 1.2345678901234568e29)
    }

    /// The fast path leaves to the slow one what only a `Double` (or the tree) reads
    /// exactly: `-0`, fractions, and what fits no integer.
    @Test func theFastPathSortsNumbersAsTheTreeDoes() throws {
        func root(_ text: String) throws -> (FlatJSONDocument, FlatJSONDocument.Scalar) {
            let document = try #require(FlatJSONDocument(Array(text.utf8)))
            return (document, try #require(document.root))
        }
        #expect(try root("-0").1.kind == .fraction)
        #expect(try root("-0").1.double(in: root("-0").0.bytes)?.sign == .minus)
        #expect(try root("0").1.kind == .integer)
        #expect(try root("-12").1.kind == .integer)
        #expect(try root("1e2").1.kind == .fraction)
        #expect(try root("-12").1.integer(in: root("-12").0.bytes, as: Int8.self) == -12)
        let (huge, scalar) = try root("123456789012345678901234567890")
        #expect(scalar.kind == .longInteger)
        #expect(scalar.integer(in: huge.bytes, as: Int64.self) == nil)
        // Nineteen digits are read as they are scanned, twenty again from the bytes.
        let (nineteen, nineteenDigits) = try root("9999999999999999999")
        #expect(nineteenDigits.kind == .integer)
        #expect(nineteenDigits.integer(in: nineteen.bytes, as: UInt64.self) == 9_999_999_999_999_999_999)
        let (twenty, twentyDigits) = try root("-10000000000000000000")
        #expect(twentyDigits.kind == .longInteger)
        #expect(twentyDigits.integer(in: twenty.bytes, as: Int64.self) == nil)
        #expect(twentyDigits.double(in: twenty.bytes) == nil, "beyond 17 significant digits: the slow path's")
        let (wide, wideDigits) = try root("18446744073709551615")
        #expect(wideDigits.integer(in: wide.bytes, as: UInt64.self) == .max)
        // Digits whose wrapped reading would fit (to 0 and to 1,553,255,926,290,448,384).
        for text in ["18446744073709551616", "20000000000000000000"] {
            let (document, digits) = try root(text)
            #expect(digits.kind == .longInteger)
            #expect(digits.integer(in: document.bytes, as: UInt64.self) == nil, "\(text)")
        }
        #expect(scalar.double(in: huge.bytes) == nil)
        // Beyond 17 significant digits, or out of Double's normal range: the slow path's.
        #expect(try root("0.123456789012345678").1.double(in: root("0.123456789012345678").0.bytes) == nil)
        #expect(try root("1e400").1.double(in: root("1e400").0.bytes) == nil)
        #expect(try root("4.9e-324").1.double(in: root("4.9e-324").0.bytes) == nil)
        #expect(FlatJSONDocument(Array("01".utf8)) == nil)
        #expect(FlatJSONDocument(Array("-".utf8)) == nil)
    }

    // MARK: Strings

    @Test(arguments: [
        (#""plain""#, "plain", false), (#""""#, "", false), (#""é 我 😀""#, "é 我 😀", false), ("\"\u{7f}\"", "\u{7f}", false),
        (#""q\"b\\s\/\b\f\n\r\t""#, "q\"b\\s/\u{8}\u{c}\n\r\t", true),
        (#""x\u00e9\u00C9\u0000""#, "xéÉ\u{0}", true),
        (#""\ud83d\ude00!""#, "😀!", true), (#""\uDBFF\uDFFF""#, "\u{10FFFF}", true),
        (#""é\n""#, "é\n", true),
    ])
    func stringsResolveTheirEscapes(text: String, expected: String, hasEscapes: Bool) throws {
        var scanner = Self.scanner(text)
        let string = try scanner.scanString()
        #expect(string.range == 1..<text.utf8.count - 1)
        #expect(string.hasEscapes == hasEscapes)
        #expect(scanner.isAtEnd)
        #expect(JSONScanner.string(scanner.bytes, in: string.range, hasEscapes: string.hasEscapes) == expected)
        #expect(scanner.sawNonASCII == text.utf8.contains { $0 >= 0x80 })
        // Both readers give the same string.
        #expect(try JSONReader.read(Array(text.utf8)) == .string(expected))
        let document = try #require(FlatJSONDocument(Array(text.utf8)))
        #expect(try #require(document.root).string(in: document.bytes) == expected)
    }

    /// A lone surrogate has no UTF-8 form: refused, as today, rather than replaced.
    @Test(arguments: [
        (#""\ud800""#, "7: unpaired surrogate \\ud800"), (#""\ud800x""#, "7: unpaired surrogate \\ud800"),
        (#""\ud800\u0041""#, "13: unpaired surrogate \\ud800"), (#""\ud800\ud800""#, "13: unpaired surrogate \\ud800"),
        (#""\udc00""#, "7: unpaired surrogate \\udc00"), (#""\ude00\ud83d""#, "7: unpaired surrogate \\ude00"),
        (#""\ud800\u12""#, "9: expected 4 hex digits after \\u"), (#""\u12""#, "3: expected 4 hex digits after \\u"),
        (#""\uZZZZ""#, "3: expected 4 hex digits after \\u"), (#""\x""#, "3: invalid escape \\x"), (#""\U0041""#, "3: invalid escape \\U"),
        (#""abc"#, "4: unterminated string"), (#""a\"#, "3: unterminated escape"), (#""a\""#, "4: unterminated string"),
        ("\"a\nb\"", "2: control character 0xa inside a string"), ("\"\t\"", "1: control character 0x9 inside a string"),
        ("\"\u{1F}\"", "1: control character 0x1f inside a string"),
    ])
    func malformedStringsAreRefusedWhereTheyGoWrong(text: String, expected: String) {
        let bytes = Array(text.utf8)
        #expect(Self.readerError(bytes) == expected)
        #expect(FlatJSONDocument(bytes) == nil)
    }

    /// Strict UTF-8 only, checked at the closing quote (after any bad escape or control
    /// character), escapes or not.
    @Test(arguments: [
        [0xC3], [0xC3, 0x28], [0xC0, 0xAF], [0xE0, 0x80, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80],
        [0xFF], [0x80], [0xE2, 0x82], [0xF0, 0x9F, 0x98], [0xC3, 0x5C, 0x6E], [0x5C, 0x6E, 0xA9],
    ] as [[UInt8]])
    func invalidUTF8IsRefused(inner: [UInt8]) {
        let bytes = [0x22] + inner + [0x22]
        #expect(Self.readerError(bytes) == "\(bytes.count - 1): string is not valid UTF-8")
        #expect(FlatJSONDocument(bytes) == nil)
        #expect(FlatJSONDocument([0x7B, 0x22, 0x6B, 0x22, 0x3A] + bytes + [0x7D]) == nil)
        #expect(!JSONScanner.isValidUTF8(inner, in: 0..<inner.count))
        // An earlier malformed escape or control character is what is reported.
        #expect(Self.readerError([0x22] + inner + [0x5C, 0x78, 0x22]) == "\(inner.count + 3): invalid escape \\x")
        #expect(Self.readerError([0x22] + inner + [0x0A, 0x22]) == "\(inner.count + 1): control character 0xa inside a string")
    }

    @Test func validUTF8OfEveryLengthIsKept() throws {
        let text = "\"a\u{7F}\u{80}\u{7FF}\u{800}\u{FFFF}\u{10000}\u{10FFFF}\u{E000}\""
        #expect(JSONScanner.isValidUTF8(Array(text.utf8), in: 0..<text.utf8.count))
        #expect(try JSONReader.read(Array(text.utf8)) == .string(String(text.dropFirst().dropLast())))
    }

    /// The fast path takes no key that needs resolving, or would need comparing as a
    /// Swift string against a repeated one: the slow path decides those.
    @Test func theFastPathDeclinesEscapedKeys() throws {
        #expect(FlatJSONDocument(Array(#"{"\u0061": 1}"#.utf8)) == nil)
        let document = try #require(FlatJSONDocument(Array(#"{"a": "\u0061", "é": 2}"#.utf8)))
        #expect(document.members.map(\.value.kind) == [.escapedString, .integer])
        #expect(document.member(named: "é", from: 0) == 1)
        #expect(FlatJSONDocument(Array("{\"e\u{301}\": 1, \"\u{E9}\": 2}".utf8)) == nil)
    }

    // MARK: Whitespace and literals

    @Test func whitespaceIsJSONsFourBytesOnly() throws {
        var scanner = Self.scanner(" \t\r\n x")
        scanner.skipWhitespace()
        #expect(scanner.position == 5)
        for other in ["\u{0C}1", "\u{0B}1", "\u{A0}1", "\u{FEFF}1"] {
            var scanner = Self.scanner(other)
            scanner.skipWhitespace()
            #expect(scanner.position == 0)
            #expect(Self.readerError(Array(other.utf8)) != nil)
        }
        #expect(try JSONReader.read(Array(" \n[ 1 ,\t2 ]\r\n".utf8)) == [1, 2])
    }

    @Test func literalsMatchWholeOrNotAtAll() {
        var scanner = Self.scanner("truefalse nul")
        let matches = [scanner.consume("true"), scanner.consume("true"), scanner.consume("false")]
        #expect(matches == [true, false, true])
        #expect(scanner.position == 9)
        scanner.skipWhitespace()
        let null = scanner.consume("null")
        #expect(!null)
        #expect(scanner.position == 10)
        #expect(Self.readerError(Array("tru".utf8)) == "0: expected a value, found byte 0x74")
        #expect(Self.readerError(Array("truex".utf8)) == "4: extra data after the document")
        #expect(Self.readerError(Array("nan".utf8)) == "0: expected a value, found byte 0x6e")
        #expect(Self.readerError(Array("-Inf".utf8)) == "1: expected a digit")
        #expect(FlatJSONDocument(Array("NaN".utf8)) == nil)
        #expect(FlatJSONDocument(Array("{\"a\": tru}".utf8)) == nil)
        #expect(FlatJSONDocument(Array(" null ".utf8))?.root?.kind == .null)
    }
}
