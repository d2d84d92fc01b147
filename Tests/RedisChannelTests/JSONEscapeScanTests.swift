import Testing
@testable import RedisUtil

/// The word- and vector-at-a-time escape scan against the byte-at-a-time rule, at every
/// length and position around the 16-byte steps, the 8-byte words and their tails.
@Suite struct JSONEscapeScanTests {
    /// Every byte that needs an escape, and the neighbours that do not.
    static let escaped: [UInt8] = Array(0..<0x20) + [UInt8(ascii: "\""), UInt8(ascii: "\\")]
    static let plain: [UInt8] = [0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80, 0xA2, 0xDC, 0xFF, UInt8(ascii: "x")]

    private func scan(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { JSONEscapeScan.anyNeedsEscape($0) }
    }

    @Test func cleanRunsOfEveryLengthNeedNoEscape() {
        #expect(!scan([]))
        for length in 1...40 {
            for filler in Self.plain {
                #expect(!scan(Array(repeating: filler, count: length)), "length \(length), byte \(filler)")
            }
            // Mixed plain bytes, including every high byte (non-ASCII UTF-8 is written as is).
            #expect(!scan((0..<length).map { Self.plain[$0 % Self.plain.count] }))
        }
        #expect(!scan(Array(0x20...0xFF).filter { !Self.escaped.contains($0) }))
    }

    @Test func oneEscapedByteIsFoundAtEveryPosition() {
        for length in 1...40 {
            for position in 0..<length {
                for byte in Self.escaped {
                    // Neighbours just above the thresholds, so a borrow cannot hide a miss.
                    var bytes = (0..<length).map { Self.plain[($0 + position) % Self.plain.count] }
                    bytes[position] = byte
                    #expect(scan(bytes), "length \(length), position \(position), byte \(byte)")
                    var out = [UInt8](repeating: 0, count: length)
                    let copied = bytes.withUnsafeBufferPointer { source in
                        out.withUnsafeMutableBufferPointer { JSONEscapeScan.copyIfPlain(source, to: $0.baseAddress!) }
                    }
                    #expect(!copied, "copied: length \(length), position \(position), byte \(byte)")
                }
            }
        }
    }

    /// Both lanes of the 16-byte test, every byte in every position of each.
    @Test func vectorTestAgreesWithTheByteRuleOnEveryByteInEveryLane() {
        for lane in 0..<16 {
            for byte in UInt8.min...UInt8.max {
                var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: 16)
                bytes[lane] = byte
                let words = bytes.withUnsafeBytes { $0.loadUnaligned(as: SIMD2<UInt64>.self) }
                #expect(JSONEscapeScan.vectorNeedsEscape(words) == JSONEscapeScan.needsEscape(byte), "lane \(lane), byte \(byte)")
            }
        }
    }

    @Test func wordTestAgreesWithTheByteRuleOnEveryByteInEveryLane() {
        for lane in 0..<8 {
            for byte in UInt8.min...UInt8.max {
                var word = UInt64(0x7878_7878_7878_7878)  // "xxxxxxxx"
                word &= ~(UInt64(0xFF) << (lane * 8))
                word |= UInt64(byte) << (lane * 8)
                #expect(JSONEscapeScan.wordNeedsEscape(word) == JSONEscapeScan.needsEscape(byte), "lane \(lane), byte \(byte)")
            }
        }
    }

    /// The reader's skip over a string's plain bytes, from every start, against a byte loop.
    @Test func endOfPlainBytesAgreesWithAByteLoop() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Self.plain + Self.escaped + Array("é我".utf8)
        for _ in 0..<2_000 {
            let bytes = (0..<Int.random(in: 0...40, using: &generator)).map { _ in
                // Mostly plain runs, so that whole words are skipped too.
                Bool.random(using: &generator) ? UInt8(ascii: "x") : alphabet.randomElement(using: &generator)!
            }
            for start in 0...bytes.count {
                var expectedEnd = start
                var expectedHigh: UInt8 = 0
                while expectedEnd < bytes.count && !JSONEscapeScan.needsEscape(bytes[expectedEnd]) {
                    expectedHigh |= bytes[expectedEnd]
                    expectedEnd += 1
                }
                var high: UInt8 = 0
                let end = bytes.withUnsafeBufferPointer { JSONEscapeScan.endOfPlainBytes($0, from: start, highBits: &high) }
                #expect(end == expectedEnd, "\(bytes) from \(start)")
                #expect((high >= 0x80) == (expectedHigh >= 0x80), "\(bytes) from \(start)")
            }
        }
    }

    /// The one-pass check and copy: the bytes copied exactly when the scan finds no escape.
    @Test func copyIfPlainCopiesExactlyThePlainStrings() {
        var generator = SystemRandomNumberGenerator()
        let alphabet: [UInt8] = Self.plain + Self.escaped + Array("é我".utf8)
        for _ in 0..<3_000 {
            let bytes = (0..<Int.random(in: 0...70, using: &generator)).map { _ in
                Int.random(in: 0..<10, using: &generator) > 0 ? UInt8(ascii: "x") : alphabet.randomElement(using: &generator)!
            }
            var out = [UInt8](repeating: 0xEE, count: bytes.count + 1)
            let copied = bytes.withUnsafeBufferPointer { source in
                out.withUnsafeMutableBufferPointer { JSONEscapeScan.copyIfPlain(source, to: $0.baseAddress!) }
            }
            #expect(copied == !scan(bytes), "\(bytes)")
            if copied {
                #expect(Array(out.prefix(bytes.count)) == bytes)
                #expect(out.last == 0xEE, "wrote past the bytes")
            }
        }
    }

    /// Strings that need escapes still come out as Python writes them.
    @Test func writerEscapesWhatTheScanFinds() {
        var out: [UInt8] = []
        JSONWriter.writeString(String(repeating: "a", count: 13) + "\"\u{01}é", into: &out)
        #expect(String(decoding: out, as: UTF8.self) == "\"" + String(repeating: "a", count: 13) + "\\\"\\u0001é\"")
    }
}
