import Reactor
import RESP

extension RedisClient {
    // MARK: async/await

    /// Sends one command and returns its reply.
    ///
    /// ```swift
    /// let length = try await client.send("RPUSH", "jobs", payload)
    /// ```
    /// Calls with one to five arguments resolve to fixed-arity overloads
    /// (`FixedArityCommands.swift`), which cost less per command; the behaviour is the same.
    ///
    /// Throws ``RedisError``: ``RedisError/server(message:)`` for an error reply (the
    /// connection stays usable), ``RedisError/cancelled`` when the task is cancelled
    /// (only this command fails; its late reply is discarded; but a command whose reply
    /// is the only copy of what it removes, `LPOP`, `RPOP`, `SPOP`, `LMPOP`, `ZMPOP`,
    /// `ZPOPMIN`, `ZPOPMAX`, `GETDEL`, `HGETDEL`, returns that reply once it is sent,
    /// and so do pipelines and transactions holding one; under
    /// ``RedisConfiguration/CancellationPolicy/afterReply`` every command does),
    /// ``RedisError/unsupportedCommand(command:reason:)`` without sending anything for a
    /// command that would change the shared connection's state for every caller
    /// (`SELECT`, `SUBSCRIBE`, `MULTI` …; the error names what to use instead).
    /// Blocking commands (`BLPOP` …) run on a dedicated connection and never delay
    /// other commands.
    // @inlinable: specialised in the caller's module, the argument pack needs no
    // run-time tuple metadata (a measured cost on every command).
    @inlinable @discardableResult
    nonisolated(nonsending) public func send<each Argument: RESPArgument>(_ arguments: repeat each Argument) async throws -> RESPValue {
        try await send(recycling: CommandScratch.encodedInSpare { RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, repeat each arguments) })
    }

    /// ``send(encoded:blocking:)`` of bytes written over the calling thread's spare buffer
    /// (``CommandScratch/spareBuffer()``), handed back as the spare of the thread the task
    /// resumes on once the reply is in (``CommandScratch/recycle(_:)``): a task that
    /// prefers a reactor (as redis-bench's `async` rows) takes and gives back that
    /// reactor's spare, and allocates no buffer per command; elsewhere there is no spare,
    /// and the buffer is new and dropped, as before. The connection copied the bytes when
    /// it took the command, so nothing else usually holds them by then (on a cluster,
    /// nothing once the command's last attempt is answered); a holder that does (a tracer
    /// keeping them) keeps its bytes unchanged, the next command's write copying them first.
    @usableFromInline
    nonisolated(nonsending) func send(recycling bytes: consuming [UInt8]) async throws -> RESPValue {
        try await send(recycling: bytes, route: nil)
    }

    /// ``send(recycling:)`` with the command's route when the caller knows it, as for
    /// ``send(encoded:blocking:route:)`` (a channel's push and pop). Inlined into its
    /// callers: an async call of its own would cost a frame and a hop.
    @inline(__always)
    nonisolated(nonsending) func send(recycling bytes: consuming [UInt8], route: CommandRoute.Known?) async throws -> RESPValue {
        let reply = try await send(encoded: bytes, route: route)
        CommandScratch.recycle(bytes)
        return reply
    }

    /// Sends one command built at run time.
    @discardableResult
    nonisolated(nonsending) public func send(arguments: [any RESPArgument]) async throws -> RESPValue {
        try await send(encoded: EncodedCommand.encode(arguments).get())
    }

    /// Sends `bytes`, one encoded command: the package-level entry point for callers
    /// that encode their own commands (the fixed-arity overloads, ``RedisChannel``).
    /// `blocking`, when the caller knows the command blocks and for how long, spares
    /// reading that back out of the bytes; so does the route of
    /// ``send(encoded:blocking:route:)``, when the caller knows how the command goes on one
    /// server (``RedisChannel``'s fixed `RPUSH` and `LPOP`: reading an `LPOP`'s route back
    /// cost about 250 instructions). A cluster reads its commands itself.
    @usableFromInline
    nonisolated(nonsending) package func send(encoded bytes: [UInt8], blocking: BlockingWait? = nil) async throws -> RESPValue {
        try await send(encoded: bytes, blocking: blocking, route: nil)
    }

    /// ``send(encoded:blocking:)`` with the command's route when the caller knows it.
    /// Inlined into its callers: an async call of its own would cost a frame and a hop.
    @inline(__always)
    nonisolated(nonsending) func send(encoded bytes: [UInt8], blocking: BlockingWait? = nil, route known: CommandRoute.Known?) async throws -> RESPValue {
        // The one cost of metrics and tracing while both are off: a load and a branch.
        if observer != nil { return try await observingCommand(by: observer, bytes) { try await sendUnobserved(encoded: bytes, blocking: blocking, route: known) } }
        // What ``sendUnobserved(encoded:blocking:route:)`` does, written out here for the usual
        // command (a shared connection with room; one that removes what its reply holds,
        // `LPOP`, too), which goes straight to its connection:
        // each async call between here and the continuation is a frame of the task's
        // allocator and a hop back to the caller's executor when it returns, which for a
        // task with an executor preference looks that preference up under a lock (about
        // 400 instructions for the one call it saves).
        if let router { return try await router.send(bytes, blocking: blocking) }
        let route = CommandRoute.of(bytes, known: known, blocking: blocking)
        if case .shared = route, let connection = connectionIfRoom() { return try await connection.perform(bytes) }
        if case .removing = route, let connection = connectionIfRoom() { return try await connection.perform(bytes, keepsReply: true) }
        return try await send(encoded: bytes, routed: route, on: nil)
    }

    nonisolated(nonsending) private func sendUnobserved(encoded bytes: [UInt8], blocking: BlockingWait?, route known: CommandRoute.Known?) async throws -> RESPValue {
        // The one cost of cluster support on one server: a load and a branch that always goes one way.
        if let router { return try await router.send(bytes, blocking: blocking) }
        return try await send(encoded: bytes, routed: CommandRoute.of(bytes, known: known, blocking: blocking), on: nil)
    }

    /// Sends a routed command: on `lease` for a ``RedisDedicatedConnection`` (which routes
    /// it in its own context first), else on the shared connections or, blocking, on a
    /// leased one. The one place where a route becomes a send, for both.
    nonisolated(nonsending) func send(encoded bytes: [UInt8], routed route: CommandRoute, on lease: BlockingConnectionPool.Lease?) async throws -> RESPValue {
        switch route {
        case .shared, .removing:
            let connection = if let lease { lease.connection } else if let ready = connectionIfRoom() { ready } else { try await connectionWithCapacity() }
            return try await connection.perform(bytes, keepsReply: route.keepsReply)
        case .blocking(let wait):
            // As on the client: what a cancelled blocking command took is returned, not lost.
            if let lease { return try await sendBlocking(bytes, deadline: wait.limit, onDedicated: lease) }
            return try await sendBlocking(bytes, deadline: wait.limit)
        case .refused(let error):
            throw error
        }
    }

    // MARK: Callbacks

    /// Sends one command; `completion` runs on a reactor thread once the reply
    /// arrives (never block in it). Fails fast with ``RedisError/overloaded(pending:unsentBytes:)``
    /// when the connection is far past its limits.
    @inlinable
    public func send<each Argument: RESPArgument>(
        _ arguments: repeat each Argument,
        completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void
    ) {
        sendEncoding({ RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, repeat each arguments) }, completion: completion)
    }

    /// Encodes one command with `encode` into the calling reactor thread's reusable
    /// buffer (``CommandScratch``) and sends it: the callback facade's commands allocate
    /// no buffer of their own when they go to a connection of the caller's reactor.
    /// A cluster client's command keeps its bytes until answered (a redirection sends
    /// them again), so it encodes into a buffer of its own: an answered command's
    /// (``CommandScratch/spareBuffer()``; through the reusable one, always shared when it
    /// came back, it paid the look-up and an allocation: about 160 instructions more).
    /// Either buffer holds an earlier command's bytes: `encode` writes over them
    /// (`placement: .overwriting`), never after them.
    @inlinable @inline(__always)
    func sendEncoding(_ encode: (inout [UInt8]) -> Void, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        guard isSingleServer else { return send(encoded: CommandScratch.encodedInSpare(encode), completion: completion) }
        CommandScratch.encode(encode) { send(encoded: $0, completion: completion) }
    }

    /// Sends one command built at run time, with a completion handler.
    public func send(arguments: [any RESPArgument], completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        switch EncodedCommand.encode(arguments) {
        case .success(let bytes): send(encoded: bytes, completion: completion)
        case .failure(let error): completeLater(completion, .failure(error))
        }
    }

    /// The callback form of ``send(encoded:blocking:)``, for the same callers.
    @usableFromInline
    package func send(encoded bytes: [UInt8], blocking: BlockingWait? = nil, completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        send(encoded: bytes, blocking: blocking, route: nil, completion: completion)
    }

    /// The callback form of ``send(encoded:blocking:route:)``.
    @inline(__always)
    func send(encoded bytes: [UInt8], blocking: BlockingWait? = nil, route known: CommandRoute.Known?,
              completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        if let observer {
            let observation = observer.begin(command: bytes)
            return sendUnobserved(encoded: bytes, blocking: blocking, route: known) { result in
                if case .failure(let error) = result { observer.end(observation, error: error) } else { observer.end(observation, error: nil) }
                completion(result)
            }
        }
        sendUnobserved(encoded: bytes, blocking: blocking, route: known, completion: completion)
    }

    private func sendUnobserved(encoded bytes: [UInt8], blocking: BlockingWait?, route known: CommandRoute.Known?,
                                completion: @escaping @Sendable (Result<RESPValue, RedisError>) -> Void) {
        if withRouter({ $0.send(bytes, blocking: blocking, completion: completion) }) != nil { return }
        switch CommandRoute.of(bytes, known: known, blocking: blocking) {
        case .shared, .removing:
            if let refusal = submitForCallback(bytes, .single(completion)) { completeLater(completion, .failure(refusal)) }
        case .blocking(let wait):
            sendBlocking(bytes, deadline: wait.limit, completion: completion)
        case .refused(let error):
            completeLater(completion, .failure(error))
        }
    }

    /// Submits one command with `handler` to a connection for a callback command
    /// (``connectionForCallback()``); the error to complete it with when there is none
    /// (the client closed, or the connection far past its limits), which the caller hands
    /// its completion through ``completeLater(_:_:)``.
    func submitForCallback(_ bytes: [UInt8], _ handler: ReplyHandler) -> RedisError? {
        switch connectionForCallback() {
        case .ready(let connection):
            connection.submit(Submission(bytes: bytes, handlers: .one(handler), timeout: .configured))
            return nil
        case .refused(let refusal):
            return refusal.error
        }
    }

    /// Completes a callback that failed before reaching a connection (overloaded, closed,
    /// refused) on a reactor thread, as every other completion runs: never inline in
    /// the caller's `send`, where a completion taking a lock the caller holds would
    /// deadlock and one that retries would recurse. Inline only once the client's own
    /// reactors have stopped (after ``close()``), when there is no other thread to use.
    func completeLater<Value: Sendable>(_ completion: @escaping @Sendable (Result<Value, RedisError>) -> Void, _ result: Result<Value, RedisError>) {
        let reactor = Reactor.current ?? group.next()
        if !reactor.executeIfRunning({ completion(result) }) { completion(result) }
    }
}
