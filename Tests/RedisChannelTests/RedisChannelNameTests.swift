import RedisUtil
import Testing

/// Channel names are checked on each operation (`init` cannot fail): a bad one fails the
/// operation before any connection is attempted, so these tests need no server.
@Suite struct RedisChannelNameTests {
    /// No server listens on port 1: reaching the network would fail differently.
    static let nowhere: RedisEndpoint = 1

    @Test(arguments: [[], [""], ["a", ""], ["a/b"], ["jobs", "/x"], ["jobs", "x/"]] as [[String]])
    func badComponentsFailEveryOperation(components: [String]) async throws {
        let channel = RedisChannel(Self.nowhere, components, peer: .client, timeout: .seconds(5))
        try await expectInvalidName(channel)
    }

    @Test func emptyNameFailsEveryOperation() async throws {
        try await expectInvalidName(RedisChannel(Self.nowhere, "", peer: .server))
    }

    @Test func slashInAComponentIsExplained() async throws {
        let channel = RedisChannel(Self.nowhere, ["asyncworker/image"], peer: .client)
        do {
            try await channel.send(1)
            Issue.record("a component with a slash must be refused")
        } catch let error as RedisChannelError {
            #expect("\(error)".contains(#""asyncworker/image""#))
            #expect("\(error)".contains(#"contains "/""#))
        }
    }

    @Test func goodNamesAreAccepted() async throws {
        try await withRedis { _, client in
            for (components, path) in [(["a"], "/a"), (["a b", "é", "中文"], "/a b/é/中文")] {
                let channel = RedisChannel(client: client, components, peer: .client)
                try await channel.send(1)
                #expect(try await rawList(client, path + "/client") == [Array("1".utf8)])
            }
        }
    }

    @Test(arguments: [[""], ["a/b"], []] as [[String]])
    func badPrefixComponentsAreRefused(components: [String]) async throws {
        let channel = RedisChannel(Self.nowhere, "/x", peer: .client)
        await #expect(throws: RedisChannelError.self) { try await channel.listChannels(prefix: components) }
        expectInvalidArgument(await callbackResult { channel.listChannels(prefix: components, completion: $0) })
    }

    /// Every async operation throws `.invalidArgument`, every callback one completes with
    /// `RedisError.invalidArgument`.
    private func expectInvalidName(_ channel: RedisChannel, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let operations: [(String, () async throws -> Void)] = [
            ("send", { try await channel.send(1) }),
            ("send(contentsOf:)", { try await channel.send(contentsOf: [1, 2]) }),
            // The member overloads check the name first too, before a message the writer
            // declines (and `encode(to:)` refuses) could fail otherwise.
            ("send, a member type", { try await channel.send(BigID(id: .max)) }),
            ("recv, a member type", { _ = try await channel.recv(as: BigID.self) }),
            ("recv", { _ = try await channel.recv(as: Int.self) }),
            ("recv(max:)", { _ = try await channel.recv(as: Int.self, max: 0) }),
            ("brecv", { _ = try await channel.brecv(as: Int.self, timeout: .milliseconds(10)) }),
            ("recvLast", { _ = try await channel.recvLast(as: Int.self) }),
            ("brecvLast", { _ = try await channel.brecvLast(as: Int.self, timeout: .milliseconds(10)) }),
            ("peek", { _ = try await channel.peek(as: Int.self) }),
            ("rpeek", { _ = try await channel.rpeek(as: Int.self) }),
            ("listChannels", { _ = try await channel.listChannels(prefix: "/") }),
        ]
        for (name, operation) in operations {
            do {
                try await operation()
                Issue.record("\(name) must fail", sourceLocation: sourceLocation)
            } catch RedisChannelError.invalidArgument {
            } catch {
                Issue.record("\(name) failed with \(error), not .invalidArgument", sourceLocation: sourceLocation)
            }
        }
        expectInvalidArgument(await callbackResult { channel.send(1, completion: $0) }, sourceLocation: sourceLocation)
        expectInvalidArgument(await callbackResult { channel.send(BigID(id: .max), completion: $0) }, sourceLocation: sourceLocation)
        expectInvalidArgument(await callbackResult { channel.recv(as: BigID.self, completion: $0) }, sourceLocation: sourceLocation)
        expectInvalidArgument(await callbackResult { channel.send(contentsOf: [1], completion: $0) }, sourceLocation: sourceLocation)
        expectInvalidArgument(await callbackResult { channel.recv(as: Int.self, completion: $0) }, sourceLocation: sourceLocation)
        expectInvalidArgument(await callbackResult { channel.recv(as: Int.self, max: 0, completion: $0) }, sourceLocation: sourceLocation)
        expectInvalidArgument(await callbackResult { channel.brecvLast(as: Int.self, timeout: .milliseconds(10), completion: $0) }, sourceLocation: sourceLocation)
        expectInvalidArgument(await callbackResult { channel.peek(as: Int.self, completion: $0) }, sourceLocation: sourceLocation)
        expectInvalidArgument(await callbackResult { channel.listChannels(prefix: "/", completion: $0) }, sourceLocation: sourceLocation)
    }
}

/// A message that writes and reads its own members; an `id` beyond `Int64` is one its
/// writer declines and its `encode(to:)` refuses.
private struct BigID: Codable, Sendable, JSONMemberEncodable, JSONMemberDecodable {
    var id: UInt64
    init(id: UInt64) { self.id = id }
    func writeMembers(to members: inout JSONMemberWriter) { members.write("id", id) }
    init(members: inout JSONMemberReader) throws { id = try members.read("id") }
}
