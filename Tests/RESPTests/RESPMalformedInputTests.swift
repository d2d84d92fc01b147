@testable import RESP
import Testing

/// A malformed stream and the error it must produce.
struct MalformedCase: Sendable, CustomTestStringConvertible {
    let input: [UInt8]
    let kind: RESPError.Kind
    let offset: Int
    let limits: RESPLimits
    let label: String

    init(_ input: String, _ kind: RESPError.Kind, at offset: Int, limits: RESPLimits = .default, _ label: String) {
        self.input = wire(input)
        self.kind = kind
        self.offset = offset
        self.limits = limits
        self.label = label
    }

    init(bytes: [UInt8], _ kind: RESPError.Kind, at offset: Int, limits: RESPLimits = .default, _ label: String) {
        self.input = bytes
        self.kind = kind
        self.offset = offset
        self.limits = limits
        self.label = label
    }

    var testDescription: String { label }
}

let malformedCases: [MalformedCase] = [
    // Type bytes
    .init("?x\r\n", .invalidTypeByte, at: 0, "unknown type byte"),
    .init("\r\n", .invalidTypeByte, at: 0, "bare CRLF"),
    .init("x", .invalidTypeByte, at: 0, "lone letter"),
    .init("+OK\r\n@", .invalidTypeByte, at: 5, "garbage after a valid reply"),
    .init("*2\r\n:1\r\n?\r\n", .invalidTypeByte, at: 8, "bad type byte inside an array"),
    .init("$?\r\n;0\r\n", .invalidLength, at: 1, "RESP3 streamed string is not supported"),
    // Lengths
    .init("$1x\r\nab\r\n", .invalidLength, at: 2, "non-digit in bulk length"),
    .init("$\r\n", .invalidLength, at: 1, "empty bulk length"),
    .init("$ 5\r\n", .invalidLength, at: 1, "space in bulk length"),
    .init("$+5\r\nhello\r\n", .invalidLength, at: 1, "plus sign in bulk length"),
    .init("*x\r\n", .invalidLength, at: 1, "non-digit array length"),
    .init("$-1x\r\n", .invalidLength, at: 3, "junk after -1"),
    .init("%1\r\n+k\r\n$x\r\n", .invalidLength, at: 9, "bad length nested in a map"),
    .init("$-2\r\n", .negativeLength, at: 1, "bulk length -2"),
    .init("$-0\r\n", .negativeLength, at: 1, "bulk length -0"),
    .init("*-5\r\n", .negativeLength, at: 1, "array length -5"),
    .init("%-1\r\n", .negativeLength, at: 1, "map cannot be null"),
    .init("~-1\r\n", .negativeLength, at: 1, "set cannot be null"),
    .init("!-1\r\n", .negativeLength, at: 1, "bulk error cannot be null"),
    .init("=-1\r\n", .negativeLength, at: 1, "verbatim string cannot be null"),
    // Overflow
    .init("$99999999999999999999\r\n", .overflow, at: 1, "bulk length overflows"),
    .init("*99999999999999999999\r\n", .overflow, at: 1, "array length overflows"),
    .init(":99999999999999999999\r\n", .overflow, at: 1, "integer overflows"),
    .init(":9223372036854775808\r\n", .overflow, at: 1, "Int64.max + 1"),
    .init(":-9223372036854775809\r\n", .overflow, at: 1, "Int64.min - 1"),
    // Integers
    .init(":12a\r\n", .invalidInteger, at: 3, "letter in integer"),
    .init(":\r\n", .invalidInteger, at: 1, "empty integer"),
    .init(":-\r\n", .invalidInteger, at: 2, "sign without digits"),
    .init(":1.5\r\n", .invalidInteger, at: 2, "decimal point in integer"),
    .init(":123456789012345678901\r\n", .lineTooLong, at: 0, "21-digit integer line"),
    // CRLF
    .init(":1\rX", .missingCRLF, at: 3, "CR not followed by LF after integer"),
    .init("+OK\rX\n", .missingCRLF, at: 4, "CR not followed by LF after status"),
    .init("+a\r\r\n", .missingCRLF, at: 3, "double CR"),
    .init("$3\r\nabcXY", .missingCRLF, at: 7, "payload longer than declared"),
    .init("$3\r\nabc\rX", .missingCRLF, at: 8, "payload followed by CR then junk"),
    .init("$5\r\nhello\r\r", .missingCRLF, at: 10, "payload followed by CR CR"),
    .init("$3\n\rabc", .missingCRLF, at: 4, "LF CR instead of CR LF"),
    .init("#t\rx", .missingCRLF, at: 3, "boolean CR without LF"),
    .init("_\rx", .missingCRLF, at: 2, "null CR without LF"),
    // Limits
    .init("$2147483647\r\n", .bulkTooLarge, at: 1, "2 GiB bulk header over the 512 MiB default"),
    .init("$536870913\r\n", .bulkTooLarge, at: 1, "one byte over proto-max-bulk-len"),
    .init("$3\r\nabc\r\n", .bulkTooLarge, at: 1, limits: RESPLimits(maxBulkLength: 2), "configured bulk limit"),
    .init("*11\r\n", .tooManyElements, at: 1, limits: RESPLimits(maxAggregateCount: 10), "configured element limit"),
    .init("%6\r\n", .tooManyElements, at: 1, limits: RESPLimits(maxAggregateCount: 5), "map pairs over the limit"),
    .init(String(repeating: "*1\r\n", count: 129) + ":1\r\n", .depthExceeded, at: 512, "129 nested arrays over the default 128"),
    .init("*1\r\n>1\r\n~1\r\n%1\r\n", .depthExceeded, at: 12, limits: RESPLimits(maxDepth: 3), "mixed aggregates over depth 3"),
    .init("|1\r\n|1\r\n", .depthExceeded, at: 4, limits: RESPLimits(maxDepth: 1), "attributes count toward depth"),
    .init("+" + String(repeating: "a", count: 300) + "\r\n", .lineTooLong, at: 0, limits: RESPLimits(maxLineLength: 256), "status line over the line limit"),
    .init("-" + String(repeating: "e", count: 257), .lineTooLong, at: 0, limits: RESPLimits(maxLineLength: 256), "unterminated error line over the limit"),
    // RESP3 scalars
    .init(",abc\r\n", .invalidDouble, at: 1, "letters in double"),
    .init(",\r\n", .invalidDouble, at: 1, "empty double"),
    .init(",1.5.5\r\n", .invalidDouble, at: 1, "two decimal points"),
    .init(",0x10\r\n", .invalidDouble, at: 1, "hex double"),
    .init(",infinity\r\n", .invalidDouble, at: 1, "infinity spelled out"),
    .init(",1e\r\n", .invalidDouble, at: 1, "exponent without digits"),
    .init(", 1\r\n", .invalidDouble, at: 1, "leading space in double"),
    .init("#x\r\n", .invalidBoolean, at: 1, "boolean x"),
    .init("#tt\r\n", .invalidBoolean, at: 2, "boolean tt"),
    .init("#\r\n", .invalidBoolean, at: 1, "empty boolean"),
    .init("_x\r\n", .invalidNull, at: 1, "null with payload"),
    .init("(12a\r\n", .invalidBigNumber, at: 3, "letter in big number"),
    .init("(\r\n", .invalidBigNumber, at: 1, "empty big number"),
    .init("(-\r\n", .invalidBigNumber, at: 2, "sign-only big number"),
    .init("=3\r\ntxt\r\n", .invalidVerbatimFormat, at: 4, "verbatim shorter than its format"),
    .init("=5\r\ntxt-x\r\n", .invalidVerbatimFormat, at: 4, "verbatim without colon"),
    .init(bytes: [UInt8(ascii: "+"), 0x41, 0x0D, 0x0A, 0x00], .invalidTypeByte, at: 4, "NUL where a type byte belongs"),
]

