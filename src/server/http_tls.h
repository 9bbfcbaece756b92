/*
 * http_tls: the TLS certificate, key and client CAs of the OTLP/HTTP
 * listener, loaded from PEM files with GnuTLS (libmicrohttpd's TLS library)
 * and swappable while the server runs.
 *
 * A loaded set is one GnuTLS credentials object: the certificate chain with
 * its private key and, for mutual TLS, the trusted client CAs.  Each new
 * connection is given the current set (http_tls_attach, before its
 * handshake); http_tls_reload builds a new set from the same files and makes
 * it current only when every file loaded and the key matches the
 * certificate, so a bad file never replaces working credentials.  Sets that
 * were replaced stay allocated until http_tls_destroy, because connections
 * made with them may still refer to them (a few KiB per reload).
 *
 * Mutual TLS (client_ca_file set): the handshake requires a client
 * certificate that verifies against those CAs; without one the handshake
 * fails, before any HTTP is read.
 *
 * Every error names the configuration key and the file:
 *   server.tls.key_file '/x/y.pem': no private key found
 */
#ifndef O2P_SERVER_HTTP_TLS_H
#define O2P_SERVER_HTTP_TLS_H

#include <stddef.h>

#include "core/error.h"

typedef struct http_tls http_tls;

/* Loads cert_file and key_file (required) and client_ca_file (NULL: no
 * client certificates).  The paths are copied. */
int http_tls_create(http_tls **out, const char *cert_file, const char *key_file,
                    const char *client_ca_file, o2p_error *err);

/* Re-reads the files; on failure the current set stays and err names the
 * file.  Safe while connections are being accepted. */
int http_tls_reload(http_tls *tls, o2p_error *err);

/* Gives a new connection's GnuTLS session (a gnutls_session_t) the current
 * set, and requires and verifies a client certificate for mutual TLS. */
int http_tls_attach(http_tls *tls, void *gnutls_session);

/* The PEM text of the certificate and key loaded first (NUL-terminated;
 * valid until http_tls_destroy), for the server's initial credentials. */
const char *http_tls_initial_cert_pem(const http_tls *tls);
const char *http_tls_initial_key_pem(const http_tls *tls);

/* "sha256 AB:CD:..., expires 2027-01-01" of the current certificate. */
void http_tls_describe(http_tls *tls, char *out, size_t size);

/* Frees every set, current and replaced; only after the server stopped. */
void http_tls_destroy(http_tls *tls);

#endif
