import LocalRedis
import RESP
import RedisUtil
import Testing
import TestSupport

/// ``RedisChannel/send(_:completion:)``'s own path to the connection (one server, no
/// metrics): every outcome reaches the completion, once.
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
            let wrongType = await callbackResult { sender.send(["n": 2], completion: $0) }
            guard case .failure(.server(let message)) = wrongType else {
                Issue.record("expected WRONGTYPE, got \(wrongType)")
                return
            }
            #expect(message.hasPrefix("WRONGTYPE"), "\(message)")

            let closing = try RedisClient(.tcp(host: server.host, port: server.port))
            let (closedSender, _) = channelPair(closing, "/callback/send")
            await closing.close()
            let closed = await callbackResult { closedSender.send(["n": 3], completion: $0) }
            guard case .failure(.closed) = closed else {
                Issue.record("expected closed, got \(closed)")
                return
            }
        }
    }
}
