/*
 * http_server: the OTLP/HTTP front door (spec §1), on libmicrohttpd.
 *
 * It owns sockets, routing, limits, authentication, Content-Type and
 * Content-Encoding handling, and the response encodings; it knows nothing
 * about decoding or batching.  Each complete, decompressed export request
 * is handed to the caller's ingest callback on one of `threads` server
 * threads, and the callback's status becomes the HTTP answer:
 *
 *   O2P_OK            200 Export*ServiceResponse (partial_success when
 *                         reply->rejected > 0 or reply->message is set)
 *   O2P_EINVAL        400      O2P_ELIMIT        413
 *   O2P_EUNSUPPORTED  415      O2P_EBUSY         429 + Retry-After
 *   O2P_EAUTH         401      anything else     503 + Retry-After
 *
 * Errors carry a google.rpc.Status whose message is err->msg; bodies are
 * protobuf for protobuf requests and JSON otherwise.  Nothing a client can
 * send yields 500.
 *
 * Threads: an accept thread of ours takes new connections from the listening
 * socket and hands each to libmicrohttpd (MHD_add_connection), renumbered so
 * that consecutive connections land on consecutive pool threads;
 * libmicrohttpd's thread pool with epoll then serves them: a thread
 * multiplexes many keep-alive connections and runs the callback synchronously, so the
 * callback should decode and append, never wait on storage.  A callback
 * that must wait for something slow (the write-ahead log's sync) uses
 * ingest_async instead: it returns HTTP_INGEST_PENDING, the connection is
 * suspended (no thread is held), and whoever finishes the work calls
 * http_server_complete from any thread; the answer is then sent on the
 * connection's own thread.
 * Memory: a request body is collected into its connection's reusable
 * buffer; decompression goes into a per-thread buffer; both are capped at
 * max_payload_bytes (+1 byte to detect overflow).
 */
#ifndef O2P_SERVER_HTTP_SERVER_H
#define O2P_SERVER_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "otlp/otlp.h"
#include "server/http_metrics.h"

typedef struct http_ingest_reply {
    uint64_t rejected;    /* items skipped; > 0 fills partial_success */
    char message[256];    /* partial_success.error_message (may be empty) */
    int retry_after_secs; /* Retry-After for 429/503; <= 0 means 1 second */
} http_ingest_reply;

/* A request whose answer comes later (see ingest_async). */
typedef struct http_pending http_pending;

/* ingest_async's "I will answer later" (never an O2P_* code). */
#define HTTP_INGEST_PENDING 1

typedef struct http_handlers {
    void *ctx;
    /* Called with the complete, decompressed body of POST /v1/{logs,traces,
     * metrics}.  `body` stays valid only during the call.  `thread_index`
     * is in [0, http_server_threads()) and no two concurrent calls share
     * one, so per-thread decoders need no locking.  reply is zeroed before
     * the call; err->msg (when the call fails) becomes the Status message. */
    int (*ingest)(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                  const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err);
    /* Optional; when set the HTTP server calls it instead of ingest (other
     * front ends, e.g. gRPC, keep calling ingest).  The same contract, plus:
     * returning HTTP_INGEST_PENDING means the callback keeps `pending` and
     * calls http_server_complete(pending, ...) exactly once, from any thread
     * (also before it returns); reply and err are then not read.  `body` is
     * still valid only during the call.  Every pending request must be
     * completed: http_server_stop waits for them. */
    int (*ingest_async)(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                        const uint8_t *body, size_t len, http_pending *pending,
                        http_ingest_reply *reply, o2p_error *err);
    /* Optional early refusal, called once the size of the (decompressed)
     * body is known and before it is decoded: at the headers for an
     * identity body with a Content-Length (the body is then read and
     * dropped, not buffered), else after decompression.  A failure is
     * answered like an ingest failure (O2P_EBUSY: 429 + Retry-After). */
    int (*admit)(void *ctx, otlp_signal signal, size_t body_bytes, http_ingest_reply *reply,
                 o2p_error *err);
    /* Optional; when set the HTTP server calls it instead of admit (so
     * does gRPC, at a call's message prefix: see grpc_h2.h).  The same
     * contract, plus: O2P_OK with *wait_ns
     * > 0 (it is 0 on entry) means "admitted, at now + wait_ns".  The
     * connection is then suspended — no thread is held, and at the headers
     * its body stays unread in the socket, so TCP slows the client — and
     * the server's pacer thread resumes it at that time; then the body is
     * read and ingested as usual.  A graceful stop resumes every waiting
     * connection at once. */
    int (*admit_paced)(void *ctx, otlp_signal signal, size_t body_bytes, uint64_t *wait_ns,
                       http_ingest_reply *reply, o2p_error *err);
    /* GET /ready: non-zero when ready; else 0 and `why` (cap bytes) says
     * why, for the 503 body.  NULL means always ready. */
    int (*ready)(void *ctx, char *why, size_t cap);
    /* GET /metrics: appends the caller's Prometheus families after the
     * server's own.  May be NULL. */
    void (*metrics)(void *ctx, o2p_buf *out);
} http_handlers;

