import LocalRedis
import RedisUtil
import Testing

/// Swift and the real Python `k3redisutil.RedisChannel` on the same redis-server.
@Suite(.enabled(if: PythonPeer.isAvailable, "\(PythonPeer.skipMessage)"))
struct PythonInteropTests {
    /// Values of every JSON kind a Python peer produces.
    static let messages: [JSONValue] = [
        "plain ascii", "中文 ünïcödé 😀 \u{2028}", "quote \" backslash \\ newline \n tab \t ctl \u{01}",
        0, -1, 9_007_199_254_740_993, .integer(Int64.max), .integer(Int64.min),
        1.0, 0.1, -2.5e-7, 1e16, 1.7976931348623157e308, .double(.leastNonzeroMagnitude), -0.0,
        nil, true, false, [], [:],
        ["nested": ["list": [1, 2.0, "three", nil, ["deep": [true]]]], "emoji 🔑": "value"],
        .array((0..<5000).map { .integer(Int64($0)) }),
        .array((0..<500).map { ["i": .integer(Int64($0)), "s": .string("item \($0) 项目")] }),
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

    @Test func expiryIsRefreshedOnSendAsPythonDoes() async throws {
        try await withRedis { server, client in
            _ = try await PythonPeer.call(port: server.port, channel: "/ttl/py", peer: "client", timeout: 100, op: "send_msg", args: [1])
            let swift = RedisChannel(client: client, "/ttl/sw", peer: .client, timeout: .seconds(100))
            try await swift.send(1)
            let pythonTTL = try await client.send("TTL", "/ttl/py/client").int ?? -9
            let swiftTTL = try await client.send("TTL", "/ttl/sw/client").int ?? -9
            #expect((95...100).contains(pythonTTL))
            #expect((95...100).contains(swiftTTL))
            // Python refreshes on its sends to a list Swift created, and vice versa.
            try await client.send("EXPIRE", "/ttl/sw/client", 3)
            _ = try await PythonPeer.call(port: server.port, channel: "/ttl/sw", peer: "client", timeout: 100, op: "send_msg", args: [2])
            #expect((95...100).contains(try await client.send("TTL", "/ttl/sw/client").int ?? -9))
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
            async let swiftWaiting = swift.brecvLast(as: Int.self, timeout: .seconds(10))
            try await Task.sleep(for: .milliseconds(200))
            _ = try await PythonPeer.call(port: server.port, channel: "/last", peer: "client", op: "send_many", args: [[7, 8]])
            let last = try await swiftWaiting
            #expect(last == 7 || last == 8)
            if last == 7 { #expect(try await swift.recvLast(as: Int.self) == 8) }
            #expect(try await swift.recv(as: Int.self) == nil)
        }
    }
}
