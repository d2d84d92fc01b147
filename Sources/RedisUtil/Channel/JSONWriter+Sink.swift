/// ``JSONWriter`` for a ``JSONValue``'s arrays and objects: written into a ``JSONByteSink``
/// (stores through a pointer after one reservation per piece, where an `[UInt8]` checked
/// its uniqueness and capacity at every append) on scratch memory, then copied once.
///
/// The unsafe part of this file: the stores in ``writeString(_:into:)`` go through the
/// sink's `write(upTo:_:)`, inside the room it reserved and checks the count against (a
/// short string's word: 10 bytes reserved, quote, eight bytes, quote at most), and read
/// only the string's own contiguous bytes. `JSONValueWriterTests` checks the output
/// against a reference of Python's `json.dumps`.
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
    /// about 8,300–8,550 since).
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
        case .object(let members):
            guard depth < JSONReader.maxDepth else { throw TooDeep() }
            sink.append(UInt8(ascii: "{"))
            var first = true
            try forEachMemberInKeyOrder(members) { (key, value) throws(TooDeep) in
                if !first { append(", ", to: &sink) }
                first = false
                writeString(key, into: &sink)
                append(": ", to: &sink)
                try write(value, into: &sink, depth: depth + 1)
            }
            sink.append(UInt8(ascii: "}"))
        }
    }

    /// Calls `body` with each member of `members` in the order Python's `sort_keys` writes
    /// them (their keys' UTF-8 bytes, code point order), sorting the members' positions in
    /// the dictionary rather than copies of the members: an array of the members, sorted
    /// and then released, cost a four-member message about 750 instructions. Up to 16
    /// members the positions are sorted on the stack, by insertion; more in an array.
    static func forEachMemberInKeyOrder(_ members: [String: JSONValue], _ body: (String, JSONValue) throws(TooDeep) -> Void) throws(TooDeep) {
        guard members.count <= 16 else {
            for index in members.indices.sorted(by: { keyPrecedes(members.keys[$0], members.keys[$1]) }) {
                try body(members.keys[index], members.values[index])
            }
            return
        }
        var order = InlineArray<16, Dictionary<String, JSONValue>.Index>(repeating: members.startIndex)
        var filled = 0
        for index in members.indices {
            let key = members.keys[index]
            var position = filled
            while position > 0, keyPrecedes(key, members.keys[order[position - 1]]) {
                order[position] = order[position - 1]
                position -= 1
            }
            order[position] = index
            filled += 1
        }
        for position in 0..<filled {
            try body(members.keys[order[position]], members.values[order[position]])
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
                sink.write(upTo: 10) { out in
                    out[0] = UInt8(ascii: "\"")
                    UnsafeMutableRawPointer(out + 1).storeBytes(of: plain.word.littleEndian, as: UInt64.self)
                    out[count &+ 1] = UInt8(ascii: "\"")
                    return count &+ 2
                }
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
}
