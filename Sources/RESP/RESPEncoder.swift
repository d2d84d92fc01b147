/// Writes RESP into caller-owned byte buffers: commands (arrays of bulk strings) and any
/// ``RESPValue`` (for fake servers and tests).
///
/// Each entry point computes the exact encoded size first and reserves it once, so a command
/// costs at most one buffer growth and no temporary per argument.
public enum RESPEncoder {
    /// Appends a command, every argument a bulk string:
    /// `RESPEncoder.encodeCommand(into: &out, "RPUSH", key, value)` → `*3\r\n$5\r\nRPUSH\r\n…`.
    /// A call with one to five arguments resolves to a fixed-arity overload
    /// (`RESPEncoder+FixedArity.swift`), which is faster; this form serves the rest.
    /// `placement: .overwriting` makes the buffer exactly the command instead, writing over
    /// the bytes it held (a reused buffer's; see ``RESPWriter/Placement/overwriting``).
    @inlinable
    public static func encodeCommand<each A: RESPArgument>(into buffer: inout [UInt8], placement: RESPWriter.Placement = .appending,
                                                           _ arguments: repeat each A) {
        // `repeat` expressions, not `for … in repeat each`, which binds a copy of every
        // argument in each loop. (Capturing the pack in the writer's closure still copies
        // each argument once, through its value witness even when specialized.)
        var count = 0
        var size = 0
        repeat count += one(each arguments)
        repeat size += bulkSize(payload: (each arguments).respPayloadCount)
        RESPWriter.append(count: headerSize(count) + size, to: &buffer, placement: placement) { writer in
            writeHeader(UInt8(ascii: "*"), count, to: &writer)
            repeat writeBulk(each arguments, to: &writer)
        }
    }

    /// Appends a command whose arguments are only known at run time, e.g. `MSET` of a
    /// dictionary (or, `overwriting`, makes the buffer exactly that command).
    public static func encodeCommand(into buffer: inout [UInt8], placement: RESPWriter.Placement = .appending,
                                     arguments: [any RESPArgument]) {
        var size = headerSize(arguments.count)
        for argument in arguments {
            size += bulkSize(payload: argument.respPayloadCount)
        }
        RESPWriter.append(count: size, to: &buffer, placement: placement) { writer in
            writeHeader(UInt8(ascii: "*"), arguments.count, to: &writer)
            for argument in arguments {
                writeBulk(argument, to: &writer)
            }
        }
    }

    /// 1, to count the elements of a pack without copying them.
    @inlinable
    static func one(_ argument: borrowing some RESPArgument) -> Int { 1 }

    /// Bytes of `$<n>\r\n<payload>\r\n` for an `n`-byte payload.
    @inlinable
    static func bulkSize(payload: Int) -> Int {
        headerSize(payload) + payload + 2
    }

    /// Bytes of a `<type><n>\r\n` header.
    @inlinable
    static func headerSize(_ n: Int) -> Int {
        1 + RESPDecimal.count(Int64(n)) + 2
    }

    @inlinable
    static func writeHeader(_ type: UInt8, _ n: Int, to writer: inout RESPWriter) {
        writer.writeHeader(type, n)
    }

    /// Writes `$<n>\r\n<payload>\r\n`.
    @inlinable
    static func writeBulk(_ argument: some RESPArgument, to writer: inout RESPWriter) {
        writeHeader(UInt8(ascii: "$"), argument.respPayloadCount, to: &writer)
        argument.writeRESPPayload(to: &writer)
        writer.writeLineEnd()
    }

    @inlinable
    static func appendHeader(_ type: UInt8, _ n: Int, to buffer: inout [UInt8]) {
        buffer.append(type)
        RESPDecimal.append(Int64(n), to: &buffer)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }
}
