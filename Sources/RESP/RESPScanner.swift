/// ASCII bytes of the RESP grammar.
enum ASCII {
    static let cr: UInt8 = 0x0D
    static let lf: UInt8 = 0x0A
    static let zero: UInt8 = 0x30
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let colon: UInt8 = 0x3A
}

/// The kinds of aggregate whose elements follow their header.
enum RESPAggregateKind: Sendable {
    case array, set, push, map, attribute
}

/// What one look at the bytes in front of the parser found.
enum RESPScanStep {
    /// A complete scalar (or null aggregate) ending before buffer index `end`.
    case value(RESPValue, end: Int)
    /// An aggregate header announcing `count` elements (pairs for map/attribute); elements follow from `end`.
    case aggregate(RESPAggregateKind, count: Int, end: Int)
    /// More bytes are needed: nothing can change until `needCount` bytes from the element
    /// start are available; a line search may resume at element offset `scanFrom`.
    case incomplete(needCount: Int, scanFrom: Int)
    /// Malformed: `index` is the buffer index of the offending byte.
    case failure(RESPError.Kind, index: Int, reason: String)
}

/// Decodes one RESP element header or scalar from raw bytes.
///
/// This is the only code that reads the input through a pointer. Every read is at an index
/// `i` with `start <= i < end`, checked just before it; `end` never exceeds the bytes the
/// caller owns. Keeping all of it here lets one test file exercise each branch.
enum RESPScanner {
    /// Longest integer or length line: `-9223372036854775808` is 20 bytes.
    static let maxNumberLength = 20

    /// Shared payload of `+OK`, which most write commands answer: reusing it means the most
    /// common status reply allocates nothing.
    ///
    /// Written as literals, so that the compiler emits each array as a static object,
    /// whose reference count is immortal: retaining one then writes nothing. An array
    /// made at run time (`Array("PONG".utf8)`, as `pongBytes` was) is an ordinary heap
    /// object, whose count every reactor thread wrote at each reply: `redis-bench
    /// --workload ping --api callback` spent 0.435 µs of CPU a command on two reactors,
    /// 0.40 with the literal (0.32 and 0.31 on one; medians of four runs).
    static let okBytes: [UInt8] = [0x4F, 0x4B]
    /// Shared payloads of `+PONG` (every health check) and `+QUEUED` (every command inside
    /// `MULTI`), for the same reason: an allocation and a copy were a tenth of a
    /// pipelined `PING`'s client instructions. `PONG` and `QUEUED` in ASCII.
    static let pongBytes: [UInt8] = [0x50, 0x4F, 0x4E, 0x47]
    static let queuedBytes: [UInt8] = [0x51, 0x55, 0x45, 0x55, 0x45, 0x44]

