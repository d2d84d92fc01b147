import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import Reactor
@testable import RedisUtil
import RESP
import Synchronization
import Testing
import TestSupport

/// ``CommandScratch``: a reactor thread's reusable encoding buffer, which no holder of
/// earlier bytes can ever see reused.
@Suite("The callback facade's reusable command buffer")
struct CommandScratchTests {
    /// Runs `body` on a reactor thread and returns what it returns.
    private func onReactor<T: Sendable>(_ reactor: Reactor, _ body: @escaping @Sendable () -> T) -> T {
        let result = Locked<T?>(nil)
        let done = DispatchSemaphore(value: 0)
        reactor.execute {
            let value = body()
            result.withLock { $0 = value }
            done.signal()
        }
        done.wait()
        return result.withLock { $0! }
    }

    @Test("on a reactor thread the buffer's storage is reused while nothing holds it, and each command written over the last is exact")
    func reusedOnAReactor() throws {
        let reactor = try Reactor(name: "scratch")
        try reactor.start()
        defer { reactor.shutdown() }
        // The longest first: the buffer grows once, for it, and every later one fits.
        let commands: [[String]] = [["ECHO", "the longest command, first"], ["PING"], ["ECHO", "b"], ["RPUSH", "key", "value"], ["PING"]]
        let (sent, storages) = onReactor(reactor) { () -> ([[UInt8]], [UInt]) in
            var sent: [[UInt8]] = [], storages: [UInt] = []
            for words in commands {
                CommandScratch.encode({ RESPEncoder.encodeCommand(into: &$0, placement: .overwriting, arguments: words) }, then: { bytes in
                    // A copy of the bytes, not of the array: holding it would make the next command copy it.
                    sent.append(bytes.withUnsafeBufferPointer { Array($0) })
                    storages.append(bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) })
                })
            }
            return (sent, storages)
        }
        #expect(sent == commands.map { words in
            var bytes: [UInt8] = []
            RESPEncoder.encodeCommand(into: &bytes, arguments: words)
            return bytes
        })
        #expect(Set(storages).count == 1, "the storage was not reused: \(storages)")
    }

    /// An encoding that writes `text` over what the buffer holds, as the facade's do.
    private func overwriting(_ text: String) -> (inout [UInt8]) -> Void {
        { buffer in RESPWriter.append(count: text.utf8.count, to: &buffer, placement: .overwriting) { $0.write(contentsOf: Array(text.utf8)) } }
    }

    @Test("bytes a holder keeps are never changed by the next command's encoding, nor by a command encoded while they are used")
    func aHolderKeepsItsBytes() throws {
        let reactor = try Reactor(name: "scratch")
        try reactor.start()
        defer { reactor.shutdown() }
        let (held, inner, next) = onReactor(reactor) { () -> ([UInt8], [UInt8], [UInt8]) in
            var held: [UInt8] = [], inner: [UInt8] = [], next: [UInt8] = []
            CommandScratch.encode(overwriting("first"), then: { bytes in
                held = bytes
                // Sent from inside the first's use: encoded into a buffer of its own.
                CommandScratch.encode(overwriting("inner"), then: { inner = $0 })
                #expect(bytes == Array("first".utf8))
            })
            CommandScratch.encode(overwriting("second"), then: { next = $0 })
            return (held, inner, next)
        }
        #expect(held == Array("first".utf8))
        #expect(inner == Array("inner".utf8))
        #expect(next == Array("second".utf8))
    }

    @Test("a buffer grown by a large command is not kept; other threads get a buffer of their own each time")
    func largeBuffersAndOtherThreads() throws {
        let reactor = try Reactor(name: "scratch")
        try reactor.start()
        defer { reactor.shutdown() }
        let capacityAfterLarge = onReactor(reactor) { () -> Int in
            CommandScratch.encode({ $0.append(contentsOf: [UInt8](repeating: 7, count: CommandScratch.keptCapacity * 2)) }, then: { _ in })
            var capacity = -1
            CommandScratch.encode({ capacity = $0.capacity }, then: { _ in })
            return capacity
        }
        #expect(capacityAfterLarge < CommandScratch.keptCapacity)

        // This thread is no reactor's: nothing is kept between calls.
        var capacities: [Int] = []
        for _ in 0..<2 {
            CommandScratch.encode({ bytes in
                capacities.append(bytes.capacity)
                bytes.append(contentsOf: Array("PING".utf8))
            }, then: { _ in })
        }
        #expect(capacities == [0, 0])
    }

    @Test("a throwing use of the buffer (a channel's send) reuses it, gives it back when it throws, and a use inside it gets another")
    func withBufferReusesAndGivesBackOnThrow() throws {
        struct Refused: Error {}
        let reactor = try Reactor(name: "scratch")
        try reactor.start()
        defer { reactor.shutdown() }
        let (storages, inner, threw) = onReactor(reactor) { () -> ([UInt], [UInt8], Bool) in
            var storages: [UInt] = [], inner: [UInt8] = [], threw = false
            let storage = { (bytes: [UInt8]) in bytes.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) } }
            CommandScratch.withBuffer { (bytes: inout [UInt8]) in
                overwriting("the first and longest")(&bytes)
                storages.append(storage(bytes))
                CommandScratch.withBuffer { (other: inout [UInt8]) in
                    overwriting("inner")(&other)
                    inner = other.withUnsafeBufferPointer { Array($0) }
                }
                #expect(bytes == Array("the first and longest".utf8))
            }
            do {
                try CommandScratch.withBuffer { (bytes: inout [UInt8]) throws(Refused) in
                    overwriting("second")(&bytes)
                    storages.append(storage(bytes))
                    throw Refused()
                }
            } catch {
                threw = true
            }
            CommandScratch.withBuffer { (bytes: inout [UInt8]) in
                overwriting("third")(&bytes)
                storages.append(storage(bytes))
            }
            return (storages, inner, threw)
        }
        #expect(threw)
        #expect(inner == Array("inner".utf8))
        #expect(Set(storages).count == 1, "the storage was not reused: \(storages)")
    }

    @Test("an answered command's buffer becomes the reactor thread's spare, written over by the next command that keeps its bytes")
    func answeredBufferIsTheNextSpare() throws {
        let reactor = try Reactor(name: "scratch")
        try reactor.start()
        defer { reactor.shutdown() }
        let (recycledStorage, first, firstStorage, second) = onReactor(reactor) { () -> (UInt, [UInt8], UInt, [UInt8]) in
            let answered = Array("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n".utf8)
            let storage = answered.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }
            CommandScratch.recycle(consume answered)
            var first = CommandScratch.spareBuffer()
            RESPEncoder.encodeCommand(into: &first, placement: .overwriting, "PING")
            return (storage, first, first.withUnsafeBufferPointer { UInt(bitPattern: $0.baseAddress) }, CommandScratch.spareBuffer())
        }
        #expect(first == Array("*1\r\n$4\r\nPING\r\n".utf8))
        #expect(firstStorage == recycledStorage, "the answered command's storage was not reused")
        // One spare, taken once: the next command gets a new buffer.
        #expect(second.capacity == 0)
    }

    @Test("a recycled buffer that something else still holds keeps that holder's bytes; a full spare, a large buffer and other threads keep nothing more")
    func recycledBuffersNeverChangeAHoldersBytes() throws {
        let reactor = try Reactor(name: "scratch")
        try reactor.start()
        defer { reactor.shutdown() }
        let (held, reused, keptCapacity, largeKept) = onReactor(reactor) { () -> ([UInt8], [UInt8], Int, Int) in
            let held = Array("held".utf8)
            CommandScratch.recycle(held)
            var reused = CommandScratch.spareBuffer()
            RESPWriter.append(count: 4, to: &reused, placement: .overwriting) { $0.write(contentsOf: Array("next".utf8)) }
            // The spare is full: a second answered buffer is dropped, not swapped in.
            CommandScratch.recycle([UInt8](repeating: 1, count: 100))
            CommandScratch.recycle([UInt8](repeating: 2, count: 300))
            let keptCapacity = CommandScratch.spareBuffer().capacity
            CommandScratch.recycle([UInt8](repeating: 3, count: CommandScratch.keptCapacity * 2))
            return (held, reused, keptCapacity, CommandScratch.spareBuffer().capacity)
        }
        #expect(held == Array("held".utf8))
        #expect(reused == Array("next".utf8))
        #expect(keptCapacity >= 100 && keptCapacity < 300, "capacity \(keptCapacity)")
        #expect(largeKept == 0)

        // This thread is no reactor's: nothing is kept.
        CommandScratch.recycle([UInt8](repeating: 4, count: 100))
        #expect(CommandScratch.spareBuffer().capacity == 0)
    }

    @Test("an awaited command from a task preferring a reactor gives its buffer back as that reactor's spare")
    func awaitedCommandsRecycleTheirBuffer() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(connections: 1)) { client async throws in
                let reactor = client.reactors[0]
                let (spares, replies) = try await Task(executorPreference: reactor) { () async throws -> ([Int], [String?]) in
                    var spares: [Int] = [], replies: [String?] = []
                    for index in 0..<3 {
                        // Sizes that differ, so that each command writes over a longer or shorter one.
                        replies.append(try await client.send("ECHO", String(repeating: "e", count: 40 - index * 15)).string)
                        guard Reactor.current === reactor else { return ([], []) }
                        // What the next command would take: the buffer just given back.
                        let spare = CommandScratch.spareBuffer()
                        spares.append(spare.capacity)
                        CommandScratch.recycle(spare)
                    }
                    return (spares, replies)
                }.value
                #expect(replies == [40, 25, 10].map { String(repeating: "e", count: $0) })
                #expect(spares.count == 3 && spares.allSatisfy { $0 > 0 }, "no buffer came back: \(spares)")
            }
        }
    }

    /// A message of the plain `Codable` path.
    private struct Job: Codable, Equatable, Sendable {
        var id: Int
        var text: String
    }

    @Test("an awaited channel send and receive from a task preferring a reactor give their buffers back as that reactor's spare, and the messages arrive exact")
    func awaitedChannelOperationsRecycleTheirBuffers() async throws {
        try await withServer { server async throws in
            try await withClient(server, configuration: .init(connections: 1)) { client async throws in
                let reactor = client.reactors[0]
                let sender = RedisChannel(client: client, "/scratch/jobs", peer: .client)
                let receiver = RedisChannel(client: client, "/scratch/jobs", peer: .server)
                let sent = (0..<3).map { Job(id: $0, text: String(repeating: "j", count: 40 - $0 * 15)) }
                let (spares, received) = try await Task(executorPreference: reactor) { () async throws -> ([Int], [Job?]) in
                    var spares: [Int] = [], received: [Job?] = []
                    // What the next command would take: the buffer just given back.
                    func spareAfter() -> Int? {
                        guard Reactor.current === reactor else { return nil }
                        let spare = CommandScratch.spareBuffer()
                        defer { CommandScratch.recycle(spare) }
                        return spare.capacity
                    }
                    for job in sent {
                        try await sender.send(job)
                        spares.append(spareAfter() ?? -1)
                        try await sender.send(JSONValue.object(["id": .number(Double(job.id)), "text": .string(job.text)]))
                        spares.append(spareAfter() ?? -1)
                    }
                    for _ in 0..<(sent.count * 2) {
                        received.append(try await receiver.recv(as: Job.self))
                        spares.append(spareAfter() ?? -1)
                    }
                    return (spares, received)
                }.value
                #expect(received == sent.flatMap { [$0, $0] })
                #expect(spares.count == 12 && spares.allSatisfy { $0 > 0 }, "no buffer came back: \(spares)")
            }
        }
    }

    @Test("a thread that is no reactor's is marked once, keeps nothing, and ends cleanly")
    func otherThreadsAreMarkedAndEndCleanly() {
        // On a thread of its own, joined: the key's destructor has run (and would have
        // released the marker as a box) by the time `pthread_join` returns.
        var thread = pthread_t()
        let created = pthread_create(&thread, nil, { _ in
            for _ in 0..<3 {
                CommandScratch.recycle([UInt8](repeating: 1, count: 64))
                precondition(CommandScratch.spareBuffer().capacity == 0, "a thread that is no reactor's kept a spare")
                CommandScratch.encode({ $0.append(2) }, then: { _ in })
            }
            return nil
        }, nil)
        #expect(created == 0)
        #expect(pthread_join(thread, nil) == 0)
    }

    @Test("commands sent from a completion, to a connection of the same reactor and of another, all carry their own bytes")
    func sentFromCompletions() async throws {
        try await withServer { server async throws in
            // Two clients, each with its own reactor: from the first's completions (on its
            // reactor), the second's commands wait in its connection's inbox, holding the
            // buffer the next command encodes into.
            try await withClient(server, configuration: .init(connections: 1)) { local async throws in
                try await withClient(server, configuration: .init(connections: 1)) { remote async throws in
                    try await local.ping()
                    try await remote.ping()
                    let count = 500
                    let wrong = Locked<[String]>([])
                    let remaining = Atomic<Int>(count * 2)
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        local.send("PING") { _ in
                            for index in 0..<count {
                                // Sizes around the kept capacity, so that some buffers are dropped.
                                let payload = String(repeating: "x", count: index * 17 % 6000) + "#\(index)"
                                for (name, client) in [("local", local), ("remote", remote)] {
                                    client.send("ECHO", payload) { result in
                                        if (try? result.get().string) != payload { wrong.withLock { $0.append("\(name) \(index)") } }
                                        if remaining.subtract(1, ordering: .acquiringAndReleasing).newValue == 0 { done.resume() }
                                    }
                                }
                            }
                        }
                    }
                    #expect(wrong.withLock { $0 } == [])
                }
            }
        }
    }
}
