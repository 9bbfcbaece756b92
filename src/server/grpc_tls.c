/*
 * grpc_tls: OpenSSL server contexts for the gRPC listener (see grpc_tls.h).
 */
#include "server/grpc_tls.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

/* The reason of the most recent OpenSSL error, or `fallback`; clears the
 * thread's error queue. */
static const char *grpc_tls_reason(char *out, size_t cap, const char *fallback)
{
    unsigned long e = ERR_peek_last_error();
    if (e == 0) {
        snprintf(out, cap, "%s", fallback);
    } else {
        const char *r = ERR_reason_error_string(e);
        snprintf(out, cap, "%s", r ? r : fallback);
    }
    ERR_clear_error();
    return out;
}

/* A readable-file check first gives "No such file or directory" instead of
 * OpenSSL's less direct "system lib". */
static int grpc_tls_readable(const char *key, const char *path, o2p_error *err)
{
    FILE *f = fopen(path, "rb");
    if (f == NULL) return o2p_errorf(err, O2P_EINVAL, "%s '%s': %s", key, path, strerror(errno));
    fclose(f);
    return O2P_OK;
}

static int grpc_tls_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
                         const unsigned char *in, unsigned int inlen, void *arg)
{
    (void)ssl;
    (void)arg;
    for (unsigned i = 0; i < inlen;) {
        unsigned n = in[i];
        if (i + 1 + n > inlen) break;
        if (n == 2 && memcmp(in + i + 1, "h2", 2) == 0) {
            *out = in + i + 1;
            *outlen = 2;
            return SSL_TLSEXT_ERR_OK;
        }
        i += 1 + n;
    }
    return SSL_TLSEXT_ERR_ALERT_FATAL; /* gRPC needs HTTP/2 */
}

int grpc_tls_ctx_create(const grpc_tls_files *files, SSL_CTX **out, o2p_error *err)
{
    char why[256];
    *out = NULL;
    if (files->cert_file == NULL || files->key_file == NULL)
        return o2p_errorf(err, O2P_EINVAL,
                          "server.tls.cert_file and server.tls.key_file must be set together");
    O2P_TRY(grpc_tls_readable("server.tls.cert_file", files->cert_file, err));
    O2P_TRY(grpc_tls_readable("server.tls.key_file", files->key_file, err));
    if (files->client_ca_file)
        O2P_TRY(grpc_tls_readable("server.tls.client_ca_file", files->client_ca_file, err));

    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
    if (ctx == NULL)
        return o2p_errorf(err, O2P_ENOMEM, "tls: %s",
                          grpc_tls_reason(why, sizeof why, "cannot create a context"));
    int rc = O2P_OK;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                              SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
    if (SSL_CTX_use_certificate_chain_file(ctx, files->cert_file) != 1) {
        rc = o2p_errorf(err, O2P_EINVAL, "server.tls.cert_file '%s': %s", files->cert_file,
                        grpc_tls_reason(why, sizeof why, "not a PEM certificate"));
    } else if (SSL_CTX_use_PrivateKey_file(ctx, files->key_file, SSL_FILETYPE_PEM) != 1) {
        rc = o2p_errorf(err, O2P_EINVAL, "server.tls.key_file '%s': %s", files->key_file,
                        grpc_tls_reason(why, sizeof why, "not a PEM private key"));
    } else if (SSL_CTX_check_private_key(ctx) != 1) {
        rc = o2p_errorf(err, O2P_EINVAL,
                        "server.tls.key_file '%s' does not match server.tls.cert_file '%s': %s",
                        files->key_file, files->cert_file,
                        grpc_tls_reason(why, sizeof why, "key mismatch"));
    } else if (files->client_ca_file) {
        STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(files->client_ca_file);
        if (names == NULL || SSL_CTX_load_verify_locations(ctx, files->client_ca_file, NULL) != 1) {
            if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
            rc = o2p_errorf(err, O2P_EINVAL, "server.tls.client_ca_file '%s': %s",
                            files->client_ca_file,
                            grpc_tls_reason(why, sizeof why, "no PEM certificates"));
        } else {
            SSL_CTX_set_client_CA_list(ctx, names);
            SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
        }
    }
    if (rc < 0) {
        SSL_CTX_free(ctx);
        return rc;
    }
    SSL_CTX_set_alpn_select_cb(ctx, grpc_tls_alpn, NULL);
    *out = ctx;
    return O2P_OK;
}
