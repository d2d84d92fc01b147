/// Harmless commands of an exact total length: what a command that timed out before it
/// was written becomes where it lies in a connection's queue (``OutboundQueue/expire(now:held:)``),
/// so that a server that starts reading again does not run it, while every byte offset and
/// reply slot of the queue stays as it was (the filler's replies land in the slots the
/// command left, which swallow them).
///
/// A filler is a command whose name is only `#`s, which no server or module defines: the
/// server reads it whole and refuses it as unknown, a short error whatever its length,
/// before any permission check or cluster redirection, and inside a `MULTI` the
/// transaction is then refused at `EXEC`, as a transaction missing a command should be.
/// A filler's bulk strings are at most ``longestPart`` bytes each, so that none exceeds a
/// server's `proto-max-bulk-len` however long the command it replaces: a long filler is
/// a name and arguments of `#`s, each at most that long.
enum FillerCommands {
    /// The shortest filler, and the shortest command the client encodes (`PING`, 14
    /// bytes, is the shortest it has a reason to send); a raw shorter one stays as it is.
    static let shortest = 14
    /// The longest bulk string in a filler: far under the smallest `proto-max-bulk-len` a
    /// server allows (1 MB).
    static let longestPart = 256 << 10
    /// The arguments a filler longer than ``longestPart`` adds after its name: 65,536
    /// `#`s each (`$65536\r\n`, the `#`s, `\r\n`: 65,546 bytes), as many as leave the
    /// name at most ``longestPart``.
    static let argumentPart = 64 << 10
    /// One such argument on the wire.
    private static let argumentBytes = 8 + argumentPart + 2

    /// `count` commands taking exactly `length` bytes, the bytes shared out evenly (a
    /// batch's commands may each be long), or `nil` when they cannot (fewer than
    /// ``shortest`` bytes a command).
    static func encode(count: Int, length: Int) -> [UInt8]? {
        guard count >= 1, length >= shortest * count else { return nil }
        // One command (the usual case, however long) without a copy into a second buffer.
        if count == 1 { return one(length) }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for index in 0..<count {
            let share = length / count + (index < length % count ? 1 : 0)
            guard let filler = one(share) else { return nil }
            bytes += filler
        }
        return bytes
    }

    /// One command of exactly `length` bytes, ``shortest`` or more.
    static func one(_ length: Int) -> [UInt8]? {
        guard length >= shortest else { return nil }
        let arguments = length > longestPart ? (length - longestPart + argumentBytes - 1) / argumentBytes : 0
        // `*<n>\r\n$<k>\r\n`, a name of k `#`s and its `\r\n` (8 + digits(n) + digits(k) + k
        // bytes), then the arguments of `#`s, or the same with an empty argument at the end
        // (6 bytes more) for the few lengths where a decimal width changes and the first
        // cannot fit.
        for empty in [false, true] {
            let head = Array("*\(1 + arguments + (empty ? 1 : 0))\r\n".utf8)
            let tail = empty ? Array("$0\r\n\r\n".utf8) : []
            let fixed = head.count + 5 + arguments * argumentBytes + tail.count
            for digits in 1...7 {
                let name = length - fixed - digits
                guard name >= 1 else { break }
                guard String(name).utf8.count == digits else { continue }
                var bytes = head
                bytes.reserveCapacity(length)
                bytes += Array("$\(name)\r\n".utf8)
                bytes += Array(repeating: UInt8(ascii: "#"), count: name)
                bytes += Array("\r\n".utf8)
                if arguments > 0 {
                    let argument = Array("$\(argumentPart)\r\n".utf8) + Array(repeating: UInt8(ascii: "#"), count: argumentPart) + Array("\r\n".utf8)
                    for _ in 0..<arguments { bytes += argument }
                }
                bytes += tail
                return bytes
            }
        }
        return nil
    }
}
