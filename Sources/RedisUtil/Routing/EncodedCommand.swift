import RESP

/// Reading back the arguments of a command this package encoded (`*N\r\n$len\r\n…`),
/// to route commands (``CommandRoute``) without a second representation of every call.
enum EncodedCommand {
    /// A command built at run time, encoded; an empty list is an error, not a command.
    static func encode(_ arguments: [any RESPArgument]) -> Result<[UInt8], RedisError> {
        guard !arguments.isEmpty else { return .failure(CommandRoute.nameless) }
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
        return .success(bytes)
    }

    /// Where the first command's name lies in `bytes`. Inlined: the fixed-offset reading
    /// of most commands costs less than a call.
    @inline(__always)
    static func firstName(_ bytes: [UInt8]) -> Range<Int>? {
        // `*N\r\n$L\r\n` with one-digit N and L: most commands, at a fixed offset.
        if bytes.count > 8, bytes[0] == UInt8(ascii: "*"), bytes[2] == 0x0D, bytes[3] == 0x0A,
           bytes[4] == UInt8(ascii: "$"), bytes[6] == 0x0D, bytes[7] == 0x0A {
            let length = Int(bytes[5]) &- 48
            guard (0...9).contains(length), 8 + length <= bytes.count else { return nil }
            return 8..<(8 + length)
        }
        return layout(bytes, at: 0)?.name
    }

    /// The layout of the command that starts at `start`, or `nil` if the bytes there
    /// are not a whole command this package encoded.
    ///
    /// Read through the array's buffer: every read below is guarded by a comparison with
    /// its count (the array's bounds checks, per byte, made a pipeline's commands cost
    /// about 335 instructions each to locate, twice: for its refusal check and, on a
    /// cluster, its split by slot).
    static func layout(_ bytes: [UInt8], at start: Int) -> CommandLayout? {
        bytes.withUnsafeBufferPointer { buffer in
            var index = start
            guard let count = number(after: UInt8(ascii: "*"), in: buffer, at: &index), count > 0 else { return nil }
            var name = 0..<0
            var second: Range<Int>?
            for argument in 0..<count {
                guard let length = number(after: UInt8(ascii: "$"), in: buffer, at: &index),
                      length <= buffer.count - index - 2 else { return nil }
                if argument == 0 { name = index..<(index + length) }
                if argument == 1 { second = index..<(index + length) }
                index += length + 2
            }
            return CommandLayout(name: name, second: second, start: start, end: index)
        }
    }

    /// Whether `bytes[range]` spells `candidate` (upper-case ASCII letters), in any case.
    static func equalsIgnoringCase(_ bytes: [UInt8], _ range: Range<Int>, _ candidate: StaticString) -> Bool {
        guard range.count == candidate.utf8CodeUnitCount else { return false }
        return candidate.withUTF8Buffer { letters in
            // Clearing bit 5 upper-cases a letter; no other byte becomes a letter by it.
            for offset in 0..<letters.count where bytes[range.lowerBound + offset] & 0xDF != letters[offset] {
                return false
            }
            return true
        }
    }

    /// The arguments of the first command in `bytes`, or `nil` if it is not a command this package encoded.
    static func arguments(_ bytes: [UInt8]) -> [[UInt8]]? {
        bytes.withUnsafeBufferPointer { buffer in
            var index = 0
            guard let count = number(after: UInt8(ascii: "*"), in: buffer, at: &index) else { return nil }
            var arguments: [[UInt8]] = []
            arguments.reserveCapacity(min(count, buffer.count))
            for _ in 0..<count {
                guard let length = number(after: UInt8(ascii: "$"), in: buffer, at: &index),
                      index + length + 2 <= buffer.count else { return nil }
                arguments.append(Array(buffer[index..<(index + length)]))
                index += length + 2
            }
            return arguments
        }
    }

    /// The names (first arguments, upper-cased) of the first `count` commands in
    /// `bytes`, for error messages; fewer when the bytes end or are not RESP commands.
    static func names(_ bytes: [UInt8], count: Int) -> [String] {
        var names: [String] = []
        var index = 0
        while names.count < count, let layout = layout(bytes, at: index) {
            names.append(String(decoding: bytes[layout.name], as: UTF8.self).uppercased())
            index = layout.end
        }
        return names
    }

    /// Reads `<marker><digits>\r\n` at `index` and moves past it.
    @inline(__always)
    private static func number(after marker: UInt8, in bytes: UnsafeBufferPointer<UInt8>, at index: inout Int) -> Int? {
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
}
