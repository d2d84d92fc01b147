// libFuzzer entry for the RESP parser. Built by scripts/fuzz/run together with Sources/RESP/*.swift
// (one module, so internal API is visible). Besides "never crash, hang or read out of bounds",
// every input checks the parser's contracts:
//   1. splitting the input at any point gives the same values and the same error;
//   2. every parsed value re-encodes to bytes that parse back to an equal value;
//   3. the conversion layer never traps on whatever was parsed.

/// Values and the error (if any) of parsing `chunks` fed one after another.
private func parseAll(_ chunks: [ArraySlice<UInt8>], limits: RESPLimits) -> ([RESPValue], RESPError?) {
    var parser = RESPParser(limits: limits)
    var values: [RESPValue] = []
    for chunk in chunks {
        parser.feed(chunk)
        do {
            while let value = try parser.next() { values.append(value) }
        } catch {
            // The parser must stay failed with the same error.
            do {
                _ = try parser.next()
                fatalError("parser recovered after \(error)")
            } catch let again {
                precondition(again == error, "error changed: \(error) then \(again)")
            }
            return (values, error)
        }
    }
    return (values, nil)
}

private func exerciseConversions(_ value: RESPValue) {
    _ = try? value.asInt()
    _ = try? value.asDouble()
    _ = try? value.asBool()
    _ = try? value.asOptionalString()
    _ = try? value.asOptionalBytes()
    _ = try? value.asStrings()
    _ = try? value.expectOK()
    _ = value.description
    _ = value.map
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzParser(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = Array(UnsafeBufferPointer(start: data, count: size))
    // Small limits so that every limit check is reachable by short inputs.
    let limits = RESPLimits(maxBulkLength: 4096, maxAggregateCount: 512, maxDepth: 8, maxLineLength: 256)
    let whole = parseAll([input[...]], limits: limits)

    // A split point derived from the input, plus one-byte-at-a-time for short inputs.
    var hash: UInt64 = 14_695_981_039_346_656_037
    for byte in input { hash = (hash ^ UInt64(byte)) &* 1_099_511_628_211 }
    let cut = size == 0 ? 0 : Int(hash % UInt64(size + 1))
    let split = parseAll([input[..<cut], input[cut...]], limits: limits)
    precondition(split.0 == whole.0 && split.1 == whole.1, "split at \(cut) differs: \(whole) vs \(split)")
    if size <= 64 {
        let bytewise = parseAll(input.indices.map { input[$0...$0] }, limits: limits)
        precondition(bytewise.0 == whole.0 && bytewise.1 == whole.1, "byte-wise parse differs: \(whole) vs \(bytewise)")
    }

    for value in whole.0 {
        let encoded = value.encodedBytes
        precondition(encoded.count == value.encodedByteCount, "encodedByteCount is wrong for \(value)")
        let again = parseAll([encoded[...]], limits: RESPLimits(maxDepth: 8))
        precondition(again.1 == nil && again.0 == [value], "re-encode of \(value) parsed as \(again)")
        exerciseConversions(value)
    }
    return 0
}
