/// The completion-handler facade: the same operations, the same commands on the wire.
///
/// Completions run on a reactor thread (blocking receives: on a task of the cooperative
/// pool), once per call; never block inside one. Every failure is a ``RedisError``:
/// Redis and connection failures as the async forms throw them, the channel's own
/// failures mapped by ``RedisChannelError/redisError`` (a message that does not decode is
/// ``RedisError/undecodable(raw:list:reason:)``, with its bytes and the list it came
/// from; a bad argument, name or prefix is ``RedisError/invalidArgument(_:)``).
/// The message type must be `SendableMetatype` (any type not isolated to a global
/// actor is), because decoding happens on the thread that runs the completion.
///
/// ```swift
/// jobs.recv(as: Job.self) { result in
///     if case .failure(.undecodable(let raw, let list, _)) = result { quarantine(raw, from: list) }
/// }
/// ```
extension RedisChannel {
    /// What every completion receives.
    public typealias Completion<Value> = @Sendable (Result<Value, RedisError>) -> Void

    /// Sends one message; see ``send(_:)``.
    public func send<T: Encodable>(_ message: T, completion: @escaping Completion<Void>) {
        send(message, writtenBy: EncodedPush<T>.self, completion: completion)
    }

    /// ``send(_:completion:)`` for a message that writes its own members, which overload
    /// resolution picks where the type is known to: its writer is called as `T`'s own,
    /// where the general form finds the conformance at run time and casts the message to
    /// it. The same bytes, the same errors.
    public func send<T: JSONMemberEncodable>(_ message: T, completion: @escaping Completion<Void>) {
        send(message, writtenBy: MemberWrittenPush<T>.self, completion: completion)
    }

    /// One message's `RPUSH`, written by `Writing`.
    @inline(__always)
    private func send<Writing: PushedMessageEncoder>(_ message: Writing.Message, writtenBy writing: Writing.Type, completion: @escaping Completion<Void>) {
        guard timeout == nil else {
            return run(completion) { () throws(RedisChannelError) in try sendRequest(message: message) }
        }
        // The usual send, an RPUSH of one message, straight to the client: the general
        // request (a reply reader and a count as closures, kept in the reply's closure)
        // cost about a tenth of a send.
        // The command is written over the reactor thread's reused buffer, as a raw
        // command's is (``CommandScratch``): no allocation per message.
        do throws(RedisError) {
            try CommandScratch.withBuffer { (bytes: inout [UInt8]) throws(RedisError) in
                // Checked in the order ``run(_:_:)`` checks: the name, the message, the client.
                do throws(RedisChannelError) {
                    try validateName()
                    try Writing.pushCommand(head: pushHead, message: message, into: &bytes)
                } catch {
                    throw error.redisError
                }
                // The client lent, not retained (see ``receiveOne(_:completion:)``).
                try withClient { client in client.sendPush(bytes, completion: completion) }
            }
        } catch {
            completion(.failure(error))
        }
    }

    /// Sends messages with one `RPUSH`; see ``send(contentsOf:)``.
    public func send<S: Sequence>(contentsOf messages: S, completion: @escaping Completion<Void>) where S.Element: Encodable {
        let encoded: [[UInt8]]
        do throws(RedisChannelError) {
            try validateName()
            encoded = try messages.map { message throws(RedisChannelError) in try MessageCodec.encode(message) }
        } catch {
            completion(.failure(error.redisError))
            return
        }
        guard !encoded.isEmpty else {
            completion(.success(()))
            return
        }
        run(completion) { () throws(RedisChannelError) in try sendRequest(encoded) }
    }

