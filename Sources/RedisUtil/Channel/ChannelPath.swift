/// Channel names, list keys and `listChannels` prefixes, spelled exactly as the Python
/// `redisutil.RedisChannel` spells them, so both sides meet on the same keys.
enum ChannelPath {
    /// `["asyncworker", "image-process"]` → `/asyncworker/image-process`, as Python's
    /// `"/" + "/".join(channel)`.
    static func join(_ components: [String]) -> String {
        "/" + components.joined(separator: "/")
    }

    /// Why a channel name given as a string cannot be used, or `nil`. Only the empty
    /// name is refused: Python accepts any string, and a `/` there is the separator.
    static func problem(name: String) -> String? {
        name.isEmpty ? "a channel name must not be empty (its lists would be \"/client\" and \"/server\")" : nil
    }

    /// Why channel components cannot be used, or `nil`: there must be at least one,
    /// none empty, and none containing `/`, which would silently add a level
    /// (`["a/b"]` would name the same lists as `["a", "b"]`).
    static func problem(components: [String], what: String = "channel name") -> String? {
        if components.isEmpty { return "a \(what) needs at least one component" }
        for (index, component) in components.enumerated() {
            if component.isEmpty { return "\(what) component \(index) is empty in \(components)" }
            if component.contains("/") {
                return "\(what) component \(index) \(component.debugDescription) contains \"/\", which separates components; pass the parts as separate components"
            }
        }
        return nil
    }

    /// The list a peer pushes to: `<channel>/<peer>`.
    static func key(channel: String, peer: RedisChannel.Peer) -> String {
        "\(channel)/\(peer.rawValue)"
    }

    /// A components prefix gets both slashes, as Python's `"/" + "/".join(prefix) + "/"`.
    static func prefix(_ components: [String]) -> String {
        join(components) + "/"
    }

    /// The checks of Python's `list_channel`, in its order.
    static func validate(prefix: String) throws(RedisChannelError) {
        guard prefix.hasPrefix("/") else {
            throw .invalidPrefix(prefix, reason: #"a prefix must start with "/""#)
        }
        guard !prefix.hasSuffix("*") else {
            throw .invalidPrefix(prefix, reason: #"a prefix must not end with "*": it is a literal path, not a pattern"#)
        }
        guard prefix.hasSuffix("/") else {
            throw .invalidPrefix(prefix, reason: #"a prefix must end with "/""#)
        }
    }

    /// The SCAN pattern for every key under `prefix`. Python passes the prefix
    /// unescaped, so a `[`, `?` or `*` inside it acts as a glob there; here it is escaped
    /// and matches only itself, which is what a prefix means. For prefixes without glob
    /// characters (all the Python side can list correctly) the two agree.
    static func scanPattern(prefix: String) -> String {
        // By Unicode scalar, not by Character: a `*` followed by a combining mark is one
        // Character, and would otherwise go unescaped.
        var pattern = String.UnicodeScalarView()
        for scalar in prefix.unicodeScalars {
            if "*?[]\\".unicodeScalars.contains(scalar) { pattern.append("\\") }
            pattern.append(scalar)
        }
        return String(pattern) + "*"
    }

    /// The channel a listed key belongs to: the key without its `/client` or `/server`
    /// suffix; `nil` for a key under the prefix that is not a channel list. Compared as
    /// UTF-8 bytes, as Python compares the key bytes.
    static func channel(ofKey key: String) -> String? {
        let utf8 = Array(key.utf8)
        for peer in [RedisChannel.Peer.client, .server] {
            let suffix = Array("/\(peer.rawValue)".utf8)
            if utf8.count >= suffix.count, utf8.suffix(suffix.count).elementsEqual(suffix) {
                return String(decoding: utf8.dropLast(suffix.count), as: UTF8.self)
            }
        }
        return nil
    }

    /// Sorted by UTF-8 bytes and de-duplicated, as Python's `sorted(set(...))` over key
    /// bytes (SCAN may return a key twice). Bytes, not `String` equality, which would
    /// merge canonically equivalent names that are distinct keys.
    static func sortedUnique(_ channels: some Sequence<String>) -> [String] {
        Set(channels.map { Array($0.utf8) })
            .sorted { $0.lexicographicallyPrecedes($1) }
            .map { String(decoding: $0, as: UTF8.self) }
    }
}
