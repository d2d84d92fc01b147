@testable import RedisUtil
import RESP
import Testing

@Suite("FillerCommands: harmless commands of an exact length")
struct FillerCommandsTests {
    /// Every length from the shortest command to past the second change of a length's
    /// decimal width, and each side of the next two changes; then, for long fillers (a
    /// name and arguments of 64 KB), each side of the first argument's arrival, of the
    /// second's, the eighth's and the ninth's (where the part count's width changes: 10
    /// parts), around a megabyte and at 8 MB.
    static let lengths: [Int] = {
        let (part, argument) = (FillerCommands.longestPart, 8 + FillerCommands.argumentPart + 2)
        let arrivals = [part, part + argument, part + 8 * argument, part + 9 * argument]
        return Array(14...1_100) + Array(10_000 - 40...10_000 + 40) + Array(100_000 - 40...100_000 + 40)
            + arrivals.flatMap { Array($0 - 12...$0 + 12) } + Array((1 << 20) - 2...(1 << 20) + 2) + [8 << 20]
    }()

    @Test("each length gives one command of exactly that many bytes, only '#'s, no part longer than the longest")
    func oneCommandEachLength() throws {
        for length in Self.lengths {
            let bytes = try #require(FillerCommands.one(length), "no filler of \(length) bytes")
            #expect(bytes.count == length)
            var parser = RESPParser(limits: RESPLimits(maxBulkLength: FillerCommands.longestPart))
            parser.feed(bytes)
            let command = try #require(try parser.next(), "\(length) bytes do not parse")
            #expect(try parser.next() == nil, "\(length) bytes hold more than one command")
            let words = try #require(command.array)
            let name = try #require(words.first?.bytes)
            #expect(!name.isEmpty && name.allSatisfy { $0 == UInt8(ascii: "#") })
            #expect(words.allSatisfy { ($0.bytes?.count ?? .max) <= FillerCommands.longestPart })
            #expect(words.dropFirst().allSatisfy { $0.bytes?.allSatisfy { $0 == UInt8(ascii: "#") } == true })
            // Only a filler past the longest part has arguments of `#`s; shorter ones at most an empty one.
            if length <= FillerCommands.longestPart { #expect(words.dropFirst().allSatisfy { $0.bytes == [] }) }
        }
    }

    @Test("no filler below the shortest command: it then stays as it is")
    func bounds() {
        #expect(FillerCommands.one(FillerCommands.shortest - 1) == nil)
        #expect(FillerCommands.encode(count: 2, length: 27) == nil)
        #expect(FillerCommands.encode(count: 0, length: 100) == nil)
    }

    @Test("a batch's fillers: one command each, the lengths adding up, shared out evenly")
    func batches() throws {
        let longest = FillerCommands.longestPart
        for (count, length) in [(1, 14), (2, 28), (3, 100), (5, 4_096), (2, 29), (1_000, 1_000 * 1_040), (2, 2 * longest), (3, 2 * longest + 5), (2, 3 << 20)] {
            let bytes = try #require(FillerCommands.encode(count: count, length: length))
            #expect(bytes.count == length)
            var parser = RESPParser()
            parser.feed(bytes)
            var commands = 0
            while try parser.next() != nil { commands += 1 }
            #expect(commands == count)
        }
    }
}
