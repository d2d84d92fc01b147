/// ``JSONWriter`` for a ``JSONValue``'s arrays and objects: written into a ``JSONByteSink``
/// (stores through a pointer after one reservation per piece, where an `[UInt8]` checked
/// its uniqueness and capacity at every append) on scratch memory, then copied once.
///
/// The unsafe part of this file: the stores in ``writeString(_:into:)`` and
/// `writeQuoted(word:count:into:)` go through the sink's `write(upTo:_:)`, inside the room
/// it reserved and checks the count against (a short string's word: 10 bytes reserved,
/// quote, eight bytes, quote at most), and read only the string's own contiguous bytes.
/// `JSONValueWriterTests` checks the output against a reference of Python's `json.dumps`.
extension JSONWriter {
    /// What a value's JSON is written on before it is copied: the common message's fits.
    private static let scratchBytes = 1024

    /// Appends the JSON of `value`, which lies inside `depth` arrays and objects, to `out`
    /// through a sink; what was written before a throw is appended too (the callers that
    /// cut a value at the depth limit keep it).
    static func writeThroughSink(_ value: JSONValue, into out: inout [UInt8], depth: Int) throws(TooDeep) {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratchBytes) { scratch throws(TooDeep) in
            var sink = JSONByteSink(scratch: scratch)
            defer { sink.withBytes { out.append(contentsOf: $0) } }
            try write(value, into: &sink, depth: depth)
        }
    }

    /// Lends the JSON of `value` to `body`, written on scratch memory: what a channel
    /// sends for a ``JSONValue`` message, copied once into its command.
    static func withJSON<Result>(of value: JSONValue, _ body: (UnsafeBufferPointer<UInt8>) -> Result) throws(TooDeep) -> Result {
        try withUnsafeTemporaryAllocation(of: UInt8.self, capacity: scratchBytes) { scratch throws(TooDeep) in
            var sink = JSONByteSink(scratch: scratch)
            try write(value, into: &sink, depth: 0)
            return sink.withBytes(body)
        }
    }

    /// ``write(_:into:depth:)`` into a sink (callgrind, a channel's callback send of a
    /// four-member `JSONValue`, the value built per message: 10,865 instructions before,
    /// about 8,300–8,550 since; 7,800 with the members sorted; 5,000 once objects kept
    /// their order and a literal's members were taken without copying them).
    static func write(_ value: JSONValue, into sink: inout JSONByteSink, depth: Int) throws(TooDeep) {
        switch value {
        case .null:
            append("null", to: &sink)
        case .bool(let flag):
            append(flag ? "true" : "false", to: &sink)
        case .number(let number):
            if let integer = exactInteger(number) {
                sink.appendDecimal(integer)
            } else {
                var text: [UInt8] = []
                writeDouble(number, into: &text)
                sink.append(text)
            }
        case .string(let text):
            writeString(text, into: &sink)
        case .array(let elements):
            guard depth < JSONReader.maxDepth else { throw TooDeep() }
            sink.append(UInt8(ascii: "["))
            for index in elements.indices {
                if index > 0 { append(", ", to: &sink) }
                try write(elements[index], into: &sink, depth: depth + 1)
            }
            sink.append(UInt8(ascii: "]"))
        case .object(let object):
            guard depth < JSONReader.maxDepth else { throw TooDeep() }
            sink.append(UInt8(ascii: "{"))
            let members = object.members
            for index in members.indices {
                if index > 0 { append(", ", to: &sink) }
                writeString(members[index].0, into: &sink)
                append(": ", to: &sink)
                try write(members[index].1, into: &sink, depth: depth + 1)
            }
            sink.append(UInt8(ascii: "}"))
        }
    }

    /// Appends a literal's bytes.
    @inline(__always)
    private static func append(_ literal: StaticString, to sink: inout JSONByteSink) {
        literal.withUTF8Buffer { sink.append($0) }
    }

    /// ``writeString(_:into:)`` into a sink: a string that needs no escape (most)
    /// is checked and copied between its quotes in one pass, eight bytes at a time
    /// (``JSONEscapeScan/copyIfPlain(_:to:)``); at the first escape nothing is kept and
    /// the string is written escaped.
    static func writeString(_ text: String, into sink: inout JSONByteSink) {
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes in
            let count = bytes.count
            if count <= 8 {
                // A short string (a key, mostly) as one word: checked by the word test and
                // stored at once, room for the whole word reserved.
                guard let plain = JSONEscapeScan.shortPlainWord(bytes) else { return false }
                writeQuoted(word: plain.word, count: count, into: &sink)
                return true
            }
            var plain = false
            sink.write(upTo: count &+ 2) { out in
                guard JSONEscapeScan.copyIfPlain(bytes, to: out + 1) else { return 0 }
                plain = true
                out[0] = UInt8(ascii: "\"")
                out[count &+ 1] = UInt8(ascii: "\"")
                return count &+ 2
            }
            return plain
        }
        if copied == true { return }
        var escaped: [UInt8] = []
        writeString(text, into: &escaped)
        sink.append(escaped)
    }

    /// Writes a string of `count` (at most eight) bytes that need no escape, held in
    /// `word` in memory order, between quotes: one store for the bytes, room for the
    /// whole word reserved.
    @inline(__always)
    private static func writeQuoted(word: UInt64, count: Int, into sink: inout JSONByteSink) {
        sink.write(upTo: 10) { out in
            out[0] = UInt8(ascii: "\"")
            UnsafeMutableRawPointer(out + 1).storeBytes(of: word.littleEndian, as: UInt64.self)
            out[count &+ 1] = UInt8(ascii: "\"")
            return count &+ 2
        }
    }
}
