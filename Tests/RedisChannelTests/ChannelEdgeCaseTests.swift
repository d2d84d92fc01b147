import Foundation
import LocalRedis
import RESP
import RedisUtil
import Synchronization
import Testing
import TestSupport

/// Edge cases of RedisChannel found in a review. The tests whose comment starts
/// "Before the fix" failed on the code as reviewed; those marked "Coverage" guard
/// promises no other test covered.
@Suite(.serialized, .timeLimit(.minutes(4)))
struct ChannelEdgeCaseTests {
    // MARK: Wrong-type keys

    /// Before the fix: recvLast's MULTI runs `DEL` even when `LINDEX` fails with WRONGTYPE, so a string
    /// stored at the receive key is destroyed. Python's recv_last_msg fails on LPOP and
    /// deletes nothing.
    @Test func recvLastOnAWrongTypeKeyDeletesNothing() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            try await client.send("SET", "/test/jobs/client", "precious")
            await #expect(throws: RedisError.self) { try await s.recvLast(as: Int.self) }
            #expect(try await client.send("GET", "/test/jobs/client").string == "precious", "recvLast deleted a key it failed to read")

            try await client.send("SET", "/test/jobs/client", "precious")
            let result = await callbackResult { s.recvLast(as: Int.self, completion: $0) }
            guard case .failure = result else { Issue.record("expected WRONGTYPE, got \(result)"); return }
            #expect(try await client.send("GET", "/test/jobs/client").string == "precious", "recvLast (callback) deleted a key it failed to read")
        }
    }

    /// Before the fix: send with a channel timeout: `RPUSH` fails with WRONGTYPE inside the MULTI but the
    /// `EXPIRE` still runs, so someone else's string key now expires. Python's
    /// send_msg raises on the RPUSH and never sends its EXPIRE.
    @Test func failedSendDoesNotSetAnExpiryOnAWrongTypeKey() async throws {
        try await withRedis { _, client in
            try await client.send("SET", "/test/jobs/client", "precious")
            let (c, _) = channelPair(client, timeout: .seconds(3600))
            await #expect(throws: RedisError.self) { try await c.send(1) }
            #expect(try await client.send("TTL", "/test/jobs/client").int == -1, "a failed send set an expiry on a key it did not write")
        }
    }

    // MARK: Cancellation and loss of popped messages

    /// Before the fix: A brecv cancelled after the server popped the element, while its reply is still
    /// on the way: the reply is swallowed and the element is in neither Redis nor the
    /// caller's hands. (A large element makes the window between pop and reply wide.)
    @Test func cancellingBrecvAsTheElementIsPoppedLosesNothing() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            let waiting = Task { try await s.brecv(as: String.self, timeout: .seconds(30)) }
            // Until the BLPOP is blocked on the server.
            while try await blockedClients(client) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            let big = Array(("\"" + String(repeating: "x", count: 32 << 20) + "\"").utf8)
            // Redis pops for the blocked BLPOP before it answers this RPUSH.
            try await client.send("RPUSH", "/test/jobs/client", big)
            waiting.cancel()
            let received = try? await waiting.value
            let left = try await client.send("LLEN", "/test/jobs/client").int ?? -1
            #expect(received != nil || left == 1, "the popped message was neither returned nor left in Redis")
        }
    }

    /// Before the fix: brecvLast cancelled between its BLPOP (which has already popped the first message)
    /// and its MULTI: the MULTI is refused as cancelled and the popped message is lost.
    @Test func cancellingBrecvLastAfterItsPopLosesNothing() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            let gate = Gate()
            let waiting = Task { try await gate.brecvLast(s) }
            while try await blockedClients(client) == 0 { try await Task.sleep(for: .milliseconds(10)) }
            // Hold the actor brecvLast runs on, so that after its BLPOP returns it cannot
            // go on to the MULTI before the cancellation below.
            let hog = Task { await gate.hold(milliseconds: 800) }
            while !gate.isHeld { try await Task.sleep(for: .milliseconds(5)) }
            try await c.send("only")
            while try await blockedClients(client) != 0 { try await Task.sleep(for: .milliseconds(10)) }
            // The BLPOP reply (a few bytes) has reached brecvLast, which waits for the actor.
            try await Task.sleep(for: .milliseconds(100))
            waiting.cancel()
            await hog.value
            let result = await waiting.result
            let left = try await rawList(client, "/test/jobs/client")
            #expect((try? result.get()) == "only" || left == [Array(#""only""#.utf8)],
                    "brecvLast popped \"only\", then failed with \(result) and left \(left) in Redis")
        }
    }

    /// Before the fix: a recv, recv(max:), brecv(max:) or recvLast cancelled while its
    /// pop was on the server dropped the reply, the only copy of what it popped. The
    /// server holds every write (`CLIENT PAUSE … WRITE`, from another client) and the task
    /// is cancelled once the pop is held there (`CLIENT LIST`: a client flagged blocked),
    /// so that it is certainly sent, and not yet answered, however late a loaded machine
    /// runs the task. (A two-second `DEBUG SLEEP` and a fixed 500 ms for the send, as this
    /// once used, can be outrun.)
    @Test(arguments: ["recv", "recv(max:)", "brecv(max:)", "recvLast"])
    func cancellingAReceiveInFlightLosesNothing(_ operation: String) async throws {
        let server = try await startServer()
        defer { stopInBackground(server) }
        let endpoint = RedisEndpoint.tcp(host: server.host, port: server.port)
        let client = try RedisClient(endpoint, configuration: .init(connections: 1))
        let pauser = try RedisClient(endpoint, configuration: .init(connections: 1))
        let (c, s) = channelPair(client)
        try await c.send(contentsOf: ["one", "two"])
        // The bound only matters if the test fails midway; the unpause ends it.
        try await pauser.send("CLIENT", "PAUSE", "60000", "WRITE")
        let receiving = Task { () async throws -> [String] in
            switch operation {
            case "recv": return try await s.recv(as: String.self).map { [$0] } ?? []
            case "recv(max:)": return try await s.recv(as: String.self, max: 10)
            case "brecv(max:)": return try await s.brecv(as: String.self, max: 10, timeout: .seconds(30))
            default: return try await s.recvLast(as: String.self).map { [$0] } ?? []
            }
        }
        let held = try await waitUntil { listsABlockedClient(try await pauser.send("CLIENT", "LIST").string ?? "") }
        receiving.cancel()
        try await pauser.send("CLIENT", "UNPAUSE")
        #expect(held, "\(operation): no pop reached the paused server within 60 s")
        let received = (try? await receiving.value) ?? []
        let left = try await rawList(client, "/test/jobs/client").map { String(decoding: $0, as: UTF8.self) }
        // recvLast takes the last and drops the rest: that is what it is for.
        let expected = operation == "recvLast" ? ["two"] : ["one", "two"]
        #expect(received + left.map { String($0.dropFirst().dropLast()) } == expected,
                "\(operation) received \(received), left \(left) in Redis")
        // Sent before the cancellation, so answered to the caller, not swallowed.
        #expect(!received.isEmpty, "\(operation) threw away what it popped")
        await client.close()
        await pauser.close()
    }

    // MARK: Batch receive, callback facade

    /// Before the fix: recv(max:) with a completion: one undecodable message fails the whole batch, and
    /// only that message's bytes come back; the other popped messages ("1", "3") are
    /// gone from Redis and from the error. The async form hands all of them back.
    @Test func callbackBatchFailureHandsBackEveryPoppedMessage() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            try await client.send("RPUSH", "/test/jobs/client", "1", "{bad", "3")
            let result = await callbackResult { s.recv(as: Int.self, max: 5, completion: $0) }
            guard case .failure(let error) = result else { Issue.record("expected a decode failure, got \(result)"); return }
            // Before the fix the error held only the message that failed; "1" and "3" were lost.
            #expect(try await rawList(client, "/test/jobs/client").isEmpty)
            guard case .undecodableBatch(let raw, let list, let index, _) = error else { Issue.record("\(error)"); return }
            #expect(raw == ["1", "{bad", "3"].map { Array($0.utf8) })
            #expect(list == "/test/jobs/client")
            #expect(index == 1)
        }
    }

    // MARK: listChannels

    /// Before the fix: The SCAN pattern is escaped per Character (grapheme cluster): a glob character
    /// followed by a combining mark is one Character that is not "*", so it is left
    /// unescaped and matches keys outside the prefix.
    @Test func globCharacterFollowedByACombiningMarkIsEscaped() async throws {
        try await withRedis { _, client in
            let prefix = "/a*\u{301}/"
            for key in ["/a*\u{301}/x/client", "/aZZ\u{301}/y/client", "/a[\u{301}]/z/server"] {
                try await client.send("RPUSH", key, "1")
            }
            let listed = try await RedisChannel.listChannels(client: client, prefix: prefix)
            #expect(listed == ["/a*\u{301}/x"], "listed \(listed.map(\.unicodeScalars).map(Array.init))")
            #expect(try await callback { RedisChannel.listChannels(client: client, prefix: prefix, completion: $0) } == ["/a*\u{301}/x"])
            let bracket = try await RedisChannel.listChannels(client: client, prefix: "/a[\u{301}]/")
            #expect(bracket == ["/a[\u{301}]/z"], "listed \(bracket.map(\.unicodeScalars).map(Array.init))")
        }
    }

    // MARK: Deep nesting

    /// Before the fix: Swift writes a 600-deep message without complaint (and Python's json.loads reads
    /// nesting to about 1000), but the reader refuses anything deeper than 512: a
    /// channel cannot receive what its own peer sent.
    @Test func aMessageSwiftSendsCanBeReceived() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            var deep: JSONValue = []
            for _ in 0..<600 { deep = .array([deep]) }
            try await c.send(deep)
            let received = try await s.recv(as: JSONValue.self)
            #expect(received == deep)
        }
    }

    // MARK: Timeouts

    /// Before the fix: A channel timeout or blocking timeout with a fraction of a second and a very
    /// large whole part overflows `Int(seconds) * 1000` in ChannelTimeout and traps,
    /// instead of failing with `.invalidArgument` (or a Redis error, as `.seconds(Int64.max)` does).
    @Test func hugeFractionalTimeoutsDoNotTrap() async {
        await #expect(processExitsWith: .success) {
            let huge = Duration.seconds(Int64.max / 100) + .milliseconds(500)
            let channel = RedisChannel(1, "/x", peer: .client, timeout: huge)
            _ = try? await channel.send(1)
        }
        await #expect(processExitsWith: .success) {
            let huge = Duration.seconds(Int64.max / 100) + .milliseconds(500)
            let channel = RedisChannel(1, "/x", peer: .server)
            _ = try? await channel.brecv(as: Int.self, timeout: huge)
        }
    }

    /// Coverage: very long and negative timeouts (no existing test uses either). A
    /// 1e9 s channel timeout is set as EXPIRE/PEXPIRE; a 1e9 s BLPOP is accepted; negative
    /// ones are refused before anything is sent, through both facades.
    @Test func longAndNegativeTimeouts() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client, timeout: .seconds(1_000_000_000))
            try await c.send(1)
            let ttl = try await client.send("TTL", "/test/jobs/client").int ?? -9
            #expect(ttl > 999_000_000)
            let (fractional, _) = channelPair(client, "/test/frac", timeout: .seconds(1_000_000_000) + .milliseconds(500))
            try await fractional.send(1)
            let pttl = try await client.send("PTTL", "/test/frac/client").int ?? -9
            #expect(pttl > 999_000_000_000 && pttl <= 1_000_000_000_500)
            let got = try await s.brecv(as: Int.self, timeout: .seconds(1_000_000_000))
            #expect(got == 1)
            let (negative, _) = channelPair(client, "/test/neg", timeout: .seconds(-1))
            await #expect(throws: RedisChannelError.self) { try await negative.send(1) }
            await #expect(throws: RedisChannelError.self) { try await s.brecv(as: Int.self, timeout: .milliseconds(-1)) }
            await #expect(throws: RedisChannelError.self) { try await s.brecvLast(as: Int.self, timeout: .seconds(-1)) }
            expectInvalidArgument(await callbackResult { s.brecv(as: Int.self, timeout: .milliseconds(-1), completion: $0) })
            expectInvalidArgument(await callbackResult { negative.send(1, completion: $0) })
            #expect(try await client.send("EXISTS", "/test/neg/client").int == 0)
        }
    }

    /// Coverage: a blocking timeout below a millisecond must not become BLPOP's `0`
    /// (forever); the receive returns nil, through both facades. No existing test uses
    /// a sub-millisecond timeout.
    @Test func subMillisecondBlockingTimeoutReturnsNil() async throws {
        try await withRedis { _, client in
            let (_, s) = channelPair(client)
            let single = try await s.brecv(as: Int.self, timeout: .microseconds(100))
            #expect(single == nil)
            let last = try await s.brecvLast(as: Int.self, timeout: .nanoseconds(1))
            #expect(last == nil)
            let viaCallback = try await callback { s.brecv(as: Int.self, timeout: .microseconds(100), completion: $0) }
            #expect(viaCallback == nil)
        }
    }

    // MARK: Re-entrance

    /// Coverage: completions that call back into the channel (send, brecv, brecvLast,
    /// recv from inside a completion, on the reactor thread) neither deadlock nor lose
    /// a message.
    @Test func completionsMayReenterTheChannel() async throws {
        try await withRedis { _, client in
            let (c, s) = channelPair(client)
            let rounds = 20
            let received = Mutex<[Int]>([])
            let done: Result<Void, RedisError> = await withCheckedContinuation { continuation in
                @Sendable func step(_ i: Int) {
                    guard i < rounds else { continuation.resume(returning: .success(())); return }
                    c.send(contentsOf: [i, i + 1000]) { sent in
                        if case .failure(let error) = sent { continuation.resume(returning: .failure(error)); return }
                        s.brecv(as: Int.self, timeout: .seconds(5)) { first in
                            guard case .success(let value?) = first else { continuation.resume(returning: .failure(.invalidArgument("brecv: \(first)"))); return }
                            received.withLock { $0.append(value) }
                            let next: Completion = { last in
                                guard case .success(let value?) = last else { continuation.resume(returning: .failure(.invalidArgument("last: \(last)"))); return }
                                received.withLock { $0.append(value) }
                                step(i + 1)
                            }
                            if i.isMultiple(of: 2) {
                                s.brecvLast(as: Int.self, timeout: .seconds(5), completion: next)
                            } else {
                                s.recv(as: Int.self, completion: next)
                            }
                        }
                    }
                }
                step(0)
            }
            try done.get()
            #expect(received.withLock { $0 } == (0..<rounds).flatMap { [$0, $0 + 1000] })
        }
    }

    typealias Completion = @Sendable (Result<Int?, RedisError>) -> Void
}

/// An actor to run brecvLast on (it is `nonisolated(nonsending)`, so it runs here) and
/// to hold busy while its BLPOP reply comes back; on a dispatch queue of its own, so that
/// holding it blocks none of the cooperative pool's threads, which every test shares.
private actor Gate {
    private let executor = QueueExecutor()
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }
    private let held = Atomic<Bool>(false)
    nonisolated var isHeld: Bool { held.load(ordering: .acquiring) }

    func brecvLast(_ channel: RedisChannel) async throws -> String? {
        try await channel.brecvLast(as: String.self, timeout: .seconds(30))
    }

    func hold(milliseconds: Int) {
        held.store(true, ordering: .releasing)
        usleep(UInt32(milliseconds * 1000))
    }
}
