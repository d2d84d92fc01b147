import RESP

/// A duplex message channel between processes on two Redis lists, wire-compatible with
/// the Python `redisutil.RedisChannel` (PyPI `k3redisutil`).
///
/// The client side pushes to `<channel>/client` and pops from `<channel>/server`; the
/// server side does the opposite. Messages are UTF-8 JSON, written as Python's
/// `json.dumps(obj, ensure_ascii=False)` writes them, so either side may be Python.
///
/// ```swift
/// let jobs = RedisChannel(6379, "/asyncworker/image-process", peer: .client, timeout: .seconds(60))
/// try await jobs.send(["op": "resize", "id": 42] as JSONValue)
/// let reply: JSONValue? = try await jobs.brecv(timeout: .seconds(5))
/// ```
///
/// Creating a channel opens no socket and writes nothing. The first operation of a channel
/// made from an endpoint uses the process-wide ``RedisClient/shared(_:)`` client, as the
/// Python `get_client` does. Every operation exists in an async form (here) and a
/// completion-handler form (`RedisChannel+Callbacks.swift`); both send the same commands.
/// The async forms throw ``RedisError`` (Redis or connection) or ``RedisChannelError``
/// (encoding, decoding, arguments); the completion forms report both as ``RedisError``.
///
/// A name is checked on each operation, not in `init` (which cannot fail): an empty
/// name, no components, or a component that is empty or contains `/` fails every
/// operation with ``RedisChannelError/invalidArgument(_:)`` before anything is sent.
public struct RedisChannel: Sendable {
    /// Which end of the channel this is.
    public enum Peer: String, Sendable, CaseIterable {
        /// Sends on `<channel>/client`, receives from `<channel>/server`.
        case client
        /// Sends on `<channel>/server`, receives from `<channel>/client`.
        case server

        /// The other end.
        public var other: Peer { self == .client ? .server : .client }
    }

    private enum ClientSource: Sendable {
        case endpoint(RedisEndpoint)
        case client(RedisClient)
    }

    /// Everything a channel holds, in one immutable object: a copy of the channel (taking
    /// it out of an array or a property for each call, as callers do) then retains one
    /// reference, not six (its strings, its two command heads, its client). Those counts
    /// are shared by every thread that uses the channel, so each write moved a cache line
    /// between cores, which callgrind does not count: `redis-bench`'s callback
    /// `channel-send`, which takes its channel out of an array per message, spent 0.96–1.1
    /// µs of CPU a message on two reactors and 0.56 on one, against 0.4 for a raw `RPUSH`
    /// either way; 0.7–0.8 on two with this object.
    private final class Storage: Sendable {
        let channel: String
        let peer: Peer
        let timeout: Duration?
        let sendKey: String
        let receiveKey: String
        let source: ClientSource
        let nameProblem: String?
        let pushHead: [UInt8]
        let popBytes: [UInt8]
        /// The client of a `.client` source, unretained (``withClient(_:)``); nil for an endpoint.
        let lentClient: Unmanaged<RedisClient>?
        /// The shared client of an `.endpoint` source, once looked up (``client()``).
        let sharedClient = SharedClientMemory()

        init(source: ClientSource, channel: String, nameProblem: String?, peer: Peer, timeout: Duration?) {
            self.source = source
            self.nameProblem = nameProblem
            self.channel = channel
            self.peer = peer
            self.timeout = timeout
            sendKey = ChannelPath.key(channel: channel, peer: peer)
            receiveKey = ChannelPath.key(channel: channel, peer: peer.other)
            pushHead = MessageCodec.pushHead(key: sendKey)
            var pop: [UInt8] = []
            RESPEncoder.encodeCommand(into: &pop, "LPOP", receiveKey)
            popBytes = pop
            if case .client(let client) = source { lentClient = Unmanaged.passUnretained(client) } else { lentClient = nil }
        }
    }

    private let storage: Storage
    // The properties below lend the storage's values (`_read`) rather than return copies,
    // for the same reason: a copy of a string or an array is a retain of its buffer.

