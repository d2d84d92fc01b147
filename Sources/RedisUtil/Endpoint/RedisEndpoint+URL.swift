extension RedisEndpoint {
    /// Parses `redis://[user[:password]@]host[:port][/db]`, the same with `rediss://`
    /// for TLS, or `unix:///path[?db=N]`.
    ///
    /// User and password may be percent-encoded; an IPv6 host goes in brackets
    /// (`redis://[::1]:6379`). A password alone (`redis://:secret@host`) uses legacy
    /// `AUTH password`. Throws ``RedisError/invalidArgument(_:)`` naming what is wrong.
    ///
    /// `rediss://` verifies the server against the system's trusted roots; these query
    /// items, spelled as `redis-cli`'s flags, change that (see ``RedisTLSConfiguration``):
    ///
    /// | item | meaning |
    /// |---|---|
    /// | `cacert=/path/ca.crt` | trust the CAs in this PEM file instead |
    /// | `cacertdir=/path/certs` | trust a hashed directory of CAs instead |
    /// | `cert=/path/client.crt&key=/path/client.key` | present a client certificate (mutual TLS) |
    /// | `sni=name` | the server name to send and verify, instead of the host |
    /// | `insecure=true` | do not verify the server (test servers only) |
    ///
    /// A Redis Cluster is `redis+cluster://[user[:password]@]host1:port1,host2:port2`
    /// (`rediss+cluster://` for TLS): its seeds, comma-separated, sharing the
    /// credentials, path and query (see ``cluster(seeds:)``).
    public init(url: String) throws(RedisError) {
        if let schemeEnd = url.firstRange(of: "://"), url[..<schemeEnd.lowerBound].lowercased().hasSuffix("+cluster") {
            self = try RedisEndpoint.clusterURL(url, schemeEnd: schemeEnd)
            return
        }
        func fail(_ why: String) -> RedisError {
            .invalidArgument("bad Redis URL \"\(RedisEndpoint.redactingPassword(in: url))\": \(why)")
        }
        guard let schemeEnd = url.firstRange(of: "://") else {
            throw fail("expected redis://host[:port][/db] or unix:///path")
        }
        let scheme = url[..<schemeEnd.lowerBound].lowercased()
        var rest = Substring(url[schemeEnd.upperBound...])

        var query: [String: String] = [:]
        // Like the path, the query starts after the credentials, so a "?" in a password stays in it.
        let credentialsEnd = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        if let q = rest[credentialsEnd...].firstIndex(of: "?") {
            for pair in rest[rest.index(after: q)...].split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1)
                guard parts.count == 2 else { throw fail("query item \"\(pair)\" is not name=value") }
                query[String(parts[0])] = try RedisEndpoint.percentDecoded(parts[1], field: "query", fail: fail)
            }
            rest = rest[..<q]
        }
        func databaseFromQuery() throws(RedisError) -> Int? {
            guard let db = query["db"] else { return nil }
            guard let n = Int(db), n >= 0 else { throw fail("db must be a non-negative integer, got \"\(db)\"") }
            return n
        }

        switch scheme {
        case "unix":
            var credentials: (String?, String?) = (nil, nil)
            if let at = rest.lastIndex(of: "@"), !rest.hasPrefix("/") {
                credentials = try RedisEndpoint.parseUserInfo(rest[..<at], fail: fail)
                rest = rest[rest.index(after: at)...]
            }
            guard rest.hasPrefix("/"), rest.count > 1 else { throw fail("a unix URL needs an absolute socket path, as in unix:///run/redis.sock") }
            // Percent-decoded, as redis-py's from_url does.
            self.init(.unix(path: try RedisEndpoint.percentDecoded(rest, field: "path", fail: fail)))
            (username, password) = credentials
            database = try databaseFromQuery()
        case "redis", "rediss":
            var authority = rest
            var path: Substring = ""
            // The path starts at the first "/" after the credentials: an unescaped "/"
            // in a password must not cut the authority there and leak the password's
            // tail into a "bad port" message.
            let hostStart = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
            if let slash = rest[hostStart...].firstIndex(of: "/") {
                authority = rest[..<slash]
                path = rest[rest.index(after: slash)...]
            }
            var credentials: (String?, String?) = (nil, nil)
            if let at = authority.lastIndex(of: "@") {
                credentials = try RedisEndpoint.parseUserInfo(authority[..<at], fail: fail)
                authority = authority[authority.index(after: at)...]
            }
            let (host, port) = try RedisEndpoint.parseHostPort(authority, fail: fail)
            self.init(.tcp(host: host, port: port))
            (username, password) = credentials
            if !path.isEmpty {
                guard let n = Int(path), n >= 0 else { throw fail("the path must be a database number, got \"/\(path)\"") }
                database = n
            }
            if let db = try databaseFromQuery() { database = db }
            tls = try RedisEndpoint.tlsConfiguration(query, scheme: scheme, fail: fail)
        default:
            throw fail("unknown scheme \"\(scheme)\"; expected redis://, rediss:// or unix://")
        }
    }

    /// `redis+cluster://…` or `rediss+cluster://…`: one `redis://` (or `rediss://`) URL per
    /// comma-separated host, each with the whole URL's credentials, path and query.
    private static func clusterURL(_ url: String, schemeEnd: Range<String.Index>) throws(RedisError) -> RedisEndpoint {
        let scheme = url[..<schemeEnd.lowerBound].lowercased().dropLast("+cluster".count)
        let rest = url[schemeEnd.upperBound...]
        // Hosts lie between the credentials (up to the last "@") and the path or query.
        let hostsStart = rest.lastIndex(of: "@").map { rest.index(after: $0) } ?? rest.startIndex
        let hostsEnd = rest[hostsStart...].firstIndex { $0 == "/" || $0 == "?" } ?? rest.endIndex
        let hosts = rest[hostsStart..<hostsEnd].split(separator: ",", omittingEmptySubsequences: false)
        guard hosts.allSatisfy({ !$0.isEmpty }) else {
            throw RedisError.invalidArgument("bad Redis URL \"\(redactingPassword(in: url))\": expected \(scheme)+cluster://host1:port1,host2:port2")
        }
        var seeds: [RedisEndpoint] = []
        for host in hosts {
            seeds.append(try RedisEndpoint(url: "\(scheme)://" + rest[..<hostsStart] + host + rest[hostsEnd...]))
        }
        return .cluster(seeds: seeds)
    }

    /// The TLS settings of a `rediss://` URL's query (nil for `redis://`, where they are
    /// refused rather than silently ignored).
    private static func tlsConfiguration(_ query: [String: String], scheme: String, fail: (String) -> RedisError) throws(RedisError) -> RedisTLSConfiguration? {
        let names = ["cacert", "cacertdir", "cert", "key", "sni", "insecure"]
        guard scheme == "rediss" else {
            if let name = names.first(where: { query[$0] != nil }) { throw fail("\(name) is a TLS option: use rediss://") }
            return nil
        }
        var tls = RedisTLSConfiguration()
        if let file = query["cacert"] { tls.trustRoots = .caFile(file) }
        if let directory = query["cacertdir"] { tls.trustRoots = .caDirectory(directory) }
        switch (query["cert"], query["key"]) {
        case (let certificate?, let key?): tls.clientCertificate = .init(certificateFile: certificate, keyFile: key)
        case (nil, nil): break
        default: throw fail("cert and key go together")
        }
        tls.serverName = query["sni"]
        switch query["insecure"]?.lowercased() {
        case nil, "false", "0", "no": break
        case "true", "1", "yes": tls.verification = .insecureNoVerification
        case let other?: throw fail("insecure must be true or false, got \"\(other)\"")
        }
        return tls
    }

    private static func parseHostPort(_ authority: Substring, fail: (String) -> RedisError) throws(RedisError) -> (String, Int) {
        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw fail("unterminated [IPv6] host") }
            // RFC 6874 writes a zone's "%" as "%25" (fe80::1%25eth0).
            host = Substring(try percentDecoded(authority[authority.index(after: authority.startIndex)..<close], field: "host", fail: fail))
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw fail("expected :port after ]") }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            guard !host.contains(":") else {
                throw fail("an IPv6 host goes in brackets, as in redis://[::1]:6379")
            }
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty else { throw fail("missing host") }
        var port = 6379
        if let portText {
            guard let p = Int(portText), (1...65535).contains(p) else {
                throw fail("port must be 1…65535, got \"\(portText)\"")
            }
            port = p
        }
        return (String(host), port)
    }

    private static func parseUserInfo(_ info: Substring, fail: (String) -> RedisError) throws(RedisError) -> (String?, String?) {
        if let colon = info.firstIndex(of: ":") {
            let user = try percentDecoded(info[..<colon], field: "user", fail: fail)
            let password = try percentDecoded(info[info.index(after: colon)...], field: "password", fail: fail)
            return (user.isEmpty ? nil : user, password)
        }
        let user = try percentDecoded(info, field: "user", fail: fail)
        return (user.isEmpty ? nil : user, nil)
    }

    private static func percentDecoded(_ text: Substring, field: String, fail: (String) -> RedisError) throws(RedisError) -> String {
        var bytes: [UInt8] = []
        var iterator = text.utf8.makeIterator()
        while let byte = iterator.next() {
            guard byte == UInt8(ascii: "%") else { bytes.append(byte); continue }
            guard let high = iterator.next().flatMap(hexValue), let low = iterator.next().flatMap(hexValue) else {
                throw fail("bad percent-escape in the \(field)")
            }
            bytes.append(high << 4 | low)
        }
        guard let decoded = String(validating: bytes, as: UTF8.self) else { throw fail("the \(field) is not UTF-8 after percent-decoding") }
        return decoded
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
        default: nil
        }
    }

    /// The URL with any password replaced by `***`, for error messages. Without a
    /// well-formed `scheme://`, everything before the last `@` is hidden: where the
    /// credentials start cannot be told.
    static func redactingPassword(in url: String) -> String {
        guard let at = url.lastIndex(of: "@") else { return url }
        guard let schemeEnd = url.firstRange(of: "://"), schemeEnd.upperBound <= at else {
            return "***" + String(url[at...])
        }
        let info = url[schemeEnd.upperBound..<at]
        guard let colon = info.firstIndex(of: ":") else { return url }
        return String(url[..<info.index(after: colon)]) + "***" + String(url[at...])
    }
}
