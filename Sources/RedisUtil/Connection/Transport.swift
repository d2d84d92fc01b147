import Reactor
import SystemCall

/// How a connection's bytes move on its socket: a plain socket (``PlainTransport``) or
/// TLS on the same non-blocking socket (``TLSTransport``). The connection drives it and never
/// asks which kind it has.
///
/// The contract carries what a TLS stack needs from the shell: its own handshake after
/// the TCP connect, which may want the socket readable or writable
/// (``TransportStep/wants(_:)``); reads and writes that would block waiting for either
/// direction (``IOResult/wouldBlock(waitingFor:)``: a TLS write may need to read first);
/// and input already taken off the socket but not yet returned (``hasBufferedInput``),
/// which no readiness event will announce.
///
/// A transport belongs to its connection's reactor thread.
protocol Transport: AnyObject {
    /// The socket the reactor watches.
    var descriptor: Int32 { get }

    /// Advances the connect: the TCP connect's outcome, then the transport's own
    /// handshake, as far as the socket allows without blocking. Call it when the socket
    /// reports the readiness the last step wanted.
    func connectStep() -> TransportStep

    /// Reads into `buffer`.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> IOResult

    /// Writes from `bytes` (as many as it takes: over TLS at most a bounded share); one
    /// call per coalesced batch, again for what is left while bytes go through.
    func send(_ bytes: UnsafeRawBufferPointer) -> IOResult

    /// How many bytes, from the first, of the last write that did not go through the
    /// transport may have taken in already, so that the next write must offer them again,
    /// unchanged: a command among them may reach the server (``OutboundQueue/dropUnwanted(held:)``
    /// keeps it). 0 after a write that went through, and for a plain socket, whose
    /// kernel takes bytes only when it says so.
    var heldForRetry: Int { get }

    /// Whether input is buffered inside the transport (decrypted TLS records): read it
    /// before waiting for the socket.
    var hasBufferedInput: Bool { get }

    /// Ends the session (a TLS `close_notify`, best effort) and closes the socket. Once.
    func close()
}

/// Where a connect stands.
enum TransportStep: Equatable {
    /// Connected, with the transport's handshake done: the Redis handshake may start.
    case done
    /// Call ``Transport/connectStep()`` again once the socket is ready for this.
    case wants(FDWatcher.Interest)
    /// The connect failed; try the next address, or count a failed attempt.
    case failed(String)
    /// The transport's handshake was refused (a certificate that does not verify, a
    /// protocol mismatch): another attempt would end the same way, so what is queued
    /// fails now with this reason.
    case refused(String)
}

/// A plain TCP or Unix socket: the kernel moves the bytes as they are.
final class PlainTransport: Transport {
    let descriptor: Int32
    /// Whether the kernel has yet to say how the connect went.
    private var connectPending: Bool
    private var closed = false

    /// A transport on `descriptor`, whose non-blocking connect is still `inProgress` or done.
    init(descriptor: Int32, inProgress: Bool) {
        self.descriptor = descriptor
        connectPending = inProgress
    }

    func connectStep() -> TransportStep {
        guard connectPending else { return .done }
        let code = Socket.connectResult(descriptor)
        guard code == 0 else { return .failed(errnoDescription(code)) }
        connectPending = false
        return .done
    }

    func receive(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        Socket.receive(descriptor, into: buffer)
    }

    func send(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        Socket.send(descriptor, bytes)
    }

    var heldForRetry: Int { 0 }

    var hasBufferedInput: Bool { false }

    func close() {
        guard !closed else { return }
        closed = true
        Socket.close(descriptor)
    }
}