    /// The channel path, e.g. `/asyncworker/image-process`.
    public var channel: String { _read { yield storage.channel } }
    /// This end.
    public var peer: Peer { _read { yield storage.peer } }
    /// How long the sending list lives after each send (`EXPIRE`, or `PEXPIRE` below a
    /// whole second); `nil` keeps it until it is emptied.
    public var timeout: Duration? { _read { yield storage.timeout } }
    /// The list this peer pushes to: `<channel>/<peer>`.
    public var sendKey: String { _read { yield storage.sendKey } }
    /// The list this peer pops from: `<channel>/<other peer>`.
    public var receiveKey: String { _read { yield storage.receiveKey } }
    private var source: ClientSource { _read { yield storage.source } }
    /// Why the name cannot be used, found in `init` and reported by every operation.
    private var nameProblem: String? { _read { yield storage.nameProblem } }
    /// `RPUSH <sendKey>` in RESP, up to the message: built once, not per send.
    var pushHead: [UInt8] { _read { yield storage.pushHead } }
    /// `LPOP <receiveKey>` in RESP: built once, not per receive (an allocation and about
    /// 300 instructions each); a send shares the bytes.
    private var popBytes: [UInt8] { _read { yield storage.popBytes } }

    /// A channel on the shared client of `endpoint` (an integer literal is a port on
    /// 127.0.0.1). Opens nothing until the first operation.
    public init(_ endpoint: RedisEndpoint, _ channel: String, peer: Peer, timeout: Duration? = nil) {
        self.init(source: .endpoint(endpoint), channel: channel, nameProblem: ChannelPath.problem(name: channel), peer: peer, timeout: timeout)
    }

    /// A channel named by its components: `["asyncworker", "image-process"]` is
    /// `/asyncworker/image-process`.
    public init(_ endpoint: RedisEndpoint, _ components: [String], peer: Peer, timeout: Duration? = nil) {
        self.init(
            source: .endpoint(endpoint), channel: ChannelPath.join(components),
            nameProblem: ChannelPath.problem(components: components), peer: peer, timeout: timeout)
    }

    /// A channel on an existing client (its configuration, its connections).
    public init(client: RedisClient, _ channel: String, peer: Peer, timeout: Duration? = nil) {
        self.init(source: .client(client), channel: channel, nameProblem: ChannelPath.problem(name: channel), peer: peer, timeout: timeout)
    }

    /// A channel on an existing client, named by its components.
    public init(client: RedisClient, _ components: [String], peer: Peer, timeout: Duration? = nil) {
        self.init(
            source: .client(client), channel: ChannelPath.join(components),
            nameProblem: ChannelPath.problem(components: components), peer: peer, timeout: timeout)
    }

    private init(source: ClientSource, channel: String, nameProblem: String?, peer: Peer, timeout: Duration?) {
        storage = Storage(source: source, channel: channel, nameProblem: nameProblem, peer: peer, timeout: timeout)
    }

    /// The server this channel talks to.
    public var endpoint: RedisEndpoint {
        switch source {
        case .endpoint(let endpoint): endpoint
        case .client(let client): client.endpoint
        }
    }

    /// The client operations run on; resolving the shared one starts its reactors, so
    /// this happens on first use, not in `init`.
    func client() throws(RedisError) -> RedisClient {
        switch source {
        case .endpoint(let endpoint): try storage.sharedClient.client(of: endpoint)
        case .client(let client): client
        }
    }

    /// `body`'s result with the client operations run on (see ``client()``), lent without
    /// a retain: a count written by every thread that uses the channel.
    ///
    /// Sound: for as long as this runs, `self` holds its storage, whose `source` holds a
    /// channel's own client strongly and never changes, and whose ``SharedClientMemory``
    /// holds an endpoint's shared client for its whole life. What `body` keeps of the
    /// client it retains as any reference is.
    func withClient<Result>(_ body: (RedisClient) -> Result) throws(RedisError) -> Result {
        switch source {
        case .endpoint(let endpoint):
            return try withExtendedLifetime(storage) { storage throws(RedisError) in try storage.sharedClient.withClient(of: endpoint, body) }
        case .client:
            return storage.lentClient!.lend(heldBy: storage, body)
        }
    }

    /// Fails when the name given to `init` cannot be used (see the type's documentation).
    func validateName() throws(RedisChannelError) {
        if let nameProblem { throw .invalidArgument(nameProblem) }
    }

    /// The client, once the name has been checked: what every async operation starts with.
    func checkedClient() throws -> RedisClient {
        try validateName()
        return try client()
    }

    // MARK: Sending

