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
/// Up to ``longest`` bytes a command: a longer command (or batch, on average) stays as it
/// is (a filler's one long name could exceed a server's `proto-max-bulk-len` where the
/// command's own arguments did not).
enum FillerCommands {
    /// The shortest filler, and the shortest command the client encodes (`PING`, 14
    /// bytes, is the shortest it has a reason to send); a raw shorter one stays as it is.
    static let shortest = 14
    /// The longest filler: far under the smallest `proto-max-bulk-len` a server allows (1 MB).
    static let longest = 256 << 10

    /// `count` commands taking exactly `length` bytes, the bytes shared out evenly (a
    /// batch's commands may each be long), or `nil` when they cannot (fewer than
    /// ``shortest`` or more than ``longest`` bytes a command).
    static func encode(count: Int, length: Int) -> [UInt8]? {
        guard count >= 1, length >= shortest * count, length <= longest * count else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(length)
        for index in 0..<count {
            let share = length / count + (index < length % count ? 1 : 0)
            guard let filler = one(share) else { return nil }
            bytes += filler
        }
        return bytes
    }

    /// One command of exactly `length` bytes, from ``shortest`` to ``longest``.
    static func one(_ length: Int) -> [UInt8]? {
        guard (shortest...longest).contains(length) else { return nil }
        // `*1\r\n$<k>\r\n` and a name of k `#`s (9 + digits(k) + k bytes), or the same with
        // an empty argument after it (6 bytes more) for the few lengths where a decimal
        // width changes and the first cannot fit.
        for (head, tail) in [("*1\r\n", ""), ("*2\r\n", "$0\r\n\r\n")] {
            let fixed = head.utf8.count + 5 + tail.utf8.count
            for digits in 1...7 {
                let name = length - fixed - digits
                guard name >= 1 else { break }
                guard String(name).utf8.count == digits else { continue }
                var bytes = Array(head.utf8)
                bytes.reserveCapacity(length)
                bytes += Array("$\(name)\r\n".utf8)
                bytes += Array(repeating: UInt8(ascii: "#"), count: name)
                bytes += Array("\r\n\(tail)".utf8)
                return bytes
            }
        }
        return nil
    }
}
