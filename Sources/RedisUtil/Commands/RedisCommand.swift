import RESP

/// A typed command: its encoded bytes and how to read its reply.
///
/// Every typed helper is a static factory here, usable with either facade:
/// ```swift
/// let length = try await client.execute(.rpush("jobs", ["a", "b"]))
/// client.execute(.lpop("jobs")) { result in … }   // completion on a reactor thread
/// ```
/// The client also has async shorthands (`client.lpop("jobs")`).
public struct RedisCommand<Response: Sendable>: Sendable {
    let bytes: [UInt8]
    let decode: @Sendable (RESPValue) throws(RESPConversionError) -> Response

    /// A command already encoded.
    @usableFromInline
    init(encoded bytes: [UInt8], decode: @escaping @Sendable (RESPValue) throws(RESPConversionError) -> Response) {
        self.bytes = bytes
        self.decode = decode
    }

    /// A command from its arguments and a reply decoder.
    public init<each Argument: RESPArgument>(
        _ arguments: repeat each Argument,
        decode: @escaping @Sendable (RESPValue) throws(RESPConversionError) -> Response
    ) {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, repeat each arguments)
        self.bytes = bytes
        self.decode = decode
    }

    /// A command built at run time (variadic keys or values).
    public init(arguments: [any RESPArgument], decode: @escaping @Sendable (RESPValue) throws(RESPConversionError) -> Response) {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
        self.bytes = bytes
        self.decode = decode
    }

    func result(_ reply: Result<RESPValue, RedisError>) -> Result<Response, RedisError> {
        reply.flatMap { value in
            do throws(RESPConversionError) { return .success(try decode(value)) }
            catch { return .failure(.unexpectedReply(error)) }
        }
    }
}

extension RedisClient {
    /// Runs a typed command and decodes its reply.
    @discardableResult
    nonisolated(nonsending) public func execute<Response>(_ command: RedisCommand<Response>) async throws -> Response {
        try command.result(.success(try await send(encoded: command.bytes))).get()
    }

    /// Runs a typed command; `completion` runs on a reactor thread (never block in it).
    public func execute<Response>(_ command: RedisCommand<Response>, completion: @escaping @Sendable (Result<Response, RedisError>) -> Void) {
        send(encoded: command.bytes) { completion(command.result($0)) }
    }
}
