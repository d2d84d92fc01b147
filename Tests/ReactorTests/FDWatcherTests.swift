import Foundation
import Reactor
import Testing

/// Two ends of a non-blocking Unix stream socketpair.
func nonBlockingSocketPair() throws -> (Int32, Int32) {
    var fds: [Int32] = [0, 0]
    guard socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
        throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO)
    }
    for fd in fds { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
    return (fds[0], fds[1])
}

/// The echo test's stream: byte `i` is `pattern[i % patternPeriod]`, with a prime
/// period so that no buffer or chunk size lines up with it.
let patternPeriod = 65_521
let chunkSize = 64 * 1024
let pattern: [UInt8] = (0..<(patternPeriod + 256 * 1024)).map { UInt8(truncatingIfNeeded: $0 % patternPeriod &* 131 &+ $0 % patternPeriod >> 7) }

/// Drives a socketpair echo entirely from readiness callbacks on the reactor thread.
final class EchoRig {
    let total: Int
    let sender: Int32, echoer: Int32
    var sent = 0, received = 0, mismatches = 0
    var echoBuffer: [UInt8] = []
    var senderWatcher: FDWatcher!
    var echoWatcher: FDWatcher!
    let done: CheckedContinuation<(received: Int, mismatches: Int), Never>
    var scratch = [UInt8](repeating: 0, count: 256 * 1024)

    init(reactor: Reactor, total: Int, pair: (Int32, Int32), done: CheckedContinuation<(received: Int, mismatches: Int), Never>) {
        self.total = total
        (sender, echoer) = pair
        self.done = done
        senderWatcher = reactor.watch(fd: sender, interest: [.read, .write],
                                      onReadable: { [self] in senderReadable() },
                                      onWritable: { [self] in senderWritable() })
        echoWatcher = reactor.watch(fd: echoer, interest: .read,
                                    onReadable: { [self] in echoReadable() },
                                    onWritable: { [self] in echoWritable() })
    }

    func senderWritable() {
        let chunk = min(chunkSize, total - sent)
        let start = sent % patternPeriod
        let wrote = pattern.withUnsafeBytes { write(sender, $0.baseAddress! + start, chunk) }
        if wrote > 0 { sent += wrote }
        if sent == total { senderWatcher.setInterest(.read) }
    }

    func senderReadable() {
        let count = scratch.withUnsafeMutableBytes { read(sender, $0.baseAddress, $0.count) }
        guard count > 0 else { return }
        let start = received % patternPeriod
        let equal = scratch.withUnsafeBytes { got in
            pattern.withUnsafeBytes { memcmp(got.baseAddress!, $0.baseAddress! + start, count) == 0 }
        }
        if !equal { mismatches += 1 }
        received += count
        if received == total {
            senderWatcher.cancel()
            echoWatcher.cancel()
            close(sender)
            close(echoer)
            done.resume(returning: (received, mismatches))
        }
    }

    func echoReadable() {
        let count = scratch.withUnsafeMutableBytes { read(echoer, $0.baseAddress, $0.count) }
        guard count > 0 else { return }
        // Echo straight from the read buffer; only what the socket refuses is kept.
        let wrote = echoBuffer.isEmpty ? max(0, scratch.withUnsafeBytes { write(echoer, $0.baseAddress, count) }) : 0
        if wrote < count { echoBuffer.append(contentsOf: scratch[wrote..<count]) }
        echoWatcher.setInterest(echoBuffer.isEmpty ? .read : [.read, .write])
    }

    func echoWritable() {
        let wrote = echoBuffer.withUnsafeBytes { write(echoer, $0.baseAddress, $0.count) }
        if wrote > 0 { echoBuffer.removeFirst(wrote) }
        echoWatcher.setInterest(echoBuffer.isEmpty ? .read : [.read, .write])
    }
}

@Suite("FDWatcher")
struct FDWatcherTests {
    @Test("a socketpair echo driven by readiness callbacks moves 64 MiB intact")
    func echo64MiB() async throws {
        let total = 64 * 1024 * 1024
        let pair = try nonBlockingSocketPair()
        try await withReactor { reactor in
            let result = await withCheckedContinuation { continuation in
                reactor.execute {
                    // The watchers' callbacks hold the rig until it cancels them at the end.
                    _ = EchoRig(reactor: reactor, total: total, pair: pair, done: continuation)
                }
            }
            #expect(result.received == total)
            #expect(result.mismatches == 0)
        }
    }

    @Test("interest changes take effect; a cancelled watcher gets no more callbacks")
    func interestChanges() async throws {
        let (a, b) = try nonBlockingSocketPair()
        defer { close(a); close(b) }
        try await withReactor { reactor in
            final class Box: @unchecked Sendable { var watcher: FDWatcher? ; var reads = 0 }
            let box = Box()
            _ = "x".withCString { write(b, $0, 1) }
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                reactor.execute {
                    // No read interest: the pending byte must not be reported.
                    box.watcher = reactor.watch(fd: a, interest: [], onReadable: { box.reads += 1 })
                    reactor.schedule(after: .milliseconds(20)) { done.resume() }
                }
            }
            let readsWithoutInterest = await withCheckedContinuation { c in reactor.execute { c.resume(returning: box.reads) } }
            #expect(readsWithoutInterest == 0)
            await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                reactor.execute {
                    box.watcher!.setInterest(.read)
                    #expect(box.watcher!.interest == .read)
                    reactor.schedule(after: .milliseconds(20)) {
                        // Level-triggered and never drained: several callbacks by now.
                        box.watcher!.cancel()
                        box.watcher!.cancel()
                        done.resume()
                    }
                }
            }
            let readsAtCancel = await withCheckedContinuation { c in reactor.execute { c.resume(returning: box.reads) } }
            #expect(readsAtCancel > 0)
            try await Task.sleep(for: .milliseconds(20))
            let readsLater = await withCheckedContinuation { c in reactor.execute { c.resume(returning: box.reads) } }
            #expect(readsLater == readsAtCancel)
        }
    }
}