    /// Sends one message (Python `send_msg`): `RPUSH` to ``sendKey`` and, with a
    /// ``timeout``, a refresh of its expiry in the same atomic step (a Lua script run
    /// with `EVAL`, so the server must allow scripting), so one round trip, never a list
    /// left without its expiry, and no expiry when the push fails.
    nonisolated(nonsending) public func send<T: Encodable>(_ message: T) async throws {
        try await send(message, writtenBy: EncodedPush<T>.self)
    }

    /// ``send(_:)`` for a message that writes its own members, which overload resolution
    /// picks where the type is known to: its writer is called as `T`'s own (as in the
    /// callback form's overload). The same bytes, the same errors. (With a ``timeout`` the
    /// message goes into the script's arguments through the general encoder, as before.)
    nonisolated(nonsending) public func send<T: JSONMemberEncodable>(_ message: T) async throws {
        try await send(message, writtenBy: MemberWrittenPush<T>.self)
    }

    /// One message's `RPUSH`, written by `Writing`. Inlined into both: an async call of
    /// its own would cost a frame of the task's allocator and a hop back.
    @inline(__always)
    nonisolated(nonsending) private func send<Writing: PushedMessageEncoder>(_ message: Writing.Message, writtenBy writing: Writing.Type) async throws {
        // Checked in the order the callback form checks: the name, the message, the client.
        try validateName()
        guard timeout == nil else { return try await sendRequest(message: message).run(on: client()) }
        // The usual send straight to the client, as the callback facade does, written
        // over the thread's spare buffer and handed back once answered, as an awaited
        // command's (``RedisClient/send(recycling:route:)``).
        var bytes = CommandScratch.spareBuffer()
        try Writing.pushCommand(head: pushHead, message: message, into: &bytes)
        let client = try client()
        try ChannelReply.pushed(await client.send(recycling: bytes, route: Self.pushRoute), counters: client.configuration.observer?.counters)
    }

    /// Sends messages in order with one `RPUSH` (one round trip); a receiver sees exactly
    /// what one `send` per message would have produced. An empty sequence sends nothing.
    nonisolated(nonsending) public func send<S: Sequence>(contentsOf messages: S) async throws where S.Element: Encodable {
        try validateName()
        let encoded = try messages.map { message throws(RedisChannelError) in try MessageCodec.encode(message) }
        guard !encoded.isEmpty else { return }
        try await sendRequest(encoded).run(on: checkedClient())
    }

    // MARK: Receiving

    /// The next message (Python `recv_msg`), removed from the channel; `nil` when there is none.
    ///
    /// Like every receive, it loses no message to a cancellation of the task: cancelled
    /// before its `LPOP` is sent, it pops nothing and throws ``RedisError/cancelled``;
    /// once sent, it waits for the reply, the only copy of what was popped, and returns it.
    ///
    /// A message that does not decode as `T` is thrown as
    /// ``RedisChannelError/undecodable(raw:list:type:underlying:)`` with its raw bytes and
    /// ``receiveKey``: it has left Redis, and the error is its only copy.
    ///
    /// Inlined into the caller, where `T` is known (why: ``receiveOne(_:completion:)``).
    @inlinable
    nonisolated(nonsending) public func recv<T: Decodable>(as type: T.Type = T.self) async throws -> T? {
        try await receiveOne(DecodedMessage<T>.self)
    }

    /// ``recv(as:)`` for a message that reads its own members, which overload resolution
    /// picks where the type is known to: its reader is called as `T`'s own, as in the
    /// callback form's overload. The same messages, the same errors.
    @inlinable
    nonisolated(nonsending) public func recv<T: JSONMemberDecodable>(as type: T.Type = T.self) async throws -> T? {
        try await receiveOne(MemberReadMessage<T>.self)
    }

    /// Pops one message and decodes it with `Reading`; `nil` when there is none. Inlined
    /// into both receives: an async call of its own would cost a frame and a hop back.
    @inlinable @inline(__always)
    nonisolated(nonsending) func receiveOne<Reading: PoppedMessageDecoder>(_ reading: Reading.Type) async throws -> Reading.Message? {
        guard let raw = try await receiveRaw() else { return nil }
        return try Reading.decode(raw, list: receiveKey)
    }

