import COpenSSL
import Synchronization

/// Throw-away certificates for TLS test servers, made with OpenSSL's API (no `openssl`
/// process): EC P-256 keys, a CA made once per process (and an unrelated second one),
/// and per server a server certificate and a client certificate signed by the first.
///
/// Every OpenSSL handle lives in this file. All the work happens under one lock, so the
/// CAs' keys are never used by two threads at once.
enum TestCertificateAuthority {
    /// The passphrase of every encrypted client key: test material, not a secret.
    static let passphrase = "redisutil-test-passphrase"

    /// A key and the certificate for it, freed together.
    private final class Issued {
        let key: OpaquePointer
        let certificate: OpaquePointer
        init(key: OpaquePointer, certificate: OpaquePointer) {
            self.key = key
            self.certificate = certificate
        }
        deinit {
            X509_free(certificate)
            EVP_PKEY_free(key)
        }
    }

    private struct Authorities {
        var ca: Issued
        var other: Issued
        var serial: Int = 1
    }

    private static let authorities = Mutex<Authorities?>(nil)

    /// Writes the files for `options` into `directory`.
    static func write(_ options: LocalRedisServer.TLSOptions, into directory: String) throws(LocalRedisError) -> LocalRedisServer.TLSFiles {
        let files = LocalRedisServer.TLSFiles(
            caCertificate: "\(directory)/ca.crt", serverCertificate: "\(directory)/server.crt", serverKey: "\(directory)/server.key",
            clientCertificate: "\(directory)/client.crt", clientKey: "\(directory)/client.key",
            encryptedClientKey: "\(directory)/client-encrypted.key", clientKeyPassphrase: passphrase,
            otherCACertificate: "\(directory)/other-ca.crt")
        let failure: LocalRedisError? = authorities.withLock { state in
            do throws(LocalRedisError) {
                if state == nil {
                    state = Authorities(ca: try authority(named: "RedisUtil test CA"), other: try authority(named: "RedisUtil unrelated CA"))
                }
                let ca = state!.ca
                let day = 86_400
                let (validFrom, validTo) = options.serverCertificate == .expired ? (-2 * day, -day) : (-3600, 30 * day)
                let names: String = switch options.serverCertificate {
                case .valid, .expired: "DNS:localhost,IP:127.0.0.1,IP:::1"
                case .forHost(let host): "DNS:\(host)"
                }
                state!.serial += 1
                let server = try issue(commonName: "localhost", serial: state!.serial, by: ca, validFrom: validFrom, validTo: validTo, extensions: [
                    (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                    (NID_ext_key_usage, "serverAuth"), (NID_subject_alt_name, names),
                ])
                state!.serial += 1
                let client = try issue(commonName: "redisutil-test-client", serial: state!.serial, by: ca, validFrom: -3600, validTo: 30 * day, extensions: [
                    (NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                    (NID_ext_key_usage, "clientAuth"),
                ])
                try writePEM(to: files.caCertificate) { PEM_write_bio_X509($0, ca.certificate) }
                try writePEM(to: files.otherCACertificate) { PEM_write_bio_X509($0, state!.other.certificate) }
                try writePEM(to: files.serverCertificate) { PEM_write_bio_X509($0, server.certificate) }
                try writePEM(to: files.serverKey) { PEM_write_bio_PrivateKey($0, server.key, nil, nil, 0, nil, nil) }
                try writePEM(to: files.clientCertificate) { PEM_write_bio_X509($0, client.certificate) }
                try writePEM(to: files.clientKey) { PEM_write_bio_PrivateKey($0, client.key, nil, nil, 0, nil, nil) }
                try writePEM(to: files.encryptedClientKey) { bio in
                    passphrase.withCString { phrase in
                        PEM_write_bio_PKCS8PrivateKey(bio, client.key, EVP_aes_256_cbc(), phrase, Int32(passphrase.utf8.count), nil, nil)
                    }
                }
                return nil
            } catch {
                return error
            }
        }
        if let failure { throw failure }
        return files
    }

    private static func authority(named name: String) throws(LocalRedisError) -> Issued {
        try issue(commonName: name, serial: 1, by: nil, validFrom: -3600, validTo: 365 * 86_400, extensions: [
            (NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
            (NID_subject_key_identifier, "hash"),
        ])
    }

    /// A new key and its certificate, signed by `issuer` (self-signed when nil), valid
    /// from `validFrom` to `validTo` seconds from now.
    private static func issue(
        commonName: String, serial: Int, by issuer: Issued?, validFrom: Int, validTo: Int, extensions: [(Int32, String)]
    ) throws(LocalRedisError) -> Issued {
        guard let key = copenssl_generate_ec_key("P-256") else { throw failure("generating a P-256 key") }
        guard let certificate = X509_new() else {
            EVP_PKEY_free(key)
            throw failure("allocating a certificate")
        }
        let issued = Issued(key: key, certificate: certificate)
        let signer = issuer ?? issued
        var ok = X509_set_version(certificate, 2) == 1
            && ASN1_INTEGER_set(X509_get_serialNumber(certificate), serial) == 1
            && X509_gmtime_adj(X509_getm_notBefore(certificate), validFrom) != nil
            && X509_gmtime_adj(X509_getm_notAfter(certificate), validTo) != nil
            && X509_set_pubkey(certificate, key) == 1
            && X509_NAME_add_entry_by_txt(X509_get_subject_name(certificate), "CN", MBSTRING_ASC, commonName, -1, -1, 0) == 1
            && X509_set_issuer_name(certificate, X509_get_subject_name(signer.certificate)) == 1
        guard ok else { throw failure("filling in the certificate for \(commonName)") }
        var context = X509V3_CTX()
        copenssl_x509v3_set_ctx(&context, signer.certificate, certificate)
        for (nid, value) in extensions {
            guard let ext = X509V3_EXT_conf_nid(nil, &context, nid, value) else { throw failure("the extension \(value)") }
            ok = X509_add_ext(certificate, ext, -1) == 1
            X509_EXTENSION_free(ext)
            guard ok else { throw failure("adding the extension \(value)") }
        }
        guard X509_sign(certificate, signer.key, EVP_sha256()) > 0 else { throw failure("signing the certificate for \(commonName)") }
        return issued
    }

    private static func writePEM(to path: String, _ write: (OpaquePointer) -> Int32) throws(LocalRedisError) {
        guard let bio = BIO_new_file(path, "w") else { throw failure("opening \(path)") }
        defer { BIO_free(bio) }
        guard write(bio) == 1 else { throw failure("writing \(path)") }
    }

    /// OpenSSL's reasons for the last failure, with what was being done.
    private static func failure(_ doing: String) -> LocalRedisError {
        var reasons: [String] = []
        while case let code = ERR_get_error(), code != 0 {
            if let reason = ERR_reason_error_string(code) { reasons.append(String(cString: reason)) }
        }
        return .certificatesFailed(reason: doing + (reasons.isEmpty ? "" : ": " + reasons.joined(separator: "; ")))
    }
}
