import RESP

extension RedisCommand {
    /// `HGET key field`: the value, or `nil`.
    public static func hget(_ key: some RESPArgument, _ field: some RESPArgument) -> RedisCommand<String?> {
        RedisCommand<String?>("HGET", key, field) { v throws(RESPConversionError) in try v.asOptionalString() }
    }

    /// `HSET key field value …`: how many fields were added (not updated).
    public static func hset(_ key: some RESPArgument, _ fields: [(String, any RESPArgument)]) -> RedisCommand<Int> {
        var arguments: [any RESPArgument] = ["HSET", key]
        for (field, value) in fields { arguments += [field, value] }
        return RedisCommand<Int>(arguments: arguments) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `HDEL key field…`: how many fields were removed.
    public static func hdel(_ key: some RESPArgument, _ fields: [any RESPArgument]) -> RedisCommand<Int> {
        RedisCommand<Int>(arguments: ["HDEL", key] + fields) { v throws(RESPConversionError) in try v.asInt() }
    }

    /// `HGETALL key`: every field and value (RESP3 map or RESP2 flat array).
    public static func hgetall(_ key: some RESPArgument) -> RedisCommand<[String: String]> {
        RedisCommand<[String: String]>("HGETALL", key) { v throws(RESPConversionError) in
            var result: [String: String] = [:]
            if let map = v.withoutAttributes.map {
                for (field, value) in map { result[try field.asString()] = try value.asString() }
                return result
            }
            let flat = try v.asStrings()
            guard flat.count % 2 == 0 else { throw RESPConversionError(expected: "field/value pairs", received: v.kind, detail: "odd element count \(flat.count)") }
            for index in stride(from: 0, to: flat.count, by: 2) { result[flat[index]] = flat[index + 1] }
            return result
        }
    }
}
