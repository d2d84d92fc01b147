/// Harmless commands of an exact total length: what a command that timed out before it
/// was written becomes where it lies in a connection's queue (``OutboundQueue/expire(now:held:)``),
/// so that a server that starts reading again does not run it, while every byte offset and
/// reply slot of the queue stays as it was (the filler's replies land in the slots the
/// command left, which swallow them).
///
/// The fillers are `ECHO` with one argument too many, which the server refuses with an
/// arity error and nothing else (a short reply however long the filler: the argument is
/// read, not sent back; inside a `MULTI` the transaction is then refused at `EXEC`, as a
/// transaction missing a command should be), or, for the lengths those cannot take,
/// `PING`, `ECHO` with its argument, or a one-word unknown command.
enum FillerCommands {
    /// The shortest command the client encodes, `PING`: no command is shorter.
    static let shortest = 14

    /// `count` commands taking exactly `length` bytes, or `nil` when they cannot
    /// (fewer than ``shortest`` bytes a command).
    static func encode(count: Int, length: Int) -> [UInt8]? {
        guard count >= 1, length >= shortest * count else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for _ in 1..<count { bytes += ping }
        guard let last = one(length - shortest * (count - 1)) else { return nil }
        bytes += last
        return bytes
    }

    private static let ping = Array("*1\r\n$4\r\nPING\r\n".utf8)

    /// One command of exactly `length` bytes (at least ``shortest``).
    static func one(_ length: Int) -> [UInt8]? {
        if length == shortest { return ping }
        // The head, then `$<k>\r\n`, `k` bytes and `\r\n`: head + 5 + digits(k) + k bytes.
        // Each head serves the lengths where some `k` has the digits that make it fit;
        // at the few lengths where a decimal width changes, the next one does.
        let heads = ["*3\r\n$4\r\nECHO\r\n$0\r\n\r\n", "*4\r\n$4\r\nECHO\r\n$0\r\n\r\n$0\r\n\r\n", "*2\r\n$4\r\nECHO\r\n"]
        for head in heads {
            let fixed = head.utf8.count + 5
            for digits in 1...19 {
                let argument = length - fixed - digits
                guard argument >= 0 else { break }
                guard String(argument).utf8.count == digits else { continue }
                var bytes = Array(head.utf8)
                bytes.reserveCapacity(length)
                bytes += Array("$\(argument)\r\n".utf8)
                bytes += Array(repeating: UInt8(ascii: "x"), count: argument)
                bytes += [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
                return bytes
            }
        }
        // 15 to 19 bytes: `*1\r\n$<k>\r\n` and a name of k = 5…9 letters the server does not know.
        let name = length - 10
        guard (5...9).contains(name) else { return nil }
        return Array("*1\r\n$\(name)\r\n".utf8) + Array(repeating: UInt8(ascii: "X"), count: name) + [UInt8(ascii: "\r"), UInt8(ascii: "\n")]
    }
}
