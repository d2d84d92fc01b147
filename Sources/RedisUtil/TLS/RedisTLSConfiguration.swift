/// TLS for a client's connections: OpenSSL 3 on the client's own non-blocking sockets.
///
/// Verification is on by default: the server's certificate must chain to a trusted root
/// (the system's store unless you name a CA) and be issued for the host connected to
/// (its DNS name, or for an IP address, one of the certificate's IP addresses).
///
/// ```swift
/// // Managed Redis with a public certificate: the URL is enough.
/// let client = try RedisClient(RedisEndpoint(url: "rediss://default:secret@cache.example.com:6380"))
///
/// // A private CA and mutual TLS.
/// var configuration = RedisConfiguration()
/// configuration.tls = RedisTLSConfiguration(
///     trustRoots: .caFile("/etc/redis/ca.crt"),
///     clientCertificate: .init(certificateFile: "/etc/redis/client.crt", keyFile: "/etc/redis/client.key"))
/// let internal = try RedisClient(.tcp(host: "10.0.0.5", port: 6380), configuration: configuration)
/// ```
public struct RedisTLSConfiguration: Sendable, Hashable, CustomStringConvertible {
    /// The certificates a server's chain must end in.
    public enum TrustRoots: Sendable, Hashable {
        /// The operating system's store (OpenSSL's default paths: Debian's `ca-certificates`).
        case system
        /// The PEM certificates in this file.
        case caFile(String)
        /// A directory of certificates hashed with `openssl rehash` (`c_rehash`).
        case caDirectory(String)
    }

    /// A certificate and key the client presents, for servers with `tls-auth-clients yes`.
    public struct ClientCertificate: Sendable, Hashable, CustomStringConvertible {
        /// A PEM file with the certificate, optionally followed by its intermediates.
        public var certificateFile: String
        /// A PEM file with the private key.
        public var keyFile: String
        /// The passphrase of an encrypted key: a secret, never logged nor printed.
        public var keyPassphrase: String?

        /// A client certificate from PEM files.
        public init(certificateFile: String, keyFile: String, keyPassphrase: String? = nil) {
            self.certificateFile = certificateFile
            self.keyFile = keyFile
            self.keyPassphrase = keyPassphrase
        }

        /// The two paths, with a passphrase shown as `***`.
        public var description: String {
            "ClientCertificate(certificateFile: \(certificateFile), keyFile: \(keyFile)"
                + (keyPassphrase == nil ? ")" : ", keyPassphrase: \(SecretRedaction.placeholder))")
        }
    }

    /// The oldest protocol version the client agrees to.
    public enum MinimumVersion: Sendable, Hashable {
        /// TLS 1.2 or 1.3 (the default).
        case tls12
        /// TLS 1.3 only.
        case tls13
    }

    /// Whether the server must prove who it is.
    public enum Verification: Sendable, Hashable {
        /// The chain must reach a trusted root and name the host (the default).
        case full
        /// Any certificate is accepted: the traffic is encrypted, but anyone on the path
        /// can pose as the server. For throw-away test servers only.
        case insecureNoVerification
    }

    /// The roots a server's certificate must chain to.
    public var trustRoots: TrustRoots
    /// What the client presents for mutual TLS; nil: nothing.
    public var clientCertificate: ClientCertificate?
    /// The name sent as SNI and checked against the certificate; nil: the endpoint's
    /// host (an IP address is checked against the certificate's IP addresses, and sent
    /// as no SNI, which may not carry an address).
    public var serverName: String?
    /// The oldest version accepted.
    public var minimumVersion: MinimumVersion
    /// Whether the server's certificate is checked.
    public var verification: Verification

    /// A TLS configuration; the defaults verify the server against the system's roots.
    public init(
        trustRoots: TrustRoots = .system,
        clientCertificate: ClientCertificate? = nil,
        serverName: String? = nil,
        minimumVersion: MinimumVersion = .tls12,
        verification: Verification = .full
    ) {
        self.trustRoots = trustRoots
        self.clientCertificate = clientCertificate
        self.serverName = serverName
        self.minimumVersion = minimumVersion
        self.verification = verification
    }

    /// The settings, with a key passphrase shown as `***`.
    public var description: String {
        var parts = ["trustRoots: \(trustRoots)"]
        if let clientCertificate { parts.append("clientCertificate: \(clientCertificate)") }
        if let serverName { parts.append("serverName: \(serverName)") }
        if minimumVersion != .tls12 { parts.append("minimumVersion: \(minimumVersion)") }
        if verification != .full { parts.append("verification: \(verification)") }
        return "RedisTLSConfiguration(" + parts.joined(separator: ", ") + ")"
    }
}

extension RedisTLSConfiguration.ClientCertificate: CustomReflectable {
    /// The fields, with a passphrase shown as `***`.
    public var customMirror: Mirror {
        Mirror(self, children: [
            "certificateFile": certificateFile,
            "keyFile": keyFile,
            "keyPassphrase": keyPassphrase.map { _ in SecretRedaction.placeholder } as Any,
        ], displayStyle: .struct)
    }
}
