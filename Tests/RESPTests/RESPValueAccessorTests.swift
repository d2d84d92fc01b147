@testable import RESP
import Testing

@Suite("Accessors and conversions")
struct RESPValueAccessorTests {
    @Test("cheap accessors return payloads for matching types and nil otherwise")
    func accessors() {
        #expect(RESPValue.bulk("hi").string == "hi")
        #expect(RESPValue.simple("OK").bytes == bytes("OK"))
        #expect(RESPValue.verbatimString(format: .text, text: bytes("x")).string == "x")
        #expect(RESPValue.integer(5).string == nil)
        #expect(RESPValue.integer(5).int == 5)
        #expect(RESPValue.bulk("5").int == nil)
        #expect(RESPValue.double(2.5).double == 2.5)
        #expect(RESPValue.boolean(true).bool == true)
        #expect(RESPValue.set([.integer(1)]).array == [.integer(1)])
        #expect(RESPValue.nullArray.array == nil)
        #expect(RESPValue.null.isNull && RESPValue.nullBulkString.isNull && RESPValue.nullArray.isNull)
        #expect(!RESPValue.bulkString([]).isNull)
        #expect(RESPValue.error(bytes("ERR x")).isError && RESPValue.bulkError(bytes("E")).isError)
        #expect(RESPValue.bulkError(bytes("SYNTAX bad")).errorMessage == "SYNTAX bad")
        #expect(RESPValue.array([.bulk("f"), .integer(1)]).map?.count == 1)
        #expect(RESPValue.array([.bulk("f")]).map == nil)
        #expect(RESPValue.attribute([], .attribute([], .integer(3))).withoutAttributes == .integer(3))
        #expect(RESPValue.simple("OK").isOK && !RESPValue.bulk("OK").isOK)
        #expect(RESPVerbatimFormat("txt") == .text && RESPVerbatimFormat("toolong") == nil)
        #expect(RESPVerbatimFormat.markdown.description == "mkd")
    }

    @Test("every kind has a readable name", arguments: everyType.indices)
    func kindNames(index: Int) {
        let value = everyType[index].0
        #expect(!value.kind.description.isEmpty)
        #expect(!value.description.isEmpty)
    }

    @Test("conversions succeed on the replies Redis sends for them")
    func conversions() throws {
        #expect(try RESPValue.integer(42).asInt() == 42)
        #expect(try RESPValue.bulk("-17").asInt() == -17)
        #expect(try RESPValue.bulk("1.5").asDouble() == 1.5)
        #expect(try RESPValue.double(-.infinity).asDouble() == -.infinity)
        #expect(try RESPValue.integer(1).asBool() == true)
        #expect(try RESPValue.boolean(false).asBool() == false)
        #expect(try RESPValue.bulk("héllo").asString() == "héllo")
        #expect(try RESPValue.nullBulkString.asOptionalString() == nil)
        #expect(try RESPValue.null.asOptionalBytes() == nil)
        #expect(try RESPValue.bulkString([0xFF]).asOptionalBytes() == [0xFF])
        #expect(try RESPValue.array([.bulk("a"), .simple("b")]).asStrings() == ["a", "b"])
        try RESPValue.simple("OK").expectOK()
        try RESPValue.attribute([], .simple("OK")).expectOK()
        #expect(try RESPValue.array([.integer(1), .null]).converted(to: [Int?].self) == [1, nil])
        #expect(try RESPValue.bulk("x").converted(to: String?.self) == "x")
        #expect(try RESPValue.integer(3).converted(to: RESPValue.self) == .integer(3))
    }

    @Test("conversion errors name the expected type and the reply type received")
    func conversionErrors() {
        func failure(_ body: () throws -> Void) -> RESPConversionError? {
            do { try body(); return nil } catch { return error as? RESPConversionError }
        }
        #expect(failure { _ = try RESPValue.bulk("abc").asInt() }?.description
            == "expected Int, received bulk string (bulk \"abc\" is not a decimal integer)")
        #expect(failure { _ = try RESPValue.null.asString() }?.description == "expected String, received null")
        #expect(failure { _ = try RESPValue.integer(2).asBool() }?.received == .integer)
        #expect(failure { _ = try RESPValue.bulkString([0xFF]).asString() }?.detail == "payload is not valid UTF-8")
        #expect(failure { try RESPValue.error(bytes("WRONGTYPE Operation against a key")).expectOK() }
            == RESPConversionError(expected: "OK", received: .error, detail: "WRONGTYPE Operation against a key"))
        #expect(failure { _ = try RESPValue.map([]).asStrings() }?.description == "expected [String], received map")
        #expect(failure { _ = try RESPValue.array([.integer(1)]).asStrings() }?.expected == "String")
        #expect(failure { _ = try RESPValue.integer(Int64.max).asDouble() } == nil)
    }
}
