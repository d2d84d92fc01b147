/// A value that can be one argument of a Redis command, sent as a RESP bulk string.
///
/// The encoder asks for the exact size first, reserves the whole command once, then lets each
/// argument append its bytes: no `String` or array is built per argument.
/// Conformances: `String`, `Substring`, `[UInt8]`, `ArraySlice<UInt8>`, `Int`, `Int64`, `UInt`,
/// `Double`, and ``RESPBytesArgument`` for any other collection of bytes (e.g. Foundation's `Data`).
public protocol RESPArgument {
    /// The exact number of payload bytes ``appendRESPPayload(to:)`` will append.
    var respPayloadCount: Int { get }
    /// Appends exactly ``respPayloadCount`` bytes (the bulk payload, without header or `\r\n`).
    func appendRESPPayload(to buffer: inout [UInt8])
    /// Writes exactly ``respPayloadCount`` bytes into a command being encoded. The
    /// default goes through ``appendRESPPayload(to:)`` and a temporary array; the
    /// package's own conformances write directly.
    func writeRESPPayload(to writer: inout RESPWriter)
}

extension RESPArgument {
    /// Through ``appendRESPPayload(to:)`` and a temporary array.
    @inlinable
    public func writeRESPPayload(to writer: inout RESPWriter) {
        var bytes: [UInt8] = []
        appendRESPPayload(to: &bytes)
        writer.write(contentsOf: bytes)
    }
}

extension String: RESPArgument {
    /// The UTF-8 length (O(1) for native strings).
    @inlinable public var respPayloadCount: Int { utf8.count }
    /// Appends the UTF-8 bytes.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
    /// Writes the same bytes straight into the command.
    @inlinable public func writeRESPPayload(to writer: inout RESPWriter) { writer.write(contentsOf: utf8) }
}

extension Substring: RESPArgument {
    /// The UTF-8 length.
    @inlinable public var respPayloadCount: Int { utf8.count }
    /// Appends the UTF-8 bytes.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: utf8) }
    /// Writes the same bytes straight into the command.
    @inlinable public func writeRESPPayload(to writer: inout RESPWriter) { writer.write(contentsOf: utf8) }
}

extension Array: RESPArgument where Element == UInt8 {
    /// The byte count.
    @inlinable public var respPayloadCount: Int { count }
    /// Appends the bytes unchanged.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    /// Writes the same bytes straight into the command.
    @inlinable public func writeRESPPayload(to writer: inout RESPWriter) { writer.write(contentsOf: self) }
}

extension ArraySlice: RESPArgument where Element == UInt8 {
    /// The byte count.
    @inlinable public var respPayloadCount: Int { count }
    /// Appends the bytes unchanged.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: self) }
    /// Writes the same bytes straight into the command.
    @inlinable public func writeRESPPayload(to writer: inout RESPWriter) { writer.write(contentsOf: self) }
}

extension Int: RESPArgument {
    /// The length of the decimal text, sign included.
    @inlinable public var respPayloadCount: Int { RESPDecimal.count(Int64(self)) }
    /// Appends the decimal text, as Redis expects numbers.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { RESPDecimal.append(Int64(self), to: &buffer) }
    /// Writes the same bytes straight into the command.
    @inlinable public func writeRESPPayload(to writer: inout RESPWriter) { writer.writeDecimal(Int64(self)) }
}

extension Int64: RESPArgument {
    /// The length of the decimal text, sign included.
    @inlinable public var respPayloadCount: Int { RESPDecimal.count(self) }
    /// Appends the decimal text.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) { RESPDecimal.append(self, to: &buffer) }
    /// Writes the same bytes straight into the command.
    @inlinable public func writeRESPPayload(to writer: inout RESPWriter) { writer.writeDecimal(self) }
}

