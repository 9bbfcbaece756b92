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
 * so one connection never holds more than that; a stream reserves its whole
 * message when the 5-byte prefix arrives while the connection's
 * reservations stay within max_payload, else its body grows as it comes;
 * a finished call's body buffer (up to 1 MiB) is kept for the
 * connection's next stream.
 * When the stream ends the
 * call becomes a grpc_h2_job: its message is unframed, decompressed,
 * admitted and handed to the ingest callback — on the calling thread, or,
 * when the environment has a dispatch callback, on whatever thread that
 * hands the job to (the server's decode pool), so the streams of one
 * connection are decoded in parallel.  The job's result becomes the
 * response message and the grpc-status / grpc-message trailers (see
 * grpc_frame.h for the mapping) once grpc_h2_complete gives it back on the
 * session's thread.  A job's body stays counted against the connection's
 * limit until then.  A call refused early is answered at once
 * ("Trailers-Only") and the rest of its body is discarded.
 *
 * Pacing: with handlers->admit_paced, a call is admitted when its 5-byte
 * message prefix arrives (the size of a compressed message estimated at
 * the expansion measured on earlier calls): refused (RESOURCE_EXHAUSTED +
 * RetryInfo), admitted, or admitted after a wait.  A waiting stream keeps
 * the body bytes it receives meanwhile, but they are not consumed for
 * flow control (no automatic WINDOW_UPDATE: the session consumes what it
 * takes), so the stream gets no more than its window and the connection's
 * window (half of max_payload) shrinks by what waiting calls hold: the
 * client stops sending, as TCP stops an HTTP client whose body stays
 * unread.  The session keeps reading and answering PING, SETTINGS and the
 * other streams meanwhile.  When the stream ends its call is held; the
 * caller runs grpc_h2_tick when grpc_h2_next_due has come, which gives the
 * window back and starts the held calls.  While stopping, no call waits.
 */
#ifndef O2P_SERVER_GRPC_H2_H
#define O2P_SERVER_GRPC_H2_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "server/grpc_metrics.h"
#include "server/http_decompress.h"
#include "server/http_server.h"

typedef struct grpc_h2 grpc_h2;

/* One complete call, handed from the session to whoever runs it. */
typedef struct grpc_h2_job {
    struct grpc_h2_job *next; /* free for the runner's queues */
    void *owner;              /* free for the runner (the connection) */
    int32_t stream_id;
    otlp_signal signal;
    http_encoding encoding;
    int admitted;               /* by admit_paced at the prefix: the runner does not admit again */
    o2p_buf body;               /* the request body, 5-byte prefix included */
    size_t wire_len, plain_len; /* a compressed message's size before and after */
    /* results, set by grpc_h2_job_run */
    int rc;
    http_ingest_reply reply;
    o2p_error err;
} grpc_h2_job;

/* Hands a job off; the callee must later give it to grpc_h2_complete on
 * the session's thread, or to grpc_h2_job_free if the session is gone. */
typedef void (*grpc_h2_dispatch_fn)(void *ctx, grpc_h2 *h, grpc_h2_job *job);

/* What every connection of one server thread shares. */
typedef struct grpc_h2_env {
    const http_handlers *handlers;
    unsigned thread_index;        /* passed to ingest */
    size_t max_payload;           /* message limit, before and after decompression */
    const char *auth_token;       /* NULL: no authentication */
    int stopping;                 /* non-zero: new calls are refused with UNAVAILABLE */
    http_decompressor dec;        /* this thread's decompressor */
    o2p_buf scratch;              /* response bodies */
    uint64_t calls;               /* calls answered, for logs and tests */
    grpc_metrics *metrics;        /* NULL: not counted; set after grpc_h2_env_init */
    grpc_h2_dispatch_fn dispatch; /* NULL: calls run inline; set after grpc_h2_env_init */
    void *dispatch_ctx;
    uint64_t ratio_q10; /* decompressed / compressed message bytes x1024, 0 until measured */
} grpc_h2_env;

void grpc_h2_env_init(grpc_h2_env *env, const http_handlers *handlers, unsigned thread_index,
                      size_t max_payload, const char *auth_token);
void grpc_h2_env_free(grpc_h2_env *env);

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

/* Jobs handed off and not yet completed. */
size_t grpc_h2_pending(const grpc_h2 *h);

/* Body bytes the open streams reserved ahead from their message prefixes
 * (never above max_payload). */
size_t grpc_h2_reserved(const grpc_h2 *h);

/* Streams waiting for their admission time (paced). */
size_t grpc_h2_waiting(const grpc_h2 *h);

/* The earliest admission time (CLOCK_MONOTONIC ns) of a waiting stream;
 * UINT64_MAX when none waits. */
uint64_t grpc_h2_next_due(const grpc_h2 *h);

/* Ends the wait of every stream due by now_ns (UINT64_MAX: all, for a
 * stop): their window is given back and their finished calls start (run
 * inline or dispatched).  Returns how many stopped waiting; the caller
 * then sends what grpc_h2_send yields. */
size_t grpc_h2_tick(grpc_h2 *h, uint64_t now_ns);

/* A pointer the caller keeps with the session (its connection). */
void grpc_h2_set_owner(grpc_h2 *h, void *owner);
void *grpc_h2_owner(const grpc_h2 *h);

/* Runs a job on any thread: unframes (limit max_payload), decompresses
 * with dec, admits and ingests with thread_index; counts the message bytes
 * in metrics (may be NULL).  The result stays in the job. */
void grpc_h2_job_run(grpc_h2_job *job, const http_handlers *hd, unsigned thread_index,
                     http_decompressor *dec, size_t max_payload, grpc_metrics *metrics);

/* Answers the job's call (unless the client reset it meanwhile) and frees
 * the job; on the session's thread.  The caller then sends what
 * grpc_h2_send yields. */
void grpc_h2_complete(grpc_h2 *h, grpc_h2_job *job);

void grpc_h2_job_free(grpc_h2_job *job);

#endif
