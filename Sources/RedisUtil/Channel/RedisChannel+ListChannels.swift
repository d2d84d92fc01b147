/// Listing channels (Python `list_channel`): every channel with a `/client` or
/// `/server` list under a prefix, sorted by bytes and de-duplicated.
///
/// ```swift
/// let busy = try await RedisChannel.listChannels(client: client, prefix: "/asyncworker/")
/// // ["/asyncworker/image-process", "/asyncworker/video"]
/// ```
/// The prefix must start and end with `/` and must not end with `*` (checked before
/// anything is sent, as Python checks it); given as components, none may be empty or
/// contain `/`. Keys are found with `SCAN`, never `KEYS`,
/// so a large keyspace never stalls the server; glob characters in the prefix are
/// escaped and match only themselves. As with any `SCAN`, a channel created or removed
/// during the listing may or may not appear. On a cluster client the `SCAN` walks every
/// primary in turn, and the channels of all are merged.
extension RedisChannel {
    /// How many keys the server looks at per `SCAN` step: fewer round trips than the
    /// default 10, still a short step for the server.
    static let scanCount = 1000

    /// The channels under `prefix` (e.g. `"/asyncworker/"`), on this channel's server.
    nonisolated(nonsending) public func listChannels(prefix: String) async throws -> [String] {
        try await Self.listChannels(client: checkedClient(), prefix: prefix)
    }

    /// The channels under a prefix given as components: `["asyncworker"]` is `"/asyncworker/"`.
    nonisolated(nonsending) public func listChannels(prefix components: [String]) async throws -> [String] {
        try await listChannels(prefix: try Self.prefix(components))
    }

    /// The channels under `prefix` on `client`'s server.
    nonisolated(nonsending) public static func listChannels(client: RedisClient, prefix: String) async throws -> [String] {
        try ChannelPath.validate(prefix: prefix)
        // Bytes, not Strings: a key that is not UTF-8 cannot name a channel (either side
        // writes UTF-8 names), and must not stop the listing.
        var keys: [String] = []
        for try await key in client.scanBytes(match: ChannelPath.scanPattern(prefix: prefix), count: scanCount) {
            if let key = String(validating: key, as: UTF8.self) { keys.append(key) }
        }
        return ChannelPath.sortedUnique(keys.compactMap(ChannelPath.channel(ofKey:)))
    }

    /// The channels under a components prefix on `client`'s server.
    nonisolated(nonsending) public static func listChannels(client: RedisClient, prefix components: [String]) async throws -> [String] {
        try await listChannels(client: client, prefix: try prefix(components))
    }

    /// The string prefix for components, refused as Python cannot list it correctly either.
    private static func prefix(_ components: [String]) throws(RedisChannelError) -> String {
        let prefix = ChannelPath.prefix(components)
        if let problem = ChannelPath.problem(components: components, what: "prefix") {
            throw .invalidPrefix(prefix, reason: problem)
        }
        return prefix
    }

    // MARK: Callbacks

    /// The callback form of ``listChannels(prefix:)``; `completion` runs once,
    /// on a reactor thread (or at once, on the caller's thread, for a refused prefix).
    public func listChannels(prefix: String, completion: @escaping Completion<[String]>) {
        do throws(RedisChannelError) {
            try validateName()
        } catch {
            completion(.failure(error.redisError))
            return
        }
        do throws(RedisError) {
            Self.listChannels(client: try client(), prefix: prefix, completion: completion)
        } catch {
            completion(.failure(error))
        }
    }

    /// The callback form of ``listChannels(prefix:)``, with components.
    public func listChannels(prefix components: [String], completion: @escaping Completion<[String]>) {
        do throws(RedisChannelError) {
            listChannels(prefix: try Self.prefix(components), completion: completion)
        } catch {
            completion(.failure(error.redisError))
        }
    }

    /// The callback form of ``listChannels(client:prefix:)``; a refused prefix is
    /// ``RedisError/invalidArgument(_:)``.
    public static func listChannels(client: RedisClient, prefix: String, completion: @escaping Completion<[String]>) {
        do throws(RedisChannelError) {
            try ChannelPath.validate(prefix: prefix)
        } catch {
            completion(.failure(error.redisError))
            return
        }
        scanStep(client: client, pattern: ChannelPath.scanPattern(prefix: prefix), cursor: "0", found: [], completion: completion)
    }

    /// One `SCAN` page, then the next from its completion, until the cursor is back at 0.
    private static func scanStep(client: RedisClient, pattern: String, cursor: String, found: [String], completion: @escaping Completion<[String]>) {
        client.execute(.scanBytes(cursor: cursor, match: pattern, count: scanCount)) { result in
            switch result {
            case .failure(let error):
                completion(.failure(error))
            case .success(let page):
                let keys = page.keys.compactMap { String(validating: $0, as: UTF8.self) }
                let found = found + keys.compactMap(ChannelPath.channel(ofKey:))
                if page.cursor == "0" {
                    completion(.success(ChannelPath.sortedUnique(found)))
                } else {
                    scanStep(client: client, pattern: pattern, cursor: page.cursor, found: found, completion: completion)
                }
            }
        }
    }
}
