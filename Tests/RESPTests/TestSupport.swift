import TestSupport
@testable import RESP
import Testing

/// One reply recorded from a real redis-server (see RecordedReplies.swift).
struct RecordedReply: Sendable, CustomTestStringConvertible {
    let name: String
    let command: String
    let bytes: [UInt8]

    init(name: String, command: String, hex: String) {
        self.name = name
        self.command = command
        self.bytes = bytesFromHex(hex)
    }

    var testDescription: String { name }
}

func bytesFromHex(_ hex: String) -> [UInt8] {
    let digits = Array(hex.utf8)
    precondition(digits.count % 2 == 0, "odd hex length")
    func nibble(_ c: UInt8) -> UInt8 {
        switch c {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): c - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): c - UInt8(ascii: "a") + 10
        default: preconditionFailure("not a hex digit")
        }
    }
    return stride(from: 0, to: digits.count, by: 2).map { nibble(digits[$0]) << 4 | nibble(digits[$0 + 1]) }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The outcome of parsing a whole stream: every value, then the error that stopped it (if any).
struct ParseOutcome: Equatable, CustomStringConvertible {
    var values: [RESPValue] = []
    var error: RESPError?
    var description: String { "\(values) error: \(error.map(String.init(describing:)) ?? "none")" }
}

/// Feeds `chunks` in order, draining complete values after each one.
func parse(chunks: [ArraySlice<UInt8>], limits: RESPLimits = .default) -> ParseOutcome {
    var parser = RESPParser(limits: limits)
    var outcome = ParseOutcome()
    for chunk in chunks {
        parser.feed(chunk)
        do {
            while let value = try parser.next() { outcome.values.append(value) }
        } catch {
            outcome.error = error
            return outcome
        }
    }
    return outcome
}

func parse(_ stream: [UInt8], limits: RESPLimits = .default) -> ParseOutcome {
    parse(chunks: [stream[...]], limits: limits)
}

/// Random RESP values of every type, nested, with binary payloads full of `\r`, `\n` and NUL.
struct RandomValues {
    var rng: SeededGenerator

    mutating func payload(maxCount: Int = 40) -> [UInt8] {
        let count = Int.random(in: 0...maxCount, using: &rng)
        // Bias toward the bytes that break naive parsers.
        let tricky: [UInt8] = [0x0D, 0x0A, 0x00, 0xFF, UInt8(ascii: "$"), UInt8(ascii: "*")]
        return (0..<count).map { _ in
            Bool.random(using: &rng) ? tricky.randomElement(using: &rng)! : UInt8.random(in: 0...255, using: &rng)
        }
    }

    /// A line without `\r` or `\n`, as simple strings and errors must be.
    mutating func line() -> [UInt8] {
        payload(maxCount: 20).map { $0 == 0x0D || $0 == 0x0A ? UInt8(ascii: "x") : $0 }
    }

    mutating func value(depth: Int = 0) -> RESPValue {
        let scalarOnly = depth >= 4
        let choice = Int.random(in: 0..<(scalarOnly ? 13 : 18), using: &rng)
        switch choice {
        case 0: return .simpleString(line())
        case 1: return .error(line())
        case 2:
            let edge: [Int64] = [0, 1, -1, 9, 10, 99, 100, .max, .min]
            return .integer(Bool.random(using: &rng) ? edge.randomElement(using: &rng)! : Int64.random(in: .min ... .max, using: &rng))
        case 3: return .bulkString(payload())
        case 4: return .nullBulkString
        case 5: return .nullArray
        case 6: return .null
        case 7:
            let special: [Double] = [.infinity, -.infinity, .nan, 0, -0.0, 1e-300, 1.5e300, .pi]
            return .double(Bool.random(using: &rng) ? special.randomElement(using: &rng)! : Double(bitPattern: rng.next()))
        case 8: return .boolean(Bool.random(using: &rng))
        case 9:
            let digits = (0..<Int.random(in: 1...50, using: &rng)).map { _ in UInt8.random(in: 0x30...0x39, using: &rng) }
            return .bigNumber((Bool.random(using: &rng) ? [UInt8(ascii: "-")] : []) + digits)
        case 10: return .bulkError(payload())
        case 11: return .verbatimString(format: Bool.random(using: &rng) ? .text : .markdown, text: payload())
        case 12: return .simpleString([UInt8(ascii: "O"), UInt8(ascii: "K")])
        case 13: return .array(elements(depth))
        case 14: return .set(elements(depth))
        case 15: return .push(elements(depth))
        case 16: return .map(pairs(depth))
        default: return .attribute(pairs(depth), value(depth: depth + 1))
        }
    }

    mutating func elements(_ depth: Int) -> [RESPValue] {
        (0..<Int.random(in: 0...5, using: &rng)).map { _ in value(depth: depth + 1) }
    }

    mutating func pairs(_ depth: Int) -> [(key: RESPValue, value: RESPValue)] {
        (0..<Int.random(in: 0...3, using: &rng)).map { _ in (value(depth: depth + 1), value(depth: depth + 1)) }
    }
}

extension RESPValue {
    static func bulk(_ text: String) -> RESPValue { .bulkString(Array(text.utf8)) }
    static func simple(_ text: String) -> RESPValue { .simpleString(Array(text.utf8)) }
}
