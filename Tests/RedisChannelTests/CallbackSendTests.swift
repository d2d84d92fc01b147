import LocalRedis
import RESP
import RedisUtil
import Testing
import TestSupport

/// ``RedisChannel/send(_:completion:)``'s and ``RedisChannel/recv(as:completion:)``'s own
/// path to the connection (one server, no metrics): every outcome reaches the completion.
@Suite struct CallbackSendTests {
    @Test("a callback send succeeds, fails with the server's error on a key of another type, and fails on a closed client")
    func outcomes() async throws {
        try await withRedis { server, client in
            let (sender, _) = channelPair(client, "/callback/send")
            let sent = await callbackResult { sender.send(["n": 1], completion: $0) }
            #expect((try? sent.get()) != nil, "\(sent)")
            let (_, receiver) = channelPair(client, "/callback/send")
            #expect(try await receiver.recv(as: [String: Int].self) == ["n": 1])

            try await client.send("SET", sender.sendKey, "not a list")
            Self.expectWrongType(await callbackResult { sender.send(["n": 2], completion: $0) })

            let (closedSender, _) = channelPair(try await Self.closedClient(server), "/callback/send")
            Self.expectClosed(await callbackResult { closedSender.send(["n": 3], completion: $0) })
        }
    }

    @Test("a callback receive returns the message, nil on an empty list, the server's error on a key of another type, and fails on a closed client")
    func receiveOutcomes() async throws {
        try await withRedis { server, client in
            let (sender, receiver) = channelPair(client, "/callback/recv")
            try await sender.send(["n": 1])
            let popped = await callbackResult { receiver.recv(as: [String: Int].self, completion: $0) }
            #expect((try? popped.get()) == ["n": 1], "\(popped)")
            let empty = await callbackResult { receiver.recv(as: [String: Int].self, completion: $0) }
            #expect((try? empty.get()) == .some(nil), "\(empty)")

            try await client.send("SET", receiver.receiveKey, "not a list")
            Self.expectWrongType(await callbackResult { receiver.recv(as: [String: Int].self, completion: $0) })

            let (_, closedReceiver) = channelPair(try await Self.closedClient(server), "/callback/recv")
            Self.expectClosed(await callbackResult { closedReceiver.recv(as: [String: Int].self, completion: $0) })
        }
    }

    /// A client of `server`, already closed.
    private static func closedClient(_ server: LocalRedisServer) async throws -> RedisClient {
        let client = try RedisClient(.tcp(host: server.host, port: server.port))
        await client.close()
        return client
    }

    private static func expectWrongType<T>(_ result: Result<T, RedisError>, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .failure(.server(let message)) = result, message.hasPrefix("WRONGTYPE") else {
            Issue.record("expected WRONGTYPE, got \(result)", sourceLocation: sourceLocation)
            return
        }
    }

    private static func expectClosed<T>(_ result: Result<T, RedisError>, sourceLocation: SourceLocation = #_sourceLocation) {
        guard case .failure(.closed) = result else {
            Issue.record("expected closed, got \(result)", sourceLocation: sourceLocation)
            return
        }
    }
}
