import LocalRedis
import RedisUtil
import Testing

/// Swift and the real Python `k3redisutil.RedisChannel` on the same redis-server.
// A condition trait, not an early return: without the venv every test here is reported
// as skipped, with the reason, never as passed.
@Suite(.enabled(if: PythonPeer.isAvailable, "\(PythonPeer.skipMessage)"))
struct PythonInteropTests {
    /// Values of every JSON kind a Python peer produces.
    static let messages: [JSONValue] = [
        "plain ascii", "中文 ünïcödé 😀 \u{2028}", "quote \" backslash \\ newline \n tab \t ctl \u{01}",
        0, -1, 9_007_199_254_740_992, -9_007_199_254_740_992, 123_456_789_012_345,
        9_007_199_254_740_994.0, 1.5, 0.1, -2.5e-7, 1e16, 1.7976931348623157e308, .number(.leastNonzeroMagnitude), -0.0,
        nil, true, false, [], [:],
        ["nested": ["list": [1, 2.0, "three", nil, ["deep": [true]]]], "emoji 🔑": "value"],
        .array((0..<5000).map { .number(Double($0)) }),
        .array((0..<500).map { ["i": .number(Double($0)), "s": .string("item \($0) 项目")] }),
    ]

    @Test func pythonSendsSwiftReceives() async throws {
        try await withRedis { server, client in
            _ = try await PythonPeer.call(port: server.port, channel: "/interop/p2s", peer: "client", op: "send_many", args: [.array(Self.messages)])
            let swift = RedisChannel(client: client, ["interop", "p2s"], peer: .server)
            // Byte for byte what Swift itself would have sent.
            let raw = try await rawList(client, "/interop/p2s/client")
            #expect(raw.count == Self.messages.count)
            for (bytes, message) in zip(raw, Self.messages) {
                #expect(bytes == message.jsonBytes, "\(String(decoding: bytes.prefix(120), as: UTF8.self))")
            }
            for message in Self.messages {
                let received: JSONValue? = try await swift.recv()
                #expect(received == message)
            }
            #expect(try await swift.recv(as: JSONValue.self) == nil)
        }
    }

    @Test func swiftSendsPythonReceives() async throws {
        try await withRedis { server, client in
            let swift = RedisChannel(client: client, "/interop/s2p", peer: .server)
            try await swift.send(contentsOf: Self.messages)
            let job = Job(id: 5, name: "resize 图片", ratio: 2.0, tags: [], parent: nil)
            try await swift.send(job)
            var received: [JSONValue] = []
            for _ in 0...Self.messages.count {
                received.append(try await PythonPeer.call(port: server.port, channel: "/interop/s2p", peer: "client", op: "recv_msg"))
            }
            #expect(Array(received.prefix(Self.messages.count)) == Self.messages)
            #expect(received.last == ["id": 5, "name": "resize 图片", "ratio": 2.0, "tags": []])
            #expect(try await PythonPeer.call(port: server.port, channel: "/interop/s2p", peer: "client", op: "recv_msg") == .null)
        }
    }

    @Test func pythonWritesTheSameBytesAsSwift() async throws {
        try await withRedis { server, _ in
            let dumped = try await PythonPeer.call(port: server.port, channel: "/x", peer: "client", op: "dumps", args: [.array(Self.messages)])
            let texts = dumped.arrayValue?.compactMap(\.stringValue) ?? []
            #expect(texts == Self.messages.map { String(decoding: $0.jsonBytes, as: UTF8.self) })
        }
    }

    /// A Python `dict` keeps its insertion order, and so does a `JSONValue`: a message a
    /// Python peer sends, received by Swift and sent back unchanged, reaches Python with
    /// its members in their order at every depth (byte for byte what Python sent).
    @Test func aMessageRelayedBySwiftKeepsItsMembersOrder() async throws {
        try await withRedis { server, client in
            // Python builds the dict from this text, in its order (none of it sorted).
            let text = #"{"zeta": 1, "alpha": {"y": 2, "b": [{"q": 1, "a": 2}]}, "mid": "中"}"#
            _ = try await PythonPeer.call(port: server.port, channel: "/relay", peer: "client", op: "send_text", args: [.string(text)])
            let sent = try await rawList(client, "/relay/client")
            let swift = RedisChannel(client: client, "/relay", peer: .server)
            let received = try #require(try await swift.recv(as: JSONValue.self))
            #expect(received.objectValue?.keys == ["zeta", "alpha", "mid"])
            try await swift.send(received)
            #expect(try await rawList(client, "/relay/server") == sent)
            let relayed = try await PythonPeer.call(port: server.port, channel: "/relay", peer: "client", op: "recv_dumps")
            #expect(relayed == .string(text))
        }
    }

