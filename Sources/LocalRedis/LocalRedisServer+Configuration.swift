extension LocalRedisServer {
    /// How to start a private server. The defaults give a plain, password-less redis on TCP.
    ///
    /// ```swift
    /// let server = try LocalRedisServer(configuration: .init(
    ///     extraConfig: ["user alice on >secret ~* +@all"], unixSocket: true))
    /// ```
    public struct Configuration: Sendable, Equatable {
        /// redis.conf lines appended after the defaults, so they may override them. The
        /// defaults: loopback only, no persistence (`save ""`, `appendonly no`), and
        /// `hz 100`, so that a stop takes about 10 ms rather than Redis's usual 100.
        public var extraConfig: [String]
        /// Also listen on `<directory>/redis.sock` (mode 700).
        public var unixSocket: Bool
        /// How long start and restart wait for the server to answer PING.
        public var startTimeout: Duration
        /// How long `stop()` and `restart()` wait after SIGTERM before sending SIGKILL.
        public var stopGracePeriod: Duration
        /// A path, or a name looked up on `PATH`; nil means `redis-server`.
        public var executable: String?
        /// Serve TLS only (`tls-port`, `port 0`) with throw-away certificates; nil: plaintext.
        public var tls: TLSOptions?

        /// Creates a configuration; every parameter has a default suited to tests.
        public init(
            extraConfig: [String] = [],
            unixSocket: Bool = false,
            startTimeout: Duration = .seconds(10),
            stopGracePeriod: Duration = .seconds(3),
            executable: String? = nil,
            tls: TLSOptions? = nil
        ) {
            self.extraConfig = extraConfig
            self.unixSocket = unixSocket
            self.startTimeout = startTimeout
            self.stopGracePeriod = stopGracePeriod
            self.executable = executable
            self.tls = tls
        }
    }

    /// How a TLS server is set up: whom it asks for a certificate, and which one it shows.
    /// Its certificates come from a CA made once per process (see ``TLSFiles``).
    public struct TLSOptions: Sendable, Equatable {
        /// Whether clients must present a certificate (redis' `tls-auth-clients`).
        public enum ClientAuthentication: Sendable, Equatable {
            /// Not asked for (`no`).
            case none
            /// Required (`yes`): a client without one is refused.
            case required
            /// Checked when presented (`optional`).
            case optional
        }

        /// The certificate the server presents.
        public enum ServerCertificate: Sendable, Equatable {
            /// For `localhost` and `127.0.0.1`, valid now.
            case valid
            /// For `localhost` and `127.0.0.1`, but valid only in the past.
            case expired
            /// Valid now, for this DNS name only: for hostname-mismatch tests.
            case forHost(String)
        }

        /// Whom the server asks for a certificate.
        public var clientAuthentication: ClientAuthentication
        /// What the server shows.
        public var serverCertificate: ServerCertificate

        /// TLS options; the defaults: no client certificate, a valid server certificate.
        public init(clientAuthentication: ClientAuthentication = .none, serverCertificate: ServerCertificate = .valid) {
            self.clientAuthentication = clientAuthentication
            self.serverCertificate = serverCertificate
        }
    }

    /// The PEM files of a TLS server, in its private directory.
    public struct TLSFiles: Sendable, Equatable {
        /// The CA that signed the server's and the client's certificates (the same for
        /// every server of the process).
        public var caCertificate: String
        /// The server's certificate (redis' `tls-cert-file`).
        public var serverCertificate: String
        /// The server's key (redis' `tls-key-file`).
        public var serverKey: String
        /// A client certificate the server accepts.
        public var clientCertificate: String
        /// The client certificate's key, unencrypted.
        public var clientKey: String
        /// The same client key, encrypted (PKCS#8, AES-256-CBC) with ``clientKeyPassphrase``.
        public var encryptedClientKey: String
        /// The passphrase of ``encryptedClientKey``.
        public var clientKeyPassphrase: String
        /// An unrelated CA, which signed nothing the server shows: "wrong CA" tests.
        public var otherCACertificate: String
    }
}