    /// What ``recv(as:)`` pops, undecoded.
    @usableFromInline
    nonisolated(nonsending) func receiveRaw() async throws -> [UInt8]? {
        // Straight to the client, as the callback facade's receive does, not through a
        // ``ChannelRequest``; the `LPOP` is awaited despite a cancellation once sent (the
        // client routes it as removing).
        let client = try checkedClient()
        return try ChannelReply.popped(await client.send(recycling: popCommand(), route: Self.popRoute), counters: client.configuration.observer?.counters)
    }

    /// `LPOP <receiveKey>` in RESP: what both facades' plain receive sends. A copy of the
    /// channel's bytes, on memory of the calling thread's own: a command holds its bytes
    /// until answered, and a shared buffer's reference count written by every reactor
    /// thread at each receive cost more than the copy (see ``receiveOne(_:completion:)``).
    /// Written over the thread's spare buffer (``CommandScratch/spareBuffer()``), handed
    /// back once the receive is answered (a callback receive's after its completion has
    /// run, ``ReplyHandler/popped(_:command:)``; an awaited one's as it resumes,
    /// ``RedisClient/send(recycling:route:)``): no new array per receive on a reactor.
    func popCommand() -> [UInt8] {
        var bytes = CommandScratch.spareBuffer()
        // No spare (off a reactor): a plain copy, one allocation of the exact size.
        guard bytes.capacity > 0 else { return storage.popBytes.withUnsafeBufferPointer { Array($0) } }
        storage.popBytes.withUnsafeBytes { source in
            RESPWriter.append(count: source.count, to: &bytes, placement: .overwriting) { $0.write(bytes: source) }
        }
        return bytes
    }

