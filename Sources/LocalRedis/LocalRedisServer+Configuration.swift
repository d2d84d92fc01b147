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

        /// Creates a configuration; every parameter has a default suited to tests.
        public init(
            extraConfig: [String] = [],
            unixSocket: Bool = false,
            startTimeout: Duration = .seconds(10),
            stopGracePeriod: Duration = .seconds(3),
            executable: String? = nil
        ) {
            self.extraConfig = extraConfig
            self.unixSocket = unixSocket
            self.startTimeout = startTimeout
            self.stopGracePeriod = stopGracePeriod
            self.executable = executable
        }
    }
}
