/*
 * grpc_server: the OTLP/gRPC front door (default port 4317) — listening
 * socket, epoll worker threads, connections (cleartext h2c with prior
 * knowledge, or TLS with ALPN h2), idle timeout and graceful drain.  The
 * HTTP/2 and gRPC logic lives in grpc_h2; decoding and batching are the
 * caller's, through the same http_handlers the HTTP server uses.
 *
 * Threads: `threads` workers share the listening socket (EPOLLEXCLUSIVE);
 * each accepts and owns its connections, so a call runs ingest on the
 * worker with thread_index = thread_base + worker number.
 */
#ifndef O2P_SERVER_GRPC_SERVER_H
#define O2P_SERVER_GRPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "server/grpc_metrics.h"
#include "server/grpc_tls.h"
#include "server/http_server.h"

typedef struct grpc_config {
    const char *listen_addr;        /* "host:port", "[v6]:port"; port 0 picks a free port */
    size_t max_payload_bytes;       /* 0: HTTP_DEFAULT_MAX_PAYLOAD */
    unsigned threads;               /* 0: 1 */
    unsigned thread_base;           /* first ingest thread_index */
    const char *auth_token;         /* NULL or "": no authentication */
    grpc_tls_files tls;             /* cert_file NULL: cleartext h2c */
    unsigned idle_timeout_secs;     /* 0: 300 */
    unsigned shutdown_timeout_secs; /* 0: 30 */
    grpc_metrics *metrics;          /* NULL: not counted; must outlive the server */
} grpc_config;

typedef struct grpc_server grpc_server;

int grpc_server_start(grpc_server **out, const grpc_config *config, const http_handlers *handlers,
                      o2p_error *err);
uint16_t grpc_server_port(const grpc_server *srv);
/* Re-reads the certificate, key and client CA; new connections use them.
 * On failure the old ones stay and err names the file. */
int grpc_server_reload_tls(grpc_server *srv, o2p_error *err);
/* GOAWAY on every connection, calls in flight finish (up to
 * shutdown_timeout_secs), then the threads stop and everything is freed.
 * NULL is a no-op. */
void grpc_server_stop(grpc_server *srv);

#endif