    /// Scans the element at `start` in `base[start..<end]` (requires `start < end`).
    ///
    /// `scanFrom` is the element offset where a previous, incomplete call stopped looking for
    /// `\r`, so a long line trickling in is not re-scanned. `scanned` counts bytes examined
    /// by line searches: tests use it to prove parsing is linear.
    @inline(__always)
    static func scan(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, scanFrom: Int,
        limits: RESPLimits, scanned: inout Int
    ) -> RESPScanStep {
        switch base[start] {
        case UInt8(ascii: ":"):
            return scanInteger(base, start: start, end: end, scanFrom: scanFrom, scanned: &scanned)
        case UInt8(ascii: "$"), UInt8(ascii: "!"), UInt8(ascii: "="):
            return scanBulk(base, start: start, end: end, scanFrom: scanFrom, limits: limits, scanned: &scanned)
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"), UInt8(ascii: "%"), UInt8(ascii: "|"):
            return scanAggregate(base, start: start, end: end, scanFrom: scanFrom, limits: limits, scanned: &scanned)
        case UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: ","), UInt8(ascii: "("):
            return scanLine(base, start: start, end: end, scanFrom: scanFrom, limits: limits, scanned: &scanned)
        case UInt8(ascii: "_"):
            return scanFixed(base, start: start, end: end, isBoolean: false)
        case UInt8(ascii: "#"):
            return scanFixed(base, start: start, end: end, isBoolean: true)
        default:
            return .failure(.invalidTypeByte, index: start,
                            reason: "expected a RESP type byte, got \(describe(base[start]))")
        }
    }

    // MARK: lines

    enum LineSearch {
        /// The line's content is `start + 1 ..< crIndex`; the element ends at `crIndex + 2`.
        case found(crIndex: Int)
        case incomplete(RESPScanStep)
        case failure(RESPScanStep)
    }

    /// Finds the `\r\n` ending the line that starts after the type byte at `start`,
    /// allowing at most `limit` content bytes.
    @inline(__always)
    static func findLineEnd(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, scanFrom: Int, limit: Int, scanned: inout Int
    ) -> LineSearch {
        let contentStart = start + 1
        let from = max(contentStart, start + scanFrom)
        // A `\r` at `contentStart + limit` still ends a line of `limit` bytes.
        let windowEnd = limit >= end - contentStart ? end : contentStart + limit + 1
        var i = from
        while i < windowEnd && base[i] != ASCII.cr { i += 1 }
        scanned += i - from
        if i < windowEnd {
            if i + 1 >= end {
                return .incomplete(.incomplete(needCount: i + 2 - start, scanFrom: i - start))
            }
            if base[i + 1] != ASCII.lf {
                return .failure(.failure(.missingCRLF, index: i + 1,
                                         reason: "expected \\n after \\r, got \(describe(base[i + 1]))"))
            }
            return .found(crIndex: i)
        }
        if windowEnd < end || end - contentStart > limit {
            return .failure(.failure(.lineTooLong, index: start,
                                     reason: "no \\r\\n within \(limit) bytes of a '\(Character(Unicode.Scalar(base[start])))' line"))
        }
        return .incomplete(.incomplete(needCount: end - start + 1, scanFrom: end - start))
    }

    // MARK: numbers

    enum DecimalResult {
        case value(Int64)
        case failure(RESPError.Kind, index: Int, reason: String)
    }

    /// Parses `base[from..<to]` as an optionally signed decimal that fits in Int64.
    @inline(__always)
    static func parseDecimal(
        _ base: UnsafePointer<UInt8>, from: Int, to: Int, what: String, invalid: RESPError.Kind
    ) -> DecimalResult {
        var i = from
        var negative = false
        if i < to && (base[i] == ASCII.minus || base[i] == ASCII.plus) {
            negative = base[i] == ASCII.minus
            i += 1
        }
        if i == to {
            return .failure(invalid, index: i, reason: "expected digits in \(what), got none")
        }
        var magnitude: UInt64 = 0
        let digitsStart = i
        while i < to {
            let digit = base[i] &- ASCII.zero
            if digit > 9 {
                return .failure(invalid, index: i, reason: "expected a digit in \(what), got \(describe(base[i]))")
            }
            if i - digitsStart < 18 {
                // 18 decimal digits always fit in UInt64: no overflow check needed.
                magnitude = magnitude &* 10 &+ UInt64(digit)
            } else {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(digit))
                if o1 || o2 {
                    return .failure(.overflow, index: from, reason: "\(what) does not fit in 64 bits")
                }
                magnitude = sum
            }
            i += 1
        }
        if negative {
            if magnitude > UInt64(Int64.max) + 1 {
                return .failure(.overflow, index: from, reason: "\(what) does not fit in 64 bits")
            }
            return .value(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude))
        }
        if magnitude > UInt64(Int64.max) {
            return .failure(.overflow, index: from, reason: "\(what) does not fit in 64 bits")
        }
        return .value(Int64(magnitude))
    }

    @inline(__always)
    static func scanInteger(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, scanFrom: Int, scanned: inout Int
    ) -> RESPScanStep {
        // Fast path for the most common integer replies, `:0` … `:9`: no loop, no search.
        if end - start >= 4 && base[start + 2] == ASCII.cr && base[start + 3] == ASCII.lf {
            let digit = base[start + 1] &- ASCII.zero
            if digit <= 9 { return .value(.integer(Int64(digit)), end: start + 4) }
        }
        switch findLineEnd(base, start: start, end: end, scanFrom: scanFrom, limit: maxNumberLength, scanned: &scanned) {
        case .incomplete(let step), .failure(let step):
            return step
        case .found(let cr):
            switch parseDecimal(base, from: start + 1, to: cr, what: "integer", invalid: .invalidInteger) {
            case .value(let v): return .value(.integer(v), end: cr + 2)
            case .failure(let kind, let index, let reason): return .failure(kind, index: index, reason: reason)
            }
        }
    }

    enum LengthResult {
        case length(Int, end: Int)
        /// `-1`, RESP2's null marker.
        case null(end: Int)
        case step(RESPScanStep)
    }

    /// Parses the length header after the type byte at `start`: digits only, or `-1` if `allowNull`.
    @inline(__always)
    static func scanLength(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, scanFrom: Int, allowNull: Bool, scanned: inout Int
    ) -> LengthResult {
        // Fast path: one- and two-digit lengths, which most bulk strings and arrays have.
        if end - start >= 4 {
            let d0 = base[start + 1] &- ASCII.zero
            if d0 <= 9 {
                if base[start + 2] == ASCII.cr {
                    if base[start + 3] == ASCII.lf { return .length(Int(d0), end: start + 4) }
                } else if end - start >= 5 && base[start + 3] == ASCII.cr && base[start + 4] == ASCII.lf {
                    let d1 = base[start + 2] &- ASCII.zero
                    if d1 <= 9 { return .length(Int(d0) * 10 + Int(d1), end: start + 5) }
                }
            }
        }
        let cr: Int
        switch findLineEnd(base, start: start, end: end, scanFrom: scanFrom, limit: maxNumberLength, scanned: &scanned) {
        case .incomplete(let step), .failure(let step): return .step(step)
        case .found(let index): cr = index
        }
        let from = start + 1
        if from < cr && base[from] == ASCII.minus {
            if cr - from == 2 && base[from + 1] == UInt8(ascii: "1") {
                if allowNull { return .null(end: cr + 2) }
                return .step(.failure(.negativeLength, index: from,
                                      reason: "-1 (null) is only valid after '$' or '*'"))
            }
            switch parseDecimal(base, from: from + 1, to: cr, what: "length", invalid: .invalidLength) {
            case .value:
                return .step(.failure(.negativeLength, index: from, reason: "expected a length >= 0 or -1, got a negative number"))
            case .failure(let kind, let index, let reason):
                return .step(.failure(kind, index: index, reason: reason))
            }
        }
        if from < cr && base[from] == ASCII.plus {
            return .step(.failure(.invalidLength, index: from, reason: "expected a digit in length, got '+'"))
        }
        switch parseDecimal(base, from: from, to: cr, what: "length", invalid: .invalidLength) {
        case .value(let v): return .length(Int(v), end: cr + 2)
        case .failure(let kind, let index, let reason): return .step(.failure(kind, index: index, reason: reason))
        }
    }

    // MARK: bulk payloads

    @inline(__always)
    static func scanBulk(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, scanFrom: Int, limits: RESPLimits, scanned: inout Int
    ) -> RESPScanStep {
        let type = base[start]
        let length: Int
        let payloadStart: Int
        switch scanLength(base, start: start, end: end, scanFrom: scanFrom, allowNull: type == UInt8(ascii: "$"), scanned: &scanned) {
        case .step(let step): return step
        case .null(let after): return .value(.nullBulkString, end: after)
        case .length(let n, let after): (length, payloadStart) = (n, after)
        }
        // The Int.max / 4 cap keeps `payloadStart + length + 2` far from overflow whatever the limits say.
        if length > limits.maxBulkLength || length > Int.max / 4 {
            return .failure(.bulkTooLarge, index: start + 1,
                            reason: "bulk length \(length) exceeds the limit of \(limits.maxBulkLength) bytes")
        }
        let payloadEnd = payloadStart + length
        if payloadEnd + 2 > end {
            // The header is re-read when bytes arrive (at most 22 bytes); the payload is not.
            return .incomplete(needCount: payloadEnd + 2 - start, scanFrom: 0)
        }
        if base[payloadEnd] != ASCII.cr || base[payloadEnd + 1] != ASCII.lf {
            let bad = base[payloadEnd] != ASCII.cr ? payloadEnd : payloadEnd + 1
            return .failure(.missingCRLF, index: bad,
                            reason: "expected \\r\\n after a \(length)-byte payload, got \(describe(base[bad]))")
        }
        switch type {
        case UInt8(ascii: "$"):
            return .value(.bulkString(copyBytes(base, from: payloadStart, count: length)), end: payloadEnd + 2)
        case UInt8(ascii: "!"):
            return .value(.bulkError(copyBytes(base, from: payloadStart, count: length)), end: payloadEnd + 2)
        default:
            if length < 4 || base[payloadStart + 3] != ASCII.colon {
                return .failure(.invalidVerbatimFormat, index: payloadStart,
                                reason: "expected a 3-byte format and ':' at the start of a verbatim string")
            }
            let format = RESPVerbatimFormat(base[payloadStart], base[payloadStart + 1], base[payloadStart + 2])
            return .value(.verbatimString(format: format, text: copyBytes(base, from: payloadStart + 4, count: length - 4)),
                          end: payloadEnd + 2)
        }
    }

    /// The payload of a status reply (`+…`): a shared array for the common ones (`OK`,
    /// `PONG`, `QUEUED`), else a copy.
    @inline(__always)
    static func status(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> [UInt8] {
        let at = base + from
        switch count {
        case 2 where at[0] == UInt8(ascii: "O") && at[1] == UInt8(ascii: "K"):
            return okBytes
        case 4 where at[0] == UInt8(ascii: "P") && at[1] == UInt8(ascii: "O") && at[2] == UInt8(ascii: "N") && at[3] == UInt8(ascii: "G"):
            return pongBytes
        case 6 where at[0] == UInt8(ascii: "Q") && at[1] == UInt8(ascii: "U") && at[2] == UInt8(ascii: "E")
            && at[3] == UInt8(ascii: "U") && at[4] == UInt8(ascii: "E") && at[5] == UInt8(ascii: "D"):
            return queuedBytes
        default:
            return copyBytes(base, from: from, count: count)
        }
    }

    /// Copies `count` bytes at `from` into a new array (one allocation, one memcpy).
    @inline(__always)
    static func copyBytes(_ base: UnsafePointer<UInt8>, from: Int, count: Int) -> [UInt8] {
        if count == 0 { return [] }
        // Measured with callgrind: this form copies through a specialised memcpy path, while
        // `init(unsafeUninitializedCapacity:)` and `init(repeating:count:)` both looked up
        // generic metadata on every call (about 50% more instructions per short bulk string).
        return [UInt8](UnsafeBufferPointer(start: base + from, count: count))
    }

    // MARK: aggregates

    @inline(__always)
    static func scanAggregate(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, scanFrom: Int, limits: RESPLimits, scanned: inout Int
    ) -> RESPScanStep {
        let type = base[start]
        switch scanLength(base, start: start, end: end, scanFrom: scanFrom, allowNull: type == UInt8(ascii: "*"), scanned: &scanned) {
        case .step(let step):
            return step
        case .null(let after):
            return .value(.nullArray, end: after)
        case .length(let count, let after):
            // Maps and attributes hold twice their count in elements (plus one): refused past
            // what that doubling can hold, whatever limits the caller configured.
            if count > limits.maxAggregateCount || count > Int.max / 4 {
                return .failure(.tooManyElements, index: start + 1,
                                reason: "aggregate of \(count) elements exceeds the limit of \(min(limits.maxAggregateCount, Int.max / 4))")
            }
            let kind: RESPAggregateKind
            switch type {
            case UInt8(ascii: "*"): kind = .array
            case UInt8(ascii: "~"): kind = .set
            case UInt8(ascii: ">"): kind = .push
            case UInt8(ascii: "%"): kind = .map
            default: kind = .attribute
            }
            return .aggregate(kind, count: count, end: after)
        }
    }

    // MARK: simple lines

    @inline(__always)
    static func scanLine(
        _ base: UnsafePointer<UInt8>, start: Int, end: Int, scanFrom: Int, limits: RESPLimits, scanned: inout Int
    ) -> RESPScanStep {
        let cr: Int
        switch findLineEnd(base, start: start, end: end, scanFrom: scanFrom, limit: limits.maxLineLength, scanned: &scanned) {
        case .incomplete(let step), .failure(let step): return step
        case .found(let index): cr = index
        }
        let from = start + 1
        let after = cr + 2
        switch base[start] {
        case UInt8(ascii: "+"):
            return .value(.simpleString(status(base, from: from, count: cr - from)), end: after)
        case UInt8(ascii: "-"):
            return .value(.error(copyBytes(base, from: from, count: cr - from)), end: after)
        case UInt8(ascii: "("):
            var i = from
            if i < cr && (base[i] == ASCII.minus || base[i] == ASCII.plus) { i += 1 }
            if i == cr {
                return .failure(.invalidBigNumber, index: i, reason: "expected digits in big number, got none")
            }
            while i < cr {
                if base[i] &- ASCII.zero > 9 {
                    return .failure(.invalidBigNumber, index: i, reason: "expected a digit in big number, got \(describe(base[i]))")
                }
                i += 1
            }
            return .value(.bigNumber(copyBytes(base, from: from, count: cr - from)), end: after)
        default:
            switch parseDouble(UnsafeBufferPointer(start: base + from, count: cr - from)) {
            case .some(let value): return .value(.double(value), end: after)
            case .none:
                return .failure(.invalidDouble, index: from, reason: "expected a decimal number, inf, -inf or nan in double")
            }
        }
    }

    /// Parses a RESP3 double: `[+-]digits[.digits][(e|E)[+-]digits]`, `[+-]inf` or `[-]nan`.
    /// The grammar is checked here because `Double(String)` also accepts hex and `infinity`.
    static func parseDouble(_ text: UnsafeBufferPointer<UInt8>) -> Double? {
        var i = 0
        var negative = false
        if i < text.count && (text[i] == ASCII.minus || text[i] == ASCII.plus) {
            negative = text[i] == ASCII.minus
            i += 1
        }
        let rest = text[i...]
        if rest.elementsEqual("inf".utf8) { return negative ? -.infinity : .infinity }
        if rest.elementsEqual("nan".utf8) { return .nan }
        var digits = 0
        while i < text.count && text[i] &- ASCII.zero <= 9 { i += 1; digits += 1 }
        if i < text.count && text[i] == UInt8(ascii: ".") {
            i += 1
            while i < text.count && text[i] &- ASCII.zero <= 9 { i += 1; digits += 1 }
        }
        if digits == 0 { return nil }
        if i < text.count && (text[i] == UInt8(ascii: "e") || text[i] == UInt8(ascii: "E")) {
            i += 1
            if i < text.count && (text[i] == ASCII.minus || text[i] == ASCII.plus) { i += 1 }
            var exponentDigits = 0
            while i < text.count && text[i] &- ASCII.zero <= 9 { i += 1; exponentDigits += 1 }
            if exponentDigits == 0 { return nil }
        }
        if i != text.count { return nil }
        return Double(String(decoding: text, as: UTF8.self))
    }

    // MARK: fixed-size values

    /// `_\r\n` or `#t\r\n`/`#f\r\n`: checked byte by byte, so a bad byte is reported as soon
    /// as it arrives and at the same offset however the stream is split.
    @inline(__always)
    static func scanFixed(_ base: UnsafePointer<UInt8>, start: Int, end: Int, isBoolean: Bool) -> RESPScanStep {
        let isNull = !isBoolean
        let kind: RESPError.Kind = isNull ? .invalidNull : .invalidBoolean
        var i = start + 1
        var value = false
        if !isNull {
            if i >= end { return .incomplete(needCount: i + 1 - start, scanFrom: 0) }
            if base[i] == UInt8(ascii: "t") {
                value = true
            } else if base[i] != UInt8(ascii: "f") {
                return .failure(kind, index: i, reason: "expected 't' or 'f' in boolean, got \(describe(base[i]))")
            }
            i += 1
        }
        if i >= end { return .incomplete(needCount: i + 1 - start, scanFrom: 0) }
        if base[i] != ASCII.cr {
            return .failure(kind, index: i, reason: isNull
                ? "expected \\r\\n right after '_', got \(describe(base[i]))"
                : "expected \\r\\n after the boolean, got \(describe(base[i]))")
        }
        i += 1
        if i >= end { return .incomplete(needCount: i + 1 - start, scanFrom: 0) }
        if base[i] != ASCII.lf {
            return .failure(.missingCRLF, index: i, reason: "expected \\n after \\r, got \(describe(base[i]))")
        }
        return .value(isNull ? .null : .boolean(value), end: i + 1)
    }

    /// A byte as `'x'` when printable, else `0xNN`, for error reasons.
    static func describe(_ byte: UInt8) -> String {
        if byte >= 0x20 && byte < 0x7F && byte != 0x27 {
            return "'\(Character(Unicode.Scalar(byte)))'"
        }
        let hex = String(byte, radix: 16, uppercase: true)
        return "0x" + (hex.count == 1 ? "0" + hex : hex)
    }
}

extension RESPValue {
    /// The bytes of `OK`, shared by every parsed `+OK`.
    static var okBytes: [UInt8] { RESPScanner.okBytes }
}
