import RedisUtil
import Testing

/// A type that reads its own members is received, where its type is known, through the
/// receives' own overload (its reader called as the type's, no run-time look-up or cast);
/// through a generic `Decodable` it takes the general path. Both must read the same
/// messages as the same values and fail on the same ones with the same bytes and list.
@Suite struct MemberReceiveOverloadTests {
    struct Job: Codable, Equatable, Sendable, JSONMemberDecodable {
        var id: Int
        var name: String
        init(id: Int, name: String) { (self.id, self.name) = (id, name) }
        init(members: inout JSONMemberReader) throws {
            id = try members.read("id")
            name = try members.read("name")
        }
    }

    /// What each way of receiving gave for one message: a value or the failure's bytes and list.
    enum Outcome: Equatable {
        case message(Job?)
        case undecodable(raw: [UInt8], list: String)
    }

    /// The message just pushed, received four ways: the overload and the general form,
    /// each awaited and with a completion.
    static func receivedFourWays(_ text: String, channel: RedisChannel, client: RedisClient) async throws -> [Outcome] {
        var outcomes: [Outcome] = []
        for way in 0..<4 {
            _ = try await client.send("RPUSH", channel.receiveKey, text)
            do {
                let job: Job? = switch way {
                case 0: try await channel.recv(as: Job.self)
                case 1: try await callback { channel.recv(as: Job.self, completion: $0) }
                case 2: try await generally(channel, Job.self)
                default: try await generallyWithCallback(channel, Job.self)
                }
                outcomes.append(.message(job))
            } catch let RedisChannelError.undecodable(raw, list, _, _) {
                outcomes.append(.undecodable(raw: raw, list: list))
            } catch let RedisError.undecodable(raw, list, _) {
                outcomes.append(.undecodable(raw: raw, list: list))
            }
        }
        return outcomes
    }

    static func generally<T: Decodable>(_ channel: RedisChannel, _ type: T.Type) async throws -> T? {
        try await channel.recv(as: T.self)
    }

    static func generallyWithCallback<T: Decodable & Sendable & SendableMetatype>(_ channel: RedisChannel, _ type: T.Type) async throws -> T? {
        try await callback { channel.recv(as: T.self, completion: $0) }
    }

    @Test func theOverloadAndTheGeneralFormAgreeOnEveryMessage() async throws {
        try await withRedis { _, client in
            let (_, server) = channelPair(client)
            let cases: [(text: String, expected: Outcome)] = [
                // In the reader's order: the stream reads it.
                (#"{"id": 1, "name": "a"}"#, .message(Job(id: 1, name: "a"))),
                // Another order, a repeated key, an extra member: the reader's slower paths
                // or the general decoder, each as `json.loads` reads it.
                (#"{"name": "b", "id": 2}"#, .message(Job(id: 2, name: "b"))),
                (#"{"id": 3, "name": "c", "id": 4}"#, .message(Job(id: 4, name: "c"))),
                (#"{"id": 5, "extra": [1, {"x": null}], "name": "e"}"#, .message(Job(id: 5, name: "e"))),
                // Not a Job: the same failure, with the message's bytes and its list.
                (#"{"id": "6", "name": "f"}"#, .undecodable(raw: Array(#"{"id": "6", "name": "f"}"#.utf8), list: server.receiveKey)),
                (#"{"id": 7}"#, .undecodable(raw: Array(#"{"id": 7}"#.utf8), list: server.receiveKey)),
                ("not json", .undecodable(raw: Array("not json".utf8), list: server.receiveKey)),
            ]
            for (text, expected) in cases {
                let outcomes = try await Self.receivedFourWays(text, channel: server, client: client)
                #expect(outcomes == Array(repeating: expected, count: 4), "\(text)")
            }
            // An empty channel: nil every way.
            #expect(try await server.recv(as: Job.self) == nil)
            #expect(try await callback { server.recv(as: Job.self, completion: $0) } == nil)
        }
    }
}
