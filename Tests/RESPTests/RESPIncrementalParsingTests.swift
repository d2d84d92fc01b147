@testable import RESP
import Testing

#if canImport(Glibc)
import Glibc
#endif

@Suite("Incremental parsing")
struct RESPIncrementalParsingTests {
    /// Feeds `stream` in chunks of the repeating sizes `pattern`, draining after each chunk.
    static func feedInPattern(_ stream: [UInt8], pattern: [Int], parser: inout RESPParser) throws -> [RESPValue] {
        var values: [RESPValue] = []
        try stream.withUnsafeBytes { raw in
            // Plain pointer arithmetic: slices are slow in debug builds and would dominate the timing.
            let base = raw.baseAddress!
            var position = 0
            var step = 0
            while position < raw.count {
                let size = min(raw.count - position, pattern[step])
                parser.feed(UnsafeRawBufferPointer(start: base + position, count: size))
                while let value = try parser.next() { values.append(value) }
                position += size
                step = step + 1 == pattern.count ? 0 : step + 1
            }
        }
        return values
    }

    @Test("a 10 MiB bulk string fed 1 byte, then 7 bytes, at a time is parsed in linear time")
    func tenMebibytesInTinyPieces() throws {
        // Mostly one byte value, with `\r\n` and NUL sprinkled in to show the payload is never scanned.
        var payload = [UInt8](repeating: 0x61, count: 10 * 1024 * 1024)
        for index in stride(from: 100, to: payload.count, by: 4096) {
            payload[index] = 0x0D
            payload[index + 1] = 0x0A
            payload[index + 2] = 0x00
        }
        var stream: [UInt8] = []
        RESPValue.bulkString(payload).encode(into: &stream)
        RESPValue.integer(1).encode(into: &stream)

        var parser = RESPParser()
        let values = try Self.feedInPattern(stream, pattern: [1, 7], parser: &parser)
        try #require(values.count == 2)
        #expect(values[1] == .integer(1))
        guard case .bulkString(let received) = values[0] else {
            Issue.record("expected a bulk string, got \(values[0].kind)")
            return
        }
        // memcmp: an element-wise comparison of 10 MiB is slow in debug builds.
        let same = received.count == payload.count && received.withUnsafeBytes { a in
            payload.withUnsafeBytes { b in memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0 }
        }
        #expect(same)
        // Structural proof of linearity: while the payload trickles in, nothing is re-scanned;
        // only the 10-byte header line and the trailing `:1` are ever searched.
        #expect(parser.scannedByteCount < 64, "scanned \(parser.scannedByteCount) bytes")
    }

    @Test("an aggregate of 100k elements arriving in 3-byte pieces scans each byte about once")
    func bigArrayInPieces() throws {
        let elements = (0..<100_000).map { RESPValue.bulk("element-\($0)") }
        let stream = RESPValue.array(elements).encodedBytes
        var parser = RESPParser()
        let values = try Self.feedInPattern(stream, pattern: [3], parser: &parser)
        #expect(values == [.array(elements)])
        #expect(parser.scannedByteCount <= stream.count, "scanned \(parser.scannedByteCount) of \(stream.count) bytes")
    }

    @Test("a long status line trickling in is searched once, not once per piece")
    func longLineResumesSearch() throws {
        let line = String(repeating: "s", count: 200_000)
        let stream = wire("+" + line + "\r\n")
        var parser = RESPParser()
        let values = try Self.feedInPattern(stream, pattern: [5], parser: &parser)
        #expect(values == [.simple(line)])
        #expect(parser.scannedByteCount <= stream.count)
    }

    @Test("a huge declared bulk length allocates nothing beyond the bytes received")
    func hugeHeaderAllocatesNothing() throws {
        var parser = RESPParser(limits: RESPLimits(maxBulkLength: Int.max / 8))
        parser.feed(wire("$2147483647\r\nabc"))
        #expect(try parser.next() == nil)
        #expect(parser.buffer.capacity <= RESPInputBuffer.initialCapacity)
    }

    @Test("a huge declared aggregate count reserves only what the received bytes could hold")
    func hugeAggregateReservesLittle() throws {
        var parser = RESPParser()
        parser.feed(wire("*2147483647\r\n:1\r\n:2\r\n"))
        #expect(try parser.next() == nil)
        #expect(parser.frames.count == 1)
        #expect(parser.frames[0].elements.capacity < 64)
        #expect(parser.frames[0].elements == [.integer(1), .integer(2)])
    }

    @Test("the default header `$2147483647` is refused before anything is buffered")
    func defaultLimitRefusesTwoGiB() {
        var parser = RESPParser()
        parser.feed(wire("$2147483647\r\n"))
        #expect(throws: RESPError.self) { try parser.next() }
    }

    @Test("bytes can be read straight into the writable tail")
    func writableTail() throws {
        var parser = RESPParser()
        let reply = wire("*2\r\n+OK\r\n:7\r\n")
        let written = parser.withUnsafeWritableTail(minimumCapacity: 100) { tail -> Int in
            #expect(tail.count >= 100)
            reply.withUnsafeBytes { tail.copyMemory(from: $0) }
            return reply.count
        }
        #expect(written == reply.count)
        #expect(parser.bufferedByteCount == reply.count)
        #expect(try parser.next() == .array([.simple("OK"), .integer(7)]))
        #expect(parser.bufferedByteCount == 0)
        #expect(parser.withUnsafeWritableTail(minimumCapacity: 1) { _ in 0 } == 0)
        #expect(try parser.next() == nil)
    }

    @Test("a typed error thrown by the tail writer passes through untouched")
    func writableTailRethrows() {
        struct ReadFailed: Error, Equatable {}
        var parser = RESPParser()
        #expect(throws: ReadFailed()) {
            try parser.withUnsafeWritableTail(minimumCapacity: 1) { (_) throws(ReadFailed) -> Int in throw ReadFailed() }
        }
        #expect(parser.bufferedByteCount == 0)
    }

    @Test("a steady pipeline with a partial reply always pending keeps the buffer at its first size")
    func compactionKeepsBufferSmall() throws {
        var parser = RESPParser()
        let reply = wire("$10\r\n0123456789\r\n")
        var stream: [UInt8] = []
        for _ in 0..<20_000 { stream += reply }
        let values = try Self.feedInPattern(stream, pattern: [1000, 333], parser: &parser)
        #expect(values.count == 20_000)
        #expect(parser.buffer.capacity == RESPInputBuffer.initialCapacity)
    }

    @Test("+OK shares one payload array instead of allocating per reply")
    func okIsShared() throws {
        var parser = RESPParser()
        parser.feed(wire("+OK\r\n+OK\r\n"))
        guard case .simpleString(let first)? = try parser.next(), case .simpleString(let second)? = try parser.next() else {
            Issue.record("expected two simple strings")
            return
        }
        let sameStorage = first.withUnsafeBufferPointer { a in second.withUnsafeBufferPointer { b in a.baseAddress == b.baseAddress } }
        #expect(sameStorage)
    }
}