    @Test func expiryIsRefreshedOnSendAsPythonDoes() async throws {
        try await withRedis { server, client in
            _ = try await PythonPeer.call(port: server.port, channel: "/ttl/py", peer: "client", timeout: 100, op: "send_msg", args: [1])
            let swift = RedisChannel(client: client, "/ttl/sw", peer: .client, timeout: .seconds(100))
            try await swift.send(1)
            let pythonTTL = try await client.send("TTL", "/ttl/py/client").int ?? -9
            let swiftTTL = try await client.send("TTL", "/ttl/sw/client").int ?? -9
            // Loose lower bound: a loaded machine can take seconds between the two calls; what
            // matters is that an expiry near the 100 s asked for is set (not -1, not the 30 below).
            #expect((31...100).contains(pythonTTL))
            #expect((31...100).contains(swiftTTL))
            // Python refreshes on its sends to a list Swift created, and vice versa.
            try await client.send("EXPIRE", "/ttl/sw/client", 30)
            _ = try await PythonPeer.call(port: server.port, channel: "/ttl/sw", peer: "client", timeout: 100, op: "send_msg", args: [2])
            #expect((31...100).contains(try await client.send("TTL", "/ttl/sw/client").int ?? -9))
            #expect(try await rawList(client, "/ttl/sw/client").count == 2)
        }
    }

    @Test func listChannelsMatchesPython() async throws {
        try await withRedis { server, client in
            for key in ["/w/a/client", "/w/a/server", "/w/b/server", "/w/c/d/client", "/w/Z/client", "/w/é/server", "/w/plain", "/v/x/client", "/w/b/serverx"] {
                try await client.send("RPUSH", key, "1")
            }
            for prefix in ["/w/", "/w/c/", "/", "/none/"] {
                let python = try await PythonPeer.call(port: server.port, channel: "/w/a", peer: "client", op: "list_channel", args: [.string(prefix)])
                let swift = try await RedisChannel.listChannels(client: client, prefix: prefix)
                #expect(python == .array(swift.map(JSONValue.string)), "prefix \(prefix)")
            }
        }
    }

