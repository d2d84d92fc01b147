import Dispatch
import LocalRedis
import Reactor
import RedisUtil
import Testing
import TestSupport

/// An actor on a ``QueueExecutor``: its methods say, after each await, whether they are
/// still on it.
actor QueueActor {
    let executor = QueueExecutor()
    nonisolated var unownedExecutor: UnownedSerialExecutor { executor.asUnownedSerialExecutor() }

    /// Awaits `operation` (which must succeed) and reports whether the code after it ran
    /// on the actor's executor.
    func resumesHere(_ operation: () async throws -> Void) async throws -> Bool {
        try await operation()
        return executor.isCurrent
    }

    /// Awaits `operation`, which is cancelled meanwhile, and reports how it ended and
    /// whether the code after it ran on the actor's executor.
    func resumesHereAfterCancellation(_ operation: () async throws -> Void) async -> (error: (any Error)?, onActor: Bool) {
        do { try await operation() } catch { return (error, executor.isCurrent) }
        return (nil, executor.isCurrent)
    }
}

/// Awaited commands suspend in the forms of Swift's primitives that inherit the caller's
/// executor (`RedisConnection+Perform.swift` says why): the caller's code after the await
/// must still run where it did before, on its actor, or on the reactor its task prefers,
/// whether the command was answered or cancelled.
@Suite("Awaited commands resume on the caller's executor", .timeLimit(.minutes(2)))
struct ReplySuspensionTests {
    @Test(arguments: ["send", "removing", "pipeline", "transaction", "dedicated", "typed"])
    func anActorResumesOnItsExecutor(_ path: String) async throws {
        try await withServer { server async throws in
            try await withClient(server) { client async throws in
                try await client.send("RPUSH", "list", "a", "b", "c")
                let actor = QueueActor()
                for _ in 0..<50 {
                    let onActor = try await actor.resumesHere {
                        switch path {
                        case "send": _ = try await client.send("SET", "k", "v")
                        // Its reply is the only copy of what it removed: the path that
                        // waits for the reply whatever the task does.
                        case "removing": _ = try await client.send("LPOP", "list")
                        case "pipeline": _ = try await client.pipeline { $0.send("INCR", "n"); $0.send("GET", "n") }
                        case "transaction": _ = try await client.transaction { $0.send("INCR", "n") }
                        case "dedicated": try await client.withDedicatedConnection { _ = try await $0.send("PING") }
                        default: _ = try await client.rpush("typed", "x")
                        }
                    }
                    #expect(onActor, "\(path): the actor's code ran off its executor after the await")
                }
            }
        }
    }

    /// Cancelled while the command is on the server: `.cancelled` at once (the default
    /// policy), and the catch runs on the actor; a removing command's reply instead.
    @Test(arguments: ["send", "removing"])
    func aCancelledActorTaskResumesOnItsExecutor(_ path: String) async throws {
        try await withServer(.init(extraConfig: ["enable-debug-command yes"])) { server async throws in
            try await withClient(server) { client async throws in
                try await client.send("RPUSH", "list", "a")
                let actor = QueueActor()
                let ended = try await cancelledWhileOnTheServer(server) { () async throws -> (String, Bool) in
                    let (error, onActor) = await actor.resumesHereAfterCancellation {
                        if path == "send" { _ = try await client.send("SET", "k", "v") } else { _ = try await client.send("LPOP", "list") }
                    }
                    return (error.map { "\($0)" } ?? "answered", onActor)
                }
                let (outcome, onActor) = try ended.get()
                #expect(outcome == (path == "send" ? "\(RedisError.cancelled)" : "answered"), "\(path): \(outcome)")
                #expect(onActor, "\(path): the catch ran off the actor's executor")
            }
        }
    }

    /// The same through the client's own reactors (``RedisClient/reactors``, no group
    /// given), and a task preferring one of them after `close()` stopped them still runs.
    @Test func aTaskPreferringTheClientsOwnReactorStaysOnIt() async throws {
        try await withServer { server async throws in
            let client = try RedisClient(.tcp(host: server.host, port: server.port))
            let reactors = client.reactors
            #expect(reactors.count == ReactorGroup.activeProcessorCount)
            // They are the ones its connections run on: a callback completes on one.
            let completedOn = await withCheckedContinuation { (done: CheckedContinuation<ObjectIdentifier?, Never>) in
                client.send("PING") { _ in done.resume(returning: Reactor.currentIdentifier) }
            }
            #expect(completedOn != nil && reactors.contains { ObjectIdentifier($0) == completedOn }, "a reply completed off the client's reactors")
            let reactor = try #require(reactors.last)
            #expect(try await Self.staysOn(reactor, awaiting: client), "a task preferring the client's reactor ran elsewhere after an await")
            await client.close()
            let ranAfterClose = await Task(executorPreference: reactor) { Reactor.current == nil }.value
            #expect(ranAfterClose, "a task preferring a stopped reactor did not run on the global executor")
        }
    }

    /// A task preferring one of the client's reactors stays on that reactor's thread
    /// across its commands, where the reply resumes it without a thread hop.
    @Test func aTaskPreferringAReactorStaysOnIt() async throws {
        try await withServer { server async throws in
            let group = try ReactorGroup(count: 2)
            defer { group.shutdown() }
            let client = try RedisClient(.tcp(host: server.host, port: server.port), group: group)
            #expect(try await Self.staysOn(group.reactors[1], awaiting: client), "a task preferring a reactor ran elsewhere after an await")
            await client.close()
        }
    }

    /// Whether a task preferring `reactor` is on its thread after each of 200 awaited
    /// commands of `client` (and 100 empty pops among them: a reply that removes).
    static func staysOn(_ reactor: Reactor, awaiting client: RedisClient) async throws -> Bool {
        try await Task(executorPreference: reactor) {
            var stayed = true
            for index in 0..<200 {
                _ = try await client.send("INCR", "n")
                if index.isMultiple(of: 2) { _ = try await client.send("LPOP", "none") }
                stayed = stayed && Reactor.current === reactor
            }
            return stayed
        }.value
    }
}
