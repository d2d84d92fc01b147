/// JSON's tokens, scanned in place over a message's bytes: the one definition of what a
/// number, a string and its escapes are, shared by ``FlatJSONDocument`` (the fast path)
/// and ``JSONReader`` (the tree), so that the two can never disagree on a token.
/// Structure (objects, arrays, Python's `NaN`) stays with each reader.
///
/// A scan that fails leaves `position` where ``JSONReader`` reports the problem.
struct JSONScanner {
    let bytes: [UInt8]
    var position = 0
    /// Whether a string had a byte beyond ASCII: only then can two keys with different
    /// bytes be one Swift `String`, which ``FlatJSONDocument`` must check.
    private(set) var sawNonASCII = false

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var current: UInt8? { position < bytes.count ? bytes[position] : nil }
    var isAtEnd: Bool { position == bytes.count }

    func error(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: position, message: message)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while let byte = current, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { position += 1 }
    }

    /// Consumes `literal` if it comes next; compares in place, with no copy of either.
    mutating func consume(_ literal: StaticString) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard bytes.count - position >= length else { return false }
        let matches = literal.withUTF8Buffer { utf8 in bytes[position..<position + length].elementsEqual(utf8) }
        if matches { position += length }
        return matches
    }

    // MARK: Numbers

    /// A number ``scanNumber()`` found.
    struct Number {
        /// Its bytes, sign included.
        var range: Range<Int>
        /// Whether it has neither fraction nor exponent.
        var isInteger: Bool
        /// Whether it starts with `-`.
        var isNegative: Bool
        /// An integer's digits read as they were scanned, for one of at most 19 digits
        /// (which cannot overflow a `UInt64`); `nil` otherwise. Reading them again after
        /// the scan cost about 230 instructions for the benchmark message's two integers
        /// (callgrind), the scan's loop about 40 more for reading them in passing.
        var magnitude: UInt64?

        /// Whether this is the integer `-0`, which a `Double` reads as -0.0: the readers
        /// that keep integers apart leave it to a `Double` or keep its text. (Only an
        /// integer has a magnitude, and a leading zero ends one: `-0` is the only
        /// negative integer of magnitude 0.)
        var isMinusZero: Bool { isNegative && magnitude == 0 }
    }

    /// The number starting at `position` (a `-` or a digit). A leading zero ends the
    /// number: "01" is two tokens, and the reader reports the second.
    mutating func scanNumber() throws(JSONSyntaxError) -> Number {
        let start = position
        var isInteger = true
        let isNegative = current == UInt8(ascii: "-")
        if isNegative { position += 1 }
        guard let first = current, first &- 0x30 < 10 else { throw error("expected a digit") }
        let digitsStart = position
        var magnitude = UInt64(first &- 0x30)
        position += 1
        if first != 0x30 { magnitude = skipDigits(from: magnitude) }
        let integerDigits = position - digitsStart
        if current == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            guard skipDigits() > 0 else { throw error("expected a digit after '.'") }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            position += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { position += 1 }
            guard skipDigits() > 0 else { throw error("expected a digit in the exponent") }
        }
        return Number(range: start..<position, isInteger: isInteger, isNegative: isNegative, magnitude: isInteger && integerDigits <= 19 ? magnitude : nil)
    }

    /// Skips the digits at `position` and returns the number of them.
    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = position
        _ = skipDigits(from: 0)
        return position - start
    }

    /// Skips the digits at `position`, returning `value` with them appended (wrapping
    /// past 19 digits, where the caller no longer reads it). An index in a local and the
    /// count read once: about 8 instructions a digit, value included (callgrind).
    @inline(__always)
    private mutating func skipDigits(from value: UInt64) -> UInt64 {
        var index = position
        var value = value
        let count = bytes.count
        while index < count {
            let digit = bytes[index] &- 0x30
            guard digit < 10 else { break }
            value = value &* 10 &+ UInt64(digit)
            index &+= 1
        }
        position = index
        return value
    }

    /// The integer `bytes[range]` (an integer ``scanNumber()`` found) as `Integer`, or
    /// `nil` if it does not fit; `-0` is 0. Inlined: for a message's short integers, a
    /// call (and the thunk between specialisations) costs as much as the loop.
    @inline(__always)
    static func integer<Integer: FixedWidthInteger>(_ bytes: [UInt8], in range: Range<Int>, as type: Integer.Type) -> Integer? {
        var index = range.lowerBound
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        var magnitude: UInt64 = 0
        // Nineteen digits cannot overflow (10^19 - 1 < 2^64): those without the checks,
        // which cost about half of each digit's instructions.
        let unchecked = min(range.upperBound, index + 19)
        while index < unchecked {
            magnitude = magnitude &* 10 &+ UInt64(bytes[index] &- 0x30)
            index += 1
        }
        while index < range.upperBound {
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(bytes[index] &- 0x30))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
            index += 1
        }
        return integer(magnitude: magnitude, negative: negative, as: Integer.self)
    }

    /// The integer of `magnitude` and sign as `Integer`, or `nil` if it does not fit; a
    /// negative zero is 0.
    @inline(__always)
    static func integer<Integer: FixedWidthInteger>(magnitude: UInt64, negative: Bool, as type: Integer.Type) -> Integer? {
        guard negative else { return Integer(exactly: magnitude) }
        if magnitude == UInt64(Int64.max) + 1 { return Integer(exactly: Int64.min) }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Integer(exactly: -Int64(magnitude))
    }

    /// The number `bytes[range]` (one ``scanNumber()`` found) as Swift's `Double` parser
    /// reads it: out of range it is infinite or zero.
    static func double(_ bytes: [UInt8], in range: Range<Int>) -> Double? {
        Double(String(decoding: bytes[range], as: UTF8.self))
    }

    // MARK: Strings

    /// The string starting at `position` (its opening quote): the range between the
    /// quotes, and whether it has escapes (then ``string(_:in:hasEscapes:)`` resolves
    /// them). Every escape is checked here, surrogates paired, bytes strict UTF-8, so
    /// that resolving cannot fail.
    mutating func scanString() throws(JSONSyntaxError) -> (range: Range<Int>, hasEscapes: Bool) {
        let start = position + 1
        var hasEscapes = false
        var highBits: UInt8 = 0
        position = start
        while true {
            position = Self.endOfPlainBytes(bytes.span, from: position, highBits: &highBits)
            guard let byte = current else { throw error("unterminated string") }
            if byte == UInt8(ascii: "\"") { break }
            guard byte == UInt8(ascii: "\\") else { throw error("control character 0x\(String(byte, radix: 16)) inside a string") }
            hasEscapes = true
            position += 1
            try scanEscape()
        }
        // Escapes are ASCII: the bytes are UTF-8 exactly when what they stand for is.
        if highBits >= 0x80 {
            guard Self.isValidUTF8(bytes, in: start..<position) else { throw error("string is not valid UTF-8") }
            sawNonASCII = true
        }
        let end = position
        position += 1
        return (start..<end, hasEscapes)
    }

    /// Where the bytes that stand for themselves (the usual ones) end, from `index`;
    /// sets the high bit of `highBits` when one of them is not ASCII. Eight bytes at a
    /// time (``JSONEscapeScan``): a 64-byte string took about 1,100 instructions a byte at
    /// a time.
    private static func endOfPlainBytes(_ span: Span<UInt8>, from index: Int, highBits: inout UInt8) -> Int {
        span.withUnsafeBufferPointer { JSONEscapeScan.endOfPlainBytes($0, from: index, highBits: &highBits) }
    }

    /// Checks the escape after a backslash. A high surrogate must pair with an escaped
    /// low one, as in `json.loads`' output: a lone surrogate has no UTF-8 form, and
    /// dropping it would alter the message silently.
    private mutating func scanEscape() throws(JSONSyntaxError) {
        guard let byte = current else { throw error("unterminated escape") }
        position += 1
        if Self.unescaped(byte) != nil { return }
        guard byte == UInt8(ascii: "u") else { throw error("invalid escape \\\(Character(Unicode.Scalar(byte)))") }
        let unit = try scanHex4()
        var paired = true
        switch unit {
        case 0xD800..<0xDC00:
            paired = consume("\\u")
            if paired { paired = (0xDC00..<0xE000).contains(try scanHex4()) }
        case 0xDC00..<0xE000:
            paired = false
        default:
            break
        }
        guard paired else { throw error("unpaired surrogate \\u\(String(unit, radix: 16))") }
    }

    private mutating func scanHex4() throws(JSONSyntaxError) -> UInt32 {
        guard let value = Self.hex4(bytes, at: position) else { throw error("expected 4 hex digits after \\u") }
        position += 4
        return value
    }

    /// The string between the quotes at `range` (one ``scanString()`` found).
    static func string(_ bytes: [UInt8], in range: Range<Int>, hasEscapes: Bool) -> String {
        hasEscapes ? unescapedString(bytes, in: range) : String(decoding: bytes[range], as: UTF8.self)
    }

    /// The string at `range` with its escapes resolved; out of line, off the usual
    /// message's path.
    @inline(never)
    static func unescapedString(_ bytes: [UInt8], in range: Range<Int>) -> String {
        var utf8: [UInt8] = []
        utf8.reserveCapacity(range.count)
        var index = range.lowerBound
        while index < range.upperBound {
            let byte = bytes[index]
            index += 1
            guard byte == UInt8(ascii: "\\") else {
                utf8.append(byte)
                continue
            }
            let escape = bytes[index]
            index += 1
            if let unescaped = unescaped(escape) {
                utf8.append(unescaped)
                continue
            }
            // `\uXXXX`, well formed and paired: the scan checked.
            var value = hex4(bytes, at: index)!
            index += 4
            if (0xD800..<0xDC00).contains(value) {
                let low = hex4(bytes, at: index + 2)!
                index += 6
                value = 0x10000 + ((value - 0xD800) << 10) + (low - 0xDC00)
            }
            UTF8.encode(Unicode.Scalar(value)!) { utf8.append($0) }
        }
        return String(decoding: utf8, as: UTF8.self)
    }

    /// The byte a one-character escape (`\n`, `\"` …) stands for; `nil` for `u` and
    /// for what is no escape at all.
    private static func unescaped(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): byte
        case UInt8(ascii: "b"): 0x08
        case UInt8(ascii: "f"): 0x0C
        case UInt8(ascii: "n"): 0x0A
        case UInt8(ascii: "r"): 0x0D
        case UInt8(ascii: "t"): 0x09
        default: nil
        }
    }

    /// The four hex digits at `index` (of a `\uXXXX` escape), or `nil`.
    private static func hex4(_ bytes: [UInt8], at index: Int) -> UInt32? {
        guard bytes.count - index >= 4 else { return nil }
        var value: UInt32 = 0
        for byte in bytes[index..<index + 4] {
            let digit: UInt8
            switch byte {
            case 0x30...0x39: digit = byte - 0x30
            case 0x61...0x66: digit = byte - 0x61 + 10
            case 0x41...0x46: digit = byte - 0x41 + 10
            default: return nil
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Whether `bytes[range]` is strict UTF-8: no overlong forms, no surrogates, nothing
    /// past U+10FFFF (what `String` would otherwise repair silently).
    static func isValidUTF8(_ bytes: [UInt8], in range: Range<Int>) -> Bool {
        var index = range.lowerBound
        let end = range.upperBound
        while index < end {
            let lead = bytes[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; low = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; high = 0x9F
            case 0xF0: length = 4; low = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; high = 0x8F
            default: return false
            }
            guard end - index >= length, (low...high).contains(bytes[index + 1]) else { return false }
            for offset in 2..<max(2, length) where bytes[index + offset] & 0xC0 != 0x80 { return false }
            index += length
        }
        return true
    }
}
