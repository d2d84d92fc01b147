import Foundation
import LocalRedis
import RESP
import RedisUtil
import Testing

/// A review of the RedisChannel fixes in 73bcbbf. Tests whose comment starts "Before the fix"
/// failed on the code as reviewed; "Coverage" ones guard a promise no other test checks.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct ChannelLimitTests {
    /// Coverage: the `pushThenExpire` script around its 1000-message slices (1, 999, 1000,
    /// 1001, 5000), with EXPIRE and with PEXPIRE: every message once, in order, the expiry
    /// set; and a Python k3redisutil peer reads the first and the last. No existing test
    /// sends more than one slice with a channel timeout.
    @Test(arguments: [1, 999, 1000, 1001, 5000])
    func timedSendsAcrossSlices(count: Int) async throws {
        try await withRedis { server, client in
            for (name, timeout) in [("/fr/s", Duration.seconds(100)), ("/fr/ms", Duration.milliseconds(100_500))] {
                let (c, _) = channelPair(client, name, timeout: timeout)
                try await client.send("RPUSH", name + "/client", "-1")
                try await c.send(contentsOf: 0..<count)
                let raw = try await rawList(client, name + "/client")
                #expect(raw == (-1..<count).map { Array(String($0).utf8) }, "\(name): \(raw.count) elements")
                let pttl = try await client.send("PTTL", name + "/client").int ?? -9
                #expect(pttl > 30_000 && pttl <= 100_500, "\(name): PTTL \(pttl)")
                if PythonPeer.isAvailable {
                    let first = try await PythonPeer.call(port: server.port, channel: name, peer: "server", op: "peek_msg")
                    let last = try await PythonPeer.call(port: server.port, channel: name, peer: "server", op: "rpeek_msg")
                    #expect(first == -1)
                    #expect(last == .number(Double(count - 1)))
                }
            }
        }
    }

    /// Before the fix: a whole-second channel timeout too large for Redis (EXPIRE answers
    /// "invalid expire time") is not refused before sending, as the fractional one now
    /// is: the script pushes, then its EXPIRE raises, so `send` throws although the
    /// message was delivered, to a list left without any expiry. A caller that retries
    /// duplicates it.
    @Test func sendThatThrowsDeliveredNothing() async throws {
        try await withRedis { _, client in
            let (c, _) = channelPair(client, "/fr/huge", timeout: .seconds(Int64.max / 100))
            var threw = false
            do { try await c.send(1) } catch { threw = true }
            let left = try await rawList(client, "/fr/huge/client").count
            let ttl = try await client.send("TTL", "/fr/huge/client").int ?? -9
            #expect(!threw || left == 0, "send threw, yet \(left) message(s) were pushed (TTL \(ttl))")
        }
    }

    /// Before the fix: the reader's limit moved from 512 to 1000, but the writer still has none:
    /// a 1001-deep message is sent without complaint, then cannot be received (it is
    /// popped and handed back as undecodable). What this side sends, it must read, or
    /// refuse to send.
    @Test func whatSwiftSendsItCanReceive() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            var deep: JSONValue = []
            for _ in 0..<1001 { deep = .array([deep]) }
            let sent: Bool
            do { try await c.send(deep); sent = true } catch { sent = false }
            if sent {
                await #expect(throws: Never.self, "a message this channel sent cannot be received") {
                    _ = try await s.recv(as: JSONValue.self)
                }
            }
        }
    }

    /// Coverage: a 1000-deep message (the new limit) round-trips through the callback
    /// facade, whose decode runs on a reactor thread (existing tests use 600, async).
    @Test func thousandDeepThroughCallbacks() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            var deep: JSONValue = []
            for _ in 0..<999 { deep = .array([deep]) }
            try await callback { c.send(deep, completion: $0) }
            let received = try await callback { s.recv(as: JSONValue.self, completion: $0) }
            #expect(received == deep)
        }
    }
}
