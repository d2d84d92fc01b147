/// Reads RESP2 replies (simple strings, errors, integers, bulk strings, arrays) from bytes as
/// they arrive, for ``RESPReplyExchange``. It exists so that this module can drive a cluster
/// without depending on the project's client; it is not the client's parser.
///
/// An incomplete reply is parsed again from its start once more bytes arrive. The replies it
/// reads are control replies of a few KB, so that costs microseconds; in exchange the reader
/// keeps no partial state that could go wrong.
struct RESPReplyReader {
    /// Why bytes are not a reply.
    struct Malformed: Error, Equatable {
        /// What was expected where, and what arrived.
        var reason: String
    }

    /// A bulk string longer than this is refused rather than waited for: a declared length
    /// from the wire never decides how much we buffer.
    static let maximumBulkLength = 64 << 20
    /// An array declaring more elements than this is refused.
    static let maximumArrayCount = 1 << 20
    /// Arrays nested deeper than this are refused (CLUSTER SLOTS nests three deep).
    static let maximumNesting = 16

    private var buffer: [UInt8] = []
    private var position = 0

    /// Adds bytes received from the node.
    mutating func append(_ bytes: ArraySlice<UInt8>) {
        // Consumed bytes are dropped only once they dominate, so each is moved at most once.
        if position > 4096 && position * 2 > buffer.count {
            buffer.removeFirst(position)
            position = 0
        }
        buffer.append(contentsOf: bytes)
    }

    /// The next complete reply, or nil until more bytes arrive.
    mutating func next() throws(Malformed) -> LocalRedisCluster.Reply? {
        var index = position
        guard let reply = try parse(at: &index, depth: 0) else { return nil }
        position = index
        return reply
    }

    private func parse(at index: inout Int, depth: Int) throws(Malformed) -> LocalRedisCluster.Reply? {
        guard depth <= Self.maximumNesting else {
            throw Malformed(reason: "arrays nested deeper than \(Self.maximumNesting)")
        }
        guard index < buffer.count else { return nil }
        let type = buffer[index]
        var cursor = index + 1
        guard let line = self.line(from: &cursor) else { return nil }
        let reply: LocalRedisCluster.Reply
        switch type {
        case UInt8(ascii: "+"):
            reply = .simple(line)
        case UInt8(ascii: "-"):
            reply = .error(line)
        case UInt8(ascii: ":"):
            reply = .integer(try Self.integer(line, of: "an integer reply"))
        case UInt8(ascii: "$"):
            let length = try Self.integer(line, of: "a bulk length")
            if length == -1 {
                reply = .null
                break
            }
            guard (0...Self.maximumBulkLength).contains(length) else {
                throw Malformed(reason: "expected a bulk length in 0...\(Self.maximumBulkLength) or -1, got \(length)")
            }
            guard buffer.count - cursor >= length + 2 else { return nil }
            guard buffer[cursor + length] == UInt8(ascii: "\r"), buffer[cursor + length + 1] == UInt8(ascii: "\n") else {
                throw Malformed(reason: "expected CRLF after a bulk string of \(length) bytes")
            }
            reply = .bulk(String(decoding: buffer[cursor..<cursor + length], as: UTF8.self))
            cursor += length + 2
        case UInt8(ascii: "*"):
            let count = try Self.integer(line, of: "an array length")
            if count == -1 {
                reply = .null
                break
            }
            guard (0...Self.maximumArrayCount).contains(count) else {
                throw Malformed(reason: "expected an array length in 0...\(Self.maximumArrayCount) or -1, got \(count)")
            }
            var elements: [LocalRedisCluster.Reply] = []
            for _ in 0..<count {
                guard let element = try parse(at: &cursor, depth: depth + 1) else { return nil }
                elements.append(element)
            }
            reply = .array(elements)
        default:
            throw Malformed(reason: "expected a RESP2 type byte (+ - : $ *), got \(Self.show(type))")
        }
        index = cursor
        return reply
    }

    /// The text up to the next CRLF, moving `cursor` past it; nil when no CRLF has arrived.
    private func line(from cursor: inout Int) -> String? {
        var end = cursor
        while end + 1 < buffer.count {
            if buffer[end] == UInt8(ascii: "\r") && buffer[end + 1] == UInt8(ascii: "\n") {
                let text = String(decoding: buffer[cursor..<end], as: UTF8.self)
                cursor = end + 2
                return text
            }
            end += 1
        }
        return nil
    }

    private static func integer(_ text: String, of what: String) throws(Malformed) -> Int {
        guard let value = Int(text) else { throw Malformed(reason: "expected \(what), got '\(text)'") }
        return value
    }

    private static func show(_ byte: UInt8) -> String {
        (0x21...0x7e).contains(byte) ? "'\(Character(Unicode.Scalar(byte)))'" : "byte \(byte)"
    }
}
