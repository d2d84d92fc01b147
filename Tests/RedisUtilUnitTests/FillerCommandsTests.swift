@testable import RedisUtil
import RESP
import Testing

@Suite("FillerCommands: harmless commands of an exact length")
struct FillerCommandsTests {
    /// Every length from the shortest command to past the second change of a length's
    /// decimal width, and each side of the next two changes and of the longest filler.
    static let lengths: [Int] = Array(14...1_100) + Array(10_000 - 40...10_000 + 40) + Array(100_000 - 40...100_000 + 40)
        + Array(FillerCommands.longest - 40...FillerCommands.longest)

    @Test("each length gives one command of exactly that many bytes, named only '#'s, whose arguments are empty")
    func oneCommandEachLength() throws {
        for length in Self.lengths {
            let bytes = try #require(FillerCommands.one(length), "no filler of \(length) bytes")
            #expect(bytes.count == length)
            var parser = RESPParser()
            parser.feed(bytes)
            let command = try #require(try parser.next(), "\(length) bytes do not parse")
            #expect(try parser.next() == nil, "\(length) bytes hold more than one command")
            let words = try #require(command.array)
            let name = try #require(words.first?.bytes)
            #expect(!name.isEmpty && name.allSatisfy { $0 == UInt8(ascii: "#") })
            #expect(words.dropFirst().allSatisfy { $0.bytes == [] })
        }
    }

    @Test("no filler below the shortest command or above the longest: the command then stays as it is")
    func bounds() {
        #expect(FillerCommands.one(FillerCommands.shortest - 1) == nil)
        #expect(FillerCommands.one(FillerCommands.longest + 1) == nil)
        #expect(FillerCommands.encode(count: 2, length: 27) == nil)
        #expect(FillerCommands.encode(count: 2, length: 2 * FillerCommands.longest + 1) == nil)
        #expect(FillerCommands.encode(count: 0, length: 100) == nil)
    }

    @Test("a batch's fillers: one command each, the lengths adding up, shared out so that long batches fit")
    func batches() throws {
        let longest = FillerCommands.longest
        for (count, length) in [(1, 14), (2, 28), (3, 100), (5, 4_096), (2, 29), (1_000, 1_000 * 1_040), (2, 2 * longest), (3, 2 * longest + 5)] {
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
