@testable import RedisUtil
import RESP
import Testing

/// `EncodedCommand.layout` reads through the array's buffer without bounds checks: it must
/// find what a plain, bounds-checked reading finds, and never read outside the bytes,
/// whatever they hold (cut short, corrupted, a start outside them).
@Suite("Locating an encoded command's name and end")
struct EncodedCommandLayoutTests {
    @Test("agrees with a bounds-checked reading on whole, cut and corrupted commands and any start")
    func agreesWithAReference() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<2_000 {
            let arguments: [[UInt8]] = (0..<Int.random(in: 1...5, using: &generator)).map { _ in
                (0..<Int.random(in: 0...(round % 7 == 0 ? 40 : 12), using: &generator)).map { _ in
                    // Bytes that look like framing half of the time.
                    Bool.random(using: &generator) ? [UInt8(ascii: "\r"), UInt8(ascii: "\n"), UInt8(ascii: "$"), UInt8(ascii: "*"), UInt8(ascii: "1")].randomElement(using: &generator)! : UInt8.random(in: 0...255, using: &generator)
                }
            }
            var batch: [UInt8] = []
            let commands = Int.random(in: 1...3, using: &generator)
            for _ in 0..<commands { RESPEncoder.encodeCommand(into: &batch, arguments: arguments.map { $0 as any RESPArgument }) }
            // Whole, then each command found in turn.
            var start = 0
            for _ in 0..<commands {
                let found = EncodedCommand.layout(batch, at: start)
                #expect(same(found, reference(batch, at: start)))
                guard let found else { Issue.record("a whole command was not found"); break }
                #expect(Array(batch[found.name]) == arguments[0])
                start = found.end
            }
            #expect(start == batch.count)
            // Cut anywhere, corrupted anywhere, read from anywhere (outside too).
            let cut = Array(batch.prefix(Int.random(in: 0..<batch.count, using: &generator)))
            #expect(same(EncodedCommand.layout(cut, at: 0), reference(cut, at: 0)))
            var corrupted = batch
            corrupted[Int.random(in: 0..<corrupted.count, using: &generator)] = UInt8.random(in: 0...255, using: &generator)
            #expect(same(EncodedCommand.layout(corrupted, at: 0), reference(corrupted, at: 0)))
            let anywhere = Int.random(in: -3...(batch.count + 3), using: &generator)
            #expect(same(EncodedCommand.layout(corrupted, at: anywhere), reference(corrupted, at: anywhere)))
        }
        #expect(EncodedCommand.layout([], at: 0) == nil)
        #expect(EncodedCommand.layout(Array("*0\r\n".utf8), at: 0) == nil)
        #expect(EncodedCommand.layout(Array("*1\r\n$4\r\nPING".utf8), at: 0) == nil)
        #expect(EncodedCommand.layout(Array("*1\r\n$99999999999999999999\r\n".utf8), at: 0) == nil)
    }

    private func same(_ a: CommandLayout?, _ b: CommandLayout?) -> Bool {
        switch (a, b) {
        case (nil, nil): true
        case let (a?, b?): a.name == b.name && a.second == b.second && a.start == b.start && a.end == b.end
        default: false
        }
    }

    /// The reading `layout` did before it read through the buffer: every access checked.
    private func reference(_ bytes: [UInt8], at start: Int) -> CommandLayout? {
        func number(after marker: UInt8, at index: inout Int) -> Int? {
            guard index >= 0, index < bytes.count, bytes[index] == marker else { return nil }
            var cursor = index + 1
            var value = 0
            while cursor < bytes.count, bytes[cursor] != UInt8(ascii: "\r") {
                let digit = Int(bytes[cursor]) - 48
                guard (0...9).contains(digit), value < Int.max / 10 - 9 else { return nil }
                value = value * 10 + digit
                cursor += 1
            }
            guard cursor + 1 < bytes.count, bytes[cursor + 1] == UInt8(ascii: "\n") else { return nil }
            index = cursor + 2
            return value
        }
        var index = start
        guard let count = number(after: UInt8(ascii: "*"), at: &index), count > 0 else { return nil }
        var name = 0..<0
        var second: Range<Int>?
        for argument in 0..<count {
            guard let length = number(after: UInt8(ascii: "$"), at: &index), length <= bytes.count - index - 2 else { return nil }
            if argument == 0 { name = index..<(index + length) }
            if argument == 1 { second = index..<(index + length) }
            index += length + 2
        }
        return CommandLayout(name: name, second: second, start: start, end: index)
    }
}
