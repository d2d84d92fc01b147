#if canImport(Glibc)
import Glibc
#endif
import Synchronization

/// The process-wide clients behind ``RedisClient/shared(_:)``, keyed by endpoint and
/// owned by the process that created them: the fork generation (``ForkGeneration``) they
/// were made in, rather than the process id, which `getpid()` asks the kernel for (about
/// 100 ns here, at every call).
private let sharedClients = Mutex<(forkGeneration: UInt, clients: [RedisEndpoint: RedisClient])>((0, [:]))

extension RedisClient {
    /// The process-wide client for `endpoint` (the Python `redisutil.get_client`): the
    /// same instance for the same endpoint, created on first use with the default
    /// configuration (and again after someone closed it). Thread safe. A forked child
    /// gets fresh clients: it must never
    /// share its parent's sockets or reactor threads (which do not survive `fork`).
    public static func shared(_ endpoint: RedisEndpoint) throws(RedisError) -> RedisClient {
        let generation = ForkGeneration.current()
        // A shared client someone closed is replaced, not handed out to fail every command.
        if let existing = sharedClients.withLock({ $0.forkGeneration == generation ? $0.clients[endpoint] : nil }), !existing.isClosed {
            return existing
        }
        // Created outside the lock: starting reactors takes a while. A racing caller's
        // client may win; the loser is dropped before it ever connects.
        let created = try RedisClient(endpoint)
        return sharedClients.withLock { state in
            if state.forkGeneration != generation {
                state = (generation, [:])
            }
            if let winner = state.clients[endpoint], !winner.isClosed { return winner }
            state.clients[endpoint] = created
            return created
        }
    }
}

/// One holder's memory of ``RedisClient/shared(_:)``'s answer for one endpoint (a channel
/// made on an endpoint keeps one): the first look-up's client, lent again while it is
/// open and the process has not forked since.
///
/// Why: `shared(_:)` takes a process-wide lock around a dictionary look-up (and asked the
/// kernel for the process id, until ``ForkGeneration`` replaced that): 180 ns a call on
/// one thread here and 360–530 ns on two at once (each thread's lock moving the lock's
/// cache line), which a channel made on an endpoint paid at every operation. The client
/// is lent unretained for the same reason (a reference count written from every
/// thread): 33 ns a lending, on one thread or two. A client found closed, or remembered
/// from before a `fork`, is replaced by `shared(_:)`'s new answer, so that only the
/// operation that finds it stale pays for the look-up.
///
/// How: a look-up publishes a ``Remembered`` (the client and the fork generation),
/// retained once, as an address in an `Atomic` (compare-and-exchange from the address it
/// found, 0 at first: one publisher wins, a loser releases its own); readers load the
/// address (acquiring) and read the object in place. A reader may still be inside an
/// entry that was replaced, so the replacing entry holds the one it replaced (a closed
/// client and a few words, once per close or fork of the shared client), and the newest
/// is released only when this memory ends, when no reader can be inside
/// ``withClient(of:_:)`` (its holder is being destroyed).
struct SharedClientMemory: ~Copyable, Sendable {
    private final class Remembered: Sendable {
        let client: RedisClient
        let forkGeneration: UInt
        /// The entry this one replaced, kept for the readers that may still be inside it.
        let replaced: Remembered?

        init(client: RedisClient, forkGeneration: UInt, replaced: Remembered?) {
            self.client = client
            self.forkGeneration = forkGeneration
            self.replaced = replaced
        }
    }

    /// The address of the ``Remembered`` published (0: none yet), retained by this memory.
    private let remembered = Atomic<UInt>(0)

    init() {}

    deinit {
        if let address = UnsafeRawPointer(bitPattern: remembered.load(ordering: .acquiring)) {
            Unmanaged<Remembered>.fromOpaque(address).release()
        }
    }

    /// The shared client of `endpoint`, as ``RedisClient/shared(_:)`` answers.
    func client(of endpoint: RedisEndpoint) throws(RedisError) -> RedisClient {
        try withClient(of: endpoint) { $0 }
    }

    // MARK: audited unsafe helper (SharedClientMemoryTests)

    /// `body`'s result with the shared client of `endpoint`, lent: the remembered one
    /// while it is open and of this fork generation, else `shared(_:)`'s answer.
    func withClient<Result>(of endpoint: RedisEndpoint, _ body: (RedisClient) -> Result) throws(RedisError) -> Result {
        let generation = ForkGeneration.current()
        let found = remembered.load(ordering: .acquiring)
        var stale: Remembered?
        if let address = UnsafeRawPointer(bitPattern: found) {
            let known = Unmanaged<Remembered>.fromOpaque(address)
            let lent: Result? = known._withUnsafeGuaranteedRef { known in
                guard known.forkGeneration == generation, !known.client.isClosed else { return nil }
                return body(known.client)
            }
            if let lent { return lent }
            // Retained (this memory holds it until it is replaced and then through its
            // replacement), to be held by the entry that replaces it.
            stale = known.takeUnretainedValue()
        }
        let client = try RedisClient.shared(endpoint)
        let made = Unmanaged.passRetained(Remembered(client: client, forkGeneration: generation, replaced: stale))
        let address = UInt(bitPattern: made.toOpaque())
        if remembered.compareExchange(expected: found, desired: address, ordering: .acquiringAndReleasing).exchanged {
            // The replaced entry is held by its replacement now, no longer by this memory.
            if let replaced = UnsafeRawPointer(bitPattern: found) { Unmanaged<Remembered>.fromOpaque(replaced).release() }
        } else {
            made.release()
        }
        return body(client)
    }

    /// The client remembered now, if any (for tests: whether a stale one was replaced).
    var rememberedClient: RedisClient? {
        rememberedEntry.map { ($0 as! Remembered).client }
    }

    /// The entry remembered now, if any (for tests: how long replaced entries live).
    var rememberedEntry: AnyObject? {
        guard let address = UnsafeRawPointer(bitPattern: remembered.load(ordering: .acquiring)) else { return nil }
        return Unmanaged<Remembered>.fromOpaque(address).takeUnretainedValue()
    }
}

/// How many times this process is a `fork`'s child (counted by a `pthread_atfork` handler),
/// so that memory of a client made before a fork is known stale after it without asking
/// the kernel for the process id at every use.
enum ForkGeneration {
    private static let count = Atomic<UInt>(0)
    private static let counting: Bool = pthread_atfork(nil, nil, { ForkGeneration.count.add(1, ordering: .relaxed) }) == 0

    /// The current generation; the handler is installed by the first call, before the
    /// value it returns is read, so a generation read here changes at every later fork.
    /// Should the handler fail to install (`pthread_atfork` out of memory), the process id
    /// stands in for it (with the top bit set, never a count), as `shared(_:)` used before.
    static func current() -> UInt {
        guard counting else { return UInt(bitPattern: Int(getpid())) | (1 << (UInt.bitWidth - 1)) }
        return count.load(ordering: .relaxed)
    }
}
