@testable import RESP
import Testing

/// Tests of the unsafe storage helpers and of the buffer's growth/compaction policy.
@Suite("Input buffer")
struct RESPInputBufferTests {
    static func storage(_ bytes: [UInt8]) -> RESPByteStorage {
        let storage = RESPByteStorage(capacity: bytes.count)
        bytes.withUnsafeBytes { storage.write($0, at: 0) }
        return storage
    }

    @Test("a new storage is zero-filled; even capacity 0 has a valid pointer")
    func zeroFilled() {
        #expect(RESPByteStorage(capacity: 4)[0..<4] == [0, 0, 0, 0])
        #expect(RESPByteStorage.empty.capacity == 0)
        #expect(RESPByteStorage.empty[0..<0] == [])
    }

    @Test("write copies at an offset and leaves the rest alone")
    func writeAtOffset() {
        let storage = Self.storage([1, 2, 3, 4, 5])
        [UInt8]([8, 9]).withUnsafeBytes { storage.write($0, at: 3) }
        [UInt8]().withUnsafeBytes { storage.write($0, at: 5) }
        #expect(storage[0..<5] == [1, 2, 3, 8, 9])
    }

    @Test("moveToFront moves an overlapping range to the front")
    func moveOverlapping() {
        let storage = Self.storage([0, 1, 2, 3, 4, 5, 6, 7])
        storage.moveToFront(from: 2, count: 5)
        #expect(storage[0..<8] == [2, 3, 4, 5, 6, 5, 6, 7])
        storage.moveToFront(from: 8, count: 0)
        #expect(storage[0..<8] == [2, 3, 4, 5, 6, 5, 6, 7])
    }

    @Test("copy makes a bigger block whose front holds the chosen range")
    func copyRange() {
        let copy = Self.storage([1, 2, 3, 4]).copy(from: 1, count: 3, capacity: 6)
        #expect(copy.capacity == 6)
        #expect(copy[0..<6] == [2, 3, 4, 0, 0, 0])
    }

    @Test("append grows geometrically and keeps the bytes")
    func appendGrows() {
        var buffer = RESPInputBuffer()
        #expect(buffer.capacity == 0)
        let chunk = [UInt8](repeating: 7, count: 10_000)
        for _ in 0..<10 { chunk.withUnsafeBytes { buffer.append($0) } }
        #expect(buffer.readableCount == 100_000)
        #expect(buffer.capacity == 128 * 1024)
        #expect(buffer.storage[0..<100_000] == [UInt8](repeating: 7, count: 100_000))
    }

    @Test("reserveTail compacts in place only when that frees at least half the capacity")
    func compactOrGrow() {
        var buffer = RESPInputBuffer()
        let bytes = (0..<16_000).map { UInt8(truncatingIfNeeded: $0) }
        bytes.withUnsafeBytes { buffer.append($0) }
        let block = ObjectIdentifier(buffer.storage)
        buffer.consume(upTo: 15_950)
        buffer.reserveTail(1000)
        #expect(ObjectIdentifier(buffer.storage) == block, "compacted in place")
        #expect(buffer.readIndex == 0)
        #expect(buffer.writeIndex == 50)
        #expect(buffer.discardedCount == 15_950)
        #expect(buffer.streamOffset(of: 0) == 15_950)
        #expect(buffer.storage[0..<50] == Array(bytes[15_950...]))
        buffer.reserveTail(RESPInputBuffer.initialCapacity)
        #expect(buffer.capacity == 2 * RESPInputBuffer.initialCapacity)
        #expect(buffer.storage[0..<50] == Array(bytes[15_950...]))
    }

    @Test("copies of a buffer do not see each other's writes (copy-on-write)")
    func copyOnWrite() {
        var original = RESPInputBuffer()
        [UInt8]([1, 2, 3]).withUnsafeBytes { original.append($0) }
        var copy = original
        [UInt8]([4]).withUnsafeBytes { copy.append($0) }
        #expect(original.readableCount == 3)
        #expect(copy.readableCount == 4)
        #expect(original.storage !== copy.storage)
        #expect(copy.storage[0..<4] == [1, 2, 3, 4])
    }

    @Test("consuming everything rewinds, and gives back a block grown past the retained size")
    func consumeRewinds() {
        var buffer = RESPInputBuffer()
        let big = [UInt8](repeating: 1, count: RESPInputBuffer.retainedCapacity + 1)
        big.withUnsafeBytes { buffer.append($0) }
        buffer.consume(upTo: big.count)
        #expect(buffer.readIndex == 0 && buffer.writeIndex == 0)
        #expect(buffer.discardedCount == big.count)
        #expect(buffer.capacity == 0)
    }

    @Test("withWritableTail exposes the spare capacity and keeps only the reported bytes")
    func writableTail() {
        var buffer = RESPInputBuffer()
        let written = buffer.withWritableTail(minimumCapacity: 10) { tail -> Int in
            #expect(tail.count >= 10)
            tail[0] = 42
            tail[1] = 43
            return 2
        }
        #expect(written == 2)
        #expect(buffer.readableCount == 2)
        #expect(buffer.storage[0..<2] == [42, 43])
    }
}
