/// The arguments of one encoded command (`*N\r\n$len\r\narg\r\n…`), located once so
/// that a key spec can reach any of them by index.
///
/// Key specs jump around (a `numkeys` read, then keys after it; a keyword searched
/// backwards), so each argument's bounds go in a table first. That table is a
/// temporary allocation, on the stack for the commands of everyday size, so locating
/// the arguments of `RPUSH key value` costs no heap allocation.
///
/// A value of this type lives only inside ``withArguments(of:at:_:)``'s closure: it
/// points into the caller's bytes and into the temporary table.
struct ClusterKeyArguments {
    /// The bytes the arguments lie in.
    let bytes: UnsafeBufferPointer<UInt8>
    /// The start and end (exclusive) of argument `i` at `2 * i` and `2 * i + 1`.
    private let bounds: UnsafeMutableBufferPointer<Int>
    /// The number of arguments, the name included.
    let count: Int
    /// The index just past the command's last byte, where the next command of a batch begins.
    let end: Int

    /// Calls `body` with the arguments of the command that starts at `start`, or
    /// returns `nil` without calling it when the bytes there are not one whole command
    /// of bulk strings with at least a name.
    @inline(__always)  // Inlined, the closures capture nothing by reference counting.
    static func withArguments<Result>(
        of bytes: UnsafeBufferPointer<UInt8>,
        at start: Int,
        _ body: (ClusterKeyArguments) -> Result
    ) -> Result? {
        guard var cursor = Cursor(bytes, at: start) else { return nil }
        let count = cursor.count
        return withUnsafeTemporaryAllocation(of: Int.self, capacity: 2 * count) { bounds -> Result? in
            for argument in 0..<count {
                guard let range = cursor.next() else { return nil }
                bounds.initializeElement(at: 2 * argument, to: range.lowerBound)
                bounds.initializeElement(at: 2 * argument + 1, to: range.upperBound)
            }
            return body(ClusterKeyArguments(bytes: bytes, bounds: bounds, count: count, end: cursor.index))
        }
    }

    /// Reads one command's arguments in order, each checked as it is read: enough to
    /// reach a key at a fixed position without a table of the arguments.
    struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        /// The number of arguments, the name included.
        let count: Int
        /// Where the next argument's `$` is, or, once all are read, the end of the command.
        private(set) var index: Int
        /// The number of arguments read so far.
        private(set) var read = 0

        /// A cursor on the command that starts at `start`, or `nil` when no array of at
        /// least one element starts there.
        init?(_ bytes: UnsafeBufferPointer<UInt8>, at start: Int) {
            var index = start
            guard let count = ClusterKeyArguments.number(after: UInt8(ascii: "*"), in: bytes, at: &index), count > 0,
                  // Each argument takes at least `$0\r\n\r\n`: a count beyond what the
                  // bytes can hold is refused before it sizes anything.
                  count <= (bytes.count - index) / 6 else { return nil }
            self.bytes = bytes
            self.count = count
            self.index = index
        }

        /// Where the next argument's bytes are, or `nil` when all are read or the bytes
        /// there are not a whole bulk string.
        @inline(__always)
        mutating func next() -> Range<Int>? {
            guard read < count, let argument = ClusterKeyArguments.bulk(in: bytes, at: index) else { return nil }
            index = argument.upperBound &+ 2
            read += 1
            return argument
        }
    }

    /// The contents of the bulk string whose `$` is at `header` in `bytes`, its length
    /// and both `\r\n` checked; nil when it is not one. Both readings of a command's
    /// arguments, the cursor's and the plain one's, go through here.
    @inline(__always)
    static func bulk(in bytes: UnsafeBufferPointer<UInt8>, at header: Int) -> Range<Int>? {
        let end = bytes.count
        guard header >= 0, header < end, bytes[header] == UInt8(ascii: "$") else { return nil }
        var cursor = header &+ 1
        var length = 0
        while cursor < end, bytes[cursor] != 0x0D {
            let digit = Int(bytes[cursor] &- UInt8(ascii: "0"))
            guard digit < 10, length < Int.max / 10 - 9 else { return nil }
            length = length &* 10 &+ digit
            cursor &+= 1
        }
        let start = cursor &+ 2
        guard cursor > header &+ 1, start <= end, length <= end &- start &- 2,
              bytes[cursor &+ 1] == 0x0A, bytes[start &+ length] == 0x0D, bytes[start &+ length &+ 1] == 0x0A else { return nil }
        return start..<(start &+ length)
    }

    /// The bytes of argument `position` (0 is the name).
    @inline(__always)
    subscript(position: Int) -> UnsafeBufferPointer<UInt8> {
        UnsafeBufferPointer(rebasing: bytes[bounds[2 * position]..<bounds[2 * position + 1]])
    }

    /// Whether argument `position` spells `word`, ignoring ASCII case (the server's
    /// `strcasecmp`).
    func equalsIgnoringCase(_ position: Int, _ word: [UInt8]) -> Bool {
        let argument = self[position]
        guard argument.count == word.count else { return false }
        for offset in 0..<word.count where ClusterKeyTable.folded(argument[offset]) != ClusterKeyTable.folded(word[offset]) {
            return false
        }
        return true
    }

    /// Argument `position` as a count, or `nil` unless it is `0` or digits without a
    /// leading zero that fit an `Int`: what the server's `string2ll` accepts, less the
    /// negative numbers, which no count may be.
    func count(at position: Int) -> Int? {
        let argument = self[position]
        guard let first = argument.first, first &- UInt8(ascii: "0") < 10 else { return nil }
        if first == UInt8(ascii: "0") { return argument.count == 1 ? 0 : nil }
        var value = 0
        for byte in argument {
            let digit = Int(byte &- UInt8(ascii: "0"))
            guard digit < 10 else { return nil }
            let (times, overflow) = value.multipliedReportingOverflow(by: 10)
            let (sum, carry) = times.addingReportingOverflow(digit)
            guard !overflow, !carry else { return nil }
            value = sum
        }
        return value
    }

    /// Argument `position` as text, for error messages (invalid UTF-8 replaced).
    func text(_ position: Int) -> String {
        String(decoding: self[position], as: UTF8.self)
    }

    /// Reads `<marker><digits>\r\n` at `index` and moves past it.
    @inline(__always)
    fileprivate static func number(after marker: UInt8, in bytes: UnsafeBufferPointer<UInt8>, at index: inout Int) -> Int? {
        guard index + 3 < bytes.count, bytes[index] == marker else { return nil }
        // One digit, as for most counts and names: no loop.
        let first = Int(bytes[index + 1] &- UInt8(ascii: "0"))
        guard first < 10 else { return nil }
        if bytes[index + 2] == 0x0D {
            guard bytes[index + 3] == 0x0A else { return nil }
            index += 4
            return first
        }
        var cursor = index + 2
        var value = first
        while cursor < bytes.count, bytes[cursor] != 0x0D {
            let digit = Int(bytes[cursor] &- UInt8(ascii: "0"))
            guard digit < 10, value < Int.max / 10 - 9 else { return nil }
            value = value * 10 + digit
            cursor += 1
        }
        guard cursor + 1 < bytes.count, bytes[cursor + 1] == 0x0A else { return nil }
        index = cursor + 2
        return value
    }
}
