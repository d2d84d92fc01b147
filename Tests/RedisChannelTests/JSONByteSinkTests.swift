import Testing
@testable import RedisUtil

/// The byte buffer the member writer writes a message into: on scratch memory while the
/// bytes fit, then on the heap, with nothing lost at the move.
@Suite struct JSONByteSinkTests {
    /// The sink's bytes as an array.
    private static func bytes(_ sink: borrowing JSONByteSink) -> [UInt8] {
        sink.withBytes { Array($0) }
    }

    @Test func bytesWrittenAcrossTheEndOfTheScratchAllStay() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { scratch in
            var sink = JSONByteSink(scratch: scratch)
            var expected: [UInt8] = []
            for index in 0..<200 {
                // Single bytes, runs of every length, and reservations that outgrow twice the capacity.
                let run = (0..<(index % 37)).map { UInt8(truncatingIfNeeded: index &+ $0) }
                sink.append(UInt8(truncatingIfNeeded: index))
                run.withUnsafeBufferPointer { sink.append($0) }
                expected.append(UInt8(truncatingIfNeeded: index))
                expected += run
                if index == 150 {
                    let large = [UInt8](repeating: 7, count: 10_000)
                    sink.append(large)
                    expected += large
                }
            }
            #expect(sink.count == expected.count)
            #expect(Self.bytes(sink) == expected)
        }
    }

    @Test func aSinkWithoutScratchStartsOnTheHeap() {
        var sink = JSONByteSink(scratch: UnsafeMutableBufferPointer(start: nil, count: 0))
        sink.append([UInt8](repeating: 1, count: 100))
        sink.append(2)
        #expect(Self.bytes(sink) == [UInt8](repeating: 1, count: 100) + [2])
    }

    @Test func decimalsAreWhatRESPDecimalWrites() {
        var values: [Int64] = [0, 1, 9, 10, 11, 99, 100, 101, 999, 1000, 4096, 65_535, 1_733_000_000_000,
                               Int64.max, Int64.min, Int64.max - 1, Int64.min + 1, -1, -9, -10, -99, -100]
        var power: Int64 = 1
        for _ in 0..<18 {
            power *= 10
            values += [power - 1, power, power + 1, -power + 1, -power, -power - 1]
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8) { scratch in
            // A scratch smaller than one number: every write starts with a reservation.
            var sink = JSONByteSink(scratch: scratch)
            var expected: [UInt8] = []
            for value in values {
                sink.appendDecimal(value)
                sink.append(UInt8(ascii: ","))
                expected += Array(String(value).utf8) + [UInt8(ascii: ",")]
            }
            #expect(String(decoding: Self.bytes(sink), as: UTF8.self) == String(decoding: expected, as: UTF8.self))
        }
    }

    @Test func writeTakesWhatItsBodySaysItWrote() {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 4) { scratch in
            var sink = JSONByteSink(scratch: scratch)
            sink.write(upTo: 10) { out in
                for index in 0..<6 { out[index] = UInt8(ascii: "a") + UInt8(index) }
                return 6
            }
            sink.write(upTo: 3) { _ in 0 }
            #expect(Self.bytes(sink) == Array("abcdef".utf8))
        }
    }
}
