import RESP

/// Writes JSON exactly as Python's `json.dumps(obj, ensure_ascii=False)` does, so a
/// message from Swift is byte-for-byte what a Python peer would have sent:
/// `", "` and `": "` separators, non-ASCII characters unescaped, integral numbers within
/// ±2^53 as integers (`1`), other numbers `repr`-style (`0.5`, `1e-05`, `1e+16`), and
/// `NaN` / `Infinity` / `-Infinity` for non-finite ones.
enum JSONWriter {
    /// `", "` between members and elements. Two byte appends: appending a literal's
    /// `utf8` view went through the generic sequence path, about 180 instructions.
    @inline(__always)
    static func writeComma(into out: inout [UInt8]) {
        out.append(UInt8(ascii: ","))
        out.append(UInt8(ascii: " "))
    }

    /// `": "` between a key and its value.
    @inline(__always)
    static func writeColon(into out: inout [UInt8]) {
        out.append(UInt8(ascii: ":"))
        out.append(UInt8(ascii: " "))
    }

    /// A value nested deeper than ``JSONReader/maxDepth`` levels, which no receiver reads.
    /// The writers stop at that depth instead of recursing on (a 100,000-deep value
    /// overflowed the stack); each encoder reports it as ``tooDeep(_:codingPath:)``.
    struct TooDeep: Error {}

    /// The error every encoder throws for a message nested deeper than the reader's limit.
    static func tooDeep(_ value: Any, codingPath: [any CodingKey]) -> EncodingError {
        .invalidValue(value, .init(codingPath: codingPath, debugDescription: "nested deeper than \(JSONReader.maxDepth) levels, which no receiver reads"))
    }

    /// The text of `value` for ``JSONValue/jsonBytes`` and `description`, which cannot
    /// throw: a value nested deeper than ``JSONReader/maxDepth`` levels (which no channel
    /// sends or reads) is written down to that depth and cut off there with `…`, so it
    /// is not JSON.
    static func writeCuttingAtDepthLimit(_ value: JSONValue) -> [UInt8] {
        var out: [UInt8] = []
        do {
            try write(value, into: &out, depth: 0)
        } catch {
            out.append(contentsOf: "…".utf8)
        }
        return out
    }

    /// Writes `value`, which lies inside `depth` arrays and objects; throws, having
    /// written part of it, where an array or object would lie deeper than
    /// ``JSONReader/maxDepth`` levels. An array or object is written into a
    /// ``JSONByteSink`` on scratch memory and appended once; a scalar (the tree encoder's
    /// leaves) straight into `out`, where scratch memory and a copy would cost more than
    /// they save.
    static func write(_ value: JSONValue, into out: inout [UInt8], depth: Int) throws(TooDeep) {
        switch value {
        case .null:
            return out.append(contentsOf: "null".utf8)
        case .bool(let flag):
            return out.append(contentsOf: (flag ? "true" : "false").utf8)
        case .number(let number):
            return writeNumber(number, into: &out)
        case .string(let text):
            return writeString(text, into: &out)
        case .array, .object:
            break
        }
        try writeThroughSink(value, into: &out, depth: depth)
    }

    /// Whether `a` sorts before `b` by their UTF-8 bytes (code point order), compared in
    /// place when both are contiguous (native strings are).
    static func keyPrecedes(_ a: String, _ b: String) -> Bool {
        let compared: Bool?? = a.utf8.withContiguousStorageIfAvailable { a in
            b.utf8.withContiguousStorageIfAvailable { b in JSONMemberOrder.keyPrecedes(a, b) }
        }
        if let compared, let result = compared { return result }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// The largest magnitude up to which every integer is a `Double`: 2^53.
    static let maxExactInteger: Double = 9_007_199_254_740_992

    /// The integer a number stands for when it is integral and within ±2^53, else `nil`
    /// (`-0.0` too, so that its sign is written).
    static func exactInteger(_ number: Double) -> Int64? {
        guard number.magnitude <= maxExactInteger, number.rounded(.towardZero) == number,
              !(number == 0 && number.sign == .minus) else { return nil }
        return Int64(number)
    }

    /// Integral numbers within ±2^53 as Python writes an `int`, the rest as a `float`.
    static func writeNumber(_ number: Double, into out: inout [UInt8]) {
        if let integer = exactInteger(number) {
            RESPDecimal.append(integer, to: &out)
        } else {
            writeDouble(number, into: &out)
        }
    }

    /// Python's `float.__repr__` and Swift's `description` are both the shortest text
    /// that round-trips, with the same switch to exponent form below 1e-4 and the same
    /// `e-05` exponent spelling; they differ in the non-finite names and between 2^53
    /// and 1e16, where Python still writes digits.
    static func writeDouble(_ number: Double, into out: inout [UInt8]) {
        if number.isNaN {
            out.append(contentsOf: "NaN".utf8)
        } else if number.isInfinite {
            out.append(contentsOf: (number < 0 ? "-Infinity" : "Infinity").utf8)
        } else if number.magnitude >= maxExactInteger, number.magnitude < 1e16 {
            // Swift's description switches to exponent form at 2^53, Python's repr only
            // at 1e16; every Double in between is a whole number.
            RESPDecimal.append(Int64(number), to: &out)
            out.append(contentsOf: ".0".utf8)
        } else {
            out.append(contentsOf: number.description.utf8)
        }
    }

    private static let hexDigits = Array("0123456789abcdef".utf8)

    /// Escapes what `ensure_ascii=False` escapes: quote, backslash and C0 controls
    /// (short forms where JSON has one, else `\u00XX` in lowercase hex as Python writes it).
    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        // Most strings need no escape: one check over their contiguous bytes, eight at a
        // time, and one copy.
        let copied = text.utf8.withContiguousStorageIfAvailable { bytes in
            if JSONEscapeScan.anyNeedsEscape(bytes) { return false }
            out.append(contentsOf: bytes)
            return true
        }
        if copied == true {
            out.append(UInt8(ascii: "\""))
            return
        }
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): out.append(contentsOf: #"\""#.utf8)
            case UInt8(ascii: "\\"): out.append(contentsOf: #"\\"#.utf8)
            case 0x0A: out.append(contentsOf: #"\n"#.utf8)
            case 0x0D: out.append(contentsOf: #"\r"#.utf8)
            case 0x09: out.append(contentsOf: #"\t"#.utf8)
            case 0x08: out.append(contentsOf: #"\b"#.utf8)
            case 0x0C: out.append(contentsOf: #"\f"#.utf8)
            case 0..<0x20:
                out.append(contentsOf: #"\u00"#.utf8)
                out.append(hexDigits[Int(byte >> 4)])
                out.append(hexDigits[Int(byte & 0xF)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}
