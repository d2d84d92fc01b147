import COpenSSL

/// One OpenSSL `SSL_CTX` made from a ``RedisTLSConfiguration``: the trust roots, the
/// client certificate and the protocol floor, read once when the client is made, so
/// that a missing CA file or a wrong passphrase fails `RedisClient.init`, not the first
/// command. Every connection of the client makes its session from it.
///
/// Sendable: the context is configured completely in `init` and never changed after;
/// OpenSSL documents an `SSL_CTX` as safe to share between threads for `SSL_new` once
/// set up (its reference count and session cache are locked inside).
final class TLSContext: Sendable {
    nonisolated(unsafe) let context: OpaquePointer
    let configuration: RedisTLSConfiguration

    /// Reads the files `configuration` names; `endpoint` only labels the error.
    init(_ configuration: RedisTLSConfiguration, endpoint: String) throws(RedisError) {
        func failure(_ what: String) -> RedisError {
            .tlsFailed(endpoint: endpoint, reason: "\(what): \(OpenSSLError.drainedReason())")
        }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else { throw failure("cannot create a TLS context") }
        self.context = context
        self.configuration = configuration
        let floor = configuration.minimumVersion == .tls13 ? TLS1_3_VERSION : TLS1_2_VERSION
        guard copenssl_ctx_set_min_proto_version(context, floor) == 1 else { throw failure("cannot set the minimum TLS version") }
        // Partial writes and a moving buffer: the outbound queue retries a write that
        // wanted the socket with the same unsent bytes, perhaps moved and grown.
        _ = copenssl_ctx_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // Read whole socket buffers, not one record header at a time: fewer recv calls.
        _ = copenssl_ctx_set_read_ahead(context, 1)
        // A server killed without close_notify is a closed connection, as in plaintext,
        // not an "unexpected eof" protocol error.
        SSL_CTX_set_options(context, copenssl_option_ignore_unexpected_eof())

        switch configuration.verification {
        case .full: SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        case .insecureNoVerification: SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }
        switch configuration.trustRoots {
        case .system:
            guard SSL_CTX_set_default_verify_paths(context) == 1 else { throw failure("cannot load the system's trusted certificates") }
        case .caFile(let path):
            guard SSL_CTX_load_verify_locations(context, path, nil) == 1 else { throw failure("cannot load the CA file \(path)") }
        case .caDirectory(let path):
            guard SSL_CTX_load_verify_locations(context, nil, path) == 1 else { throw failure("cannot use the CA directory \(path)") }
        }
        if let certificate = configuration.clientCertificate {
            guard SSL_CTX_use_certificate_chain_file(context, certificate.certificateFile) == 1 else {
                throw failure("cannot load the client certificate \(certificate.certificateFile)")
            }
            let key = try Self.privateKey(certificate, failure: failure)
            defer { EVP_PKEY_free(key) }
            guard SSL_CTX_use_PrivateKey(context, key) == 1 else { throw failure("cannot use the client key \(certificate.keyFile)") }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw failure("the client key \(certificate.keyFile) does not match the certificate \(certificate.certificateFile)")
            }
        }
    }

    deinit {
        SSL_CTX_free(context)
    }

    /// Reads the PEM key, decrypting it with the passphrase (which OpenSSL takes as the
    /// callback argument when no callback is given); the passphrase stays out of errors.
    private static func privateKey(
        _ certificate: RedisTLSConfiguration.ClientCertificate, failure: (String) -> RedisError
    ) throws(RedisError) -> OpaquePointer {
        guard let file = BIO_new_file(certificate.keyFile, "r") else { throw failure("cannot open the client key \(certificate.keyFile)") }
        defer { BIO_free(file) }
        // An empty passphrase, not none: without one OpenSSL would prompt on the terminal.
        let key = (certificate.keyPassphrase ?? "").withCString { passphrase in
            PEM_read_bio_PrivateKey(file, nil, nil, UnsafeMutableRawPointer(mutating: passphrase))
        }
        guard let key else {
            throw failure("cannot read the client key \(certificate.keyFile)" + (certificate.keyPassphrase == nil ? " (encrypted, and no keyPassphrase given?)" : " (wrong keyPassphrase?)"))
        }
        return key
    }
}

/// OpenSSL's error queue, in words.
enum OpenSSLError {
    /// The reasons queued on this thread, oldest first, joined; the queue is left empty.
    static func drainedReason() -> String {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let reason = ERR_reason_error_string(code) {
                reasons.append(String(cString: reason))
            } else {
                var buffer = [CChar](repeating: 0, count: 256)
                ERR_error_string_n(code, &buffer, buffer.count)
                reasons.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
            }
        }
        return reasons.isEmpty ? "no reason given by OpenSSL" : reasons.joined(separator: "; ")
    }
}
