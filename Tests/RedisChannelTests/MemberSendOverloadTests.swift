import RedisUtil
import Testing

/// A type that writes its own members is sent, where its type is known, through the
/// sends' own overload (its writer called as the type's, no run-time look-up or cast);
/// through a generic `Encodable` it takes the general path. Both must push the same
/// bytes, and fail on the same messages with the same error, pushing nothing.
@Suite struct MemberSendOverloadTests {
    struct Note: Codable, Equatable, Sendable, JSONMemberEncodable {
        var id: UInt64
        var text: String
        var key: String?
        func writeMembers(to members: inout JSONMemberWriter) {
            members.write("id", id)
            members.write("text", text)
            members.writeIfPresent("key", key)
        }
    }

    static func generally<T: Encodable>(_ channel: RedisChannel, _ message: T) async throws {
        try await channel.send(message)
    }

    static func generallyWithCallback<T: Encodable>(_ channel: RedisChannel, _ message: T) async throws {
        try await callback { channel.send(message, completion: $0) }
    }

    /// What one way of sending did: the bytes it pushed, or the error's description (pushing nothing).
    static func sent(_ note: Note, way: Int, channel: RedisChannel, client: RedisClient) async throws -> String {
        _ = try await client.send("DEL", channel.sendKey)
        do {
            switch way {
            case 0: try await channel.send(note)
            case 1: try await callback { channel.send(note, completion: $0) }
            case 2: try await generally(channel, note)
            default: try await generallyWithCallback(channel, note)
            }
        } catch let error as RedisChannelError {
            #expect(try await rawList(client, channel.sendKey).isEmpty)
            return "error: \(error.redisError)"
        } catch {
            #expect(try await rawList(client, channel.sendKey).isEmpty)
            return "error: \(error)"
        }
        let pushed = try await rawList(client, channel.sendKey)
        #expect(pushed.count == 1)
        return String(decoding: pushed.first ?? [], as: UTF8.self)
    }

    @Test(arguments: [nil, .seconds(60)] as [Duration?])
    func theOverloadAndTheGeneralFormPushTheSameBytes(timeout: Duration?) async throws {
        try await withRedis { _, client in
            // With a timeout the push goes through the channel's script (`EVAL`).
            let (sender, _) = channelPair(client, timeout: timeout)
            let notes = [
                // The writer writes these.
                Note(id: 1, text: "plain", key: nil),
                Note(id: 2, text: "图像 \"quoted\"\n", key: "k"),
                // Beyond Int64: the writer declines, `encode(to:)` reports it.
                Note(id: UInt64.max, text: "big", key: nil),
            ]
            var outcomes: [[String]] = []
            for note in notes {
                var ways: [String] = []
                for way in 0..<4 { ways.append(try await Self.sent(note, way: way, channel: sender, client: client)) }
                #expect(Set(ways).count == 1, "\(ways)")
                outcomes.append(ways)
            }
            #expect(outcomes[0][0] == #"{"id": 1, "text": "plain"}"#)
            #expect(outcomes[1][0] == #"{"id": 2, "text": "图像 \"quoted\"\n", "key": "k"}"#)
            #expect(outcomes[2][0].hasPrefix("error: "))
            if timeout != nil {
                // The script set the list's expiry, through the overload as through the general form.
                try await sender.send(notes[0])
                #expect((try await client.send("TTL", sender.sendKey).int ?? -9) > 0)
            }
        }
    }
}