    @Test func recvLastAndBrecvAgreeWithPython() async throws {
        try await withRedis { server, client in
            let swift = RedisChannel(client: client, "/last", peer: .server)
            try await swift.send(contentsOf: [1, 2, 3])
            #expect(try await PythonPeer.call(port: server.port, channel: "/last", peer: "client", op: "recv_last_msg") == 3)
            #expect(try await PythonPeer.call(port: server.port, channel: "/last", peer: "client", op: "recv_msg") == .null)

            _ = try await PythonPeer.call(port: server.port, channel: "/last", peer: "client", op: "send_many", args: [[4, 5, 6]])
            #expect(try await swift.recvLast(as: Int.self) == 6)
            #expect(try await swift.recv(as: Int.self) == nil)

            // Python blocks, Swift sends later.
            async let pythonWaiting = PythonPeer.call(port: server.port, channel: "/last", peer: "client", op: "brecv_msg", args: [5])
            try await Task.sleep(for: .milliseconds(700))
            try await swift.send(["late": true] as JSONValue)
            #expect(try await pythonWaiting == ["late": true])

            // Swift blocks, Python sends later; brecvLast drains what came with it.
            async let swiftWaiting = swift.brecvLast(as: Int.self, timeout: .seconds(60))
            try await Task.sleep(for: .milliseconds(200))
            _ = try await PythonPeer.call(port: server.port, channel: "/last", peer: "client", op: "send_many", args: [[7, 8]])
            let last = try await swiftWaiting
            #expect(last == 7 || last == 8)
            if last == 7 { #expect(try await swift.recvLast(as: Int.self) == 8) }
            #expect(try await swift.recv(as: Int.self) == nil)
        }
    }

    /// CJK, emoji (with joiners, flags, astral-plane symbols) and a 1 MiB message.
    static let textMessages: [JSONValue] = [
        "日本語のテキスト、中文文本、한국어 텍스트",
        "👩‍👩‍👧‍👦 🏳️‍🌈 🇯🇵 𝄞 🀄",
        ["名前": "山田", "emoji": ["😀", "🚀"], "混合 mixed": "a😀b中c"],
        .string(String(repeating: "中文😀abc ", count: (1 << 20) / 14 + 1)),
    ]

    @Test func cjkEmojiAndOneMebibyteSwiftToPython() async throws {
        try await withRedis { server, client in
            #expect(Self.textMessages[3].jsonBytes.count >= 1 << 20)
            let swift = RedisChannel(client: client, "/interop/text-s2p", peer: .server)
            try await swift.send(contentsOf: Self.textMessages)
            for message in Self.textMessages {
                #expect(try await PythonPeer.call(port: server.port, channel: "/interop/text-s2p", peer: "client", op: "recv_msg") == message)
            }
        }
    }

    @Test func cjkEmojiAndOneMebibytePythonToSwift() async throws {
        try await withRedis { server, client in
            _ = try await PythonPeer.call(port: server.port, channel: "/interop/text-p2s", peer: "client", op: "send_many", args: [.array(Self.textMessages)])
            let raw = try await rawList(client, "/interop/text-p2s/client")
            #expect(raw == Self.textMessages.map(\.jsonBytes), "Python wrote different bytes")
            let swift = RedisChannel(client: client, "/interop/text-p2s", peer: .server)
            #expect(try await swift.recv(as: JSONValue.self, max: 10) == Self.textMessages)
            // The batch blocking receive reads the Python side's messages too, waiting ones
            // and those pushed while it waits.
            _ = try await PythonPeer.call(port: server.port, channel: "/interop/text-p2s", peer: "client", op: "send_many", args: [.array(Self.textMessages)])
            #expect(try await swift.brecv(as: JSONValue.self, max: 10, timeout: .seconds(5)) == Self.textMessages)
            async let waiting = swift.brecv(as: JSONValue.self, max: 10, timeout: .seconds(60))
            _ = try await PythonPeer.call(port: server.port, channel: "/interop/text-p2s", peer: "client", op: "send_many", args: [.array(Self.textMessages)])
            // Python pushes one message per RPUSH: the wait wakes with the first, or more.
            let woken = try await waiting
            #expect(!woken.isEmpty)
            #expect(try await woken + swift.recv(as: JSONValue.self, max: 10) == Self.textMessages)
        }
    }

    @Test func peekRpeekBrecvSwiftToPython() async throws {
        try await withRedis { server, client in
            let swift = RedisChannel(client: client, "/interop/peek-s2p", peer: .server)
            func python(_ op: String, _ args: [JSONValue] = []) async throws -> JSONValue {
                try await PythonPeer.call(port: server.port, channel: "/interop/peek-s2p", peer: "client", op: op, args: args)
            }
            #expect(try await python("peek_msg") == .null)
            #expect(try await python("rpeek_msg") == .null)
            try await swift.send(contentsOf: ["一", "二", "三"] as [JSONValue])
            #expect(try await python("peek_msg") == "一")
            #expect(try await python("rpeek_msg") == "三")
            #expect(try await python("brecv_msg", [1]) == "一")
            #expect(try await python("brecv_msg", [1]) == "二")
            #expect(try await python("brecv_msg", [1]) == "三")
            #expect(try await python("brecv_msg", [1]) == .null, "timed out on an empty channel")
        }
    }

    @Test func peekRpeekBrecvPythonToSwift() async throws {
        try await withRedis { server, client in
            let swift = RedisChannel(client: client, "/interop/peek-p2s", peer: .server)
            #expect(try await swift.peek(as: JSONValue.self) == nil)
            _ = try await PythonPeer.call(port: server.port, channel: "/interop/peek-p2s", peer: "client", op: "send_many", args: [["🍣", 2.5, ["k": "値"]]])
            #expect(try await swift.peek(as: JSONValue.self) == "🍣")
            #expect(try await swift.rpeek(as: JSONValue.self) == ["k": "値"])
            #expect(try await callback { swift.peek(as: String.self, completion: $0) } == "🍣")
            #expect(try await swift.brecv(as: String.self, timeout: .seconds(1)) == "🍣")
            #expect(try await swift.brecv(as: Double.self, timeout: .seconds(1)) == 2.5)
            #expect(try await callback { swift.brecv(as: JSONValue.self, timeout: .seconds(1), completion: $0) } == ["k": "値"])

            // Swift blocks first; Python sends while it waits.
            async let waiting = swift.brecv(as: String.self, timeout: .seconds(60))
            try await Task.sleep(for: .milliseconds(200))
            _ = try await PythonPeer.call(port: server.port, channel: "/interop/peek-p2s", peer: "client", op: "send_msg", args: ["遅い 🐢"])
            #expect(try await waiting == "遅い 🐢")
        }
    }

    @Test("a Python client sends 1,000 requests and reads 1,000 replies from a Swift serve pool of 8")
    func pythonClientOfASwiftServePool() async throws {
        try await withRedis { server, client in
            let name = "/interop/pool"
            let worker = RedisChannel(client: client, name, peer: .server)
            let pool = RedisChannelServer(worker, as: JSONValue.self, concurrency: 8) { delivery -> JSONValue in
                // Long enough that requests pile up and the pool runs all eight.
                try await Task.sleep(for: .milliseconds(2))
                return ["id": delivery.message["id"] ?? nil, "echo": delivery.message["text"] ?? nil]
            }
            let running = Task { try await pool.run() }
            let requests: [JSONValue] = (0..<1000).map { ["id": .number(Double($0)), "text": .string("图片 \($0) ünï 😀")] }
            let replies = try await PythonPeer.call(port: server.port, channel: name, peer: "client", op: "exchange", args: [.array(requests)])
            pool.stop()
            try await running.value

            let answered = try #require(replies.arrayValue)
            #expect(answered.count == 1000)
            let byID = Dictionary(answered.map { ($0["id"]?.intValue ?? -1, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(byID.keys.sorted() == Array(0..<1000), "every request answered once")
            #expect(byID.allSatisfy { $0.value["echo"] == .string("图片 \($0.key) ünï 😀") })
            #expect(pool.handledCount == 1000)
            #expect((2...8).contains(pool.peakConcurrency), "peak \(pool.peakConcurrency)")
            #expect(try await client.send("ZCARD", "{\(name)/client}/leases").asInt() == 0)
            #expect(try await client.send("LLEN", name + "/client").asInt() == 0)
            #expect(try await client.send("LLEN", name + "/server").asInt() == 0)
        }
    }
}
