import RESP
import Synchronization

/// A Lua script run with `EVALSHA`, loaded into the server's script cache on first
/// use and again whenever the server answers `NOSCRIPT` (after a restart or
/// `SCRIPT FLUSH`). Create one per script and reuse it.
///
/// ```swift
/// let popAll = RedisScript("local v = redis.call('LRANGE', KEYS[1], 0, -1) redis.call('DEL', KEYS[1]) return v")
/// let items = try await client.eval(popAll, keys: ["jobs"])
/// ```
public final class RedisScript: Sendable {
    /// The Lua source.
    public let source: String
    private let sha = Mutex<String?>(nil)

    /// A script from its Lua source.
    public init(_ source: String) {
        self.source = source
    }

    func cachedSHA() -> String? { sha.withLock { $0 } }
    func remember(_ digest: String) { sha.withLock { $0 = digest } }
}

extension RedisClient {
    /// Runs `script` with `EVALSHA`, loading it first when the server does not know it.
    @discardableResult
    nonisolated(nonsending) public func eval(_ script: RedisScript, keys: [any RESPArgument] = [], arguments: [any RESPArgument] = []) async throws -> RESPValue {
        let digest = try await script.loadedSHA(on: self)
        do {
            return try await send(arguments: ["EVALSHA", digest, keys.count] + keys + arguments)
        } catch RedisError.server(let message) where message.hasPrefix("NOSCRIPT") {
            // Loaded here, not taken from the cache again: the digest is the same on every
            // server, and another client's load (another server's) may have cached it
            // meanwhile, which says nothing of this one. A second NOSCRIPT (a flush
            // between the load and the call) is the caller's error, as the server gives it.
            let loaded = try await script.load(on: self)
            return try await send(arguments: ["EVALSHA", loaded, keys.count] + keys + arguments)
        }
    }

    /// `EVAL script numkeys key… arg…`: sends the whole source every time; prefer ``eval(_:keys:arguments:)``.
    @discardableResult
    nonisolated(nonsending) public func eval(source: String, keys: [any RESPArgument] = [], arguments: [any RESPArgument] = []) async throws -> RESPValue {
        try await send(arguments: ["EVAL", source, keys.count] + keys + arguments)
    }
}

extension RedisScript {
    /// The script's SHA-1 in the server's cache, loading it when not known yet.
    nonisolated(nonsending) func loadedSHA(on client: RedisClient) async throws -> String {
        if let digest = cachedSHA() { return digest }
        return try await load(on: client)
    }

    /// `SCRIPT LOAD` on `client`'s server (on a cluster, every node), remembered.
    nonisolated(nonsending) func load(on client: RedisClient) async throws -> String {
        let digest = try await client.send("SCRIPT", "LOAD", source).asString()
        remember(digest)
        return digest
    }
}
