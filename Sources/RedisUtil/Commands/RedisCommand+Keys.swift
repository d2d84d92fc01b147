import RESP

extension RedisCommand {
    /// `PING`: `PONG`.
    public static func ping() -> RedisCommand<String> {
        RedisCommand<String>("PING") { v throws(RESPConversionError) in try v.asString() }
    }

    /// `GET key`: the value, or `nil` when the key does not exist.
    public static func get(_ key: some RESPArgument) -> RedisCommand<String?> {
        RedisCommand<String?>("GET", key) { v throws(RESPConversionError) in try v.asOptionalString() }
    }

    /// `SET key value [PX ms]`.
    public static func set(_ key: some RESPArgument, _ value: some RESPArgument, expiration: Duration? = nil) -> RedisCommand<Void> {
        if let expiration {
            return RedisCommand<Void>("SET", key, value, "PX", Int(expiration.nanosecondsClamped / 1_000_000)) { v throws(RESPConversionError) in try v.expectOK() }
        }
        return RedisCommand<Void>("SET", key, value) { v throws(RESPConversionError) in try v.expectOK() }
    }

    /// `INCRBY key by`: the new value.
    public static func incr(_ key: some RESPArgument, by amount: Int = 1) -> RedisCommand<Int> {
        RedisCommand<Int>("INCRBY", key, amount) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `DEL key…`: how many keys were removed.
    public static func del(_ keys: [any RESPArgument]) -> RedisCommand<Int> {
        RedisCommand<Int>(arguments: ["DEL"] + keys) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `EXISTS key…`: how many of the keys exist.
    public static func exists(_ keys: [any RESPArgument]) -> RedisCommand<Int> {
        RedisCommand<Int>(arguments: ["EXISTS"] + keys) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `EXPIRE key seconds`: whether a timeout was set.
    public static func expire(_ key: some RESPArgument, seconds: Int) -> RedisCommand<Bool> {
        RedisCommand<Bool>("EXPIRE", key, seconds) { v throws(RESPConversionError) in try v.asBool() }
    }

    /// `PEXPIRE key milliseconds`: whether a timeout was set.
    public static func pexpire(_ key: some RESPArgument, milliseconds: Int) -> RedisCommand<Bool> {
        RedisCommand<Bool>("PEXPIRE", key, milliseconds) { v throws(RESPConversionError) in try v.asBool() }
    }

    /// `TTL key`: seconds left, -1 without expiry, -2 when the key does not exist.
    public static func ttl(_ key: some RESPArgument) -> RedisCommand<Int> {
        RedisCommand<Int>("TTL", key) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `CLIENT UNBLOCK id`: whether a blocked client was unblocked.
    public static func clientUnblock(_ clientID: Int) -> RedisCommand<Bool> {
        RedisCommand<Bool>("CLIENT", "UNBLOCK", clientID) { v throws(RESPConversionError) in try v.asBool() }
    }

    /// `SCAN cursor [MATCH pattern] [COUNT n] [TYPE t]`: the next cursor and a page of
    /// keys. A key that is not UTF-8 fails the page; ``scanBytes(cursor:match:count:type:)``
    /// reads any key.
    public static func scan(cursor: String, match: String? = nil, count: Int? = nil, type: String? = nil) -> RedisCommand<(cursor: String, keys: [String])> {
        RedisCommand<(cursor: String, keys: [String])>(arguments: scanArguments(cursor, match, count, type)) { v throws(RESPConversionError) in
            let page = try scanPage(v)
            return (try page[0].asString(), try page[1].asStrings())
        }
    }

    /// As ``scan(cursor:match:count:type:)``, each key as its bytes: keys are binary in Redis.
    public static func scanBytes(cursor: String, match: String? = nil, count: Int? = nil, type: String? = nil) -> RedisCommand<(cursor: String, keys: [[UInt8]])> {
        RedisCommand<(cursor: String, keys: [[UInt8]])>(arguments: scanArguments(cursor, match, count, type)) { v throws(RESPConversionError) in
            let page = try scanPage(v)
            guard let keys = page[1].withoutAttributes.array else { throw RESPConversionError(expected: "[key]", received: page[1].kind) }
            return (try page[0].asString(), try keys.map { key throws(RESPConversionError) in try key.asBytes() })
        }
    }

    private static func scanArguments(_ cursor: String, _ match: String?, _ count: Int?, _ type: String?) -> [any RESPArgument] {
        var arguments: [any RESPArgument] = ["SCAN", cursor]
        if let match { arguments += ["MATCH", match] }
        if let count { arguments += ["COUNT", count] }
        if let type { arguments += ["TYPE", type] }
        return arguments
    }

    private static func scanPage(_ v: RESPValue) throws(RESPConversionError) -> [RESPValue] {
        guard let page = v.withoutAttributes.array, page.count == 2 else {
            throw RESPConversionError(expected: "[cursor, keys]", received: v.kind)
        }
        return page
    }
}
