/// The variadic `encodeCommand(into:_:)` for one to five arguments, written out.
///
/// Swift 6.3 specializes a parameter pack only partly: each argument is copied through
/// its value witness and encoded by unspecialized code. A call with one to five
/// arguments resolves to these overloads instead and is fully specialized. Each takes the
/// variadic form's `placement` too.
extension RESPEncoder {
    /// Appends a command of one argument; as the variadic `encodeCommand(into:placement:_:)`.
    @inlinable
    public static func encodeCommand(into buffer: inout [UInt8], placement: RESPWriter.Placement = .appending, _ a0: some RESPArgument) {
        let size = headerSize(1) + bulkSize(payload: a0.respPayloadCount)
        RESPWriter.append(count: size, to: &buffer, placement: placement) { writer in
            writeHeader(UInt8(ascii: "*"), 1, to: &writer)
            writeBulk(a0, to: &writer)
        }
    }

    /// Appends a command of two arguments; as the variadic `encodeCommand(into:placement:_:)`.
    @inlinable
    public static func encodeCommand(into buffer: inout [UInt8], placement: RESPWriter.Placement = .appending, _ a0: some RESPArgument, _ a1: some RESPArgument) {
        let size = headerSize(2) + bulkSize(payload: a0.respPayloadCount) + bulkSize(payload: a1.respPayloadCount)
        RESPWriter.append(count: size, to: &buffer, placement: placement) { writer in
            writeHeader(UInt8(ascii: "*"), 2, to: &writer)
            writeBulk(a0, to: &writer)
            writeBulk(a1, to: &writer)
        }
    }

    /// Appends a command of three arguments; as the variadic `encodeCommand(into:placement:_:)`.
    @inlinable
    public static func encodeCommand(into buffer: inout [UInt8], placement: RESPWriter.Placement = .appending, _ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument) {
        let size = headerSize(3) + bulkSize(payload: a0.respPayloadCount) + bulkSize(payload: a1.respPayloadCount) + bulkSize(payload: a2.respPayloadCount)
        RESPWriter.append(count: size, to: &buffer, placement: placement) { writer in
            writeHeader(UInt8(ascii: "*"), 3, to: &writer)
            writeBulk(a0, to: &writer)
            writeBulk(a1, to: &writer)
            writeBulk(a2, to: &writer)
        }
    }

    /// Appends a command of four arguments; as the variadic `encodeCommand(into:placement:_:)`.
    @inlinable
    public static func encodeCommand(into buffer: inout [UInt8], placement: RESPWriter.Placement = .appending, _ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument) {
        let size = headerSize(4) + bulkSize(payload: a0.respPayloadCount) + bulkSize(payload: a1.respPayloadCount) + bulkSize(payload: a2.respPayloadCount) + bulkSize(payload: a3.respPayloadCount)
        RESPWriter.append(count: size, to: &buffer, placement: placement) { writer in
            writeHeader(UInt8(ascii: "*"), 4, to: &writer)
            writeBulk(a0, to: &writer)
            writeBulk(a1, to: &writer)
            writeBulk(a2, to: &writer)
            writeBulk(a3, to: &writer)
        }
    }

    /// Appends a command of five arguments; as the variadic `encodeCommand(into:placement:_:)`.
    @inlinable
    public static func encodeCommand(into buffer: inout [UInt8], placement: RESPWriter.Placement = .appending, _ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument, _ a4: some RESPArgument) {
        let size = headerSize(5) + bulkSize(payload: a0.respPayloadCount) + bulkSize(payload: a1.respPayloadCount) + bulkSize(payload: a2.respPayloadCount) + bulkSize(payload: a3.respPayloadCount) + bulkSize(payload: a4.respPayloadCount)
        RESPWriter.append(count: size, to: &buffer, placement: placement) { writer in
            writeHeader(UInt8(ascii: "*"), 5, to: &writer)
            writeBulk(a0, to: &writer)
            writeBulk(a1, to: &writer)
            writeBulk(a2, to: &writer)
            writeBulk(a3, to: &writer)
            writeBulk(a4, to: &writer)
        }
    }
}
