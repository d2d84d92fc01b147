/// How a send writes its `RPUSH` of one message, chosen by the public `send` overload
/// that the message's type selects: ``EncodedPush`` for any `Encodable`,
/// ``MemberWrittenPush`` for a type known to write its own members. The counterpart of
/// ``PoppedMessageDecoder``.
protocol PushedMessageEncoder {
    associatedtype Message: Encodable
    /// `RPUSH` of `message` after `head`, written over what `bytes` holds
    /// (``MessageCodec/pushCommand(head:message:into:membersDeclined:)``).
    static func pushCommand(head: [UInt8], message: Message, into bytes: inout [UInt8]) throws(RedisChannelError)
}

/// Any `Encodable` message: whether its type writes its own members is found at run time.
enum EncodedPush<Message: Encodable>: PushedMessageEncoder {
    static func pushCommand(head: [UInt8], message: Message, into bytes: inout [UInt8]) throws(RedisChannelError) {
        try MessageCodec.pushCommand(head: head, message: message, into: &bytes)
    }
}

/// A message known to write its own members: its writer called as the type's own, with
/// no run-time look-up of the conformance and no cast of the message to its own type;
/// when the writer declines it, the general encoder without the writer.
enum MemberWrittenPush<Message: JSONMemberEncodable>: PushedMessageEncoder {
    static func pushCommand(head: [UInt8], message: Message, into bytes: inout [UInt8]) throws(RedisChannelError) {
        if JSONMemberWriter.pushCommand(head: head, of: message, into: &bytes) { return }
        try MessageCodec.pushCommand(head: head, message: message, into: &bytes, membersDeclined: true)
    }
}
