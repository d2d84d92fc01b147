#if canImport(Glibc)
import Glibc
#endif
@testable import RedisUtil
import Testing

/// The plain transport over a connected pair of non-blocking Unix sockets: what moves,
/// what would block and in which direction, end of file, and a single close.
@Suite struct PlainTransportTests {
    /// Two connected non-blocking stream sockets.
    static func pair() throws -> (Int32, Int32) {
        var fds: [Int32] = [-1, -1]
        let result = socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds)
        try #require(result == 0, "socketpair: errno \(errno)")
        return (fds[0], fds[1])
    }

    @Test func bytesMoveBothWaysAndEmptyReadsWaitForReadable() throws {
        let (a, b) = try Self.pair()
        let left = PlainTransport(descriptor: a, inProgress: false)
        let right = PlainTransport(descriptor: b, inProgress: false)
        defer { left.close(); right.close() }
        #expect(left.connectStep() == .done)
        let message: [UInt8] = Array("*1\r\n$4\r\nPING\r\n".utf8)
        #expect(message.withUnsafeBytes { left.send($0) } == .transferred(message.count))
        var buffer = [UInt8](repeating: 0, count: 64)
        let received = buffer.withUnsafeMutableBytes { right.receive(into: $0) }
        #expect(received == .transferred(message.count))
        #expect(Array(buffer.prefix(message.count)) == message)
        #expect(buffer.withUnsafeMutableBytes { right.receive(into: $0) } == .wouldBlock(waitingFor: .read))
        #expect(!right.hasBufferedInput)
    }

    @Test func aFullSocketWaitsForWritable() throws {
        let (a, b) = try Self.pair()
        let left = PlainTransport(descriptor: a, inProgress: false)
        defer { left.close(); Socket.close(b) }
        let chunk = [UInt8](repeating: 0x61, count: 1 << 16)
        var last = IOResult.transferred(0)
        for _ in 0..<1000 {
            last = chunk.withUnsafeBytes { left.send($0) }
            if case .wouldBlock = last { break }
        }
        #expect(last == .wouldBlock(waitingFor: .write))
    }

    @Test func thePeerClosingIsEndOfFileAndCloseHappensOnce() throws {
        let (a, b) = try Self.pair()
        let left = PlainTransport(descriptor: a, inProgress: false)
        Socket.close(b)
        // The peer's end is closed when every copy of it is: a child that another test spawns
        // right now holds a copy from its fork until it closes its inherited descriptors, so
        // end of file is awaited (a poll), not assumed the instant after our close.
        var readiness = pollfd(fd: a, events: Int16(POLLIN), revents: 0)
        #expect(poll(&readiness, 1, 10_000) == 1, "end of file within 10 s")
        var buffer = [UInt8](repeating: 0, count: 16)
        #expect(buffer.withUnsafeMutableBytes { left.receive(into: $0) } == .endOfFile)
        let sent = [UInt8](repeating: 1, count: 4).withUnsafeBytes { left.send($0) }
        #expect(sent == .failed(EPIPE), "MSG_NOSIGNAL: an error, not SIGPIPE")
        // A second close must not close the number again: another thread may own it by now.
        left.close()
        left.close()
    }
}
