import RedisUtil

/// The benchmark's TLS flags, spelled as `redis-benchmark`'s own, turned into the
/// client's settings and into the same flags for `redis-benchmark`.
struct BenchTLS: Sendable, Equatable {
    var caFile: String?
    var certificateFile: String?
    var keyFile: String?
    var serverName: String?
    var insecure = false

    /// The client's TLS settings.
    var configuration: RedisTLSConfiguration {
        var tls = RedisTLSConfiguration()
        if let caFile { tls.trustRoots = .caFile(caFile) }
        if let certificateFile, let keyFile {
            tls.clientCertificate = .init(certificateFile: certificateFile, keyFile: keyFile)
        }
        tls.serverName = serverName
        if insecure { tls.verification = .insecureNoVerification }
        return tls
    }

    /// The same settings as `redis-benchmark` flags.
    var redisBenchmarkArguments: [String] {
        var arguments = ["--tls"]
        if let caFile { arguments += ["--cacert", caFile] }
        if let certificateFile { arguments += ["--cert", certificateFile] }
        if let keyFile { arguments += ["--key", keyFile] }
        if let serverName { arguments += ["--sni", serverName] }
        if insecure { arguments.append("--insecure") }
        return arguments
    }
}
