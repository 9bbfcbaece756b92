/*
 * grpc_h2: one HTTP/2 connection of the gRPC server, on libnghttp2, with
 * no socket of its own: bytes read from the peer go in through
 * grpc_h2_recv, bytes to write come out of grpc_h2_send.  That keeps TLS
 * and epoll in grpc_server and lets the fuzzer drive a session in memory.
 *
 * Each stream is one unary Export call.  Headers are checked when they end
 * (:method POST, a known :path, content-type application/grpc, the bearer
 * token, grpc-encoding); the body is buffered up to max_payload + 5 bytes
 * per stream and max_payload bytes per connection across its open streams,
 * so one connection never holds more than that.  When the stream ends the
 * message is unframed, decompressed, admitted and handed to the ingest
 * callback on the calling thread; its result becomes the response message
 * and the grpc-status / grpc-message trailers (see grpc_frame.h for the
 * mapping).  A call refused early is answered at once ("Trailers-Only") and
 * the rest of its body is discarded.
 */
#ifndef O2P_SERVER_GRPC_H2_H
#define O2P_SERVER_GRPC_H2_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "server/grpc_metrics.h"
#include "server/http_decompress.h"
#include "server/http_server.h"

/* What every connection of one server thread shares. */
typedef struct grpc_h2_env {
    const http_handlers *handlers;
    unsigned thread_index;  /* passed to ingest */
    size_t max_payload;     /* message limit, before and after decompression */
    const char *auth_token; /* NULL: no authentication */
    int stopping;           /* non-zero: new calls are refused with UNAVAILABLE */
    http_decompressor dec;  /* this thread's decompressor */
    o2p_buf scratch;        /* response bodies */
    uint64_t calls;         /* calls answered, for logs and tests */
    grpc_metrics *metrics;  /* NULL: not counted; set after grpc_h2_env_init */
} grpc_h2_env;

void grpc_h2_env_init(grpc_h2_env *env, const http_handlers *handlers, unsigned thread_index,
                      size_t max_payload, const char *auth_token);
void grpc_h2_env_free(grpc_h2_env *env);

typedef struct grpc_h2 grpc_h2;

/* A server session that has queued its SETTINGS; NULL when out of memory. */
grpc_h2 *grpc_h2_new(grpc_h2_env *env);
void grpc_h2_free(grpc_h2 *h);

/* Feeds bytes from the peer.  O2P_EINVAL when the peer broke the protocol
 * (bad preface, bad frames): the caller sends what grpc_h2_send still
 * yields (a GOAWAY) and closes. */
int grpc_h2_recv(grpc_h2 *h, const uint8_t *data, size_t len);

/* Appends up to `max` bytes of pending output to out (may append none). */
int grpc_h2_send(grpc_h2 *h, o2p_buf *out, size_t max);

/* Non-zero when the session is finished (GOAWAY exchanged and no stream
 * open, or a protocol error) and has nothing more to write. */
int grpc_h2_done(grpc_h2 *h);

/* Graceful stop: sends GOAWAY naming the last stream taken; streams
 * already open finish, new ones are refused. */
void grpc_h2_goaway(grpc_h2 *h);

/* Open streams. */
size_t grpc_h2_streams(const grpc_h2 *h);

#endif
