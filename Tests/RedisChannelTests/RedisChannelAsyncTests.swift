import LocalRedis
import RESP
import RedisUtil
import Testing

/// Every operation through the async facade, against a private redis-server.
@Suite struct RedisChannelAsyncTests {
    @Test func sendPushesToOwnListAndRecvPopsTheOther() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            try await c.send("hello" as JSONValue)
            try await c.send(["n": 1] as JSONValue)
            #expect(try await rawList(client, "/test/jobs/client").map { String(decoding: $0, as: UTF8.self) } == [#""hello""#, #"{"n": 1}"#])
            #expect(try await s.recv() == ("hello" as JSONValue))
            #expect(try await s.recv() == (["n": 1] as JSONValue))
            #expect(try await s.recv(as: JSONValue.self) == nil)
            #expect(try await c.recv(as: JSONValue.self) == nil, "a peer never reads its own list")
            try await s.send("reply" as JSONValue)
            #expect(try await c.recv(as: String.self) == "reply")
        }
    }

    @Test func componentsNameTheSameChannel() async throws {
        try await withRedis { _, client in
            let byPath = RedisChannel(client: client, "/asyncworker/image-process", peer: .client)
            let byComponents = RedisChannel(client: client, ["asyncworker", "image-process"], peer: .client)
            #expect(byComponents.sendKey == byPath.sendKey)
            #expect(byComponents.sendKey == "/asyncworker/image-process/client")
            #expect(byComponents.receiveKey == "/asyncworker/image-process/server")
        }
    }

    @Test func typedMessagesRoundTrip() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            let job = Job(id: 1, name: "图像", ratio: 0.5, tags: ["x", "y"], parent: 3)
            try await c.send(job)
            let received: Job? = try await s.recv()
            #expect(received == job)
            // Typed messages keep integers exact beyond 2^53 and whole floats as floats.
            let big = Job(id: Int.max, name: "", ratio: 2.0, tags: [], parent: Int.min)
            try await c.send(big)
            let raw = String(decoding: try await rawList(client, "/test/jobs/client")[0], as: UTF8.self)
            #expect(raw == #"{"id": 9223372036854775807, "name": "", "ratio": 2.0, "tags": [], "parent": -9223372036854775808}"#)
            #expect(try await s.recv(as: Job.self) == big)
        }
    }

    /// A message that writes and reads its own members travels as the same bytes as its
    /// `Codable` twin, and each side reads what the other sent.
    @Test func messagesWritingAndReadingTheirOwnMembersRoundTrip() async throws {
        struct MemberJob: Codable, Equatable, JSONMemberEncodable, JSONMemberDecodable {
            var id: Int
            var name: String
            var ratio: Double
            var parent: Int?
            init(id: Int, name: String, ratio: Double, parent: Int?) { (self.id, self.name, self.ratio, self.parent) = (id, name, ratio, parent) }
            func writeMembers(to members: inout JSONMemberWriter) {
                members.write("id", id)
                members.write("name", name)
                members.write("ratio", ratio)
                members.writeIfPresent("parent", parent)
            }
            init(members: inout JSONMemberReader) throws {
                id = try members.read("id")
                name = try members.read("name")
                parent = try members.readIfPresent("parent")
                ratio = try members.read("ratio")
            }
        }
        struct PlainJob: Codable, Equatable { var id: Int; var name: String; var ratio: Double; var parent: Int? }
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            let member = MemberJob(id: 7, name: "图像 \"q\"", ratio: 2.0, parent: nil)
            let plain = PlainJob(id: 7, name: "图像 \"q\"", ratio: 2.0, parent: nil)
            try await c.send(member)
            try await c.send(plain)
            let raw = try await rawList(client, "/test/jobs/client")
            #expect(raw.count == 2 && raw[0] == raw[1])
            #expect(String(decoding: raw[0], as: UTF8.self) == #"{"id": 7, "name": "图像 \"q\"", "ratio": 2.0}"#)
            #expect(try await s.recv(as: PlainJob.self) == plain)
            #expect(try await s.recv(as: MemberJob.self) == member)
            try await s.send(MemberJob(id: 8, name: "n", ratio: 0.5, parent: 1))
            #expect(try await c.recv(as: MemberJob.self) == MemberJob(id: 8, name: "n", ratio: 0.5, parent: 1))
        }
    }

    @Test func batchSendAndRecv() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            try await c.send(contentsOf: 1...10)
            try await c.send(contentsOf: [Int]())
            #expect(try await s.recv(as: Int.self, max: 4) == [1, 2, 3, 4])
            #expect(try await s.recv(as: Int.self, max: 100) == [5, 6, 7, 8, 9, 10])
            #expect(try await s.recv(as: Int.self, max: 5) == [])
            #expect(try await s.recv(as: Int.self, max: 0) == [])
            await #expect(throws: RedisChannelError.self) { try await s.recv(as: Int.self, max: -1) }
        }
    }

    @Test func brecvReturnsAMessageThatArrivesLater() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            async let waiting = s.brecv(as: String.self, timeout: .seconds(60))
            try await Task.sleep(for: .milliseconds(200))
            try await c.send("late")
            #expect(try await waiting == "late")
            // Zero waits for ever: a message must still arrive.
            async let forever = s.brecv(as: String.self)
            try await Task.sleep(for: .milliseconds(100))
            try await c.send("eventually")
            #expect(try await forever == "eventually")
        }
    }

    @Test func recvLastTakesTheLastAndDropsEarlierOnes() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            #expect(try await s.recvLast(as: Int.self) == nil)
            try await c.send(contentsOf: [1, 2, 3])
            #expect(try await s.recvLast(as: Int.self) == 3)
            #expect(try await s.recv(as: Int.self) == nil)
            #expect(try await client.send("EXISTS", "/test/jobs/client").int == 0)
            // A null message is a message: recvLast tells it from an empty channel.
            try await c.send(JSONValue.null)
            #expect(try await s.recvLast(as: JSONValue.self) == .some(.null))
        }
    }

    @Test func brecvLastWaitsThenDrains() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            #expect(try await s.brecvLast(as: Int.self, timeout: .milliseconds(150)) == nil)
            try await c.send(contentsOf: [1, 2, 3])
            #expect(try await s.brecvLast(as: Int.self, timeout: .seconds(1)) == 3)
            async let waiting = s.brecvLast(as: Int.self, timeout: .seconds(60))
            try await Task.sleep(for: .milliseconds(150))
            try await c.send(9)
            #expect(try await waiting == 9)
            #expect(try await s.recv(as: Int.self) == nil)
        }
    }

    @Test func peekAndRpeekDoNotRemove() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            #expect(try await s.peek(as: Int.self) == nil)
            #expect(try await s.rpeek(as: Int.self) == nil)
            try await c.send(contentsOf: [1, 2, 3])
            #expect(try await s.peek(as: Int.self) == 1)
            #expect(try await s.rpeek(as: Int.self) == 3)
            #expect(try await s.recv(as: Int.self, max: 10) == [1, 2, 3])
        }
    }

    @Test func listChannelsSortedUniqueUnderPrefix() async throws {
        try await withRedis { _, client in
            for key in ["/a/x/client", "/a/x/server", "/a/b/c/server", "/a/y/client", "/a/zz", "/b/q/client", "/a[1]/w/client", "/a1/v/client"] {
                try await client.send("RPUSH", key, "1")
            }
            let channel = RedisChannel(client: client, "/a/x", peer: .client)
            #expect(try await channel.listChannels(prefix: "/a/") == ["/a/b/c", "/a/x", "/a/y"])
            #expect(try await channel.listChannels(prefix: ["a", "b"]) == ["/a/b/c"])
            #expect(try await RedisChannel.listChannels(client: client, prefix: "/nothing/") == [])
            // Glob characters in a prefix are literal: "/a[1]/" does not match "/a1/".
            #expect(try await channel.listChannels(prefix: "/a[1]/") == ["/a[1]/w"])
        }
    }

    @Test(arguments: ["a/", "/a", "/a/*", "*", ""])
    func listChannelsRejectsBadPrefixesBeforeSending(prefix: String) async throws {
        // No server: the check must come before any connection attempt.
        let channel = RedisChannel(1, "/x", peer: .client)
        await #expect(throws: RedisChannelError.self) { try await channel.listChannels(prefix: prefix) }
    }

    @Test func redisErrorsPassThrough() async throws {
        try await withRedis { _, client in
            try await client.send("SET", "/test/jobs/client", "not a list")
            // A channel timeout, so that the send is a MULTI … EXEC; long, because its
            // EXPIRE applies to the string too, which must outlive any stall of the test.
            let (c, s) = channelPair(client, timeout: .seconds(3600))
            await #expect(throws: RedisError.self) { try await c.send(1) }
            await #expect(throws: RedisError.self) { try await s.recv(as: Int.self) }
        }
    }
}