    /// The list a command made by ``popCommand()`` pops from (its last argument): what a
    /// callback receive's decoding failure names, read back from the bytes the receive
    /// holds anyway rather than kept as a string of the channel's (see ``receiveOne(_:completion:)``).
    @usableFromInline
    static func list(poppedBy command: [UInt8]) -> String {
        EncodedCommand.arguments(command)?.last.map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// How ``popCommand()`` goes (``CommandRoute/of(_:in:)``'s reading of it, which the
    /// tests check): it removes what only its reply holds, so once sent it is awaited
    /// despite a cancellation.
    static var popRoute: CommandRoute.Known { .removing }

    /// How a plain `RPUSH` of a message goes (as read, checked by the tests): any shared connection.
    static var pushRoute: CommandRoute.Known { .shared }

    /// Up to `max` messages at once with `LPOP key count` (one round trip); `[]` when
    /// there is none. When one does not decode, every popped message is handed back in
    /// ``RedisChannelError/undecodableBatch(raw:list:index:type:underlying:)``.
    nonisolated(nonsending) public func recv<T: Decodable>(as type: T.Type = T.self, max: Int) async throws -> [T] {
        guard max >= 0 else { throw RedisChannelError.invalidArgument("max must not be negative, got \(max)") }
        try validateName()
        guard max > 0 else { return [] }
        return try decodeAll(T.self, try await popRequest(count: max).run(on: checkedClient()))
    }

    /// The next message, waiting up to `timeout` for one (Python `brecv_msg`); `.zero`
    /// waits forever. `nil` on timeout. Sub-second timeouts work (Redis has millisecond
    /// resolution; shorter ones round up to 1 ms). Runs on a dedicated connection, so it
    /// never delays other commands.
    nonisolated(nonsending) public func brecv<T: Decodable>(as type: T.Type = T.self, timeout: Duration = .zero) async throws -> T? {
        try decodeIfPresent(T.self, try await blockingPopRequest(timeout: timeout).run(on: checkedClient()))
    }

    /// Up to `max` messages, waiting up to `timeout` (`.zero`: forever) only when there is
    /// none; `[]` on timeout. What is waiting is taken with one `LPOP key count` on a
    /// shared connection, as ``recv(as:max:)`` does; an empty channel is waited on with one
    /// `BLMPOP` on a dedicated connection, which takes every message of the push that
    /// wakes it. So a busy worker gets a batch per round trip, and an idle one wakes on the
    /// first message. (A `BLMPOP` alone would cost more here: each one is a round trip of
    /// its own connection, where the `LPOP`s share their writes with other commands: the
    /// benchmark's `channel-pipe` took 71k server reads for 50,000 messages that way,
    /// against 43k.) Needs Redis 7.0 or later for `BLMPOP` (an older server's error is
    /// thrown as ``RedisError/server(message:)``); not in the Python module, whose
    /// messages it reads as any receive does. When one does not decode, every popped message is handed
    /// back in ``RedisChannelError/undecodableBatch(raw:list:index:type:underlying:)``.
    nonisolated(nonsending) public func brecv<T: Decodable>(as type: T.Type = T.self, max: Int, timeout: Duration = .zero) async throws -> [T] {
        guard max >= 0 else { throw RedisChannelError.invalidArgument("max must not be negative, got \(max)") }
        try validateName()
        guard max > 0 else { return [] }
        // Built first, so that a bad timeout fails before anything is popped.
        let wait = try blockingPopRequest(count: max, timeout: timeout)
        let client = try checkedClient()
        let waiting = try await popRequest(count: max).run(on: client)
        return try decodeAll(T.self, waiting.isEmpty ? try await wait.run(on: client) : waiting)
    }

    /// The last message, removing it and every earlier one (Python `recv_last_msg`);
    /// `nil` when there is none. One atomic round trip (`MULTI`, `LINDEX -1`, `LTRIM 1 0`):
    /// a message pushed concurrently lands either before (and is returned) or after
    /// (and stays), never removed unseen.
    nonisolated(nonsending) public func recvLast<T: Decodable>(as type: T.Type = T.self) async throws -> T? {
        try decodeIfPresent(T.self, try await popLastRequest().run(on: checkedClient()))
    }

    /// As ``recvLast(as:)``, waiting up to `timeout` (`.zero`: forever) when the channel
    /// is empty (Python `brecv_last_msg`); `nil` on timeout. Once a message has been
    /// popped, a cancellation or a failure of the second step still returns a message.
    nonisolated(nonsending) public func brecvLast<T: Decodable>(as type: T.Type = T.self, timeout: Duration = .zero) async throws -> T? {
        let client = try checkedClient()
        guard let first = try await blockingPopRequest(timeout: timeout).run(on: client) else { return nil }
        // `first` has left Redis, so when the second step fails, or is not sent because
        // the task was cancelled meanwhile, `first` is still the answer rather than lost
        // (once sent, the second step is awaited despite a cancellation).
        let later = try? await popLastRequest().run(on: client)
        return try MessageCodec.decode(T.self, from: (later ?? nil) ?? first, list: receiveKey)
    }

    /// The next message without removing it (Python `peek_msg`); `nil` when there is none.
    nonisolated(nonsending) public func peek<T: Decodable>(as type: T.Type = T.self) async throws -> T? {
        try decodeIfPresent(T.self, try await indexRequest(0).run(on: checkedClient()))
    }

    /// The last message without removing it (Python `rpeek_msg`); `nil` when there is none.
    nonisolated(nonsending) public func rpeek<T: Decodable>(as type: T.Type = T.self) async throws -> T? {
        try decodeIfPresent(T.self, try await indexRequest(-1).run(on: checkedClient()))
    }
}

// MARK: Requests shared by both facades

extension RedisChannel {
    /// What ``send(_:)`` runs for one message: without a ``timeout``, the usual case, an
    /// `RPUSH` with the message written straight into the command.
    func sendRequest<T: Encodable>(message: T) throws(RedisChannelError) -> ChannelRequest<Void> {
        guard timeout == nil else { return try sendRequest([try MessageCodec.encode(message)]) }
        return ChannelRequest(commands: .single(try MessageCodec.pushCommand(head: pushHead, message: message), read: ChannelReply.ignore))
            .counting(.sent) { _ in 1 }
    }

    func sendRequest(_ encoded: [[UInt8]]) throws(RedisChannelError) -> ChannelRequest<Void> {
        let count = encoded.count
        return try pushRequest(encoded).counting(.sent) { _ in count }
    }

    private func pushRequest(_ encoded: [[UInt8]]) throws(RedisChannelError) -> ChannelRequest<Void> {
        guard let timeout else {
            var bytes: [UInt8] = []
            encodePush(encoded, into: &bytes)
            return ChannelRequest(commands: .single(bytes, read: ChannelReply.ignore))
        }
        let expiry = try ChannelTimeout.expiry(timeout)
        // One script: atomic and one round trip, as MULTI … EXEC would be, but the expiry
        // is set only once the push succeeded. In a transaction it would run even after
        // RPUSH failed on a key of another type, and put an expiry on someone else's data.
        var arguments: [any RESPArgument] = ["EVAL", Self.pushThenExpire, 1, sendKey, expiry.command, expiry.amount]
        arguments.reserveCapacity(arguments.count + encoded.count)
        for message in encoded { arguments.append(message) }
        return .single(arguments: arguments, read: ChannelReply.ignore)
    }

