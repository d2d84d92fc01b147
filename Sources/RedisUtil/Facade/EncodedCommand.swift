/// Reading back the arguments of a command this package encoded (`*N\r\n$len\r\n…`),
/// to recognise blocking commands without a second representation of every call.
enum EncodedCommand {
    /// Whether the first argument could name a blocking command: they all begin with
    /// B, W or X, so most commands are dismissed by one byte.
    static func mayBlock(_ bytes: [UInt8]) -> Bool {
        guard let first = firstArgumentStart(bytes), first < bytes.count else { return false }
        switch bytes[first] | 0x20 {
        case UInt8(ascii: "b"), UInt8(ascii: "w"), UInt8(ascii: "x"): return true
        default: return false
        }
    }

    /// The arguments of the first command in `bytes`, or `nil` if it is not a command this package encoded.
    static func arguments(_ bytes: [UInt8]) -> [[UInt8]]? {
        var index = 0
        guard let count = number(after: UInt8(ascii: "*"), in: bytes, at: &index) else { return nil }
        var arguments: [[UInt8]] = []
        arguments.reserveCapacity(count)
        for _ in 0..<count {
            guard let length = number(after: UInt8(ascii: "$"), in: bytes, at: &index),
                  index + length + 2 <= bytes.count else { return nil }
            arguments.append(Array(bytes[index..<(index + length)]))
            index += length + 2
        }
        return arguments
    }

    /// The names (first arguments, upper-cased) of the first `count` commands in
    /// `bytes`, for error messages; fewer when the bytes end or are not RESP commands.
    static func names(_ bytes: [UInt8], count: Int) -> [String] {
        var names: [String] = []
        var index = 0
        while names.count < count, let arguments = number(after: UInt8(ascii: "*"), in: bytes, at: &index) {
            for argument in 0..<arguments {
                guard let length = number(after: UInt8(ascii: "$"), in: bytes, at: &index),
                      index + length + 2 <= bytes.count else { return names }
                if argument == 0 { names.append(String(decoding: bytes[index..<(index + length)], as: UTF8.self).uppercased()) }
                index += length + 2
            }
        }
        return names
    }

    private static func firstArgumentStart(_ bytes: [UInt8]) -> Int? {
        // `*N\r\n$L\r\n` with one-digit N and L: nearly every command, at a fixed offset.
        if bytes.count > 8, bytes[0] == UInt8(ascii: "*"), bytes[2] == 0x0D, bytes[3] == 0x0A,
           bytes[4] == UInt8(ascii: "$"), bytes[6] == 0x0D, bytes[7] == 0x0A {
            return 8
        }
        var index = 0
        guard number(after: UInt8(ascii: "*"), in: bytes, at: &index) != nil,
              number(after: UInt8(ascii: "$"), in: bytes, at: &index) != nil else { return nil }
        return index
    }

    /// Reads `<marker><digits>\r\n` at `index` and moves past it.
    private static func number(after marker: UInt8, in bytes: [UInt8], at index: inout Int) -> Int? {
        guard index < bytes.count, bytes[index] == marker else { return nil }
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
}
