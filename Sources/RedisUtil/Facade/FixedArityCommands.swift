import RESP

// Fixed-arity forms (one to five arguments) of every entry point that takes a command's
// arguments: `send` in both facades, `RedisPipeline.send` and `RedisCommand.init`. A call
// with that many arguments resolves to them rather than to the variadic forms, which pay
// for Swift 6.3's partial parameter-pack specialization (about 1,000 instructions and a
// dozen reference-count operations per command); these are fully specialized in the
// caller's module. The behaviour is the variadic form's.

/// `send` with one to five arguments, for both facades.
extension RedisClient {
    /// Sends a command of one argument and returns its reply; see the variadic form.
    @inlinable @discardableResult
    nonisolated(nonsending) public func send(_ a0: some RESPArgument) async throws -> RESPValue {
        try await send(recycling: CommandScratch.encodedInSpare { RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0) })
    }

    /// Sends a command of two arguments and returns its reply; see the variadic form.
    @inlinable @discardableResult
    nonisolated(nonsending) public func send(_ a0: some RESPArgument, _ a1: some RESPArgument) async throws -> RESPValue {
        try await send(recycling: CommandScratch.encodedInSpare { RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0, a1) })
    }

    /// Sends a command of three arguments and returns its reply; see the variadic form.
    @inlinable @discardableResult
    nonisolated(nonsending) public func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument) async throws -> RESPValue {
        try await send(recycling: CommandScratch.encodedInSpare { RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0, a1, a2) })
    }

    /// Sends a command of four arguments and returns its reply; see the variadic form.
    @inlinable @discardableResult
    nonisolated(nonsending) public func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument) async throws -> RESPValue {
        try await send(recycling: CommandScratch.encodedInSpare { RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0, a1, a2, a3) })
    }

    /// Sends a command of five arguments and returns its reply; see the variadic form.
    @inlinable @discardableResult
    nonisolated(nonsending) public func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument, _ a4: some RESPArgument) async throws -> RESPValue {
        try await send(recycling: CommandScratch.encodedInSpare { RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0, a1, a2, a3, a4) })
    }

    /// Sends a command of one argument; `completion` runs on a reactor thread. See the variadic form.
    @inlinable
    public func send(_ a0: some RESPArgument, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        sendEncoding({ RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0) }, completion: completion)
    }

    /// Sends a command of two arguments; `completion` runs on a reactor thread. See the variadic form.
    @inlinable
    public func send(_ a0: some RESPArgument, _ a1: some RESPArgument, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        sendEncoding({ RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0, a1) }, completion: completion)
    }

    /// Sends a command of three arguments; `completion` runs on a reactor thread. See the variadic form.
    @inlinable
    public func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        sendEncoding({ RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0, a1, a2) }, completion: completion)
    }

    /// Sends a command of four arguments; `completion` runs on a reactor thread. See the variadic form.
    @inlinable
    public func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        sendEncoding({ RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0, a1, a2, a3) }, completion: completion)
    }

    /// Sends a command of five arguments; `completion` runs on a reactor thread. See the variadic form.
    @inlinable
    public func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument, _ a4: some RESPArgument, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        sendEncoding({ RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, a0, a1, a2, a3, a4) }, completion: completion)
    }
}

/// `RedisPipeline.send` with one to five arguments.
extension RedisPipeline {
    /// Adds a command of one argument; see the variadic form.
    @inlinable
    public mutating func send(_ a0: some RESPArgument) {
        appendCommand { RESPEncoder.encodeCommand(into: &$0, a0) }
    }

    /// Adds a command of two arguments; see the variadic form.
    @inlinable
    public mutating func send(_ a0: some RESPArgument, _ a1: some RESPArgument) {
        appendCommand { RESPEncoder.encodeCommand(into: &$0, a0, a1) }
    }

    /// Adds a command of three arguments; see the variadic form.
    @inlinable
    public mutating func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument) {
        appendCommand { RESPEncoder.encodeCommand(into: &$0, a0, a1, a2) }
    }

    /// Adds a command of four arguments; see the variadic form.
    @inlinable
    public mutating func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument) {
        appendCommand { RESPEncoder.encodeCommand(into: &$0, a0, a1, a2, a3) }
    }

    /// Adds a command of five arguments; see the variadic form.
    @inlinable
    public mutating func send(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument, _ a4: some RESPArgument) {
        appendCommand { RESPEncoder.encodeCommand(into: &$0, a0, a1, a2, a3, a4) }
    }
}

/// `RedisCommand.init` with one to five arguments.
extension RedisCommand {
    /// A command of one argument and its reply decoder; see the variadic form.
    @inlinable
    public init(_ a0: some RESPArgument, decode: @escaping @Sendable (RESPValue) throws(RESPConversionError) -> Response) {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, a0)
        self.init(encoded: bytes, decode: decode)
    }

    /// A command of two arguments and its reply decoder; see the variadic form.
    @inlinable
    public init(_ a0: some RESPArgument, _ a1: some RESPArgument, decode: @escaping @Sendable (RESPValue) throws(RESPConversionError) -> Response) {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, a0, a1)
        self.init(encoded: bytes, decode: decode)
    }

    /// A command of three arguments and its reply decoder; see the variadic form.
    @inlinable
    public init(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, decode: @escaping @Sendable (RESPValue) throws(RESPConversionError) -> Response) {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, a0, a1, a2)
        self.init(encoded: bytes, decode: decode)
    }

    /// A command of four arguments and its reply decoder; see the variadic form.
    @inlinable
    public init(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument, decode: @escaping @Sendable (RESPValue) throws(RESPConversionError) -> Response) {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, a0, a1, a2, a3)
        self.init(encoded: bytes, decode: decode)
    }

    /// A command of five arguments and its reply decoder; see the variadic form.
    @inlinable
    public init(_ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument, _ a3: some RESPArgument, _ a4: some RESPArgument, decode: @escaping @Sendable (RESPValue) throws(RESPConversionError) -> Response) {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, a0, a1, a2, a3, a4)
        self.init(encoded: bytes, decode: decode)
    }
}