@Suite("Malformed input")
struct RESPMalformedInputTests {
    @Test("the table has at least 40 cases")
    func tableSize() {
        #expect(malformedCases.count >= 40)
    }

    @Test("each malformed input fails with the expected kind and offset", arguments: malformedCases)
    func expectedError(testCase: MalformedCase) throws {
        let outcome = parse(testCase.input, limits: testCase.limits)
        let error = try #require(outcome.error, "no error; parsed \(outcome.values)")
        #expect(error.kind == testCase.kind)
        #expect(error.offset == testCase.offset)
        #expect(!error.reason.isEmpty)
        #expect(!error.description.contains("\n"), "reason must be one line")
    }

    @Test("each malformed input fails identically at every split point and byte by byte", arguments: malformedCases)
    func sameErrorWhateverTheSplit(testCase: MalformedCase) {
        let whole = parse(testCase.input, limits: testCase.limits)
        for cut in 0...testCase.input.count {
            #expect(parse(chunks: [testCase.input[..<cut], testCase.input[cut...]], limits: testCase.limits) == whole)
        }
        let bytewise = parse(chunks: testCase.input.indices.map { testCase.input[$0...$0] }, limits: testCase.limits)
        #expect(bytewise == whole)
    }

    @Test("after an error the parser stays failed, even when valid bytes follow")
    func staysFailed() throws {
        var parser = RESPParser()
        parser.feed(wire(":1\r\n?\r\n"))
        #expect(try parser.next() == .integer(1))
        let first = #expect(throws: RESPError.self) { try parser.next() }
        parser.feed(wire("+OK\r\n"))
        let second = #expect(throws: RESPError.self) { try parser.next() }
        #expect(first == second)
        #expect(parser.error == first)
        #expect(first?.description == "RESP protocol error (invalid type byte) at byte 4: expected a RESP type byte, got '?'")
    }

    @Test("error offsets are absolute stream offsets, even after the buffer was compacted")
    func absoluteOffsets() throws {
        var parser = RESPParser()
        let good = wire(String(repeating: "+OK\r\n", count: 10_000))
        parser.feed(good)
        while try parser.next() != nil {}
        parser.feed(wire(":1x\r\n"))
        let error = #expect(throws: RESPError.self) { try parser.next() }
        #expect(error?.offset == good.count + 2)
    }
}
