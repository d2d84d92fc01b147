@testable import RedisUtil
import RESP
import Testing

/// Command names read, folded and compared as one word (`CommandNameWord`), and the
/// special commands looked up by it (`SpecialCommand`).
@Suite("Command names as words")
struct CommandNameWordTests {
    @Test("a name read as one word folds every byte as the bytewise fold does, wherever it lies")
    func foldedWords() {
        // Every byte value at every position of a word, the other bytes capitals and not.
        for position in 0..<8 {
            for value in UInt8.min...UInt8.max {
                for filler: UInt8 in [UInt8(ascii: "Q"), UInt8(ascii: "q"), 0x80, 0xDA] {
                    var bytes = [UInt8](repeating: filler, count: 8)
                    bytes[position] = value
                    let word = bytes.withUnsafeBufferPointer { CommandNameWord.folded($0) }
                    let expected = bytes.enumerated().reduce(UInt64(0)) { $0 | UInt64(ClusterKeyTable.folded($1.element)) << (8 * UInt64($1.offset)) }
                    #expect(word == expected, "\(bytes)")
                }
            }
        }
        // The one-load read against the bytewise one, at every start and count of buffers
        // of every length to 30: away from the end (a load from the name), near it (the
        // buffer's last eight bytes, shifted) and in buffers too short for a load.
        let command = Array("*3\r\n$5\r\nrPuSh\r\n$4\r\nJOBS\r\n".utf8)
        var checked = 0
        for length in 0...command.count {
            Array(command.prefix(length)).withUnsafeBufferPointer { buffer in
                for start in 0...buffer.count {
                    for count in 0...min(8, buffer.count - start) {
                        let name = UnsafeBufferPointer(rebasing: buffer[start..<(start + count)])
                        #expect(CommandNameWord.folded(in: buffer, at: start, count: count) == CommandNameWord.folded(name), "\(length) \(start) \(count)")
                        checked += 1
                    }
                }
            }
        }
        #expect(checked > 2_000)
    }

    @Test("every special command of eight bytes or fewer is found by its word in any case; a longer or shorter name is not")
    func specialCommandsByWord() {
        for (name, command) in SpecialCommand.shortNameList {
            let upper = name.description
            for spelling in [upper, upper.lowercased(), String(upper.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.lowercased()) : $0.element })] {
                let bytes = Array(spelling.utf8)
                #expect(SpecialCommand.named(bytes.indices, in: bytes) == command, "\(spelling)")
                // The name inside a whole command, where the one load reads it.
                var encoded: [UInt8] = []
                RESPEncoder.encodeCommand(into: &encoded, arguments: [spelling, "key"])
                #expect(SpecialCommand.named(EncodedCommand.firstName(encoded)!, in: encoded) == command, "\(spelling) encoded")
                let padded = bytes + [0]
                #expect(SpecialCommand.named(padded.indices, in: padded) == nil, "\(spelling) with a NUL")
                #expect(SpecialCommand.named(bytes.indices.dropLast(), in: bytes) == nil || bytes.count == 1, "\(spelling) cut")
            }
        }
        #expect(SpecialCommand.shortNameList.count == 33)
    }

}
