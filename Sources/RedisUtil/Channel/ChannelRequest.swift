import RESP

/// One round trip of a channel operation: the commands to send and how to read their
/// replies. Each operation is defined once here and run by both facades
/// (``run(on:)`` for async/await, ``run(on:completion:)`` for callbacks), so the two
/// cannot drift apart on the wire.
struct ChannelRequest<Output>: Sendable {
    enum Commands: Sendable {
        /// One command, sent as is, and how to read its reply; blocking ones (`BLPOP`) go
        /// to a dedicated connection.
        case single([UInt8], read: @Sendable (RESPValue) throws(RedisError) -> Output)
        /// Commands run as one `MULTI … EXEC` (atomic, and one round trip), and how to
        /// read the `EXEC` items.
        case transaction(RedisPipeline, read: @Sendable ([RESPValue]) throws(RedisError) -> Output)
    }

    let commands: Commands
    /// For a blocking command, how long the client waits; `nil` lets the client find
    /// out from the command itself.
    var blocking: BlockingWait? = nil
    /// What the client's metrics count when it succeeds (``RedisMetricLabel/channelMessages``):
    /// the event, and how many messages the output stands for.
    var counted: Counted? = nil

    /// See ``counted``.
    struct Counted: Sendable {
        let event: ClientCounters.ChannelEvent
        let messages: @Sendable (Output) -> Int
    }

    /// This request, counting `event` for `messages(output)` messages when it succeeds.
    func counting(_ event: ClientCounters.ChannelEvent, _ messages: @escaping @Sendable (Output) -> Int) -> ChannelRequest {
        var copy = self
        copy.counted = Counted(event: event, messages: messages)
        return copy
    }

    /// Counts what `output` stands for in `client`'s metrics, when they are on; static,
    /// so that a reply closure keeps `counted` alone rather than a copy of the request.
    private static func count(_ counted: Counted?, _ output: Output, on client: RedisClient) {
        guard let counted, let counters = client.configuration.observer?.counters else { return }
        counters.count(counted.event, counted.messages(output))
    }

    /// One command of two or three arguments (the fixed-arity encoder: no array of
    /// existentials, no parameter pack).
    static func single(_ a0: some RESPArgument, _ a1: some RESPArgument, read: @escaping @Sendable (RESPValue) throws(RedisError) -> Output) -> ChannelRequest {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, a0, a1)
        return ChannelRequest(commands: .single(bytes, read: read))
    }

    static func single(
        _ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument,
        read: @escaping @Sendable (RESPValue) throws(RedisError) -> Output
    ) -> ChannelRequest {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, a0, a1, a2)
        return ChannelRequest(commands: .single(bytes, read: read))
    }

    /// One command whose arguments are known only at run time.
    static func single(arguments: [any RESPArgument], read: @escaping @Sendable (RESPValue) throws(RedisError) -> Output) -> ChannelRequest {
        var bytes: [UInt8] = []
        RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
        return ChannelRequest(commands: .single(bytes, read: read))
    }

    /// A `BLPOP`, whose client-side deadline the channel knows: the client need not read
    /// it back out of the encoded command.
    static func blocking(
        _ a0: some RESPArgument, _ a1: some RESPArgument, _ a2: some RESPArgument,
        wait: BlockingWait,
        read: @escaping @Sendable (RESPValue) throws(RedisError) -> Output
    ) -> ChannelRequest {
        var request = single(a0, a1, a2, read: read)
        request.blocking = wait
        return request
    }

    /// A blocking command of more arguments (`BLMPOP`), with its deadline.
    static func blocking(arguments: [any RESPArgument], wait: BlockingWait, read: @escaping @Sendable (RESPValue) throws(RedisError) -> Output) -> ChannelRequest {
        var request = single(arguments: arguments, read: read)
        request.blocking = wait
        return request
    }

    static func transaction(_ build: (inout RedisPipeline) -> Void, read: @escaping @Sendable ([RESPValue]) throws(RedisError) -> Output) -> ChannelRequest {
        var inner = RedisPipeline()
        build(&inner)
        return ChannelRequest(commands: .transaction(RedisPipeline(transactionOf: inner), read: read))
    }

    nonisolated(nonsending) func run(on client: RedisClient) async throws -> Output {
        switch commands {
        case .single(let bytes, let read):
            let output = try read(try await client.send(encoded: bytes, blocking: blocking))
            Self.count(counted, output, on: client)
            return output
        case .transaction(let pipeline, let read):
            let output = try read(try Self.execItems(try await client.pipeline(pipeline)))
            Self.count(counted, output, on: client)
            return output
        }
    }

    /// This transaction, marked as removing messages (`LTRIM` after reading them), so
    /// that once sent it is awaited despite a cancellation of the task, which would drop
    /// the reply, their only copy. (A single command's own name says so: `LPOP`.)
    func removing() -> ChannelRequest {
        guard case .transaction(var pipeline, let read) = commands else { return self }
        pipeline.removes = true
        return ChannelRequest(commands: .transaction(pipeline, read: read), blocking: blocking, counted: counted)
    }

    func run(on client: RedisClient, completion: @escaping @Sendable (Result<Output, RedisError>) -> Void) {
        let counted = self.counted
        switch commands {
        case .single(let bytes, let read):
            client.send(encoded: bytes, blocking: blocking) { reply in
                let output = Result { () throws(RedisError) in try read(try reply.get()) }
                if case .success(let value) = output { Self.count(counted, value, on: client) }
                completion(output)
            }
        case .transaction(let pipeline, let read):
            client.pipeline(pipeline) { replies in
                let output = Result { () throws(RedisError) in try read(try Self.execItems(try replies.get())) }
                if case .success(let value) = output { Self.count(counted, value, on: client) }
                completion(output)
            }
        }
    }

    /// The `EXEC` items, each an error reply turned into a thrown ``RedisError``
    /// (e.g. `WRONGTYPE` when the key holds something other than a list).
    private static func execItems(_ replies: [Result<RESPValue, RedisError>]) throws(RedisError) -> [RESPValue] {
        let items: [Result<RESPValue, RedisError>]
        do {
            items = try RedisClient.transactionResults(replies)
        } catch let error as RedisError {
            throw error
        } catch {
            // transactionResults throws only RedisError; its signature is untyped, so
            // anything else is kept, as text, rather than dropped.
            assertionFailure("transactionResults threw a non-RedisError: \(error)")
            throw .unexpectedReply(RESPConversionError(expected: "EXEC array", received: .null, detail: "\(error)"))
        }
        return try items.map { result throws(RedisError) in try result.get() }
    }
}

