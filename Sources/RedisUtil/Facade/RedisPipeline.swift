import Reactor
import RESP

/// Commands collected to be sent together, contiguous on one connection, with one
/// continuation (or one completion) for all their replies.
///
/// ```swift
/// let replies = try await client.pipeline { p in
///     p.send("RPUSH", "jobs", "a")
///     p.send("EXPIRE", "jobs", 60)
/// }
/// ```
public struct RedisPipeline: Sendable {
    @usableFromInline var bytes: [UInt8] = []
    /// The number of commands added so far.
    public private(set) var count = 0

    /// An empty pipeline.
    public init() {}

    /// Whether a command removes what only its reply holds (`LPOP` …), as found by
    /// ``checked(_:in:)``: the batch is then awaited despite a cancellation.
    var removes = false

    /// Appends every command of `other`.
    mutating func append(contentsOf other: RedisPipeline) {
        bytes += other.bytes
        count += other.count
        removes = removes || other.removes
    }

    /// Adds a command.
    public mutating func send<each Argument: RESPArgument>(_ arguments: repeat each Argument) {
        appendCommand { RESPEncoder.encodeCommand(into: &$0, repeat each arguments) }
    }

    /// Adds the command `encode` appends to the pipeline's bytes.
    @usableFromInline
    mutating func appendCommand(_ encode: (inout [UInt8]) -> Void) {
        encode(&bytes)
        count += 1
    }

    /// Adds a command built at run time; an empty argument list is ignored.
    public mutating func send(arguments: [any RESPArgument]) {
        guard !arguments.isEmpty else { return }
        RESPEncoder.encodeCommand(into: &bytes, arguments: arguments)
        count += 1
    }
}

extension RedisPipeline {
    /// The commands of `build`, checked for `context` (``CommandRoute``).
    static func checked(_ build: (inout RedisPipeline) throws -> Void, in context: CommandRoute.Context) throws -> RedisPipeline {
        var pipeline = RedisPipeline()
        try build(&pipeline)
        if let refusal = CommandRoute.refusal(batch: pipeline.bytes, in: context, removes: &pipeline.removes) { throw refusal }
        return pipeline
    }

    /// The commands of `build`, checked, between `MULTI` and `EXEC`.
    static func transaction(_ build: (inout RedisPipeline) throws -> Void) throws -> RedisPipeline {
        RedisPipeline(transactionOf: try checked(build, in: .transaction))
    }

    /// `inner` between `MULTI` and `EXEC`.
    init(transactionOf inner: RedisPipeline) {
        send("MULTI")
        append(contentsOf: inner)
        send("EXEC")
    }
}

extension RedisClient {
    /// Sends every command of `build` in one batch and returns each command's outcome
    /// in order; one command's error reply does not fail the others.
    ///
    /// The batch may hold a whole `MULTI … EXEC`. It throws
    /// ``RedisError/unsupportedCommand(command:reason:)``, and sends nothing, when a
    /// command would leave the shared connection changed for other callers (see
    /// ``RedisClient/send(_:)``), or is a blocking command outside `MULTI … EXEC`:
    /// it would hold the shared connection for its whole timeout.
    nonisolated(nonsending) public func pipeline(_ build: (inout RedisPipeline) throws -> Void) async throws -> [Result<RESPValue, RedisError>] {
        let pipeline = try RedisPipeline.checked(build, in: .shared)
        guard pipeline.count > 0 else { return [] }
        return try await send(pipeline)
    }

    /// Sends a checked, non-empty pipeline.
    nonisolated(nonsending) private func send(_ pipeline: RedisPipeline) async throws -> [Result<RESPValue, RedisError>] {
        try await observingBatch(by: observer, pipeline.bytes, count: pipeline.count, as: OperationName.pipeline) {
            if let router { return try await router.pipeline(pipeline.bytes, count: pipeline.count) }
            let connection = try await connectionWithCapacity()
            return try await connection.perform(pipeline)
        }
    }

