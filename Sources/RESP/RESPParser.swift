/// An incremental RESP2/RESP3 reply parser that owns its input buffer.
///
/// Feed bytes as they arrive (or read(2) straight into ``withUnsafeWritableTail(minimumCapacity:_:)``)
/// and call ``next()`` until it returns nil:
///
/// ```swift
/// var parser = RESPParser()
/// parser.feed(bytesFromSocket)
/// while let reply = try parser.next() { handle(reply) }
/// ```
///
/// Any split of a valid stream yields the same values. Work is linear in the bytes received:
/// aggregates keep their finished elements, a pending bulk payload is waited for by length
/// without looking at it, and a line search resumes where it stopped.
/// After an error the parser stays failed and every ``next()`` throws the same error.
public struct RESPParser: Sendable {
    /// The limits this parser enforces.
    public let limits: RESPLimits

    var buffer = RESPInputBuffer()
    /// Aggregates being filled, outermost first.
    var frames: [RESPAggregateFrame] = []
    /// Bytes from `buffer.readIndex` that must be present before scanning can make progress
    /// (0 once failed).
    var needCount = 1
    /// Offset from `buffer.readIndex` where the search for a line's `\r` resumes.
    var scanFrom = 0
    /// Bytes examined by line searches so far; lets tests prove there is no re-scanning.
    var scannedByteCount = 0
    /// The error that stopped the parser, if any.
    public private(set) var error: RESPError?

    /// Creates a parser with an empty buffer; nothing is allocated until bytes arrive.
    public init(limits: RESPLimits = .default) {
        self.limits = limits
    }

    /// Bytes received but not yet consumed (the unfinished part of the stream).
    public var bufferedByteCount: Int { buffer.readableCount }

    /// Appends a copy of `bytes` to the input.
    public mutating func feed(_ bytes: UnsafeRawBufferPointer) {
        buffer.append(bytes)
    }

    /// Appends a copy of `bytes` to the input; contiguous collections are copied in one go.
    public mutating func feed(_ bytes: some Sequence<UInt8>) {
        let done: Void? = bytes.withContiguousStorageIfAvailable { buffer.append(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { buffer.append($0) }
        }
    }

    /// Lets `body` write incoming bytes straight into the buffer's spare capacity, at least
    /// `minimumCapacity` bytes of it, and keeps the number of bytes `body` returns.
    ///
    /// ```swift
    /// let n = parser.withUnsafeWritableTail(minimumCapacity: 16384) { read(fd, $0.baseAddress, $0.count) }
    /// ```
    /// `body` must return a count between 0 and the buffer's size (check read(2)'s -1 first).
    @discardableResult
    public mutating func withUnsafeWritableTail<E: Error>(
        minimumCapacity: Int,
        _ body: (UnsafeMutableRawBufferPointer) throws(E) -> Int
    ) throws(E) -> Int {
        try buffer.withWritableTail(minimumCapacity: minimumCapacity, body)
    }

    /// Returns the next complete value, or nil when more bytes are needed.
    ///
    /// Throws ``RESPError`` on malformed input; from then on every call throws that error.
    public mutating func next() throws(RESPError) -> RESPValue? {
        // While a big payload trickles in, this comparison is the whole call. A failed parser
        // has `needCount == 0`, so it always falls through to rethrow its error.
        if buffer.writeIndex - buffer.readIndex < needCount { return nil }
        if let error { throw error }
        while true {
            if buffer.readableCount < needCount { return nil }
            let start = buffer.readIndex
            let end = buffer.writeIndex
            let step = buffer.withReadableBytes { bytes in
                RESPScanner.scan(bytes, start: start, end: end, scanFrom: scanFrom,
                                 limits: limits, scanned: &scannedByteCount)
            }
            switch consume step {
            case .value(let value, let after):
                consume(upTo: after)
                if frames.isEmpty { return value }
                if let finished = deliver(value) { return finished }
            case .aggregate(let kind, let count, let after):
                // An empty aggregate is a level too: checked before its shortcut.
                if frames.count >= limits.maxDepth {
                    return try fail(.depthExceeded, index: start,
                                    reason: "aggregates nest deeper than the limit of \(limits.maxDepth)")
                }
                if count == 0 && kind != .attribute {
                    consume(upTo: after)
                    let value = RESPAggregateFrame.empty(kind)
                    if frames.isEmpty { return value }
                    if let finished = deliver(value) { return finished }
                    continue
                }
                var frame = RESPAggregateFrame(kind: kind, count: count, reserveLimit: (end - after) / 3)
                if kind == .array || kind == .set || kind == .push {
                    // Fast path: scalars in a row go straight into the frame, without the
                    // generic loop's bookkeeping. Anything else (a nested aggregate, an
                    // incomplete element, an error) is left to that loop.
                    let position = fillScalars(&frame, from: after, end: end)
                    if frame.remaining == 0 {
                        consume(upTo: position)
                        let value = frame.finish()
                        if frames.isEmpty { return value }
                        if let finished = deliver(value) { return finished }
                        continue
                    }
                    frames.append(frame)
                    consume(upTo: position)
                    continue
                }
                frames.append(frame)
                consume(upTo: after)
            case .incomplete(let need, let resume):
                needCount = need
                scanFrom = resume
                return nil
            case .failure(let kind, let index, let reason):
                return try fail(kind, index: index, reason: reason)
            }
        }
    }

    /// Appends complete scalar elements starting at buffer index `position` until the frame
    /// is full or something else comes; returns the index after the last element taken.
    private mutating func fillScalars(_ frame: inout RESPAggregateFrame, from position: Int, end: Int) -> Int {
        let limits = self.limits
        var scanned = 0
        let after = buffer.withReadableBytes { bytes in
            var position = position
            while frame.remaining > 0 && position < end {
                guard case .value(let value, let next) = RESPScanner.scan(
                    bytes, start: position, end: end, scanFrom: 0, limits: limits, scanned: &scanned)
                else { break }
                frame.elements.append(value)
                frame.remaining -= 1
                position = next
            }
            return position
        }
        scannedByteCount += scanned
        return after
    }

    private mutating func consume(upTo index: Int) {
        buffer.consume(upTo: index)
        needCount = 1
        scanFrom = 0
    }

    /// Hands a finished element to the innermost frame; returns the top-level value if that
    /// completed every open aggregate.
    private mutating func deliver(_ value: RESPValue) -> RESPValue? {
        var value = value
        while !frames.isEmpty {
            guard frames[frames.count - 1].append(value) else { return nil }
            value = frames.removeLast().finish()
        }
        return value
    }

    private mutating func fail(_ kind: RESPError.Kind, index: Int, reason: String) throws(RESPError) -> RESPValue? {
        let error = RESPError(kind, offset: buffer.streamOffset(of: index), reason: reason)
        self.error = error
        needCount = 0
        frames = []
        throw error
    }
}
