#if canImport(Glibc)
import Glibc
#endif
@testable import RedisUtil
import Testing

/// A channel made on an endpoint remembers ``RedisClient/shared(_:)``'s client
/// (``SharedClientMemory``) and answers as `shared(_:)` would: the same open client, a
/// fresh one once it was closed (remembered in its place), never a client from before a
/// `fork`.
@Suite(.serialized) struct SharedClientMemoryTests {
    /// Nothing listens on this port: no test here sends anything.
    private let endpoint: RedisEndpoint = 2

    @Test func aChannelOnAnEndpointKeepsToTheSharedClientAndLeavesAClosedOne() async throws {
        let channel = RedisChannel(endpoint, "/memory", peer: .client)
        let first = try channel.client()
        #expect(first === (try RedisClient.shared(endpoint)))
        #expect(first === (try channel.client()), "the same open client, remembered")
        await first.close()
        let second = try channel.client()
        #expect(second !== first && !second.isClosed, "a closed shared client is not handed out")
        #expect(second === (try RedisClient.shared(endpoint)))
        #expect(try channel.client() === second)
        await second.close()
    }

    /// A stale client is replaced in the memory: the operation that finds it pays for the
    /// look-up, the next ones do not.
    @Test func aClosedClientIsReplacedInTheMemory() async throws {
        let memory = SharedClientMemory()
        #expect(memory.rememberedClient == nil)
        let first = try memory.client(of: endpoint)
        #expect(memory.rememberedClient === first)
        await first.close()
        let second = try memory.client(of: endpoint)
        #expect(second !== first && memory.rememberedClient === second, "the closed client's memory is replaced, not asked past at every operation")
        await second.close()
        let third = try memory.client(of: endpoint)
        #expect(third !== second && !third.isClosed && memory.rememberedClient === third)
        await third.close()
    }

    /// A replaced entry lives while the memory does (a reader may still be inside it,
    /// unretained), and every entry goes with the memory.
    @Test func replacedEntriesLiveAsLongAsTheMemoryAndNoLonger() async throws {
        weak var firstEntry: AnyObject?
        weak var lastEntry: AnyObject?
        do {
            let memory = SharedClientMemory()
            let first = try memory.client(of: endpoint)
            firstEntry = memory.rememberedEntry
            await first.close()
            let second = try memory.client(of: endpoint)
            lastEntry = memory.rememberedEntry
            #expect(lastEntry !== firstEntry)
            #expect(firstEntry != nil, "the replaced entry is gone while the memory lives")
            await second.close()
        }
        #expect(firstEntry == nil && lastEntry == nil, "an entry outlived its memory")
    }

    /// The `pthread_atfork` handler counts the child's generation: a forked child sees a
    /// new one, so it never reuses a client (sockets, reactor threads) of its parent's.
    @Test func aForkedChildIsANewGeneration() throws {
        let before = ForkGeneration.current()
        let child = fork()
        if child == 0 {
            // The child: nothing but an atomic load, then out (no Swift runtime locks).
            _exit(ForkGeneration.current() == before &+ 1 ? 0 : 1)
        }
        try #require(child > 0, "fork failed: \(errno)")
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        #expect(status == 0, "the child saw generation \(before) unchanged (wait status \(status))")
        #expect(ForkGeneration.current() == before, "the parent's generation does not change")
    }
}
