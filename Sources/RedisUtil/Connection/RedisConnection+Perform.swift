import RESP

/// Awaiting a connection's replies: the bridge from a submitted command to the task
/// that waits for it, which every async facade (client, pipeline, transaction,
/// dedicated connection) goes through.
///
/// The waits suspend with `_unsafeInheritExecutor_withUnsafeThrowingContinuation`, the
/// form that runs on the caller's executor, not the form that takes the caller's
/// isolation as an `isolated` parameter, and install their cancellation handler directly
/// (``TaskCancellationHandler``), not through `withTaskCancellationHandler`'s operation
/// closure. Why: the runtime's switch to an isolation (`swift_task_switch`, at an
/// isolated function's entry and as a call into one returns) reads the task's executor
/// preference each time, which for a task preferring an executor (a reactor, where an
/// awaited command costs least) takes the lock of the task's status records, and every
/// async call costs a frame of the task's allocator. Three of the four switches an
/// awaited `RPUSH` once made are gone, and two frames: 5,990 → 5,240 instructions under
/// callgrind on a reactor with the handler direct, 7,130 with both primitives isolated.
/// (Wrapped in helpers of our own, `nonisolated(nonsending)`, the primitives brought
/// back part of that: hence the direct calls.)
///
/// Why it is sound: the continuation function is the Concurrency module's public
/// function from before isolated parameters. "Unsafe" means that it switches to no
/// isolation of its own, so its body runs where the caller runs, which is what a
/// `nonisolated(nonsending)` caller wants: the bodies below only arm a reply and hand
/// bytes to a connection (thread-safe), never touching isolated state; a continuation
/// suspended in them resumes on the executor that was current when it suspended, the
/// caller's; and the caller, `nonisolated(nonsending)`, returns to its own isolation
/// after the call (`ReplySuspensionTests`: an actor's code runs on the actor after
/// awaiting a command, replied to or cancelled). The handler is removed by a `defer` in
/// the function that installed it, as `withTaskCancellationHandler` removes its own.
extension RedisConnection {
    /// Submits and awaits, with task cancellation failing only this caller: the
    /// command's reply slot stays in the FIFO and swallows the late reply, or, when the
    /// command was not yet written (no socket up), the command leaves the queue unsent at
    /// the connection's next reconnect or close (``OutboundQueue/dropUnwanted()``,
    /// through its handler, ``ReplyHandler/awaited(_:)``), and one behind a full socket
    /// becomes a filler at the connection's next sweep (``OutboundQueue/neutralizeAbandoned(held:)``). When the reply
    /// must be kept (`keepsReply`: it is the only copy of what the command removes) or
    /// under ``RedisConfiguration/CancellationPolicy/afterReply``, as
    /// ``performToCompletion(_:timeout:)`` instead.
    nonisolated(nonsending) func perform(_ bytes: [UInt8], timeout: CommandTimeout = .configured, keepsReply: Bool = false) async throws -> RESPValue {
        if keepsReply || configuration.cancellation == .afterReply {
            return try await performToCompletion(bytes, timeout: timeout)
        }
        return try await AsyncReply<RESPValue>.wait { reply in
            submit(Submission(bytes: bytes, handlers: .one(.awaited(reply)), timeout: timeout))
        }
    }

    /// Submits and awaits the reply whatever becomes of the task meanwhile: for a command
    /// whose reply is the only copy of what it removed (a channel's `LPOP`), which a
    /// cancellation would throw away. A task cancelled before submitting sends nothing
    /// and gets ``RedisError/cancelled``; once sent, the wait is bounded as any
    /// command's is (command timeout, liveness timeout, loss of the connection).
    nonisolated(nonsending) private func performToCompletion(_ bytes: [UInt8], timeout: CommandTimeout) async throws -> RESPValue {
        try await _unsafeInheritExecutor_withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<RESPValue, any Error>) in
            guard !Task.isCancelled else { return continuation.resume(throwing: RedisError.cancelled) }
            submit(Submission(bytes: bytes, handlers: .one(.single { continuation.resume(with: $0.mapError { $0 as any Error }) }), timeout: timeout))
        }
    }

    /// ``performToCompletion(_:timeout:)`` for a pipeline, awaiting all its replies with
    /// one continuation.
    nonisolated(nonsending) private func performToCompletion(batch bytes: [UInt8], count: Int) async throws -> [Result<RESPValue, RedisError>] {
        try await _unsafeInheritExecutor_withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<[Result<RESPValue, RedisError>], any Error>) in
            guard !Task.isCancelled else { return continuation.resume(throwing: RedisError.cancelled) }
            let collector = PipelineCollector(count: count) { continuation.resume(returning: $0) }
            submit(Submission(bytes: bytes, handlers: collector.handlers(count: count), timeout: .configured))
        }
    }

    /// Submits a checked pipeline and awaits its replies: despite a cancellation when a
    /// command of it removes what only its reply holds.
    nonisolated(nonsending) func perform(_ pipeline: RedisPipeline) async throws -> [Result<RESPValue, RedisError>] {
        try await perform(batch: pipeline.bytes, count: pipeline.count, keepsReplies: pipeline.removes)
    }

    /// Submits a pipeline and awaits all its replies with one continuation; as
    /// ``performToCompletion(batch:count:)`` when they must be kept or under
    /// ``RedisConfiguration/CancellationPolicy/afterReply``.
    nonisolated(nonsending) func perform(batch bytes: [UInt8], count: Int, keepsReplies: Bool = false) async throws -> [Result<RESPValue, RedisError>] {
        if keepsReplies || configuration.cancellation == .afterReply { return try await performToCompletion(batch: bytes, count: count) }
        return try await AsyncReply<[Result<RESPValue, RedisError>]>.wait { reply in
            let collector = PipelineCollector(count: count, waiter: reply) { reply.finish(.success($0)) }
            submit(Submission(bytes: bytes, handlers: collector.handlers(count: count), timeout: .configured))
        }
    }
}
