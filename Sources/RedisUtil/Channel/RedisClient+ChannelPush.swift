extension RedisClient {
    /// Sends a channel's `RPUSH` of one message (``RedisChannel/send(_:completion:)``; a
    /// command for the shared connections, ``RedisChannel/pushRoute``) and completes with its outcome as the channel reads it. On one server without
    /// metrics or tracing, the command goes to its connection with a
    /// ``ReplyHandler/pushed(_:)`` handler: the closure that otherwise turns the reply into
    /// the channel's result was an allocation per message (about 250 instructions of a
    /// 4,700-instruction send under callgrind). Elsewhere (a cluster, an observed client,
    /// whose message counts this path does not keep) it goes the general way.
    func sendPush(_ bytes: [UInt8], completion: @escaping @Sendable (Result<Void, RedisError>) -> Void) {
        guard isSingleServer, observer == nil else {
            let counters = configuration.observer?.counters
            return send(encoded: bytes, route: RedisChannel.pushRoute) { reply in completion(ChannelRequest<Void>.pushed(reply, counters: counters)) }
        }
        switch connectionForCallback() {
        case .ready(let connection):
            connection.submit(Submission(bytes: bytes, handlers: .one(.pushed(completion)), timeout: .configured))
        case .refused(let refusal):
            completeLater(completion, .failure(refusal.error))
        }
    }
}
