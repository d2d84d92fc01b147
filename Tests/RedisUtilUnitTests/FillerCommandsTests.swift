@testable import RedisUtil
import RESP
import Testing

@Suite("FillerCommands: harmless commands of an exact length")
struct FillerCommandsTests {
    /// Every length from the shortest command to past the second change of a length's
    /// decimal width, and each side of the next change.
    static let lengths: [Int] = Array(14...1_100) + Array(10_000 - 40...10_000 + 40)

    @Test("at the longer widths' changes too, each length is met exactly")
    func longLengths() throws {
        for power in [100_000, 1_000_000] {
            for length in power - 40...power + 40 {
                let bytes = try #require(FillerCommands.one(length), "no filler of \(length) bytes")
                #expect(bytes.count == length)
            }
        }
    }

    @Test("each length gives one command of exactly that many bytes, an array of bulk strings")
    func oneCommandEachLength() throws {
        for length in Self.lengths {
            let bytes = try #require(FillerCommands.one(length), "no filler of \(length) bytes")
            #expect(bytes.count == length)
            var parser = RESPParser()
            parser.feed(bytes)
            let command = try #require(try parser.next(), "\(length) bytes do not parse")
            #expect(try parser.next() == nil, "\(length) bytes hold more than one command")
            let words = try #require(command.array)
            #expect(!words.isEmpty && words.allSatisfy { $0.bytes != nil })
            // Only PING, the refused forms of ECHO, ECHO and unknown names.
            let name = try #require(words[0].string)
            #expect(["PING", "ECHO"].contains(name) || name.allSatisfy { $0 == "X" }, "\(name)")
        }
    }

    @Test("a filler for a long command is refused by the server (a short error), not echoed back")
    func longFillersAreRefusedForms() throws {
        for length in [100, 1_000, 65_536, 1 << 20] {
            var parser = RESPParser()
            parser.feed(try #require(FillerCommands.one(length)))
            let words = try #require(try parser.next()?.array)
            #expect(words.count >= 3, "ECHO with \(words.count - 1) arguments at \(length) bytes")
        }
    }

    @Test("a batch's fillers: one command each, the lengths adding up; none below the shortest command")
    func batches() throws {
        for (count, length) in [(1, 14), (2, 28), (3, 100), (5, 4_096), (2, 29)] {
            let bytes = try #require(FillerCommands.encode(count: count, length: length))
            #expect(bytes.count == length)
            var parser = RESPParser()
            parser.feed(bytes)
            var commands = 0
            while try parser.next() != nil { commands += 1 }
            #expect(commands == count)
        }
        #expect(FillerCommands.encode(count: 2, length: 27) == nil)
        #expect(FillerCommands.encode(count: 1, length: 13) == nil)
        #expect(FillerCommands.encode(count: 0, length: 100) == nil)
    }
}
