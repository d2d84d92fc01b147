@testable import RESP
import Testing

/// One example of every RESP2 and RESP3 type, with its exact wire form.
let everyType: [(RESPValue, String)] = [
    (.simple("OK"), "+OK\r\n"),
    (.simple(""), "+\r\n"),
    (.error(bytes("ERR unknown command")), "-ERR unknown command\r\n"),
    (.integer(0), ":0\r\n"),
    (.integer(-42), ":-42\r\n"),
    (.integer(.max), ":9223372036854775807\r\n"),
    (.integer(.min), ":-9223372036854775808\r\n"),
    (.bulk("hello"), "$5\r\nhello\r\n"),
    (.bulkString([]), "$0\r\n\r\n"),
    (.bulkString([0x0D, 0x0A, 0x00, 0xFF]), "$4\r\n\r\n\0\u{FF}\r\n"),
    (.nullBulkString, "$-1\r\n"),
    (.nullArray, "*-1\r\n"),
    (.array([.integer(1), .bulk("two"), .array([])]), "*3\r\n:1\r\n$3\r\ntwo\r\n*0\r\n"),
    (.null, "_\r\n"),
    (.double(1.5), ",1.5\r\n"),
    (.double(.infinity), ",inf\r\n"),
    (.double(-.infinity), ",-inf\r\n"),
    (.double(.nan), ",nan\r\n"),
    (.double(1e-10), ",1e-10\r\n"),
    (.boolean(true), "#t\r\n"),
    (.boolean(false), "#f\r\n"),
    (.bigNumber(bytes("-3492890328409238509324850943850943825024385")), "(-3492890328409238509324850943850943825024385\r\n"),
    (.bulkError(bytes("SYNTAX invalid syntax")), "!21\r\nSYNTAX invalid syntax\r\n"),
    (.verbatimString(format: .text, text: bytes("Some string")), "=15\r\ntxt:Some string\r\n"),
    (.verbatimString(format: .markdown, text: []), "=4\r\nmkd:\r\n"),
    (.map([(.simple("first"), .integer(1)), (.bulk("second"), .null)]), "%2\r\n+first\r\n:1\r\n$6\r\nsecond\r\n_\r\n"),
    (.map([]), "%0\r\n"),
    (.set([.simple("a"), .integer(2)]), "~2\r\n+a\r\n:2\r\n"),
    (.attribute([(.simple("ttl"), .integer(3600))], .bulk("v")), "|1\r\n+ttl\r\n:3600\r\n$1\r\nv\r\n"),
    (.attribute([], .integer(1)), "|0\r\n:1\r\n"),
    (.push([.bulk("message"), .bulk("chan"), .bulk("hi")]), ">3\r\n$7\r\nmessage\r\n$4\r\nchan\r\n$2\r\nhi\r\n"),
]

/// Wire bytes of a Swift string literal whose scalars are all below 256 (so `\u{FF}` is byte 0xFF).
func wire(_ text: String) -> [UInt8] {
    text.unicodeScalars.map { UInt8($0.value) }
}

@Suite("Round trip of every RESP type")
struct RESPRoundTripTests {
    @Test("encodes to the exact wire bytes", arguments: everyType.indices)
    func encodesExactly(index: Int) {
        let (value, expected) = everyType[index]
        #expect(value.encodedBytes == wire(expected))
        #expect(value.encodedByteCount == wire(expected).count)
    }

    @Test("parses the wire bytes back to the same value", arguments: everyType.indices)
    func parsesBack(index: Int) {
        let (value, expected) = everyType[index]
        #expect(parse(wire(expected)) == ParseOutcome(values: [value]))
    }

    @Test("a stream of every type parses identically at every split point")
    func everySplitOfAllTypes() {
        let stream = everyType.flatMap { wire($0.1) }
        let whole = parse(stream)
        #expect(whole.values == everyType.map(\.0))
        for cut in 0...stream.count {
            let split = parse(chunks: [stream[..<cut], stream[cut...]])
            #expect(split == whole, "split at \(cut)")
        }
    }

    @Test("encode appends to what is already in the buffer")
    func encodeAppends() {
        var buffer = bytes("prefix")
        RESPValue.integer(7).encode(into: &buffer)
        RESPEncoder.encode(value: .null, into: &buffer)
        #expect(buffer == bytes("prefix:7\r\n_\r\n"))
    }

    @Test("NaN equals NaN so that values equal their own round trip")
    func nanEquality() {
        #expect(RESPValue.double(.nan) == .double(.nan))
        #expect(RESPValue.double(0) == .double(-0.0))
        #expect(RESPValue.double(1) != .double(2))
        #expect(RESPValue.nullBulkString != .nullArray)
        #expect(RESPValue.null != .nullBulkString)
    }
}
