import RESP

/// Async shorthands for the typed commands; each is `execute(.name(…))`.
/// Callback users call `execute(.name(…)) { result in … }`.
extension RedisClient {
    /// `PING`.
    @discardableResult nonisolated(nonsending) public func ping() async throws -> String { try await execute(.ping()) }
    /// `GET key`.
    nonisolated(nonsending) public func get(_ key: some RESPArgument) async throws -> String? { try await execute(.get(key)) }
    /// `SET key value [PX]`.
    nonisolated(nonsending) public func set(_ key: some RESPArgument, _ value: some RESPArgument, expiration: Duration? = nil) async throws {
        try await execute(.set(key, value, expiration: expiration))
    }
    /// `DEL key…`.
    @discardableResult nonisolated(nonsending) public func del(_ keys: any RESPArgument...) async throws -> Int { try await execute(.del(keys)) }
    /// `EXISTS key…`.
    nonisolated(nonsending) public func exists(_ keys: any RESPArgument...) async throws -> Int { try await execute(.exists(keys)) }
    /// `EXPIRE key seconds`.
    @discardableResult nonisolated(nonsending) public func expire(_ key: some RESPArgument, seconds: Int) async throws -> Bool { try await execute(.expire(key, seconds: seconds)) }
    /// `PEXPIRE key milliseconds`.
    @discardableResult nonisolated(nonsending) public func pexpire(_ key: some RESPArgument, milliseconds: Int) async throws -> Bool { try await execute(.pexpire(key, milliseconds: milliseconds)) }
    /// `TTL key`.
    nonisolated(nonsending) public func ttl(_ key: some RESPArgument) async throws -> Int { try await execute(.ttl(key)) }
    /// `RPUSH key value…`.
    @discardableResult nonisolated(nonsending) public func rpush(_ key: some RESPArgument, _ values: any RESPArgument...) async throws -> Int { try await execute(.rpush(key, values)) }
    /// `LPUSH key value…`.
    @discardableResult nonisolated(nonsending) public func lpush(_ key: some RESPArgument, _ values: any RESPArgument...) async throws -> Int { try await execute(.lpush(key, values)) }
    /// `RPUSH key value` of one value: the form a call with one value picks, without the
    /// variadic form's array of existentials.
    @discardableResult nonisolated(nonsending) public func rpush(_ key: some RESPArgument, _ value: some RESPArgument) async throws -> Int { try await execute(.rpush(key, single: value)) }
    /// `LPUSH key value` of one value.
    @discardableResult nonisolated(nonsending) public func lpush(_ key: some RESPArgument, _ value: some RESPArgument) async throws -> Int { try await execute(.lpush(key, single: value)) }
    /// `LPOP key`.
    nonisolated(nonsending) public func lpop(_ key: some RESPArgument) async throws -> String? { try await execute(.lpop(key)) }
    /// `LPOP key count`.
    nonisolated(nonsending) public func lpop(_ key: some RESPArgument, count: Int) async throws -> [String] { try await execute(.lpop(key, count: count)) }
    /// `RPOP key`.
    nonisolated(nonsending) public func rpop(_ key: some RESPArgument) async throws -> String? { try await execute(.rpop(key)) }
    /// `RPOP key count`.
    nonisolated(nonsending) public func rpop(_ key: some RESPArgument, count: Int) async throws -> [String] { try await execute(.rpop(key, count: count)) }
    /// `LINDEX key index`.
    nonisolated(nonsending) public func lindex(_ key: some RESPArgument, _ index: Int) async throws -> String? { try await execute(.lindex(key, index)) }
    /// `LLEN key`.
    nonisolated(nonsending) public func llen(_ key: some RESPArgument) async throws -> Int { try await execute(.llen(key)) }
    /// `LRANGE key start stop`.
    nonisolated(nonsending) public func lrange(_ key: some RESPArgument, _ start: Int, _ stop: Int) async throws -> [String] { try await execute(.lrange(key, start, stop)) }
    /// `LMOVE`.
    nonisolated(nonsending) public func lmove(_ source: some RESPArgument, _ destination: some RESPArgument, from: RedisListEnd, to: RedisListEnd) async throws -> String? {
        try await execute(.lmove(source, destination, from: from, to: to))
    }
    /// `BLPOP key… timeout` on a dedicated connection; `nil` on timeout.
    nonisolated(nonsending) public func blpop(_ keys: any RESPArgument..., timeout: Duration) async throws -> (key: String, value: String)? {
        try await execute(.blpop(keys, timeout: timeout))
    }
    /// `BRPOP key… timeout` on a dedicated connection; `nil` on timeout.
    nonisolated(nonsending) public func brpop(_ keys: any RESPArgument..., timeout: Duration) async throws -> (key: String, value: String)? {
        try await execute(.brpop(keys, timeout: timeout))
    }
    /// `BLMOVE` on a dedicated connection; `nil` on timeout.
    nonisolated(nonsending) public func blmove(_ source: some RESPArgument, _ destination: some RESPArgument, from: RedisListEnd, to: RedisListEnd, timeout: Duration) async throws -> String? {
        try await execute(.blmove(source, destination, from: from, to: to, timeout: timeout))
    }
    /// `HGET key field`.
    nonisolated(nonsending) public func hget(_ key: some RESPArgument, _ field: some RESPArgument) async throws -> String? { try await execute(.hget(key, field)) }
    /// `HSET key field value …`.
    @discardableResult nonisolated(nonsending) public func hset(_ key: some RESPArgument, _ fields: [(String, any RESPArgument)]) async throws -> Int { try await execute(.hset(key, fields)) }
    /// `HDEL key field…`.
    @discardableResult nonisolated(nonsending) public func hdel(_ key: some RESPArgument, _ fields: any RESPArgument...) async throws -> Int { try await execute(.hdel(key, fields)) }
    /// `HGETALL key`.
    nonisolated(nonsending) public func hgetall(_ key: some RESPArgument) async throws -> [String: String] { try await execute(.hgetall(key)) }
    /// `CLIENT UNBLOCK id`.
    @discardableResult nonisolated(nonsending) public func clientUnblock(_ clientID: Int) async throws -> Bool { try await execute(.clientUnblock(clientID)) }