typedef struct http_config {
    const char *listen_addr;        /* "host:port", "[v6addr]:port", ":port" (all
                                       interfaces); port 0 picks a free port */
    size_t max_payload_bytes;       /* body limit, before and after decompression;
                                       0 means the default 8 MiB */
    unsigned threads;               /* server threads; 0 means one per online CPU */
    const char *auth_token;         /* NULL or "": no authentication */
    unsigned shutdown_timeout_secs; /* how long stop waits for in-flight
                                       requests; 0 means 30 */
    /* TLS (see http_tls.h): NULL cert/key = plain HTTP; a client CA file
     * turns on mutual TLS (handshake refused without a valid client
     * certificate). */
    const char *tls_cert_file;
    const char *tls_key_file;
    const char *tls_client_ca_file;
} http_config;

#define HTTP_DEFAULT_MAX_PAYLOAD ((size_t)8 * 1024 * 1024)

typedef struct http_server http_server;

/* Binds, listens and starts the threads.  The config strings are copied;
 * handlers->ctx must outlive the server.  On failure *out is NULL and err
 * says what failed ("listen_addr '...': Address already in use"). */
int http_server_start(http_server **out, const http_config *config, const http_handlers *handlers,
                      o2p_error *err);

/* Non-zero when the server speaks HTTPS. */
int http_server_tls(const http_server *srv);
/* Re-reads the TLS files; new connections use the new certificate, key and
 * CAs.  On failure the old ones stay in use and err names the file.  A no-op
 * without TLS. */
int http_server_reload_tls(http_server *srv, o2p_error *err);
/* "sha256 AB:..., expires YYYY-MM-DD" of the certificate in use ("" without TLS). */
void http_server_tls_describe(http_server *srv, char *out, size_t size);

/* The bound port (useful with port 0). */
uint16_t http_server_port(const http_server *srv);
/* The number of server threads (the range of ingest's thread_index). */
unsigned http_server_threads(const http_server *srv);
/* Connections waiting for their paced admission now (admit_paced). */
unsigned http_server_paced(const http_server *srv);
/* The request counters, for the caller's own rendering or checks. */
const http_metrics *http_server_metrics(const http_server *srv);

/* Answers a request ingest_async left pending, as if ingest had returned
 * rc with this reply and err (err may be NULL when rc is O2P_OK).  Safe
 * from any thread; `pending` is invalid afterwards. */
void http_server_complete(http_pending *pending, int rc, const http_ingest_reply *reply,
                          const o2p_error *err);

/* Graceful stop: closes the listening socket, lets requests already
 * received finish (up to shutdown_timeout_secs; pending ones are waited for
 * until completed), then stops the threads and frees everything.  NULL is a
 * no-op. */
void http_server_stop(http_server *srv);

#endif
