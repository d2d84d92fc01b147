import COpenSSL
import Glibc
import Reactor
import SystemCall

/// TLS on the connection's own non-blocking socket, as hiredis' `ssl.c` drives it:
/// OpenSSL reads and writes the socket through a small BIO of ours (`MSG_NOSIGNAL`,
/// EINTR retried), and every `WANT_READ` / `WANT_WRITE` becomes the interest the
/// connection sets on the reactor. One `SSL_write` per coalesced batch (of at most
/// ``maxWrite`` bytes), `SSL_read`
/// until it wants more (records already read but not yet returned are
/// ``hasBufferedInput``), `close_notify` on close.
///
/// Belongs to its connection's reactor thread, as every transport does.
final class TLSTransport: Transport {
    let descriptor: Int32
    private let session: OpaquePointer
    /// Whether the kernel has yet to say how the TCP connect went.
    private var connectPending: Bool
    private var closed = false
    /// See ``heldForRetry``.
    private(set) var heldForRetry = 0

    /// A session on `descriptor` (whose TCP connect may be `inProgress`) that will
    /// verify the server as `host` (an IP literal or a name) unless the configuration
    /// names another or turns verification off. Nil when OpenSSL cannot allocate one.
    init?(descriptor: Int32, inProgress: Bool, context: TLSContext, host: String?) {
        guard let method = SocketBIO.method, let session = SSL_new(context.context) else { return nil }
        guard let bio = copenssl_socket_bio(method, descriptor) else {
            SSL_free(session)
            return nil
        }
        // One BIO for both directions: SSL_set_bio takes the one reference.
        SSL_set_bio(session, bio, bio)
        SSL_set_connect_state(session)
        self.descriptor = descriptor
        self.session = session
        connectPending = inProgress
        Self.nameServer(session, configuration: context.configuration, host: host)
    }