/// The replies every channel operation reads.
enum ChannelReply {
    /// The reply to a one-message `RPUSH`, counted as one message sent. A throwing
    /// function, not a `Result`: each caller hands the outcome on as it is made
    /// (``deliverPushed(_:counters:to:)`` for a callback). A `Result` returned to the reply
    /// handler was kept in memory and destroyed after the caller's callback through its
    /// type's value witnesses: about 60 instructions a send and 110 a receive (callgrind).
    static func pushed(_ value: RESPValue, counters: ClientCounters?) throws(RedisError) {
        try ignore(value)
        counters?.count(.sent, 1)
    }

    /// The reply to an `LPOP` of one message: the message's bytes, counted as received,
    /// or `nil` when the list was empty (see ``pushed(_:counters:)``).
    static func popped(_ value: RESPValue, counters: ClientCounters?) throws(RedisError) -> [UInt8]? {
        let bytes = try optionalBytes(value)
        if bytes != nil { counters?.count(.received, 1) }
        return bytes
    }

    /// Hands `completion` the outcome of a one-message `RPUSH` whose reply (or failure) is
    /// `reply`, as ``pushed(_:counters:)`` reads it, once.
    @inline(__always)
    static func deliverPushed(_ reply: Result<RESPValue, RedisError>, counters: ClientCounters?, to completion: (Result<Void, RedisError>) -> Void) {
        do throws(RedisError) {
            try pushed(reply.get(), counters: counters)
        } catch {
            completion(.failure(error))
            return
        }
        completion(.success(()))
    }

    /// Hands `completion` the outcome of an `LPOP` of one message whose reply (or failure)
    /// is `reply`, as ``popped(_:counters:)`` reads it, once. Written out beside
    /// ``deliverPushed(_:counters:to:)`` rather than both made one function generic over
    /// the reader: inlined, that cost every receive about 43 instructions (callgrind).
    @inline(__always)
    static func deliverPopped(_ reply: Result<RESPValue, RedisError>, counters: ClientCounters?, to completion: (Result<[UInt8]?, RedisError>) -> Void) {
        let bytes: [UInt8]?
        do throws(RedisError) {
            bytes = try popped(reply.get(), counters: counters)
        } catch {
            completion(.failure(error))
            return
        }
        completion(.success(bytes))
    }

    /// A bulk string's bytes; `nil` for a null (empty list, out of range).
    static func optionalBytes(_ value: RESPValue) throws(RedisError) -> [UInt8]? {
        if value.isNull { return nil }
        if let message = value.errorMessage { throw RedisError.server(message: message) }
        guard let bytes = value.bytes else { throw unexpected(value, expected: "a bulk string or null") }
        return bytes
    }

    /// Every element of an array of bulk strings; `[]` for a null (`LPOP key count` on an empty list).
    static func bytesArray(_ value: RESPValue) throws(RedisError) -> [[UInt8]] {
        if value.isNull { return [] }
        guard let items = value.array else { throw unexpected(value, expected: "an array of bulk strings") }
        return try items.map { item throws(RedisError) in
            guard let bytes = item.bytes else { throw unexpected(item, expected: "a bulk string") }
            return bytes
        }
    }

    /// The element of a `BLPOP` reply (`[key, element]`); `nil` on timeout.
    static func poppedElement(_ value: RESPValue) throws(RedisError) -> [UInt8]? {
        if value.isNull { return nil }
        guard let pair = value.array, pair.count == 2, let bytes = pair[1].bytes else {
            throw unexpected(value, expected: "[key, element] or null")
        }
        return bytes
    }

    /// The elements of a `BLMPOP` reply (`[key, [element, …]]`); `[]` on timeout.
    static func poppedElements(_ value: RESPValue) throws(RedisError) -> [[UInt8]] {
        if value.isNull { return [] }
        if let message = value.errorMessage { throw RedisError.server(message: message) }
        guard let pair = value.array, pair.count == 2, pair[1].array != nil else {
            throw unexpected(value, expected: "[key, [element, …]] or null")
        }
        return try bytesArray(pair[1])
    }

    /// Any reply but an error.
    static func ignore(_ value: RESPValue) throws(RedisError) {
        if let message = value.errorMessage { throw RedisError.server(message: message) }
    }

    private static func unexpected(_ value: RESPValue, expected: String) -> RedisError {
        .unexpectedReply(RESPConversionError(expected: expected, received: value.kind))
    }
}
