extension RESPValue {
    /// Appends this value in RESP wire form, reserving its exact size first.
    ///
    /// Simple strings and errors are written as given: they must not contain `\r` or `\n`.
    /// RESP2 nulls are written as `$-1`/`*-1`, RESP3's null as `_`.
    public func encode(into buffer: inout [UInt8]) {
        buffer.reserveCapacity(buffer.count + encodedByteCount)
        write(into: &buffer)
    }

    /// This value in RESP wire form.
    public var encodedBytes: [UInt8] {
        var buffer: [UInt8] = []
        encode(into: &buffer)
        return buffer
    }

    /// The exact number of bytes ``encode(into:)`` appends.
    public var encodedByteCount: Int {
        switch self {
        case .simpleString(let b), .error(let b), .bigNumber(let b):
            return 1 + b.count + 2
        case .integer(let i):
            return 1 + RESPDecimal.count(i) + 2
        case .bulkString(let b), .bulkError(let b):
            return RESPEncoder.bulkSize(payload: b.count)
        case .nullBulkString, .nullArray:
            return 5
        case .null:
            return 3
        case .boolean:
            return 4
        case .double(let d):
            return 1 + Self.doubleText(d).utf8.count + 2
        case .verbatimString(_, let text):
            return RESPEncoder.bulkSize(payload: text.count + 4)
        case .array(let a), .set(let a), .push(let a):
            return a.reduce(RESPEncoder.headerSize(a.count)) { $0 + $1.encodedByteCount }
        case .map(let pairs):
            return pairs.reduce(RESPEncoder.headerSize(pairs.count)) { $0 + $1.key.encodedByteCount + $1.value.encodedByteCount }
        case .attribute(let pairs, let value):
            return pairs.reduce(RESPEncoder.headerSize(pairs.count) + value.encodedByteCount) {
                $0 + $1.key.encodedByteCount + $1.value.encodedByteCount
            }
        }
    }

    private func write(into buffer: inout [UInt8]) {
        switch self {
        case .simpleString(let b): Self.appendLine(UInt8(ascii: "+"), b, to: &buffer)
        case .error(let b): Self.appendLine(UInt8(ascii: "-"), b, to: &buffer)
        case .bigNumber(let b): Self.appendLine(UInt8(ascii: "("), b, to: &buffer)
        case .integer(let i):
            buffer.append(UInt8(ascii: ":"))
            RESPDecimal.append(i, to: &buffer)
            Self.appendCRLF(to: &buffer)
        case .bulkString(let b): Self.appendBulk(UInt8(ascii: "$"), b, to: &buffer)
        case .bulkError(let b): Self.appendBulk(UInt8(ascii: "!"), b, to: &buffer)
        case .nullBulkString: buffer.append(contentsOf: [UInt8(ascii: "$"), UInt8(ascii: "-"), UInt8(ascii: "1"), 0x0D, 0x0A])
        case .nullArray: buffer.append(contentsOf: [UInt8(ascii: "*"), UInt8(ascii: "-"), UInt8(ascii: "1"), 0x0D, 0x0A])
        case .null: buffer.append(contentsOf: [UInt8(ascii: "_"), 0x0D, 0x0A])
        case .boolean(let v): buffer.append(contentsOf: [UInt8(ascii: "#"), UInt8(ascii: v ? "t" : "f"), 0x0D, 0x0A])
        case .double(let d):
            buffer.append(UInt8(ascii: ","))
            buffer.append(contentsOf: Self.doubleText(d).utf8)
            Self.appendCRLF(to: &buffer)
        case .verbatimString(let format, let text):
            RESPEncoder.appendHeader(UInt8(ascii: "="), text.count + 4, to: &buffer)
            buffer.append(format.bytes.0)
            buffer.append(format.bytes.1)
            buffer.append(format.bytes.2)
            buffer.append(UInt8(ascii: ":"))
            buffer.append(contentsOf: text)
            Self.appendCRLF(to: &buffer)
        case .array(let a): Self.appendAggregate(UInt8(ascii: "*"), a, to: &buffer)
        case .set(let a): Self.appendAggregate(UInt8(ascii: "~"), a, to: &buffer)
        case .push(let a): Self.appendAggregate(UInt8(ascii: ">"), a, to: &buffer)
        case .map(let pairs): Self.appendPairs(UInt8(ascii: "%"), pairs, to: &buffer)
        case .attribute(let pairs, let value):
            Self.appendPairs(UInt8(ascii: "|"), pairs, to: &buffer)
            value.write(into: &buffer)
        }
    }

    /// RESP3 spells the special doubles `inf`, `-inf`, `nan`; Swift's shortest round-trip text
    /// is used for the rest and parses back to the identical value.
    static func doubleText(_ d: Double) -> String {
        d.isNaN ? "nan" : d.description
    }

    private static func appendCRLF(to buffer: inout [UInt8]) {
        buffer.append(0x0D)
        buffer.append(0x0A)
    }

    private static func appendLine(_ type: UInt8, _ bytes: [UInt8], to buffer: inout [UInt8]) {
        buffer.append(type)
        buffer.append(contentsOf: bytes)
        appendCRLF(to: &buffer)
    }

    private static func appendBulk(_ type: UInt8, _ bytes: [UInt8], to buffer: inout [UInt8]) {
        RESPEncoder.appendHeader(type, bytes.count, to: &buffer)
        buffer.append(contentsOf: bytes)
        appendCRLF(to: &buffer)
    }

    private static func appendAggregate(_ type: UInt8, _ elements: [RESPValue], to buffer: inout [UInt8]) {
        RESPEncoder.appendHeader(type, elements.count, to: &buffer)
        for element in elements { element.write(into: &buffer) }
    }

    private static func appendPairs(_ type: UInt8, _ pairs: [(key: RESPValue, value: RESPValue)], to buffer: inout [UInt8]) {
        RESPEncoder.appendHeader(type, pairs.count, to: &buffer)
        for pair in pairs {
            pair.key.write(into: &buffer)
            pair.value.write(into: &buffer)
        }
    }
}

extension RESPEncoder {
    /// Appends `value` in RESP wire form; the same as `value.encode(into: &buffer)`.
    public static func encode(value: RESPValue, into buffer: inout [UInt8]) {
        value.encode(into: &buffer)
    }
}