    /// SNI and the identity to verify: a name is sent and checked as a DNS name; an IP
    /// address is checked against the certificate's IP addresses and not sent (SNI
    /// carries names only).
    private static func nameServer(_ session: OpaquePointer, configuration: RedisTLSConfiguration, host: String?) {
        guard let name = configuration.serverName ?? host, !name.isEmpty else { return }
        let verifies = configuration.verification == .full
        if isIPAddress(name) {
            if verifies { X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(session), name) }
            return
        }
        _ = copenssl_set_tlsext_host_name(session, name)
        if verifies { SSL_set1_host(session, name) }
    }

    private static func isIPAddress(_ text: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    deinit {
        close()
        SSL_free(session)
    }

    func connectStep() -> TransportStep {
        if connectPending {
            let code = Socket.connectResult(descriptor)
            guard code == 0 else { return .failed(errnoDescription(code)) }
            connectPending = false
        }
        ERR_clear_error()
        let result = SSL_connect(session)
        if result == 1 { return .done }
        switch outcome(of: result) {
        case .wouldBlock(let interest): return .wants(interest)
        case .endOfFile: return .failed("the server closed the connection during the TLS handshake (is this port serving TLS?)")
        case .failed(let code): return .failed("TLS handshake: \(errnoDescription(code))")
        case .broken(let reason): return .refused(reason)
        case .transferred: return .done
        }
    }

    // The reads and writes of an open session do not empty the thread's error queue
    // first, as the handshake does (and hiredis before every call): that costs about 840
    // instructions a call in OpenSSL 3, two per round trip. A call that succeeds never
    // consults the queue; one that fails is read by `outcome(afterFailed:)`.
    func receive(into buffer: UnsafeMutableRawBufferPointer) -> IOResult {
        let count = SSL_read(session, buffer.baseAddress, Int32(clamping: buffer.count))
        return count > 0 ? .transferred(Int(count)) : outcome(afterFailed: count)
    }

    /// A write that does not go through may have made the bytes into records already,
    /// some of them sent (OpenSSL reports none until the write is retried, with the same
    /// bytes: see ``TLSContext``), so all it was offered counts as held until one goes
    /// through; then every record it made has been sent. Each write is offered at most
    /// ``maxWrite`` bytes, which bounds what a stalled connection holds.
    func send(_ bytes: UnsafeRawBufferPointer) -> IOResult {
        let length = Int32(min(bytes.count, Self.maxWrite))
        let count = SSL_write(session, bytes.baseAddress, length)
        if count > 0 {
            heldForRetry = 0
            return .transferred(Int(count))
        }
        heldForRetry = max(heldForRetry, Int(length))
        return outcome(afterFailed: count)
    }

    /// The most one write is offered: sixteen records of 16 KB, more than OpenSSL
    /// encrypts at once (eight, multi-block) and than it returns after with partial
    /// writes on (one), so no throughput is lost to it.
    static let maxWrite = 16 * 16_384

    /// What a read or write that returned `result` means, when the queue was not emptied
    /// before it. `SSL_get_error` reports any error in the queue before it looks at the
    /// session, so an error left there by an earlier OpenSSL call on this thread (another
    /// connection's, the application's in a callback) would turn a call that only waits
    /// for the socket into a broken session. Such a call is recognised from the session
    /// itself (it stopped for the socket, which a call that failed never did), and the
    /// stale errors are dropped; any other failure is read as before, its reason whole.
    private func outcome(afterFailed result: Int32) -> IOResult {
        let callErrno = errno
        if ERR_peek_error() != 0 {
            switch copenssl_stopped_for_socket(session) {
            case 1:
                ERR_clear_error()
                return .wouldBlock(waitingFor: .read)
            case 2:
                ERR_clear_error()
                return .wouldBlock(waitingFor: .write)
            default:
                break
            }
        }
        errno = callErrno
        return outcome(of: result)
    }

    var hasBufferedInput: Bool {
        SSL_has_pending(session) == 1
    }

    func close() {
        guard !closed else { return }
        closed = true
        // One non-blocking close_notify, best effort: a server that is gone or slow does
        // not hold the close, and its answer is not awaited.
        if SSL_is_init_finished(session) == 1 {
            ERR_clear_error()
            _ = SSL_shutdown(session)
        }
        ERR_clear_error()
        Socket.close(descriptor)
    }

    /// What a failed `SSL_*` call (returning `result`) means for the connection.
    private func outcome(of result: Int32) -> IOResult {
        let code = SSL_get_error(session, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wouldBlock(waitingFor: .read)
        case SSL_ERROR_WANT_WRITE: return .wouldBlock(waitingFor: .write)
        case SSL_ERROR_ZERO_RETURN: return .endOfFile
        case SSL_ERROR_SYSCALL:
            let error = errno
            ERR_clear_error()
            return error == 0 || error == ECONNRESET || error == EPIPE ? .endOfFile : .failed(error)
        default:
            return .broken(reason())
        }
    }

    /// OpenSSL's reason for a failed handshake or record, in words: the certificate
    /// check's own verdict when that is what failed ("certificate has expired",
    /// "hostname mismatch"), with a hint where the usual cause is a plaintext port.
    private func reason() -> String {
        let verdict = SSL_get_verify_result(session)
        var text = OpenSSLError.drainedReason()
        if verdict != X509_V_OK, let words = X509_verify_cert_error_string(verdict) {
            text += ": " + String(cString: words)
        }
        if text.contains("wrong version number") || text.contains("packet length too long") || text.contains("record layer failure") {
            text += " (the server does not seem to speak TLS on this port)"
        }
        return text
    }
}

/// The one BIO method of the process (made by the C shim: `copenssl_make_socket_bio_method`).
private enum SocketBIO {
    /// Made once, never freed, never changed: every session's BIO reads it. Nil only
    /// when OpenSSL could not allocate it (out of memory).
    nonisolated(unsafe) static let method: OpaquePointer? = copenssl_make_socket_bio_method()
}
