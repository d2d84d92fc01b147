import RESP

/// Which end of a list.
public enum RedisListEnd: String, Sendable, RESPArgument {
    case left = "LEFT", right = "RIGHT"
    /// The keyword's length.
    public var respPayloadCount: Int { rawValue.utf8.count }
    /// Writes the keyword.
    public func appendRESPPayload(to buffer: inout [UInt8]) { buffer.append(contentsOf: rawValue.utf8) }
}

extension RedisCommand {
    /// `RPUSH key value…`: the list's new length.
    public static func rpush(_ key: some RESPArgument, _ values: [any RESPArgument]) -> RedisCommand<Int> {
        RedisCommand<Int>(arguments: ["RPUSH", key] + values) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `RPUSH key value` of one value: the list's new length. The array form puts its
    /// values in an array of existentials, about 2,100 instructions more per command.
    /// Internal, with a label: a public `rpush(key, [1, 2])` would then read as bytes.
    static func rpush(_ key: some RESPArgument, single value: some RESPArgument) -> RedisCommand<Int> {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "RPUSH", key, value)
        return RedisCommand<Int>(encoded: bytes) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `LPUSH key value` of one value: the list's new length.
    static func lpush(_ key: some RESPArgument, single value: some RESPArgument) -> RedisCommand<Int> {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, "LPUSH", key, value)
        return RedisCommand<Int>(encoded: bytes) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `LPUSH key value…`: the list's new length.
    public static func lpush(_ key: some RESPArgument, _ values: [any RESPArgument]) -> RedisCommand<Int> {
        RedisCommand<Int>(arguments: ["LPUSH", key] + values) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `LPOP key`: the first element, or `nil` when the list is empty.
    public static func lpop(_ key: some RESPArgument) -> RedisCommand<String?> {
        RedisCommand<String?>("LPOP", key) { v throws(RESPConversionError) in try v.asOptionalString() }
    }

    /// `LPOP key count`: up to `count` elements from the head (empty when the list is).
    public static func lpop(_ key: some RESPArgument, count: Int) -> RedisCommand<[String]> {
        RedisCommand<[String]>("LPOP", key, count) { v throws(RESPConversionError) in v.isNull ? [] : try v.asStrings() }
    }

    /// `RPOP key`: the last element, or `nil`.
    public static func rpop(_ key: some RESPArgument) -> RedisCommand<String?> {
        RedisCommand<String?>("RPOP", key) { v throws(RESPConversionError) in try v.asOptionalString() }
    }

    /// `RPOP key count`: up to `count` elements from the tail.
    public static func rpop(_ key: some RESPArgument, count: Int) -> RedisCommand<[String]> {
        RedisCommand<[String]>("RPOP", key, count) { v throws(RESPConversionError) in v.isNull ? [] : try v.asStrings() }
    }

    /// `LINDEX key index`: the element, or `nil` when out of range.
    public static func lindex(_ key: some RESPArgument, _ index: Int) -> RedisCommand<String?> {
        RedisCommand<String?>("LINDEX", key, index) { v throws(RESPConversionError) in try v.asOptionalString() }
    }

    /// `LLEN key`.
    public static func llen(_ key: some RESPArgument) -> RedisCommand<Int> {
        RedisCommand<Int>("LLEN", key) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `LRANGE key start stop` (inclusive, negative from the end).
    public static func lrange(_ key: some RESPArgument, _ start: Int, _ stop: Int) -> RedisCommand<[String]> {
        RedisCommand<[String]>("LRANGE", key, start, stop) { v throws(RESPConversionError) in try v.asStrings() }
    }

    /// `LMOVE source destination from to`: the moved element, or `nil` when the source is empty.
    public static func lmove(_ source: some RESPArgument, _ destination: some RESPArgument, from: RedisListEnd, to: RedisListEnd) -> RedisCommand<String?> {
        RedisCommand<String?>("LMOVE", source, destination, from, to) { v throws(RESPConversionError) in try v.asOptionalString() }
    }

    /// `BLPOP key… timeout`: `(key, element)`, or `nil` on timeout. Zero waits forever.
    /// Runs on a dedicated connection.
    public static func blpop(_ keys: [any RESPArgument], timeout: Duration) -> RedisCommand<(key: String, value: String)?> {
        RedisCommand<(key: String, value: String)?>(arguments: ["BLPOP"] + keys + [seconds(timeout)], decode: keyedElement)
    }

    /// `BRPOP key… timeout`: `(key, element)`, or `nil` on timeout.
    public static func brpop(_ keys: [any RESPArgument], timeout: Duration) -> RedisCommand<(key: String, value: String)?> {
        RedisCommand<(key: String, value: String)?>(arguments: ["BRPOP"] + keys + [seconds(timeout)], decode: keyedElement)
    }

    /// `BLMOVE source destination from to timeout`: the moved element, or `nil` on timeout.
    public static func blmove(_ source: some RESPArgument, _ destination: some RESPArgument, from: RedisListEnd, to: RedisListEnd, timeout: Duration) -> RedisCommand<String?> {
        RedisCommand<String?>("BLMOVE", source, destination, from, to, seconds(timeout)) { v throws(RESPConversionError) in try v.asOptionalString() }
    }

    /// A blocking timeout as Redis reads it: seconds, with sub-second precision.
    static func seconds(_ timeout: Duration) -> Double {
        Double(timeout.nanosecondsClamped) / 1e9
    }

    @Sendable
    static func keyedElement(_ v: RESPValue) throws(RESPConversionError) -> (key: String, value: String)? {
        if v.isNull { return nil }
        let pair = try v.asStrings()
        guard pair.count == 2 else { throw RESPConversionError(expected: "[key, element]", received: v.kind, detail: "\(pair.count) elements") }
        return (pair[0], pair[1])
    }
}
