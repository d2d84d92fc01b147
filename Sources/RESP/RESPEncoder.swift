/// Writes RESP into caller-owned byte buffers: commands (arrays of bulk strings) and any
/// ``RESPValue`` (for fake servers and tests).
///
/// Each entry point computes the exact encoded size first and reserves it once, so a command
/// costs at most one buffer growth and no temporary per argument.
public enum RESPEncoder {
    /// Appends a command, every argument a bulk string:
    /// `RESPEncoder.encodeCommand(into: &out, "RPUSH", key, value)` → `*3\r\n$5\r\nRPUSH\r\n…`.
    @inlinable
    public static func encodeCommand<each A: RESPArgument>(into buffer: inout [UInt8], _ arguments: repeat each A) {
        var count = 0
        var size = 0
        for argument in repeat each arguments {
            count += 1
            size += bulkSize(payload: argument.respPayloadCount)
        }
        RESPWriter.append(count: headerSize(count) + size, to: &buffer) { writer in
            writeHeader(UInt8(ascii: "*"), count, to: &writer)
            for argument in repeat each arguments {
                writeBulk(argument, to: &writer)
            }
        }
    }

    /// Appends a command whose arguments are only known at run time, e.g. `MSET` of a dictionary.
    public static func encodeCommand(into buffer: inout [UInt8], arguments: [any RESPArgument]) {
        var size = headerSize(arguments.count)
        for argument in arguments {
            size += bulkSize(payload: argument.respPayloadCount)
        }
        RESPWriter.append(count: size, to: &buffer) { writer in
            writeHeader(UInt8(ascii: "*"), arguments.count, to: &writer)
            for argument in arguments {
                writeBulk(argument, to: &writer)
            }
        }
    }

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
        writer.write(type)
        writer.writeDecimal(Int64(n))
        writer.write(0x0D)
        writer.write(0x0A)
    }

    /// Writes `$<n>\r\n<payload>\r\n`.
    @inlinable
    static func writeBulk(_ argument: some RESPArgument, to writer: inout RESPWriter) {
        writeHeader(UInt8(ascii: "$"), argument.respPayloadCount, to: &writer)
        argument.writeRESPPayload(to: &writer)
        writer.write(0x0D)
        writer.write(0x0A)
    }

    @inlinable
    static func appendHeader(_ type: UInt8, _ n: Int, to buffer: inout [UInt8]) {
        buffer.append(type)
        RESPDecimal.append(Int64(n), to: &buffer)
        buffer.append(0x0D)
        buffer.append(0x0A)
    }
}