extension UInt: RESPArgument {
    /// The length of the decimal text.
    @inlinable public var respPayloadCount: Int { RESPDecimal.count(magnitude: UInt64(self)) }
    /// Appends the decimal text.
    @inlinable public func appendRESPPayload(to buffer: inout [UInt8]) {
        RESPDecimal.append(magnitude: UInt64(self), negative: false, to: &buffer)
    }
    /// Writes the same bytes straight into the command.
    @inlinable public func writeRESPPayload(to writer: inout RESPWriter) { writer.writeDecimal(magnitude: UInt64(self)) }
}

extension Double: RESPArgument {
    /// The length of Swift's shortest round-tripping text (`1.5`, `1e-10`, `inf`, `-inf`, `nan`),
    /// all of which Redis accepts for scores and increments.
    public var respPayloadCount: Int { description.utf8.count }
    /// Appends that text; short texts are small strings, so this does not allocate.
    public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: description.utf8) }
}

/// Wraps any collection of bytes, such as Foundation's `Data` or a `ByteBuffer` view, as a
/// command argument: `RESPEncoder.encodeCommand(into: &out, "SET", "k", RESPBytesArgument(data))`.
public struct RESPBytesArgument<Bytes: Collection>: RESPArgument where Bytes.Element == UInt8 {
    /// The wrapped bytes.
    public var bytes: Bytes

    /// Wraps `bytes`.
    public init(_ bytes: Bytes) {
        self.bytes = bytes
    }

    /// The byte count.
    public var respPayloadCount: Int { bytes.count }

    /// Appends the bytes (one copy when the collection is contiguous).
    public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: bytes) }
}

extension RESPBytesArgument: Sendable where Bytes: Sendable {}

/// Decimal text of integers written straight into a byte buffer (no `String` in between).
public enum RESPDecimal {
    /// Number of characters of `value` in decimal, sign included.
    @inlinable
    public static func count(_ value: Int64) -> Int {
        count(magnitude: value.magnitude) + (value < 0 ? 1 : 0)
    }

    /// Number of decimal digits of `magnitude`. The counts and lengths of commands are
    /// small: up to four digits by comparisons, a division a digit only beyond (a
    /// division a digit cost an `RPUSH`'s encoding about 80 instructions).
    @inlinable
    public static func count(magnitude: UInt64) -> Int {
        if magnitude < 10 { return 1 }
        if magnitude < 100 { return 2 }
        if magnitude < 1_000 { return 3 }
        if magnitude < 10_000 { return 4 }
        var digits = 5
        var rest = magnitude / 100_000
        while rest > 0 {
            rest /= 10
            digits += 1
        }
        return digits
    }

    /// Appends `value` in decimal.
    @inlinable
    public static func append(_ value: Int64, to buffer: inout [UInt8]) {
        append(magnitude: value.magnitude, negative: value < 0, to: &buffer)
    }

    /// Appends `magnitude` in decimal, after a `-` if `negative`.
    @inlinable
    public static func append(magnitude: UInt64, negative: Bool, to buffer: inout [UInt8]) {
        if negative { buffer.append(0x2D) }
        if magnitude < 10 {
            buffer.append(0x30 &+ UInt8(truncatingIfNeeded: magnitude))
            return
        }
        if magnitude < 100 {
            buffer.append(0x30 &+ UInt8(truncatingIfNeeded: magnitude / 10))
            buffer.append(0x30 &+ UInt8(truncatingIfNeeded: magnitude % 10))
            return
        }
        // Least significant first into a scratch on the stack (no count of the digits
        // beforehand), then one append: a 13-digit timestamp took about 500 instructions
        // through a counted, zero-filled append. 20 bytes hold UInt64.max's 20 digits;
        // every write is at an index from 19 down, one per digit.
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { scratch in
            var index = 20
            var rest = magnitude
            repeat {
                index &-= 1
                scratch[index] = 0x30 &+ UInt8(truncatingIfNeeded: rest % 10)
                rest /= 10
            } while rest > 0
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: scratch[index...]))
        }
    }
}
