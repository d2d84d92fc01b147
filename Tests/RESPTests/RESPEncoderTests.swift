@testable import RESP
import Testing

@Suite("Command encoder")
struct RESPEncoderTests {
    @Test("a parameter-pack command of mixed argument types")
    func mixedArguments() {
        var out: [UInt8] = []
        let key: Substring = "key:1"[...]
        RESPEncoder.encodeCommand(into: &out, "SET", key, [UInt8]([0x00, 0x0D, 0x0A]), 42, Int64(-7), UInt.max, 1.5,
                                  [UInt8]([1, 2, 3])[1...], RESPBytesArgument([UInt8(ascii: "z")].lazy.map { $0 }))
        let expected = "*9\r\n$3\r\nSET\r\n$5\r\nkey:1\r\n$3\r\n\0\r\n\r\n$2\r\n42\r\n$2\r\n-7\r\n"
            + "$20\r\n18446744073709551615\r\n$3\r\n1.5\r\n$2\r\n\u{02}\u{03}\r\n$1\r\nz\r\n"
        #expect(out == wire(expected))
    }

    @Test("the array form encodes exactly like the pack form")
    func arrayFormMatchesPack() {
        var pack: [UInt8] = []
        RESPEncoder.encodeCommand(into: &pack, "RPUSH", "list", "héllo", Int.min, -0.0)
        var dynamic: [UInt8] = []
        RESPEncoder.encodeCommand(into: &dynamic, arguments: ["RPUSH", "list", "héllo", Int.min, -0.0])
        #expect(pack == dynamic)
        #expect(parse(pack).values == [.array([.bulk("RPUSH"), .bulk("list"), .bulk("héllo"), .bulk("-9223372036854775808"), .bulk("-0.0")])])
    }

    @Test("the fixed-arity overloads (one to five arguments) encode exactly like the pack form")
    func fixedArityMatchesPack() {
        // A generic forwarder always takes the pack form; a direct call with one to five
        // arguments takes a fixed-arity overload.
        func viaPack<each A: RESPArgument>(_ arguments: repeat each A) -> [UInt8] {
            var out: [UInt8] = []
            RESPEncoder.encodeCommand(into: &out, repeat each arguments)
            return out
        }
        let payload = [UInt8]([0x00, 0x0D, 0x0A, 0xFF])
        var out: [UInt8] = []
        RESPEncoder.encodeCommand(into: &out, "PING")
        #expect(out == viaPack("PING"))
        out = []
        RESPEncoder.encodeCommand(into: &out, "GET", "héllo"[...])
        #expect(out == viaPack("GET", "héllo"[...]))
        out = []
        RESPEncoder.encodeCommand(into: &out, "RPUSH", "jobs", payload)
        #expect(out == viaPack("RPUSH", "jobs", payload))
        out = []
        RESPEncoder.encodeCommand(into: &out, "HSET", "h", "f", -1.5)
        #expect(out == viaPack("HSET", "h", "f", -1.5))
        out = []
        RESPEncoder.encodeCommand(into: &out, "SET", "k", payload[1...], "EX", Int.max)
        #expect(out == viaPack("SET", "k", payload[1...], "EX", Int.max))
        #expect(parse(out).values == [.array([.bulk("SET"), .bulk("k"), .bulkString([0x0D, 0x0A, 0xFF]), .bulk("EX"), .bulk("9223372036854775807")])])
    }

    @Test("commands append to a buffer that already holds earlier commands")
    func appends() {
        var out: [UInt8] = []
        RESPEncoder.encodeCommand(into: &out, "PING")
        RESPEncoder.encodeCommand(into: &out, "GET", "")
        #expect(out == wire("*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$0\r\n\r\n"))
    }

    @Test("an empty argument list is an empty array; many arguments get multi-digit headers")
    func counts() {
        var out: [UInt8] = []
        RESPEncoder.encodeCommand(into: &out, arguments: [])
        #expect(out == wire("*0\r\n"))
        out = []
        let many: [any RESPArgument] = (0..<1234).map { $0 }
        RESPEncoder.encodeCommand(into: &out, arguments: many)
        #expect(parse(out).values == [.array((0..<1234).map { .bulk(String($0)) })])
    }

    @Test("the whole command is reserved up front: one growth from empty")
    func reservesOnce() {
        var out: [UInt8] = []
        let value = [UInt8](repeating: 0x61, count: 5000)
        RESPEncoder.encodeCommand(into: &out, "RPUSH", "key", value)
        #expect(out.count == 4 + 11 + 9 + 7 + 5000 + 2)
        #expect(out.capacity >= out.count)
    }

    @Test("decimal text of integers at every digit boundary", arguments: [
        0, 9, 10, 99, 100, 999, 1000, 123_456_789, 1_733_000_000_000, Int64.max, Int64.min, -1, -10, -100,
    ] as [Int64])
    func decimals(value: Int64) {
        var out: [UInt8] = [0x2A]
        RESPDecimal.append(value, to: &out)
        #expect(out == [0x2A] + Array(String(value).utf8))
        #expect(RESPDecimal.count(value) == out.count - 1)
    }

    @Test("decimal text of every power of ten and the number before it, to UInt64.max")
    func decimalsAtEveryDigitCount() {
        var power: UInt64 = 1
        var values: [UInt64] = [0, UInt64.max, UInt64.max - 1]
        for _ in 0..<19 {
            values += [power, power - 1, power + 1]
            power *= 10
        }
        for value in values {
            var out: [UInt8] = []
            RESPDecimal.append(magnitude: value, negative: false, to: &out)
            #expect(out == Array(String(value).utf8), "\(value)")
            #expect(RESPDecimal.count(magnitude: value) == out.count)
        }
    }

    @Test("Double arguments use text Redis accepts for scores", arguments: [
        (1.0, "1.0"), (0.1, "0.1"), (-2.5, "-2.5"), (1e-10, "1e-10"), (.infinity, "inf"), (-.infinity, "-inf"),
    ] as [(Double, String)])
    func doubles(value: Double, text: String) {
        var out: [UInt8] = []
        value.appendRESPPayload(to: &out)
        #expect(out == Array(text.utf8))
        #expect(value.respPayloadCount == out.count)
    }
}