    /// The next message or `nil`; see ``recv(as:)``.
    ///
    /// Inlined into the caller, where `T` is known: the `Result<T?, RedisError>` it hands
    /// over is then of a type known when compiling, where in the library's unspecialized
    /// code each such value cost a run-time lookup of its type (about 450 instructions).
    @inlinable
    public func recv<T: Decodable & SendableMetatype>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        receiveOne(DecodedMessage<T>.self, completion: completion)
    }

    /// ``recv(as:completion:)`` for a message that reads its own members, which overload
    /// resolution picks where the type is known to: its reader is called as `T`'s own,
    /// where the general form finds the conformance at run time and casts the message
    /// back to `T` (about 200 instructions a receive). The same messages, the same errors.
    @inlinable
    public func recv<T: JSONMemberDecodable>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        receiveOne(MemberReadMessage<T>.self, completion: completion)
    }

    /// Pops one message and completes with it decoded by `Reading`, or with `nil` or the
    /// failure: the same steps as ``decoding(_:_:)``, written out (through it, inlined
    /// too, the nested closure cost about 950 instructions a receive), the decoder a type
    /// rather than a closure, which the receive's closure would capture and call indirectly.
    ///
    /// Nothing of the channel's is kept for the reply: its list's name, wanted only
    /// when a message does not decode, is read back from the command's own bytes.
    /// Memory shared by every reactor thread and written at each receive (the
    /// reference counts of the name's string, of the channel's `LPOP` bytes, of the
    /// client) moved cache lines between the cores, which callgrind does not count:
    /// `redis-bench --workload channel-recv --api callback` spent 0.87 µs of CPU a
    /// message on two reactors, 0.60 on one (`--reactors 1`); 0.78 and 0.58 without
    /// those writes (medians of five runs each, interleaved).
    @inlinable @inline(__always)
    func receiveOne<Reading: PoppedMessageDecoder>(_ reading: Reading.Type, completion: @escaping Completion<Reading.Message?>) {
        receiveRaw { raw, command in
            switch raw {
            case .failure(let error):
                completion(.failure(error))
            case .success(nil):
                completion(.success(nil))
            case .success(let raw?):
                do throws(RedisChannelError) {
                    completion(.success(try Reading.decode(raw, list: Self.list(poppedBy: command))))
                } catch {
                    completion(.failure(error.redisError))
                }
            }
        }
    }

    /// What ``recv(as:completion:)`` pops, undecoded, with the command that popped it
    /// (``popCommand()``'s bytes, of this call's own; empty when none was sent).
    @usableFromInline
    func receiveRaw(_ completion: @escaping @Sendable (Result<[UInt8]?, RedisError>, _ command: [UInt8]) -> Void) {
        // Straight to the client, as ``send(_:completion:)`` does, without a
        // ``ChannelRequest``'s closures.
        do throws(RedisError) {
            try withCallbackClient { client in client.sendPop(popCommand(), completion: completion) }
        } catch {
            completion(.failure(error), [])
        }
    }

    /// Up to `max` messages; see ``recv(as:max:)``. When one does not decode, the failure
    /// carries that message's bytes (see ``RedisChannelError/redisError``).
    public func recv<T: Decodable & SendableMetatype>(as type: T.Type = T.self, max: Int, completion: @escaping Completion<[T]>) {
        guard max >= 0 else {
            completion(.failure(.invalidArgument("max must not be negative, got \(max)")))
            return
        }
        guard max > 0 else {
            do throws(RedisChannelError) {
                try validateName()
                completion(.success([]))
            } catch {
                completion(.failure(error.redisError))
            }
            return
        }
        run(decoding(completion) { raws throws(RedisChannelError) in try decodeAll(T.self, raws) }) { popRequest(count: max) }
    }

    /// The next message, waiting up to `timeout` (`.zero`: forever); see ``brecv(as:timeout:)``.
    public func brecv<T: Decodable & SendableMetatype>(as type: T.Type = T.self, timeout: Duration = .zero, completion: @escaping Completion<T?>) {
        run(decoding(completion) { raw throws(RedisChannelError) in try decodeIfPresent(T.self, raw) }) { () throws(RedisChannelError) in
            try blockingPopRequest(timeout: timeout)
        }
    }

    /// Up to `max` messages, waiting up to `timeout` for the first; see
    /// ``brecv(as:max:timeout:)``.
    public func brecv<T: Decodable & SendableMetatype>(as type: T.Type = T.self, max: Int, timeout: Duration = .zero, completion: @escaping Completion<[T]>) {
        guard max > 0 else { return recv(as: T.self, max: max, completion: completion) }
        let wait: ChannelRequest<[[UInt8]]>
        do throws(RedisChannelError) {
            // Built first, so that a bad timeout fails before anything is popped.
            wait = try blockingPopRequest(count: max, timeout: timeout)
        } catch {
            completion(.failure(error.redisError))
            return
        }
        let decode = decoding(completion) { raws throws(RedisChannelError) in try decodeAll(T.self, raws) }
        let channel = self
        run({ (waiting: Result<[[UInt8]], RedisError>) in
            guard case .success(let raws) = waiting, raws.isEmpty else { return decode(waiting) }
            channel.run(decode) { wait }
        }) { popRequest(count: max) }
    }

    /// The last message, removing it and every earlier one; see ``recvLast(as:)``.
    public func recvLast<T: Decodable & SendableMetatype>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        run(decoding(completion) { raw throws(RedisChannelError) in try decodeIfPresent(T.self, raw) }) { popLastRequest() }
    }

    /// As ``recvLast(as:completion:)``, waiting up to `timeout` when empty; see ``brecvLast(as:timeout:)``.
    public func brecvLast<T: Decodable & SendableMetatype>(as type: T.Type = T.self, timeout: Duration = .zero, completion: @escaping Completion<T?>) {
        let channel = self
        run({ (first: Result<[UInt8]?, RedisError>) in
            switch first {
            case .failure(let error):
                completion(.failure(error))
            case .success(nil):
                completion(.success(nil))
            case .success(let first?):
                let decode = channel.decoding(completion) { raw throws(RedisChannelError) in try channel.decodeIfPresent(T.self, raw) }
                channel.run({ (later: Result<[UInt8]?, RedisError>) in
                    // `first` has left Redis: when the second step fails, it is still the answer.
                    decode(.success(((try? later.get()) ?? nil) ?? first))
                }) { channel.popLastRequest() }
            }
        }) { () throws(RedisChannelError) in try blockingPopRequest(timeout: timeout) }
    }

    /// The next message without removing it; see ``peek(as:)``.
    public func peek<T: Decodable & SendableMetatype>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        run(decoding(completion) { raw throws(RedisChannelError) in try decodeIfPresent(T.self, raw) }) { indexRequest(0) }
    }

    /// The last message without removing it; see ``rpeek(as:)``.
    public func rpeek<T: Decodable & SendableMetatype>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        run(decoding(completion) { raw throws(RedisChannelError) in try decodeIfPresent(T.self, raw) }) { indexRequest(-1) }
    }

    /// A completion for the raw reply that decodes it and hands the outcome to `completion`.
    func decoding<Raw, Value>(
        _ completion: @escaping Completion<Value>,
        _ decode: @escaping @Sendable (Raw) throws(RedisChannelError) -> Value
    ) -> Completion<Raw> {
        // One `Result` made, not three (`flatMap`, `Result {}`, `mapError`): in this
        // unspecialized code each costs a run-time lookup of its type's metadata, about
        // 450 instructions.
        { raw in
            switch raw {
            case .failure(let error):
                completion(.failure(error))
            case .success(let raw):
                do throws(RedisChannelError) {
                    let value = try decode(raw)
                    completion(.success(value))
                } catch {
                    completion(.failure(error.redisError))
                }
            }
        }
    }

    /// `body`'s result with the client (lent, ``withClient(_:)``), once the name has been
    /// checked; failures as the callbacks report them.
    private func withCallbackClient<Result>(_ body: (RedisClient) -> Result) throws(RedisError) -> Result {
        do throws(RedisChannelError) { try validateName() } catch { throw error.redisError }
        return try withClient(body)
    }

    /// Builds a request and runs it; a failure to build (invalid name, bad argument,
    /// unencodable message, no client) completes at once, on the caller's thread, with
    /// nothing sent.
    func run<Output>(_ completion: @escaping Completion<Output>, _ build: () throws(RedisChannelError) -> ChannelRequest<Output>) {
        let request: ChannelRequest<Output>
        do throws(RedisChannelError) {
            try validateName()
            request = try build()
        } catch {
            completion(.failure(error.redisError))
            return
        }
        let client: RedisClient
        do throws(RedisError) {
            client = try self.client()
        } catch {
            completion(.failure(error))
            return
        }
        request.run(on: client, completion: completion)
    }
}