    /// Sends a pipeline built beforehand (a `RedisPipeline` value, which may be sent
    /// more than once) and returns each command's outcome, in order; the same rules as
    /// ``pipeline(_:)-(RedisPipeline,_)`` apply.
    nonisolated(nonsending) public func pipeline(_ pipeline: RedisPipeline) async throws -> [Result<RESPValue, RedisError>] {
        guard pipeline.count > 0 else { return [] }
        if let refusal = CommandRoute.refusal(batch: pipeline.bytes) { throw refusal }
        return try await send(pipeline)
    }

    /// The callback form of ``pipeline(_:)``: `completion` runs once, on a reactor thread.
    public func pipeline(
        _ pipeline: RedisPipeline,
        completion: @escaping @Sendable (Result<[Result<RESPValue, RedisError>], RedisError>) -> Void
    ) {
        guard pipeline.count > 0 else {
            completeLater(completion, .success([]))
            return
        }
        if let refusal = CommandRoute.refusal(batch: pipeline.bytes) {
            completeLater(completion, .failure(refusal))
            return
        }
        let completion = observingBatch(pipeline.bytes, count: pipeline.count, as: OperationName.pipeline, completion: completion)
        if withRouter({ $0.pipeline(pipeline.bytes, count: pipeline.count, completion: completion) }) != nil { return }
        switch connectionForCallback() {
        case .ready(let connection):
            let collector = PipelineCollector(count: pipeline.count) { completion(.success($0)) }
            connection.submit(Submission(bytes: pipeline.bytes, handlers: collector.handlers(count: pipeline.count), timeout: .configured))
        case .refused(let refusal):
            completeLater(completion, .failure(refusal.error))
        }
    }

    /// Runs the commands of `build` as one `MULTI … EXEC` transaction and returns the
    /// outcome of each. The batch is appended to one connection in one reactor step,
    /// so no other caller's command can land inside it.
    ///
    /// Throws ``RedisError/server(message:)`` when the server discards the transaction
    /// (`EXECABORT`, because a command was rejected while queueing), and
    /// ``RedisError/unsupportedCommand(command:reason:)``, sending nothing, for a
    /// `MULTI`, `EXEC`, `DISCARD` or `WATCH` inside it, or a command refused on shared
    /// connections (see ``RedisClient/send(_:)``). Blocking commands are fine here: the
    /// server does not block inside a transaction.
    nonisolated(nonsending) public func transaction(_ build: (inout RedisPipeline) throws -> Void) async throws -> [Result<RESPValue, RedisError>] {
        let pipeline = try RedisPipeline.transaction(build)
        return try await observingBatch(by: observer, pipeline.bytes, count: pipeline.count - 2, as: OperationName.transaction) {
            if let router { return try Self.transactionResults(try await router.pipeline(pipeline.bytes, count: pipeline.count)) }
            let connection = try await connectionWithCapacity()
            return try Self.transactionResults(try await connection.perform(pipeline))
        }
    }

    static func transactionResults(_ replies: [Result<RESPValue, RedisError>]) throws -> [Result<RESPValue, RedisError>] {
        guard let exec = replies.last else { return [] }
        switch exec {
        case .failure(let error):
            // EXECABORT: report the first command the server refused while queueing.
            let refused = replies.dropFirst().dropLast().compactMap { result -> String? in
                if case .failure(.server(let message)) = result { return message }
                return nil
            }
            if let first = refused.first { throw RedisError.server(message: "transaction discarded: \(first)") }
            throw error
        case .success(let value):
            if value.isNull { throw RedisError.server(message: "transaction aborted: a WATCHed key changed (EXEC returned null)") }
            guard let items = value.array else {
                throw RedisError.unexpectedReply(RESPConversionError(expected: "EXEC array", received: value.kind))
            }
            return items.map { item in
                if let message = item.errorMessage { return .failure(.server(message: message)) }
                return .success(item)
            }
        }
    }
}
