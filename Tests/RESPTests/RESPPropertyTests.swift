import TestSupport
@testable import RESP
import Testing

@Suite("Random values (fixed seed)")
struct RESPPropertyTests {
    @Test("5000 random nested, binary-safe values round-trip through encode and parse")
    func randomRoundTrip() {
        var random = RandomValues(rng: SeededGenerator(seed: 0x5EED_2024))
        for index in 0..<5000 {
            let value = random.value()
            let encoded = value.encodedBytes
            #expect(encoded.count == value.encodedByteCount, "case \(index)")
            let outcome = parse(encoded)
            #expect(outcome == ParseOutcome(values: [value]), "case \(index): \(value)")
            if outcome != ParseOutcome(values: [value]) { return }
        }
    }

    @Test("a stream of 300 random values parses the same in random chunk sizes", arguments: [1, 2, 3])
    func randomChunking(seed: UInt64) {
        var random = RandomValues(rng: SeededGenerator(seed: seed))
        let values = (0..<300).map { _ in random.value() }
        let stream = values.flatMap(\.encodedBytes)
        var chunks: [ArraySlice<UInt8>] = []
        var position = 0
        while position < stream.count {
            let size = Int.random(in: 1...64, using: &random.rng)
            let end = min(stream.count, position + size)
            chunks.append(stream[position..<end])
            position = end
        }
        #expect(parse(chunks: chunks) == ParseOutcome(values: values))
    }

    @Test("random bytes never crash the parser and always end in values, nil or an error")
    func randomGarbage() {
        var rng = SeededGenerator(seed: 42)
        let alphabet = wire("+-:$*_,#(!=%~|>\r\n0123456789-1tfx")
        for _ in 0..<3000 {
            let count = Int.random(in: 0...40, using: &rng)
            let input = (0..<count).map { _ in alphabet.randomElement(using: &rng)! }
            let whole = parse(input, limits: RESPLimits(maxDepth: 4))
            let cut = Int.random(in: 0...count, using: &rng)
            #expect(parse(chunks: [input[..<cut], input[cut...]], limits: RESPLimits(maxDepth: 4)) == whole)
        }
    }
}