    /// RPUSH of ARGV[3…] to KEYS[1] (in slices, since `unpack` is limited to a few
    /// thousand values), then ARGV[1] (EXPIRE or PEXPIRE) with ARGV[2]. A failed push
    /// raises, so the expiry is never reached.
    static let pushThenExpire = """
        local length
        for first = 3, #ARGV, 1000 do
          length = redis.call('RPUSH', KEYS[1], unpack(ARGV, first, math.min(first + 999, #ARGV)))
        end
        redis.call(ARGV[1], KEYS[1], ARGV[2])
        return length
        """

    /// `RPUSH` of the encoded messages to ``sendKey``; the usual single message through
    /// the fixed-arity encoder, with no array of arguments.
    private func encodePush(_ encoded: [[UInt8]], into bytes: inout [UInt8]) {
        if encoded.count == 1 {
            RESPEncoder.encodeCommand(into: &bytes, "RPUSH", sendKey, encoded[0])
        } else {
            RESPEncoder.encodeCommand(into: &bytes, arguments: ["RPUSH", sendKey] + encoded.map { $0 as any RESPArgument })
        }
    }

    /// How many messages a receive's output holds, for the metrics.
    @Sendable static func messageCount(_ message: [UInt8]?) -> Int { message == nil ? 0 : 1 }
    @Sendable static func messageCount(_ messages: [[UInt8]]) -> Int { messages.count }

    func popRequest(count: Int) -> ChannelRequest<[[UInt8]]> {
        .single("LPOP", receiveKey, count, read: ChannelReply.bytesArray).counting(.received, Self.messageCount)
    }

    func blockingPopRequest(timeout: Duration) throws(RedisChannelError) -> ChannelRequest<[UInt8]?> {
        let (argument, wait) = try ChannelTimeout.blocking(timeout)
        return .blocking("BLPOP", receiveKey, argument, wait: wait, read: ChannelReply.poppedElement).counting(.received, Self.messageCount)
    }

    func blockingPopRequest(count: Int, timeout: Duration) throws(RedisChannelError) -> ChannelRequest<[[UInt8]]> {
        let (argument, wait) = try ChannelTimeout.blocking(timeout)
        return .blocking(arguments: ["BLMPOP", argument, 1, receiveKey, "LEFT", "COUNT", count], wait: wait, read: ChannelReply.poppedElements)
            .counting(.received, Self.messageCount)
    }

    func popLastRequest() -> ChannelRequest<[UInt8]?> {
        ChannelRequest.transaction({ pipeline in
            pipeline.send("LINDEX", receiveKey, -1)
            // LTRIM to nothing empties (and so removes) a list, and fails harmlessly on
            // a key of another type, which DEL would destroy.
            pipeline.send("LTRIM", receiveKey, 1, 0)
        }, read: { items throws(RedisError) in try ChannelReply.optionalBytes(items[0]) }).removing().counting(.received, Self.messageCount)
    }

    func indexRequest(_ index: Int) -> ChannelRequest<[UInt8]?> {
        .single("LINDEX", receiveKey, index, read: ChannelReply.optionalBytes)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, _ raw: [UInt8]?) throws(RedisChannelError) -> T? {
        guard let raw else { return nil }
        return try DecodedMessage<T>.decode(raw, list: receiveKey)
    }

    func decodeAll<T: Decodable>(_ type: T.Type, _ raws: [[UInt8]]) throws(RedisChannelError) -> [T] {
        var messages: [T] = []
        messages.reserveCapacity(raws.count)
        for (index, raw) in raws.enumerated() {
            do throws(RedisChannelError) {
                messages.append(try MessageCodec.decode(T.self, from: raw, list: receiveKey))
            } catch {
                guard case .undecodable(_, let list, let typeName, let underlying) = error else { throw error }
                throw .undecodableBatch(raw: raws, list: list, index: index, type: typeName, underlying: underlying)
            }
        }
        return messages
    }
}
