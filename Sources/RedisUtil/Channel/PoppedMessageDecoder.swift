/// How a receive decodes the message it popped, chosen where the message's type is known
/// (the single-message receives are inlined into their callers): ``DecodedMessage`` for
/// any `Decodable`, ``MemberReadMessage`` for a type that reads its own members. A type
/// rather than a closure: the receive's escaping closure would capture a closure and call
/// it indirectly (about 70 instructions a receive, measured).
@usableFromInline
protocol PoppedMessageDecoder: SendableMetatype {
    associatedtype Message
    /// `raw`, popped from `list`, decoded; `list` is evaluated only when it does not decode.
    static func decode(_ raw: [UInt8], list: @autoclosure () -> String) throws(RedisChannelError) -> Message
}

/// Any `Decodable` message, through ``MessageCodec/decode(_:from:list:membersDeclined:)``,
/// which finds at run time whether the type reads its own members. (Its metatype is
/// `Sendable` whatever `Message` is: it is only ever handed to a closure that crosses
/// threads by the callback receive, whose `T` is `SendableMetatype`.)
@usableFromInline
enum DecodedMessage<Message: Decodable>: PoppedMessageDecoder {
    @usableFromInline
    static func decode(_ raw: [UInt8], list: @autoclosure () -> String) throws(RedisChannelError) -> Message {
        try MessageCodec.decode(Message.self, from: raw, list: list())
    }
}

/// A message known to read its own members: its reader first, as the type's own, with no
/// run-time look-up of the conformance and no cast of the message back to its type
/// (together about 200 instructions a receive); when the reader declines the message,
/// the general decoder without it, which answers as it would have.
@usableFromInline
enum MemberReadMessage<Message: JSONMemberDecodable>: PoppedMessageDecoder {
    @usableFromInline
    static func decode(_ raw: [UInt8], list: @autoclosure () -> String) throws(RedisChannelError) -> Message {
        do throws(JSONMemberReader.Declined) {
            return try JSONMemberReader.read(Message.self, from: raw)
        } catch {}
        return try MessageCodec.decode(Message.self, from: raw, list: list(), membersDeclined: true)
    }
}
