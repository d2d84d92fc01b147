/// The redis.conf a private server runs with: loopback only, nothing persisted, everything in
/// its own directory. Extra lines come last so they override any default here.
struct RedisConfigFile {
    var port: Int
    var directory: String
    var logPath: String
    var unixSocketPath: String?
    var extraLines: [String]
    /// TLS only: `port` becomes the `tls-port`, and plain TCP is off (`port 0`).
    var tls: (files: LocalRedisServer.TLSFiles, options: LocalRedisServer.TLSOptions)?

    var text: String {
        var lines = [
            "bind 127.0.0.1",
            "port \(tls == nil ? port : 0)",
            "daemonize no",
            // Both persistence mechanisms off: a test server must not spend time or disk on dumps.
            "save \"\"",
            "appendonly no",
            // Redis acts on SIGTERM in its cron, which runs `hz` times a second: at the
            // default 10, stopping a server took about 100 ms; at 100, about 10.
            "hz 100",
            "dir \(Self.quoted(directory))",
            "logfile \(Self.quoted(logPath))",
        ]
        if let unixSocketPath {
            lines.append("unixsocket \(Self.quoted(unixSocketPath))")
            lines.append("unixsocketperm 700")
        }
        if let (files, options) = tls {
            let clients = switch options.clientAuthentication {
            case .none: "no"
            case .required: "yes"
            case .optional: "optional"
            }
            lines += [
                "tls-port \(port)",
                "tls-cert-file \(Self.quoted(files.serverCertificate))",
                "tls-key-file \(Self.quoted(files.serverKey))",
                "tls-ca-cert-file \(Self.quoted(files.caCertificate))",
                "tls-auth-clients \(clients)",
                // Presented on the server's own outgoing connections (replication, cluster
                // bus, MIGRATE): the server certificate is for serverAuth only, and a cluster
                // bus peer always asks for a client certificate.
                "tls-client-cert-file \(Self.quoted(files.clientCertificate))",
                "tls-client-key-file \(Self.quoted(files.clientKey))",
                "tls-replication no",
                "tls-cluster no",
            ]
        }
        lines.append(contentsOf: extraLines)
        return lines.joined(separator: "\n") + "\n"
    }

    /// redis.conf arguments are split on spaces unless double-quoted; `$TMPDIR` may contain spaces.
    static func quoted(_ value: String) -> String {
        var result = "\""
        for character in value {
            if character == "\"" || character == "\\" { result.append("\\") }
            result.append(character)
        }
        return result + "\""
    }
}
