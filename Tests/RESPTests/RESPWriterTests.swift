@testable import RESP
import Testing

/// The bounds-checked pointer writer under the command encoder.
@Suite("RESPWriter")
struct RESPWriterTests {
    /// A conformance with only `appendRESPPayload`: it takes the default write path.
    struct Appending: RESPArgument {
        var text: String
        var respPayloadCount: Int { text.utf8.count }
        func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: text.utf8) }
    }

    /// Announces fewer (or more) bytes than it writes.
    struct Lying: RESPArgument {
        var announced: Int
        var respPayloadCount: Int { announced }
        func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: [1, 2, 3]) }
    }

    static func written(_ size: Int, _ body: (inout RESPWriter) -> Void) -> [UInt8] {
        var out: [UInt8] = []
        RESPWriter.append(count: size, to: &out, body)
        return out
    }

    @Test("each argument writes what it appends", arguments: [
        "", "PING", "héllo 我", String(repeating: "x", count: 300),
    ])
    func strings(text: String) {
        let arguments: [any RESPArgument] = [text, text[...], Array(text.utf8), Array(text.utf8)[...], Appending(text: text)]
        for argument in arguments {
            var appended: [UInt8] = []
            argument.appendRESPPayload(to: &appended)
            #expect(Self.written(argument.respPayloadCount) { argument.writeRESPPayload(to: &$0) } == appended)
        }
    }

    @Test("decimals at every digit boundary", arguments: [
        0, 9, 10, 99, 100, 999, 1000, 123_456_789, Int64.max, Int64.min, -1, -10, -100,
    ] as [Int64])
    func decimals(value: Int64) {
        #expect(Self.written(RESPDecimal.count(value)) { $0.writeDecimal(value) } == Array(String(value).utf8))
        #expect(Self.written(RESPDecimal.count(value)) { Int(value).writeRESPPayload(to: &$0) } == Array(String(value).utf8))
    }

    @Test("magnitudes at every digit count, to UInt64.max")
    func magnitudesAtEveryDigitCount() {
        var power: UInt64 = 1
        var values: [UInt64] = [0, 1, 11, 42, 64, 98, UInt64.max, UInt64.max - 1]
        for _ in 0..<19 {
            values += [power, power - 1, power + 1]
            power *= 10
        }
        for value in values {
            #expect(Self.written(RESPDecimal.count(magnitude: value)) { $0.writeDecimal(magnitude: value) } == Array(String(value).utf8), "\(value)")
        }
    }

    @Test("headers of every count around the one- and two-digit forms, and negative ones")
    func headers() {
        for n in [0, 1, 9, 10, 11, 42, 99, 100, 101, 999, 1000, 65_536, Int.max, -1, -10, -100, Int.min + 1] {
            let expected = Array("$\(n)\r\n".utf8)
            #expect(Self.written(expected.count) { $0.writeHeader(UInt8(ascii: "$"), n) } == expected, "\(n)")
        }
        #expect(Self.written(2) { $0.writeLineEnd() } == [0x0D, 0x0A])
    }

    @Test("a non-contiguous collection is written byte by byte")
    func nonContiguous() {
        let bytes = (0..<10).lazy.map { UInt8($0) }
        #expect(Self.written(10) { $0.write(contentsOf: bytes) } == Array(0..<10))
    }

    @Test("appending writes after what the buffer holds")
    func appendsAfterExistingBytes() {
        var out: [UInt8] = [7, 7]
        RESPWriter.append(count: 3, to: &out) { $0.write(contentsOf: [1, 2, 3]) }
        RESPWriter.append(count: 0, to: &out) { _ in }
        #expect(out == [7, 7, 1, 2, 3])
    }

    @Test("overwriting makes the buffer exactly the new bytes, whether it held more, fewer, as many or none, in the same storage")
    func overwritesWhatTheBufferHolds() {
        var out: [UInt8] = Array(repeating: 9, count: 40)
        out.reserveCapacity(64)
        let storage = out.withUnsafeBufferPointer { $0.baseAddress }
        var results: [[UInt8]] = []
        for size in [5, 5, 12, 3, 0, 30] {
            RESPWriter.append(count: size, to: &out, placement: .overwriting) { writer in
                writer.write(contentsOf: (0..<size).map { UInt8($0 + 1) })
            }
            // A copy of the bytes, not of the array: holding `out` would make the next write copy it.
            results.append(out.withUnsafeBufferPointer { Array($0) })
        }
        #expect(results == [5, 5, 12, 3, 0, 30].map { size in (0..<size).map { UInt8($0 + 1) } })
        #expect(out.withUnsafeBufferPointer { $0.baseAddress } == storage, "the storage was not reused")
        var empty: [UInt8] = []
        RESPWriter.append(count: 2, to: &empty, placement: .overwriting) { $0.write(contentsOf: [4, 2]) }
        #expect(empty == [4, 2])
    }

    @Test("overwriting a buffer whose storage something else holds leaves the holder's bytes as they were")
    func overwritingASharedBufferCopiesIt() {
        var out = Array("*1\r\n$4\r\nPING\r\n".utf8)
        let holder = out
        RESPEncoder.encodeCommand(into: &out, placement: .overwriting, "ECHO", "x")
        #expect(holder == Array("*1\r\n$4\r\nPING\r\n".utf8))
        #expect(out == Array("*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n".utf8))
        var again = out
        RESPEncoder.encodeCommand(into: &again, placement: .overwriting, "PING")
        #expect(out == Array("*2\r\n$4\r\nECHO\r\n$1\r\nx\r\n".utf8))
        #expect(again == Array("*1\r\n$4\r\nPING\r\n".utf8))
    }

    @Test("an overwriting writer that writes less than the size stops the process: no old byte is ever sent")
    func overwritingUnderrunTraps() async {
        await #expect(processExitsWith: .failure) {
            var out: [UInt8] = Array(repeating: 9, count: 20)
            RESPEncoder.encodeCommand(into: &out, placement: .overwriting, "SET", Lying(announced: 5))
        }
    }

    @Test("an argument that writes more than it announced stops the process, not memory")
    func overrunTraps() async {
        await #expect(processExitsWith: .failure) {
            var out: [UInt8] = []
            RESPEncoder.encodeCommand(into: &out, "SET", Lying(announced: 2))
        }
    }

    @Test("an argument that writes less than it announced stops the process, not the connection")
    func underrunTraps() async {
        await #expect(processExitsWith: .failure) {
            var out: [UInt8] = []
            RESPEncoder.encodeCommand(into: &out, "SET", Lying(announced: 5))
        }
    }
}