    /// Every key matching `pattern`, page by page with `SCAN` (never `KEYS`, which
    /// blocks the server). Keys added or removed during the scan may or may not appear;
    /// a key may appear twice, as `SCAN` guarantees no more. A key that is not UTF-8
    /// ends the iteration with an error; ``scanBytes(match:count:type:)`` reads any key.
    /// On a cluster client the scan walks every primary in turn (see the README's Redis
    /// Cluster section).
    public func scan(match pattern: String? = nil, count: Int? = nil, type: String? = nil) -> RedisScanSequence<String> {
        RedisScanSequence(client: self, match: pattern, count: count, type: type) { bytes throws(RESPConversionError) in
            guard let key = String(validating: bytes, as: UTF8.self) else {
                throw RESPConversionError(expected: "String", received: .bulkString, detail: "a key is not valid UTF-8; use scanBytes")
            }
            return key
        }
    }

    /// As ``scan(match:count:type:)``, each key as its bytes (keys are binary in Redis).
    public func scanBytes(match pattern: String? = nil, count: Int? = nil, type: String? = nil) -> RedisScanSequence<[UInt8]> {
        RedisScanSequence(client: self, match: pattern, count: count, type: type) { $0 }
    }
}

/// The keys of a `SCAN`, fetched one page at a time as they are iterated: `String`s from
/// ``RedisClient/scan(match:count:type:)``, bytes from ``RedisClient/scanBytes(match:count:type:)``.
public struct RedisScanSequence<Key: Sendable>: AsyncSequence, Sendable {
    /// A key.
    public typealias Element = Key

    let client: RedisClient
    let match: String?
    let count: Int?
    let type: String?
    let decode: @Sendable ([UInt8]) throws(RESPConversionError) -> Key

    /// Starts a scan at cursor 0.
    public func makeAsyncIterator() -> Iterator {
        Iterator(sequence: self)
    }

    /// Fetches the next page when the current one is used up.
    public struct Iterator: AsyncIteratorProtocol {
        let sequence: RedisScanSequence
        var cursor = "0"
        var page: [Key] = []
        var finished = false

        /// The next key, or `nil` once the server's cursor is back at 0.
        public mutating func next() async throws -> Key? {
            while page.isEmpty {
                if finished { return nil }
                let result = try await sequence.client.execute(.scanBytes(cursor: cursor, match: sequence.match, count: sequence.count, type: sequence.type))
                cursor = result.cursor
                finished = cursor == "0"
                do {
                    page = try result.keys.reversed().map { bytes throws(RESPConversionError) in try sequence.decode(bytes) }
                } catch {
                    throw RedisError.unexpectedReply(error)
                }
            }
            return page.popLast()
        }
    }
}
