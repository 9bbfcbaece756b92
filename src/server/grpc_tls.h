/*
 * grpc_tls: the OpenSSL server context of the gRPC listener — certificate
 * chain and key, optional client CA (mutual TLS: a client without a
 * certificate signed by it is refused in the handshake), TLS 1.2+, and
 * ALPN that selects "h2" (a client that does not offer it is refused).
 *
 * Errors name the file and OpenSSL's reason, so a bad path or a key that
 * does not match the certificate is clear at start-up and on reload.
 */
#ifndef O2P_SERVER_GRPC_TLS_H
#define O2P_SERVER_GRPC_TLS_H

#include <openssl/ssl.h>

#include "core/error.h"

typedef struct grpc_tls_files {
    const char *cert_file;      /* PEM certificate chain (leaf first) */
    const char *key_file;       /* PEM private key */
    const char *client_ca_file; /* NULL: no client certificates asked */
} grpc_tls_files;

/* Builds a new context from the files; on failure *out is NULL and err
 * names the file ("server.tls.key_file '/x/key.pem': ..."). */
int grpc_tls_ctx_create(const grpc_tls_files *files, SSL_CTX **out, o2p_error *err);

#endif
