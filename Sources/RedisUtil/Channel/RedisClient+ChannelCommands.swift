extension RedisClient {
    /// Sends a channel's `RPUSH` of one message (``RedisChannel/send(_:completion:)``; a
    /// command for the shared connections, ``RedisChannel/pushRoute``) and completes with
    /// its outcome as the channel reads it. On one server without metrics or tracing, the
    /// command goes to its connection with a ``ReplyHandler/pushed(_:)`` handler: the
    /// closure that otherwise turns the reply into the channel's result was an allocation
    /// per message (about 500 of a send's 4,700 instructions under callgrind, and 460 of a
    /// receive's 8,560 for ``sendPop(_:completion:)``). Elsewhere (a cluster; a client
    /// whose configuration carries an observer, its own or, for a cluster's node client,
    /// its cluster client's: message counts this path does not keep) it goes the general way.
    func sendPush(_ bytes: [UInt8], completion: @escaping @Sendable (Result<Void, RedisError>) -> Void) {
        guard isSingleServer, configuration.observer == nil else {
            let counters = configuration.observer?.counters
            return send(encoded: bytes, route: RedisChannel.pushRoute) { reply in ChannelReply.deliverPushed(reply, counters: counters, to: completion) }
        }
        if let refusal = submitForCallback(bytes, .pushed(completion)) { completeLater(completion, .failure(refusal)) }
    }

    /// Sends a channel's `LPOP` of one message (``RedisChannel/receiveRaw(_:)``; a command
    /// whose reply is the only copy of what it removes, ``RedisChannel/popRoute``) and
    /// completes with the popped bytes, as the channel reads them, and the command: as
    /// ``sendPush(_:completion:)``, without a closure per message where it can.
    func sendPop(_ command: [UInt8], completion: @escaping @Sendable (Result<[UInt8]?, RedisError>, _ command: [UInt8]) -> Void) {
        guard isSingleServer, configuration.observer == nil else {
            let counters = configuration.observer?.counters
            return send(encoded: command, route: RedisChannel.popRoute) { reply in
                ChannelReply.deliverPopped(reply, counters: counters) { completion($0, command) }
            }
        }
        if let refusal = submitForCallback(command, .popped(completion, command: command)) {
            completeLater({ completion($0, command) }, Result<[UInt8]?, RedisError>.failure(refusal))
        }
    }
}
