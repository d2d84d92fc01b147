/// The completion-handler facade: the same operations, the same commands on the wire.
///
/// Completions run on a reactor thread (blocking receives: on a task of the cooperative
/// pool), once per call; never block inside one. The error is a ``RedisError`` or a
/// ``RedisChannelError``, as the async forms throw. The message type must be
/// `SendableMetatype` (any type not isolated to a global actor is), because decoding
/// happens on the thread that runs the completion.
extension RedisChannel {
    /// What every completion receives.
    public typealias Completion<Value> = @Sendable (Result<Value, any Error>) -> Void

    /// Sends one message; see ``send(_:)``.
    public func send<T: Encodable>(_ message: T, completion: @escaping Completion<Void>) {
        run(completion) { () throws in try sendRequest([try MessageCodec.encode(message)]) }
    }

    /// Sends messages with one `RPUSH`; see ``send(contentsOf:)``.
    public func send<S: Sequence>(contentsOf messages: S, completion: @escaping Completion<Void>) where S.Element: Encodable {
        let encoded: [[UInt8]]
        do {
            encoded = try messages.map { message throws(RedisChannelError) in try MessageCodec.encode(message) }
        } catch {
            completion(.failure(error))
            return
        }
        guard !encoded.isEmpty else {
            completion(.success(()))
            return
        }
        run(completion) { () throws in try sendRequest(encoded) }
    }

    /// The next message or `nil`; see ``recv(as:)``.
    public func recv<T: Decodable & SendableMetatype>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        run({ completion($0.flatMap { raw in Result { try decodeIfPresent(T.self, raw) } }) }) { popRequest() }
    }

    /// Up to `max` messages; see ``recv(as:max:)``.
    public func recv<T: Decodable & SendableMetatype>(as type: T.Type = T.self, max: Int, completion: @escaping Completion<[T]>) {
        guard max >= 0 else {
            completion(.failure(RedisChannelError.invalidArgument("max must not be negative, got \(max)")))
            return
        }
        guard max > 0 else {
            completion(.success([]))
            return
        }
        run({ completion($0.flatMap { raws in Result { try decodeAll(T.self, raws) } }) }) { popRequest(count: max) }
    }

    /// The next message, waiting up to `timeout` (`.zero`: forever); see ``brecv(as:timeout:)``.
    public func brecv<T: Decodable & SendableMetatype>(as type: T.Type = T.self, timeout: Duration = .zero, completion: @escaping Completion<T?>) {
        run({ completion($0.flatMap { raw in Result { try decodeIfPresent(T.self, raw) } }) }) { () throws in
            try blockingPopRequest(timeout: timeout)
        }
    }

    /// The last message, removing it and every earlier one; see ``recvLast(as:)``.
    public func recvLast<T: Decodable & SendableMetatype>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        run({ completion($0.flatMap { raw in Result { try decodeIfPresent(T.self, raw) } }) }) { popLastRequest() }
    }

    /// As ``recvLast(as:completion:)``, waiting up to `timeout` when empty; see ``brecvLast(as:timeout:)``.
    public func brecvLast<T: Decodable & SendableMetatype>(as type: T.Type = T.self, timeout: Duration = .zero, completion: @escaping Completion<T?>) {
        let channel = self
        run({ (first: Result<[UInt8]?, any Error>) in
            switch first {
            case .failure(let error):
                completion(.failure(error))
            case .success(nil):
                completion(.success(nil))
            case .success(let first?):
                channel.run({ later in
                    completion(later.flatMap { later in Result { try MessageCodec.decode(T.self, from: later ?? first) } })
                }) { channel.popLastRequest() }
            }
        }) { () throws in try blockingPopRequest(timeout: timeout) }
    }

    /// The next message without removing it; see ``peek(as:)``.
    public func peek<T: Decodable & SendableMetatype>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        run({ completion($0.flatMap { raw in Result { try decodeIfPresent(T.self, raw) } }) }) { indexRequest(0) }
    }

    /// The last message without removing it; see ``rpeek(as:)``.
    public func rpeek<T: Decodable & SendableMetatype>(as type: T.Type = T.self, completion: @escaping Completion<T?>) {
        run({ completion($0.flatMap { raw in Result { try decodeIfPresent(T.self, raw) } }) }) { indexRequest(-1) }
    }

    /// Builds a request and runs it; a failure to build (bad argument, unencodable
    /// message, no client) completes at once, on the caller's thread, with nothing sent.
    func run<Output>(_ completion: @escaping Completion<Output>, _ build: () throws -> ChannelRequest<Output>) {
        let request: ChannelRequest<Output>
        let client: RedisClient
        do {
            request = try build()
            client = try self.client()
        } catch {
            completion(.failure(error))
            return
        }
        request.run(on: client, completion: completion)
    }
}
