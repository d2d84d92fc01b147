import Testing
@testable import RedisUtil

/// Values from the Redis Cluster specification and from `CLUSTER KEYSLOT` on redis 7.0
/// (the server test against 10,000 random keys lives with the cluster tests).
@Suite struct HashSlotTests {
    @Test func checksumOfTheSpecificationsExample() {
        // The specification's reference: CRC16("123456789") is 0x31C3.
        #expect(HashSlot.crc16(Array("123456789".utf8)) == 0x31C3)
    }

    @Test(arguments: [
        ("foo", 12182), ("bar", 5061), ("", 0), ("{user1000}.following", 3443),
        ("{user1000}.followers", 3443), ("user1000", 3443), ("foo{}{bar}", 8363),
        ("foo{{bar}}zap", 4015), ("foo{bar}{zap}", 5061), ("{}", 15257), ("{a", 10276),
    ])
    func slotsAgreeWithTheServer(key: String, slot: Int) {
        #expect(HashSlot.of(key) == slot)
    }

    /// The in-place form routing uses (pointers, `memchr`) against the generic one, on
    /// every key of up to six bytes over `{`, `}`, `a` and `b`: every tag shape there is.
    @Test func theInPlaceSlotAgreesWithTheGenericOne() {
        let alphabet = Array("{}ab".utf8)
        var keys: [[UInt8]] = [[]]
        for _ in 0..<6 { keys += keys.filter { $0.count == keys.last!.count }.flatMap { key in alphabet.map { key + [$0] } } }
        for key in keys {
            let generic = HashSlot.of(key[...])
            let inPlace = key.withUnsafeBufferPointer { HashSlot.of($0) }
            #expect(inPlace == generic, "\(String(decoding: key, as: UTF8.self))")
        }
        #expect(keys.count == 1 + 4 + 16 + 64 + 256 + 1024 + 4096)
    }

    /// The in-place form against the generic one on random keys of every length to 40
    /// (the two-word search for `{` in keys of 8 to 16 bytes, `memchr` beyond), with
    /// a `{` and a `}` at every position and without.
    @Test func theInPlaceSlotAgreesWithTheGenericOneOnLongerKeys() {
        var generator = SystemRandomNumberGenerator()
        var checked = 0
        for length in 0...40 {
            for brace in -1..<max(length, 1) {
                var key = (0..<length).map { _ in UInt8.random(in: 0x20...0x7A, using: &generator) }
                if brace >= 0, brace < length {
                    key[brace] = UInt8(ascii: "{")
                    if brace + 2 < length { key[Int.random(in: (brace + 1)..<length, using: &generator)] = UInt8(ascii: "}") }
                }
                let inPlace = key.withUnsafeBufferPointer { HashSlot.of($0) }
                #expect(inPlace == HashSlot.of(key[...]), "\(String(decoding: key, as: UTF8.self))")
                checked += 1
            }
        }
        #expect(checked > 800)
        // Each byte value at each position of a word: only `{` is one.
        for value in UInt8.min...UInt8.max {
            for position in 0..<8 {
                var bytes = [UInt8](repeating: UInt8(ascii: "a"), count: 8)
                bytes[position] = value
                let word = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                #expect(HashSlot.hasOpeningBrace(word) == (value == UInt8(ascii: "{")), "\(value) at \(position)")
            }
        }
    }

    /// The four-bytes-a-step CRC routing uses against the byte-a-step reference, on every
    /// length up to 70 (every tail of the four-byte steps) of random bytes, and on runs of
    /// each byte value.
    @Test func theSlicedChecksumAgreesWithTheBytewiseOne() {
        var generator = SystemRandomNumberGenerator()
        for length in 0...70 {
            for _ in 0..<50 {
                let bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                #expect(bytes.withUnsafeBufferPointer { HashSlot.crc16Sliced($0) } == HashSlot.crc16(bytes), "\(bytes)")
            }
        }
        for value in UInt8.min...UInt8.max {
            let bytes = [UInt8](repeating: value, count: 9)
            #expect(bytes.withUnsafeBufferPointer { HashSlot.crc16Sliced($0) } == HashSlot.crc16(bytes), "\(value)")
        }
        #expect(Array("123456789".utf8).withUnsafeBufferPointer { HashSlot.crc16Sliced($0) } == 0x31C3)
    }

    @Test func aTagSelectsTheSameSlotAsItsContent() {
        for tag in ["a", "jobs", "/asyncworker/image-process/client"] {
            #expect(HashSlot.of("{\(tag)}/inflight") == HashSlot.of(tag))
        }
    }
}
