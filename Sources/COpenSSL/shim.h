#ifndef COPENSSL_SHIM_H
#define COPENSSL_SHIM_H

/* OpenSSL 3 (Debian's libssl-dev), driven directly on the library's own non-blocking
   sockets. Several of its calls are macros over SSL_ctrl / SSL_CTX_ctrl, or variadic,
   which Swift cannot import; each wrapper below is one of them, nothing more. */
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/bio.h>

static inline int copenssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

static inline long copenssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

static inline int copenssl_set_tlsext_host_name(SSL *ssl, const char *name) {
    return (int)SSL_set_tlsext_host_name(ssl, name);
}

/* EVP_EC_gen is a macro over the variadic EVP_PKEY_Q_keygen. */
static inline EVP_PKEY *copenssl_generate_ec_key(const char *curve) {
    return EVP_EC_gen(curve);
}

/* X509V3_set_ctx_nodb is a macro. */
static inline void copenssl_x509v3_set_ctx(X509V3_CTX *ctx, X509 *issuer, X509 *subject) {
    X509V3_set_ctx(ctx, issuer, subject, NULL, NULL, 0);
    X509V3_set_ctx_nodb(ctx);
}

/* The client's socket BIO: OpenSSL's own socket BIO writes with write(2), which raises
   SIGPIPE on a connection the server closed; this one sends with MSG_NOSIGNAL (as the
   plain transport does), retries EINTR, and reports EAGAIN as "retry", so that
   SSL_get_error says WANT_READ / WANT_WRITE on the library's non-blocking sockets. The
   descriptor is the BIO's data; the BIO never closes it (the transport does). */
#include <errno.h>
#include <stdint.h>
#include <sys/socket.h>

static inline int copenssl_socket_bio_write(BIO *bio, const char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    ssize_t n;
    BIO_clear_retry_flags(bio);
    do { n = send(fd, data, (size_t)length, MSG_NOSIGNAL); } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_write(bio);
    return (int)n;
}

static inline int copenssl_socket_bio_read(BIO *bio, char *data, int length) {
    int fd = (int)(intptr_t)BIO_get_data(bio);
    ssize_t n;
    BIO_clear_retry_flags(bio);
    do { n = recv(fd, data, (size_t)length, 0); } while (n < 0 && errno == EINTR);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) BIO_set_retry_read(bio);
    return (int)n;
}

static inline long copenssl_socket_bio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)bio; (void)number; (void)pointer;
    /* OpenSSL flushes after each handshake flight; writes are unbuffered here. */
    return command == BIO_CTRL_FLUSH ? 1 : 0;
}

/* Made once per process by the Swift side and never freed. */
static inline BIO_METHOD *copenssl_make_socket_bio_method(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "redisutil socket");
    if (method == NULL) return NULL;
    BIO_meth_set_write(method, copenssl_socket_bio_write);
    BIO_meth_set_read(method, copenssl_socket_bio_read);
    BIO_meth_set_ctrl(method, copenssl_socket_bio_ctrl);
    return method;
}

static inline BIO *copenssl_socket_bio(BIO_METHOD *method, int fd) {
    BIO *bio = BIO_new(method);
    if (bio == NULL) return NULL;
    BIO_set_data(bio, (void *)(intptr_t)fd);
    BIO_set_init(bio, 1);
    return bio;
}

/* SSL_OP_* are built by a macro Swift cannot import. */
static inline uint64_t copenssl_option_ignore_unexpected_eof(void) {
    return SSL_OP_IGNORE_UNEXPECTED_EOF;
}

static inline long copenssl_ctx_set_read_ahead(SSL_CTX *ctx, int yes) {
    return SSL_CTX_set_read_ahead(ctx, yes);
}

/* What SSL_get_error would answer for a failed read or write that stopped for the
   socket, read without the thread's error queue (which SSL_get_error consults first, so
   an error left there by an earlier call would hide the answer): 1 for WANT_READ, 2 for
   WANT_WRITE, 0 when the call did not stop for the socket. The same checks, in the same
   order, as OpenSSL 3's SSL_get_error. */
static inline int copenssl_stopped_for_socket(const SSL *ssl) {
    if (SSL_want_read(ssl)) {
        BIO *bio = SSL_get_rbio(ssl);
        if (BIO_should_read(bio)) return 1;
        if (BIO_should_write(bio)) return 2;
    }
    if (SSL_want_write(ssl)) {
        BIO *bio = SSL_get_wbio(ssl);
        if (BIO_should_write(bio)) return 2;
        if (BIO_should_read(bio)) return 1;
    }
    return 0;
}

#endif
