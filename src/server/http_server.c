/*
 * http_server: libmicrohttpd glue, routing, limits and OTLP responses (see
 * http_server.h).
 *
 * Request life cycle, as libmicrohttpd drives the access handler:
 *   1st call (headers complete)  route, method, auth, Content-Type,
 *                                Content-Encoding and Content-Length are
 *                                checked; any failure is answered at once,
 *                                before the body is read.
 *   calls with upload data       appended to the connection's capped body
 *                                buffer; past the limit the rest is read
 *                                and dropped (a response cannot be queued
 *                                mid-upload) and 413 follows.
 *   last call (body complete)    decompress, ingest callback, response.
 *                                With ingest_async the callback may leave
 *                                the request pending: the connection is
 *                                suspended, and http_server_complete
 *                                resumes it.
 *   call after resume            the stored result becomes the response.
 * Paced admission (admit_paced gave a wait): the connection is suspended
 * and http_pacer resumes it at its time — at the headers (identity body
 * with a Content-Length: the body is not read meanwhile; libmicrohttpd
 * then repeats the headers call, which is skipped) or once the body is
 * complete (compressed or chunked: the connection keeps the decompressed
 * body meanwhile, and ingests it after the resume).
 * Pending requests: a small state machine (pending.state) makes sure the
 * connection is suspended before it is resumed, whichever of the handler
 * thread and the completing thread gets there first.
 * The completion callback records metrics and ends the "in flight" count
 * that a graceful stop waits on.
 * Once a request is answered, later calls for it do nothing: libmicrohttpd
 * skips the body of a request answered at its headers, except while
 * MHD_stop_daemon runs — then MHD_queue_response queues nothing (and says
 * MHD_YES), and the body and the last call still come.  Ingesting it there
 * would store a request that was refused, and suspending it aborts the
 * daemon ("called while we have suspended connections").
 * Accepting: an own thread accepts and hands each socket to
 * MHD_add_connection, numbered so that consecutive connections go to
 * different pool threads (left to themselves, the pool threads all poll
 * the listening socket and the first to wake takes every connection that
 * arrived meanwhile, so two clients could share one core).
 */
#include "server/http_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/codec_text.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/http_decompress.h"
#include "server/http_pacer.h"
#include "server/http_response.h"
#include "server/http_tls.h"
#include "server/net_listen.h"

/* libmicrohttpd's per-connection pool (headers + read buffer).  Measured
 * with bench/http_load on 100 KiB bodies, 128 KiB was no faster than 32 KiB,
 * and every open connection may touch all of it. */
#define HTTP_CONN_MEMORY ((size_t)32 * 1024)
/* Idle keep-alive connections (and stalled uploads) are closed after this. */
#define HTTP_CONN_TIMEOUT_SECS 60u
/* A request's body buffer is taken when its first body bytes arrive and
 * given back to its thread's spares when the request ends (at most
 * HTTP_WORKER_SPARES of them per thread, each at most HTTP_SPARE_MAX_BYTES;
 * others are freed).  So body memory follows the requests being received,
 * not the open connections: 1,000 keep-alive connections, or connections
 * paced at their headers, hold no body buffer. */
#define HTTP_WORKER_SPARES   8
#define HTTP_SPARE_MAX_BYTES ((size_t)1024 * 1024)
/* How long accepting pauses when descriptors (or kernel memory) have run
 * out: the connection waits in the backlog meanwhile, so retrying at once
 * would spin. */
#define HTTP_ACCEPT_BACKOFF_MS 100
/* After an over-limit chunked body, at most this many times the limit is
 * read and dropped before the connection is simply closed. */
#define HTTP_DISCARD_FACTOR 2u

/* Error bodies: a Status with a message of at most 1 KiB, JSON-escaped. */
#define HTTP_SCRATCH_RESERVE ((size_t)8 * 1024)

#define HTTP_CT_PROMETHEUS "text/plain; version=0.0.4; charset=utf-8"

enum { HTTP_BODY_OK = 0, HTTP_BODY_OVERFLOW, HTTP_BODY_NOMEM, HTTP_BODY_REFUSED };

/* http_pending.state */
enum {
    HTTP_PENDING_NONE = 0, /* no asynchronous answer outstanding */
    HTTP_PENDING_RUNNING,  /* ingest_async runs, or returned and is suspending */
    HTTP_PENDING_SUSPENDED,
    HTTP_PENDING_DONE /* completed: the result below is the answer */
};

/* http_conn.pace */
enum {
    HTTP_PACE_NONE = 0,
    HTTP_PACE_HEADERS, /* suspended (or resumed) at the headers, body unread */
    HTTP_PACE_BODY     /* suspended (or resumed) with the body complete */
};

struct http_server;

/* One per connection (a connection has one request at a time). */
struct http_pending {
    struct http_server *srv;
    struct MHD_Connection *mc;
    atomic_int state;
    int rc;
    http_ingest_reply reply;
    char msg[O2P_ERROR_MSG_MAX];
};

typedef struct http_spare {
    uint8_t *data;
    size_t cap;
} http_spare;

typedef struct http_worker {
    http_decompressor dec; /* decompressed bodies */
    o2p_buf scratch;       /* response bodies */
    /* Body buffers of ended requests, for this thread's next ones.  Locked
     * because a request may end on another thread (the daemon's stop). */
    pthread_mutex_t spare_lock;
    unsigned spares;
    http_spare spare[HTTP_WORKER_SPARES];
} http_worker;

/* One per TCP connection; also the per-request state, since HTTP/1.1
 * requests on one connection are handled one after another. */
typedef struct http_conn {
    o2p_buf body;
    struct http_worker *body_home; /* whose spares body goes back to */
    uint64_t wire_bytes;           /* body bytes received, dropped ones included */
    uint64_t start_ns;
    http_route route;
    otlp_format format;
    int format_known;
    http_encoding encoding;
    int body_state;
    /* HTTP_BODY_REFUSED: what admit answered at the headers */
    int admitted; /* admit already said yes at the headers */
    int refused_rc;
    int refused_retry_after;
    char refused_msg[256];
    uint64_t declared; /* Content-Length (0 when absent) */
    int pace;          /* HTTP_PACE_* */
    int answered;      /* a response was queued: later calls do nothing */
    struct http_server *srv;
    struct MHD_Connection *mc; /* while paced */
    http_pending pending;
} http_conn;

struct http_server {
    struct MHD_Daemon *daemon;
    int listen_fd;
    int wake_fd[2]; /* a byte in [1] stops the accept thread */
    pthread_t acceptor;
    int acceptor_running;
    uint16_t port;
    unsigned threads;
    size_t max_payload;
    unsigned shutdown_timeout_secs;
    http_handlers handlers;
    http_tls *tls;    /* NULL: plain HTTP */
    char *auth_token; /* NULL when authentication is off */
    http_worker *workers;
    atomic_uint next_worker;
    atomic_int stopping;
    atomic_int closing; /* stop waits no more for in-flight requests */
    /* Responses that never vary are built once and shared by all threads
     * (libmicrohttpd reference-counts them). */
    struct MHD_Response *ok_protobuf;
    struct MHD_Response *ok_json;
    struct MHD_Response *health;
    struct MHD_Response *ready;
    struct MHD_Response *not_ready;
    pthread_mutex_t idle_lock;
    pthread_cond_t idle_cond;
    atomic_long pending; /* requests left pending and not completed yet */
    http_pacer *pacer;   /* with admit_paced only */
    atomic_uint paced;   /* connections suspended until their admission time */
    http_metrics metrics;
};

/* Which worker slot this thread uses.  libmicrohttpd's pool threads serve
 * a single daemon for their whole life, so the slot is fixed on first use. */
static _Thread_local const http_server *http_tls_server;
static _Thread_local unsigned http_tls_index;

static http_worker *http_thread_worker(http_server *srv, unsigned *index)
{
    if (http_tls_server != srv) {
        unsigned slot = atomic_fetch_add(&srv->next_worker, 1);
        if (slot >= srv->threads) {
            LOG_ERROR("http: more server threads than configured (%u)", srv->threads);
            return NULL;
        }
        http_tls_server = srv;
        http_tls_index = slot;
    }
    *index = http_tls_index;
    return &srv->workers[http_tls_index];
}

/* ---- responses ---------------------------------------------------------- */

static struct MHD_Response *http_make_response(const void *body, size_t len,
                                               enum MHD_ResponseMemoryMode mode,
                                               const char *content_type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, mode);
    if (r == NULL) return NULL;
    if (content_type && MHD_add_response_header(r, "Content-Type", content_type) != MHD_YES) {
        MHD_destroy_response(r);
        return NULL;
    }
    return r;
}

typedef struct http_extra {
    int retry_after;      /* > 0: Retry-After seconds */
    const char *allow;    /* Allow header for 405 */
    int www_authenticate; /* 401 challenge */
} http_extra;

/* Queues a response whose body is copied; the status is remembered for the
 * metrics.  While stopping, "Connection: close" makes clients reconnect
 * elsewhere instead of reusing a connection that is about to go away. */
/* Records the answer.  Counted when the response is queued, not when the
 * connection finishes sending it: a client that has its response (and then
 * scrapes /metrics) must find its request counted. */
static void http_answered(http_server *srv, http_conn *c, unsigned status)
{
    c->answered = 1;
    http_metrics_observe(&srv->metrics, c->route, status, clock_mono_ns() - c->start_ns);
}

static enum MHD_Result http_queue_copy(http_server *srv, http_conn *c, struct MHD_Connection *mc,
                                       unsigned status, const void *body, size_t len,
                                       const char *content_type, const http_extra *extra)
{
    struct MHD_Response *r =
        http_make_response(len ? body : "", len, MHD_RESPMEM_MUST_COPY, content_type);
    if (r == NULL) return MHD_NO;
    int ok = 1;
    char num[16];
    if (extra && extra->retry_after > 0 && (status == 429 || status == 503)) {
        snprintf(num, sizeof num, "%d", extra->retry_after);
        ok &= MHD_add_response_header(r, "Retry-After", num) == MHD_YES;
    }
    if (extra && extra->allow) ok &= MHD_add_response_header(r, "Allow", extra->allow) == MHD_YES;
    if (extra && extra->www_authenticate)
        ok &= MHD_add_response_header(r, "WWW-Authenticate", "Bearer") == MHD_YES;
    if (atomic_load_explicit(&srv->stopping, memory_order_relaxed))
        ok &= MHD_add_response_header(r, "Connection", "close") == MHD_YES;
    enum MHD_Result ret = MHD_NO;
    if (ok) {
        http_answered(srv, c, status);
        ret = MHD_queue_response(mc, status, r);
    }
    MHD_destroy_response(r);
    return ret;
}

static enum MHD_Result http_queue_shared(http_server *srv, http_conn *c, struct MHD_Connection *mc,
                                         unsigned status, struct MHD_Response *shared,
                                         const char *body, const char *content_type)
{
    if (atomic_load_explicit(&srv->stopping, memory_order_relaxed))
        return http_queue_copy(srv, c, mc, status, body, strlen(body), content_type, NULL);
    http_answered(srv, c, status);
    return MHD_queue_response(mc, status, shared);
}

/* Answers with a google.rpc.Status, protobuf when the request was protobuf
 * and JSON otherwise (including when its type was not understood). */
static enum MHD_Result http_fail(http_server *srv, http_worker *w, http_conn *c,
                                 struct MHD_Connection *mc, unsigned status, const char *message,
                                 const http_extra *extra)
{
    int json = !(c->format_known && c->format == OTLP_FMT_PROTOBUF);
    /* Debug only: client mistakes are the client's, and the ingest
     * callback's owner logs its own failures once rather than per request. */
    LOG_DEBUG("http: %s %u: %s", http_route_label(c->route), status, message);
    buf_reset(&w->scratch);
    if (http_response_status(&w->scratch, json, http_grpc_code(status), message) < 0) return MHD_NO;
    return http_queue_copy(srv, c, mc, status, w->scratch.data, w->scratch.len,
                           json ? HTTP_CT_JSON : HTTP_CT_PROTOBUF, extra);
}

/* ---- request phases ------------------------------------------------------ */

static http_route http_route_of(const char *url)
{
    static const struct {
        const char *path;
        http_route route;
    } table[] = {
        {"/v1/logs", HTTP_ROUTE_LOGS},
        {"/v1/traces", HTTP_ROUTE_TRACES},
        {"/v1/metrics", HTTP_ROUTE_METRICS_INGEST},
        {"/health", HTTP_ROUTE_HEALTH},
        {"/ready", HTTP_ROUTE_READY},
        {"/metrics", HTTP_ROUTE_METRICS},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(url, table[i].path) == 0) return table[i].route;
    return HTTP_ROUTE_OTHER;
}

/* Compares the whole token in time independent of where it differs. */
static int http_authorized(const http_server *srv, struct MHD_Connection *mc)
{
    const char *value = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Authorization");
    if (value == NULL || strncasecmp(value, "Bearer ", 7) != 0) return 0;
    value += 7;
    while (*value == ' ') value++;
    size_t got = strlen(value), want = strlen(srv->auth_token);
    unsigned diff = got != want;
    for (size_t i = 0; i < want; i++)
        diff |= (unsigned char)srv->auth_token[i] ^ (unsigned char)(i < got ? value[i] : 0);
    return diff == 0;
}

/* GET /ready: {"status":"ready"}, or 503 {"status":"not ready","reason":...}. */
static enum MHD_Result http_serve_ready(http_server *srv, http_worker *w, http_conn *c,
                                        struct MHD_Connection *mc)
{
    char why[256] = "";
    if (srv->handlers.ready == NULL || srv->handlers.ready(srv->handlers.ctx, why, sizeof why))
        return http_queue_shared(srv, c, mc, 200, srv->ready, "{\"status\":\"ready\"}",
                                 HTTP_CT_JSON);
    if (why[0] == '\0')
        return http_queue_shared(srv, c, mc, 503, srv->not_ready, "{\"status\":\"not ready\"}",
                                 HTTP_CT_JSON);
    buf_reset(&w->scratch);
    int rc = buf_append_str(&w->scratch, "{\"status\":\"not ready\",\"reason\":");
    if (rc == 0) rc = json_append_string(&w->scratch, why, strlen(why));
    if (rc == 0) rc = buf_push_byte(&w->scratch, '}');
    if (rc < 0) return MHD_NO;
    return http_queue_copy(srv, c, mc, 503, w->scratch.data, w->scratch.len, HTTP_CT_JSON, NULL);
}

static enum MHD_Result http_serve_metrics(http_server *srv, http_worker *w, http_conn *c,
                                          struct MHD_Connection *mc)
{
    buf_reset(&w->scratch);
    if (http_metrics_render(&srv->metrics, &w->scratch) < 0)
        return http_fail(srv, w, c, mc, 503, "out of memory rendering metrics", NULL);
    if (srv->handlers.metrics) srv->handlers.metrics(srv->handlers.ctx, &w->scratch);
    return http_queue_copy(srv, c, mc, 200, w->scratch.data, w->scratch.len, HTTP_CT_PROMETHEUS,
                           NULL);
}

/* First call: everything that can be decided from the headers. */
/* Asks the admit handler about a body of `len` bytes; a refusal is kept
 * in the connection (HTTP_BODY_REFUSED) and answered by http_finish.
 * *wait_ns > 0: admitted, after that long (admit_paced). */
static int http_admit(http_server *srv, http_conn *c, size_t len, uint64_t *wait_ns)
{
    *wait_ns = 0;
    http_ingest_reply reply;
    memset(&reply, 0, sizeof reply);
    o2p_error err;
    o2p_error_clear(&err);
    int rc = O2P_OK;
    otlp_signal signal = (otlp_signal)c->route;
    if (srv->handlers.admit_paced)
        rc = srv->handlers.admit_paced(srv->handlers.ctx, signal, len, wait_ns, &reply, &err);
    else if (srv->handlers.admit)
        rc = srv->handlers.admit(srv->handlers.ctx, signal, len, &reply, &err);
    if (rc == O2P_OK) return O2P_OK;
    *wait_ns = 0;
    c->body_state = HTTP_BODY_REFUSED;
    c->refused_rc = rc;
    c->refused_retry_after = reply.retry_after_secs > 0 ? reply.retry_after_secs : 1;
    snprintf(c->refused_msg, sizeof c->refused_msg, "%.250s",
             err.msg[0] ? err.msg : o2p_strerror(rc));
    return rc;
}

/* The pacer's callback: the connection's admission time has come. */
static void http_pace_resume(void *arg)
{
    http_conn *c = arg;
    struct MHD_Connection *mc = c->mc;
    http_server *srv = c->srv;
    atomic_fetch_sub(&srv->paced, 1);
    /* c may be reused or freed once resumed: nothing touches it after */
    MHD_resume_connection(mc);
}

/* Suspends the connection for wait_ns (phase: HTTP_PACE_HEADERS or _BODY).
 * Zero when it waits; non-zero when it goes on now (no pacer, or the
 * server is stopping). */
static int http_pace(http_server *srv, http_conn *c, struct MHD_Connection *mc, uint64_t wait_ns,
                     int phase)
{
    if (srv->pacer == NULL || wait_ns == 0) return -1;
    c->pace = phase;
    c->srv = srv;
    c->mc = mc;
    atomic_fetch_add(&srv->paced, 1);
    MHD_suspend_connection(mc);
    if (http_pacer_add(srv->pacer, clock_mono_ns() + wait_ns, http_pace_resume, c) < 0) {
        /* draining for a stop (or out of memory): no waiting */
        atomic_fetch_sub(&srv->paced, 1);
        MHD_resume_connection(mc);
    }
    return 0;
}

/* otlp2parquet_http_body_buffer_bytes follows a body buffer's capacity. */
static void http_body_count(http_server *srv, size_t before, size_t after)
{
    if (after != before)
        atomic_fetch_add_explicit(&srv->metrics.body_buffer_bytes, (int64_t)after - (int64_t)before,
                                  memory_order_relaxed);
}

/* Gives a connection without a body buffer one with room for `want`
 * bytes: one of its thread's spares when there is one. */
static int http_body_take(http_server *srv, http_worker *w, http_conn *c, size_t want)
{
    pthread_mutex_lock(&w->spare_lock);
    if (w->spares > 0) {
        http_spare sp = w->spare[--w->spares];
        buf_adopt(&c->body, sp.data, sp.cap);
    }
    pthread_mutex_unlock(&w->spare_lock);
    c->body_home = w;
    size_t before = c->body.cap;
    int rc = buf_reserve(&c->body, want);
    http_body_count(srv, before, c->body.cap);
    return rc;
}

static void http_body_free(http_server *srv, http_conn *c)
{
    size_t cap = c->body.cap;
    buf_free(&c->body);
    http_body_count(srv, cap, 0);
}

/* The request has ended: its body buffer goes back to its thread's spares
 * (counted there still), or is freed. */
static void http_body_release(http_server *srv, http_conn *c)
{
    http_worker *w = c->body_home;
    if (c->body.cap == 0) return;
    if (w && c->body.cap <= HTTP_SPARE_MAX_BYTES) {
        pthread_mutex_lock(&w->spare_lock);
        if (w->spares < HTTP_WORKER_SPARES) {
            http_spare *sp = &w->spare[w->spares++];
            sp->data = buf_yield(&c->body, &sp->cap);
        }
        pthread_mutex_unlock(&w->spare_lock);
    }
    http_body_free(srv, c);
}

/* Swaps the worker's decompressed body into the connection (each buffer
 * keeps its own limit); the connection's body is then identity. */
static void keep_decompressed(http_server *srv, http_conn *c, http_worker *w)
{
    o2p_buf *a = &c->body, *b = &w->dec.out;
    http_body_count(srv, a->cap, b->cap);
    uint8_t *data = a->data;
    size_t len = a->len, cap = a->cap;
    a->data = b->data;
    a->len = b->len;
    a->cap = b->cap;
    b->data = data;
    b->len = len;
    b->cap = cap;
    c->encoding = HTTP_ENC_IDENTITY;
}

static enum MHD_Result http_begin(http_server *srv, http_worker *w, http_conn *c,
                                  struct MHD_Connection *mc, const char *url, const char *method)
{
    c->start_ns = clock_mono_ns();
    c->route = http_route_of(url);
    c->wire_bytes = 0;
    c->body_state = HTTP_BODY_OK;
    c->admitted = 0;
    c->declared = 0;
    c->pace = HTTP_PACE_NONE;
    c->answered = 0;
    c->format_known = 0;
    c->encoding = HTTP_ENC_IDENTITY;
    buf_reset(&c->body);

    if (c->route == HTTP_ROUTE_OTHER) {
        char msg[160];
        snprintf(msg, sizeof msg, "no route for path '%.100s'", url);
        return http_fail(srv, w, c, mc, 404, msg, NULL);
    }
    int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    if (c->route >= HTTP_ROUTE_HEALTH) {
        if (!is_get) {
            http_extra extra = {.allow = "GET, HEAD"};
            return http_fail(srv, w, c, mc, 405, "method not allowed; use GET", &extra);
        }
        switch (c->route) {
        case HTTP_ROUTE_HEALTH:
            return http_queue_shared(srv, c, mc, 200, srv->health, "{\"status\":\"healthy\"}",
                                     HTTP_CT_JSON);
        case HTTP_ROUTE_READY:
            return http_serve_ready(srv, w, c, mc);
        default:
            return http_serve_metrics(srv, w, c, mc);
        }
    }

    /* A request that begins after stop was called (e.g. on an idle
     * keep-alive connection) is not taken: its connection may be closed
     * before a response could be sent, and a client retrying a request
     * that was in fact stored would store it twice.  (Sequentially
     * consistent, like the in-flight count before it and the stop's store
     * and load: a request is either refused here or waited for.) */
    if (atomic_load(&srv->stopping)) {
        http_extra extra = {.retry_after = 1};
        return http_fail(srv, w, c, mc, 503, "server is shutting down; retry", &extra);
    }
    if (strcmp(method, "POST") != 0) {
        http_extra extra = {.allow = "POST"};
        return http_fail(srv, w, c, mc, 405, "method not allowed; use POST", &extra);
    }
    /* The content type is read before authentication only so that a 401
     * can be encoded the way the client will parse it. */
    const char *ctype = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Type");
    c->format_known = http_content_type_parse(ctype, &c->format) == O2P_OK;
    if (srv->auth_token && !http_authorized(srv, mc)) {
        http_extra extra = {.www_authenticate = 1};
        return http_fail(srv, w, c, mc, 401, "missing or invalid bearer token", &extra);
    }
    char msg[200];
    if (!c->format_known) {
        snprintf(msg, sizeof msg,
                 "unsupported Content-Type '%.80s'; expected application/x-protobuf, "
                 "application/json or application/x-ndjson",
                 ctype ? ctype : "");
        return http_fail(srv, w, c, mc, 415, msg, NULL);
    }
    const char *cenc = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Encoding");
    if (http_encoding_parse(cenc, &c->encoding) < 0) {
        snprintf(msg, sizeof msg,
                 "unsupported Content-Encoding '%.80s'; expected gzip, deflate, zstd or identity",
                 cenc);
        return http_fail(srv, w, c, mc, 415, msg, NULL);
    }
    const char *clen = MHD_lookup_connection_value(mc, MHD_HEADER_KIND, "Content-Length");
    if (clen) {
        unsigned long long declared = strtoull(clen, NULL, 10);
        if (declared > srv->max_payload) {
            snprintf(msg, sizeof msg, "request body of %llu bytes exceeds the %zu byte limit",
                     declared, srv->max_payload);
            return http_fail(srv, w, c, mc, 413, msg, NULL);
        }
        c->declared = declared;
        uint64_t wait_ns = 0;
        if (c->encoding == HTTP_ENC_IDENTITY) {
            if (http_admit(srv, c, (size_t)declared, &wait_ns) < 0)
                return MHD_YES; /* the body is read and dropped, then refused */
            c->admitted = 1;
        }
        /* admitted later: the body waits in the socket until then (and
         * the connection holds no body buffer meanwhile) */
        if (declared > 0 && wait_ns > 0) http_pace(srv, c, mc, wait_ns, HTTP_PACE_HEADERS);
    }
    return MHD_YES;
}

static enum MHD_Result http_collect(http_server *srv, http_worker *w, http_conn *c,
                                    const char *data, size_t len)
{
    c->pace = HTTP_PACE_NONE;
    c->wire_bytes += len;
    if (c->body_state == HTTP_BODY_OK) {
        /* First bytes: one allocation for the declared length instead of
         * doubling while the body arrives (a spare is usually big enough). */
        int rc = O2P_OK;
        if (c->body.cap == 0)
            rc = http_body_take(srv, w, c, c->declared > len ? (size_t)c->declared : len);
        if (rc == O2P_OK) {
            size_t before = c->body.cap;
            rc = buf_append(&c->body, data, len);
            http_body_count(srv, before, c->body.cap);
        }
        if (rc == O2P_ELIMIT) {
            c->body_state = HTTP_BODY_OVERFLOW;
            http_body_free(srv, c);
        } else if (rc < 0) {
            c->body_state = HTTP_BODY_NOMEM;
        }
    }
    if (c->body_state == HTTP_BODY_OVERFLOW &&
        c->wire_bytes > (uint64_t)srv->max_payload * HTTP_DISCARD_FACTOR)
        return MHD_NO;
    return MHD_YES;
}

static unsigned http_status_of(int rc)
{
    switch (rc) {
    case O2P_OK:
        return 200;
    case O2P_EINVAL:
        return 400;
    case O2P_EAUTH:
        return 401;
    case O2P_ELIMIT:
        return 413;
    case O2P_EUNSUPPORTED:
        return 415;
    case O2P_EBUSY:
        return 429;
    default:
        return 503;
    }
}

static enum MHD_Result http_answer(http_server *srv, http_worker *w, http_conn *c,
                                   struct MHD_Connection *mc, int rc, http_ingest_reply *reply,
                                   o2p_error *err);
static enum MHD_Result http_answer_pending(http_server *srv, http_worker *w, http_conn *c,
                                           struct MHD_Connection *mc);

/* One pending request fewer.  Under the lock that http_server_stop reads
 * the count with: once the count is 0 it may free srv, so srv is not
 * touched after the unlock. */
static void http_pending_end(http_server *srv)
{
    pthread_mutex_lock(&srv->idle_lock);
    if (atomic_fetch_sub(&srv->pending, 1) == 1 && atomic_load(&srv->stopping))
        pthread_cond_broadcast(&srv->idle_cond);
    pthread_mutex_unlock(&srv->idle_lock);
}

/* Last call: the body is complete. */
static enum MHD_Result http_finish(http_server *srv, http_worker *w, unsigned thread_index,
                                   http_conn *c, struct MHD_Connection *mc)
{
    char msg[160];
    if (c->body_state == HTTP_BODY_REFUSED) {
        http_extra extra = {.retry_after = c->refused_retry_after};
        return http_fail(srv, w, c, mc, http_status_of(c->refused_rc), c->refused_msg, &extra);
    }
    if (c->body_state == HTTP_BODY_OVERFLOW) {
        snprintf(msg, sizeof msg, "request body exceeds %zu bytes", srv->max_payload);
        return http_fail(srv, w, c, mc, 413, msg, NULL);
    }
    if (c->body_state == HTTP_BODY_NOMEM) {
        http_extra extra = {.retry_after = 1};
        return http_fail(srv, w, c, mc, 503, "out of memory receiving request body", &extra);
    }

    o2p_error err;
    o2p_error_clear(&err);
    const uint8_t *body = c->body.data;
    size_t len = c->body.len;
    if (c->encoding != HTTP_ENC_IDENTITY) {
        int rc = http_decompress(&w->dec, c->encoding, body, len, &err);
        if (rc < 0) {
            http_extra extra = {.retry_after = 1};
            return http_fail(srv, w, c, mc, http_status_of(rc), err.msg, &extra);
        }
        body = w->dec.out.data;
        len = w->dec.out.len;
    }
    if (c->pace != HTTP_PACE_BODY) /* not counted twice after a paced wait */
        http_metrics_add_bytes(&srv->metrics, c->route, c->wire_bytes, len);
    c->pace = HTTP_PACE_NONE;
    if (!c->admitted) {
        /* not admitted at the headers (compressed or chunked): now the size is known */
        uint64_t wait_ns;
        if (http_admit(srv, c, len, &wait_ns) < 0) {
            http_extra extra = {.retry_after = c->refused_retry_after};
            return http_fail(srv, w, c, mc, http_status_of(c->refused_rc), c->refused_msg, &extra);
        }
        c->admitted = 1;
        if (wait_ns > 0) {
            /* the worker's buffer serves other connections meanwhile: the
             * connection keeps the decompressed body, so the wait does not
             * decompress it twice */
            if (c->encoding != HTTP_ENC_IDENTITY) keep_decompressed(srv, c, w);
            if (http_pace(srv, c, mc, wait_ns, HTTP_PACE_BODY) == 0) return MHD_YES;
            body = c->body.data;
            len = c->body.len;
        }
    }

    http_ingest_reply reply;
    memset(&reply, 0, sizeof reply);
    otlp_signal signal = (otlp_signal)c->route; /* ingest routes share the enum order */
    if (srv->handlers.ingest_async == NULL) {
        int rc = srv->handlers.ingest(srv->handlers.ctx, thread_index, signal, c->format, body, len,
                                      &reply, &err);
        return http_answer(srv, w, c, mc, rc, &reply, &err);
    }
    http_pending *p = &c->pending;
    p->srv = srv;
    p->mc = mc;
    atomic_fetch_add(&srv->pending, 1); /* before it can be completed */
    if (atomic_load(&srv->closing)) {
        /* stop has given up on requests in flight (its timeout) and waits
         * only for pending ones it counted: this one is not suspended */
        http_pending_end(srv);
        http_extra extra = {.retry_after = 1};
        return http_fail(srv, w, c, mc, 503, "server is shutting down; retry", &extra);
    }
    atomic_store(&p->state, HTTP_PENDING_RUNNING);
    int rc = srv->handlers.ingest_async(srv->handlers.ctx, thread_index, signal, c->format, body,
                                        len, p, &reply, &err);
    if (rc != HTTP_INGEST_PENDING) {
        atomic_store(&p->state, HTTP_PENDING_NONE);
        http_pending_end(srv);
        return http_answer(srv, w, c, mc, rc, &reply, &err);
    }
    if (atomic_load(&p->state) == HTTP_PENDING_DONE) return http_answer_pending(srv, w, c, mc);
    MHD_suspend_connection(mc);
    int expected = HTTP_PENDING_RUNNING;
    if (!atomic_compare_exchange_strong(&p->state, &expected, HTTP_PENDING_SUSPENDED))
        MHD_resume_connection(mc); /* completed meanwhile: answered once resumed */
    return MHD_YES;
}

void http_server_complete(http_pending *p, int rc, const http_ingest_reply *reply,
                          const o2p_error *err)
{
    http_server *srv = p->srv;
    p->rc = rc;
    if (reply)
        p->reply = *reply;
    else
        memset(&p->reply, 0, sizeof p->reply);
    snprintf(p->msg, sizeof p->msg, "%s", err && rc != O2P_OK ? err->msg : "");
    struct MHD_Connection *mc = p->mc;
    /* after this exchange p belongs to the connection's thread again */
    int prev = atomic_exchange(&p->state, HTTP_PENDING_DONE);
    if (prev == HTTP_PENDING_SUSPENDED) MHD_resume_connection(mc);
    http_pending_end(srv);
}

/* The response for an ingest result. */
static enum MHD_Result http_answer(http_server *srv, http_worker *w, http_conn *c,
                                   struct MHD_Connection *mc, int rc, http_ingest_reply *reply,
                                   o2p_error *err)
{
    otlp_signal signal = (otlp_signal)c->route;
    unsigned status = http_status_of(rc);
    int json = c->format != OTLP_FMT_PROTOBUF;
    if (status == 200) {
        reply->message[sizeof reply->message - 1] = '\0';
        if (reply->rejected == 0 && reply->message[0] == '\0')
            return json
                       ? http_queue_shared(srv, c, mc, 200, srv->ok_json, "{}", HTTP_CT_JSON)
                       : http_queue_shared(srv, c, mc, 200, srv->ok_protobuf, "", HTTP_CT_PROTOBUF);
        buf_reset(&w->scratch);
        if (http_response_export(&w->scratch, signal, json, reply->rejected, reply->message) < 0)
            return MHD_NO;
        return http_queue_copy(srv, c, mc, 200, w->scratch.data, w->scratch.len,
                               json ? HTTP_CT_JSON : HTTP_CT_PROTOBUF, NULL);
    }
    if (err->msg[0] == '\0')
        snprintf(err->msg, sizeof err->msg, "request rejected: %s", o2p_strerror(rc));
    http_extra extra = {.retry_after = reply->retry_after_secs > 0 ? reply->retry_after_secs : 1};
    return http_fail(srv, w, c, mc, status, err->msg, &extra);
}

/* The answer of a completed pending request (its result is in c->pending). */
static enum MHD_Result http_answer_pending(http_server *srv, http_worker *w, http_conn *c,
                                           struct MHD_Connection *mc)
{
    http_pending *p = &c->pending;
    atomic_store(&p->state, HTTP_PENDING_NONE);
    o2p_error err;
    o2p_error_clear(&err);
    snprintf(err.msg, sizeof err.msg, "%s", p->msg);
    err.code = p->rc;
    return http_answer(srv, w, c, mc, p->rc, &p->reply, &err);
}

static enum MHD_Result http_access(void *cls, struct MHD_Connection *mc, const char *url,
                                   const char *method, const char *version, const char *upload_data,
                                   size_t *upload_data_size, void **req_cls)
{
    (void)version;
    http_server *srv = cls;
    http_conn *c = *req_cls;
    if (c == NULL) {
        const union MHD_ConnectionInfo *info =
            MHD_get_connection_info(mc, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
        c = info ? info->socket_context : NULL;
        if (c == NULL) return MHD_NO; /* its allocation failed: drop the connection */
        *req_cls = c;
        atomic_fetch_add(&srv->metrics.in_flight, 1); /* before http_begin reads stopping */
        unsigned index;
        http_worker *w = http_thread_worker(srv, &index);
        if (w == NULL) return MHD_NO;
        return http_begin(srv, w, c, mc, url, method);
    }
    if (c->answered) {
        /* only while the daemon stops (see the header comment): the body
         * is dropped, and as nothing was sent the connection is closed */
        if (*upload_data_size == 0) return MHD_NO;
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (c->pace == HTTP_PACE_HEADERS && *upload_data_size == 0) {
        c->pace = HTTP_PACE_NONE;
        /* resumed at the headers: libmicrohttpd calls again before the body */
        if (c->wire_bytes == 0 && c->declared > 0) return MHD_YES;
    }
    unsigned index;
    http_worker *w = http_thread_worker(srv, &index);
    if (w == NULL) return MHD_NO;
    if (*upload_data_size > 0) {
        size_t len = *upload_data_size;
        *upload_data_size = 0;
        return http_collect(srv, w, c, upload_data, len);
    }
    if (atomic_load(&c->pending.state) == HTTP_PENDING_DONE)
        return http_answer_pending(srv, w, c, mc); /* resumed */
    return http_finish(srv, w, index, c, mc);
}

static void http_completed(void *cls, struct MHD_Connection *mc, void **req_cls,
                           enum MHD_RequestTerminationCode toe)
{
    (void)mc;
    (void)toe;
    http_server *srv = cls;
    http_conn *c = *req_cls;
    if (c == NULL) return;
    *req_cls = NULL;
    http_body_release(srv, c);
    if (atomic_fetch_sub_explicit(&srv->metrics.in_flight, 1, memory_order_acq_rel) == 1 &&
        atomic_load(&srv->stopping)) {
        pthread_mutex_lock(&srv->idle_lock);
        pthread_cond_broadcast(&srv->idle_cond);
        pthread_mutex_unlock(&srv->idle_lock);
    }
}

static void http_connection_notify(void *cls, struct MHD_Connection *mc, void **socket_context,
                                   enum MHD_ConnectionNotificationCode code)
{
    http_server *srv = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        if (srv->tls) {
            /* before the handshake: this connection gets the current
             * certificate (it may have been reloaded since start) */
            const union MHD_ConnectionInfo *info =
                MHD_get_connection_info(mc, MHD_CONNECTION_INFO_GNUTLS_SESSION);
            if (info == NULL || info->tls_session == NULL ||
                http_tls_attach(srv->tls, info->tls_session) < 0) {
                /* without our credentials (and the mutual-TLS requirement)
                 * nothing on this connection is served: no context means
                 * http_access drops it at its first request */
                LOG_WARN("http: could not set this connection's TLS credentials; dropping it");
                *socket_context = NULL;
                return;
            }
        }
        http_conn *c = mem_calloc(1, sizeof *c);
        if (c) buf_init(&c->body, srv->max_payload);
        *socket_context = c;
    } else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
        http_conn *c = *socket_context;
        if (c) {
            http_body_free(srv, c);
            mem_free(c);
        }
        *socket_context = NULL;
    }
}

/* libmicrohttpd reports client protocol errors here; they are the
 * client's problem, so they stay at debug level. */
static void http_mhd_log(void *cls, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));
static void http_mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    if (!log_enabled(LOG_LEVEL_DEBUG)) return;
    char line[512];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = '\0';
    LOG_DEBUG("http: libmicrohttpd: %s", line);
}

/* ---- accepting ----------------------------------------------------------- */

/* Renumbers a fresh socket so that it goes to pool thread `slot`:
 * libmicrohttpd hands an added connection to the pool thread numbered
 * fd % threads (or, when that one is full, to the next with room).  Best
 * effort: with no such number free in a few tries the socket keeps its own. */
static int http_place_fd(int fd, unsigned threads, unsigned slot)
{
    int tried = fd;
    for (int i = 0; i < 4 && (unsigned)fd % threads != slot; i++) {
        /* the smallest number above `tried` that maps to the slot */
        int from = tried + 1 + (int)((slot + threads - (unsigned)(tried + 1) % threads) % threads);
        int dup = fcntl(fd, F_DUPFD_CLOEXEC, from);
        if (dup < 0) break; /* out of descriptors, or above the limit */
        if ((unsigned)dup % threads == slot) {
            close(fd);
            return dup;
        }
        close(dup); /* `from` was taken: the lowest free one above it was returned */
        tried = dup;
    }
    return fd;
}

/* The accept thread: one connection per wake-up, given to the pool threads
 * in turn.  It ends when a byte arrives on wake_fd. */
static void *http_accept_main(void *arg)
{
    http_server *srv = arg;
    struct pollfd fds[2] = {{.fd = srv->wake_fd[0], .events = POLLIN},
                            {.fd = srv->listen_fd, .events = POLLIN}};
    unsigned next = 0;
    int backoff = 0, warned = 0;
    for (;;) {
        /* while backing off only the stop request is watched */
        int n = poll(fds, backoff ? 1 : 2, backoff ? HTTP_ACCEPT_BACKOFF_MS : -1);
        if (n < 0 && errno != EINTR) {
            LOG_ERROR("http: polling the listening socket failed: %s", strerror(errno));
            backoff = 1;
            continue;
        }
        if (n > 0 && fds[0].revents) break;
        if (backoff) {
            backoff = 0;
            continue;
        }
        if (n <= 0 || fds[1].revents == 0) continue;
        struct sockaddr_storage addr;
        socklen_t addr_len = sizeof addr;
        int fd = accept4(srv->listen_fd, (struct sockaddr *)&addr, &addr_len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK || errno == ECONNABORTED)
                continue;
            /* EMFILE, ENFILE, ENOBUFS, ENOMEM: wait for descriptors to be
             * freed; warned once until a connection is accepted again */
            if (!warned)
                LOG_WARN("http: cannot accept connections: %s; retrying every %d ms",
                         strerror(errno), HTTP_ACCEPT_BACKOFF_MS);
            warned = 1;
            backoff = 1;
            continue;
        }
        warned = 0;
        fd = http_place_fd(fd, srv->threads, next++ % srv->threads);
        /* on failure libmicrohttpd has closed the socket (connection limit,
         * out of memory) */
        if (MHD_add_connection(srv->daemon, fd, (struct sockaddr *)&addr, addr_len) != MHD_YES)
            LOG_DEBUG("http: connection dropped by libmicrohttpd: %s", strerror(errno));
    }
    return NULL;
}

/* 0, or an errno value. */
static int http_accept_start(http_server *srv)
{
    if (pipe2(srv->wake_fd, O_CLOEXEC | O_NONBLOCK) < 0) {
        srv->wake_fd[0] = srv->wake_fd[1] = -1;
        return errno;
    }
    int eno = pthread_create(&srv->acceptor, NULL, http_accept_main, srv);
    srv->acceptor_running = eno == 0;
    return eno;
}

/* Returns once nothing accepts any more (sockets accepted so far belong to
 * libmicrohttpd). */
static void http_accept_stop(http_server *srv)
{
    if (!srv->acceptor_running) return;
    static const char byte = 1;
    while (write(srv->wake_fd[1], &byte, 1) < 0 && errno == EINTR) {
    }
    pthread_join(srv->acceptor, NULL);
    srv->acceptor_running = 0;
}

/* ---- start / stop -------------------------------------------------------- */

static int http_build_shared(http_server *srv)
{
    static const char ok_json[] = "{}";
    static const char healthy[] = "{\"status\":\"healthy\"}";
    static const char ready[] = "{\"status\":\"ready\"}";
    static const char not_ready[] = "{\"status\":\"not ready\"}";
    srv->ok_protobuf = http_make_response("", 0, MHD_RESPMEM_PERSISTENT, HTTP_CT_PROTOBUF);
    srv->ok_json = http_make_response(ok_json, 2, MHD_RESPMEM_PERSISTENT, HTTP_CT_JSON);
    srv->health =
        http_make_response(healthy, sizeof healthy - 1, MHD_RESPMEM_PERSISTENT, HTTP_CT_JSON);
    srv->ready = http_make_response(ready, sizeof ready - 1, MHD_RESPMEM_PERSISTENT, HTTP_CT_JSON);
    srv->not_ready =
        http_make_response(not_ready, sizeof not_ready - 1, MHD_RESPMEM_PERSISTENT, HTTP_CT_JSON);
    return srv->ok_protobuf && srv->ok_json && srv->health && srv->ready && srv->not_ready
               ? O2P_OK
               : O2P_ENOMEM;
}

static void http_free(http_server *srv)
{
    struct MHD_Response *shared[] = {srv->ok_protobuf, srv->ok_json, srv->health, srv->ready,
                                     srv->not_ready};
    for (size_t i = 0; i < sizeof shared / sizeof shared[0]; i++)
        if (shared[i]) MHD_destroy_response(shared[i]);
    if (srv->workers) {
        for (unsigned i = 0; i < srv->threads; i++) {
            http_worker *w = &srv->workers[i];
            http_decompressor_free(&w->dec);
            buf_free(&w->scratch);
            for (unsigned k = 0; k < w->spares; k++) mem_free(w->spare[k].data);
            pthread_mutex_destroy(&w->spare_lock);
        }
        mem_free(srv->workers);
    }
    if (srv->listen_fd >= 0) close(srv->listen_fd);
    for (int i = 0; i < 2; i++)
        if (srv->wake_fd[i] >= 0) close(srv->wake_fd[i]);
    http_pacer_stop(srv->pacer);
    pthread_cond_destroy(&srv->idle_cond);
    pthread_mutex_destroy(&srv->idle_lock);
    mem_free(srv->auth_token);
    http_tls_destroy(srv->tls);
    mem_free(srv);
}

int http_server_start(http_server **out, const http_config *config, const http_handlers *handlers,
                      o2p_error *err)
{
    *out = NULL;
    if (handlers == NULL || handlers->ingest == NULL)
        return o2p_errorf(err, O2P_EINVAL, "http server: an ingest handler is required");
    http_server *srv = mem_calloc(1, sizeof *srv);
    if (srv == NULL) return o2p_errorf(err, O2P_ENOMEM, "http server: out of memory");
    srv->listen_fd = -1;
    srv->wake_fd[0] = srv->wake_fd[1] = -1;
    srv->handlers = *handlers;
    srv->max_payload =
        config->max_payload_bytes ? config->max_payload_bytes : HTTP_DEFAULT_MAX_PAYLOAD;
    srv->shutdown_timeout_secs = config->shutdown_timeout_secs ? config->shutdown_timeout_secs : 30;
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    srv->threads = config->threads ? config->threads : (cpus > 0 ? (unsigned)cpus : 1);
    http_metrics_init(&srv->metrics);
    pthread_mutex_init(&srv->idle_lock, NULL);
    pthread_condattr_t cattr;
    pthread_condattr_init(&cattr);
    pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
    pthread_cond_init(&srv->idle_cond, &cattr);
    pthread_condattr_destroy(&cattr);

    int rc = O2P_OK;
    if (config->auth_token && config->auth_token[0] &&
        (srv->auth_token = mem_strdup(config->auth_token)) == NULL)
        rc = O2P_ENOMEM;
    if (rc == O2P_OK && (srv->workers = mem_calloc(srv->threads, sizeof *srv->workers)) == NULL)
        rc = O2P_ENOMEM;
    if (rc == O2P_OK) {
        for (unsigned i = 0; i < srv->threads; i++) {
            http_decompressor_init(&srv->workers[i].dec, srv->max_payload);
            pthread_mutex_init(&srv->workers[i].spare_lock, NULL);
            buf_init(&srv->workers[i].scratch, 0);
            /* Reserved up front so that an error Status (at most a few KiB)
             * can still be built when memory has run out. */
            if (buf_reserve(&srv->workers[i].scratch, HTTP_SCRATCH_RESERVE) < 0) rc = O2P_ENOMEM;
        }
        if (rc == O2P_OK) rc = http_build_shared(srv);
    }
    if (rc < 0) {
        http_free(srv);
        return o2p_errorf(err, rc, "http server: out of memory");
    }
    if (handlers->admit_paced && (rc = http_pacer_start(&srv->pacer, err)) < 0) {
        http_free(srv);
        return rc;
    }
    if (config->tls_cert_file || config->tls_key_file) {
        if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
            http_free(srv);
            return o2p_errorf(err, O2P_EUNSUPPORTED,
                              "server.tls.cert_file: this libmicrohttpd was built without TLS");
        }
        rc = http_tls_create(&srv->tls, config->tls_cert_file, config->tls_key_file,
                             config->tls_client_ca_file, err);
        if (rc < 0) {
            http_free(srv);
            return rc;
        }
    }
    rc = net_listen("listen_addr", config->listen_addr, &srv->listen_fd, &srv->port, err);
    if (rc < 0) {
        http_free(srv);
        return rc;
    }

    /* ITC: MHD_add_connection wakes the pool thread that gets the socket */
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_ITC |
                     MHD_USE_ERROR_LOG | MHD_USE_TURBO | MHD_ALLOW_SUSPEND_RESUME;
    flags |= MHD_is_feature_supported(MHD_FEATURE_EPOLL) == MHD_YES ? MHD_USE_EPOLL : MHD_USE_AUTO;
    /* With TLS the daemon starts with the first certificate; every
     * connection is then given the current one (http_connection_notify). */
    struct MHD_OptionItem tls_opts[3] = {{MHD_OPTION_END, 0, NULL}};
    if (srv->tls) {
        flags |= MHD_USE_TLS;
        tls_opts[0] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                              (void *)http_tls_initial_cert_pem(srv->tls)};
        tls_opts[1] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                              (void *)http_tls_initial_key_pem(srv->tls)};
        tls_opts[2] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};
    }
    /* The pool option is appended only for more than one thread; a
     * trailing MHD_OPTION_END ends the list either way. */
    srv->daemon = MHD_start_daemon(
        flags, 0, NULL, NULL, http_access, srv, MHD_OPTION_NOTIFY_COMPLETED, http_completed, srv,
        MHD_OPTION_NOTIFY_CONNECTION, http_connection_notify, srv,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, HTTP_CONN_MEMORY, MHD_OPTION_CONNECTION_TIMEOUT,
        HTTP_CONN_TIMEOUT_SECS, MHD_OPTION_EXTERNAL_LOGGER, http_mhd_log, srv, MHD_OPTION_ARRAY,
        tls_opts, srv->threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, srv->threads,
        MHD_OPTION_END);
    if (srv->daemon == NULL) {
        http_free(srv);
        return o2p_errorf(err, O2P_EIO, "listen_addr '%s': could not start the HTTP server",
                          config->listen_addr);
    }
    int eno = http_accept_start(srv);
    if (eno != 0) {
        MHD_stop_daemon(srv->daemon);
        http_free(srv);
        return o2p_errorf(err, O2P_EIO, "listen_addr '%s': could not start accepting: %s",
                          config->listen_addr, strerror(eno));
    }
    *out = srv;
    return O2P_OK;
}

int http_server_tls(const http_server *srv)
{
    return srv->tls != NULL;
}

int http_server_reload_tls(http_server *srv, o2p_error *err)
{
    return srv->tls ? http_tls_reload(srv->tls, err) : O2P_OK;
}

void http_server_tls_describe(http_server *srv, char *out, size_t size)
{
    if (srv->tls)
        http_tls_describe(srv->tls, out, size);
    else if (size)
        out[0] = '\0';
}

uint16_t http_server_port(const http_server *srv)
{
    return srv->port;
}

unsigned http_server_threads(const http_server *srv)
{
    return srv->threads;
}

unsigned http_server_paced(const http_server *srv)
{
    return atomic_load(&((http_server *)srv)->paced);
}

const http_metrics *http_server_metrics(const http_server *srv)
{
    return &srv->metrics;
}

void http_server_stop(http_server *srv)
{
    if (srv == NULL) return;
    atomic_store(&srv->stopping, 1);
    /* Accepting stops first; shutting the listening socket down then makes
     * new connections fail fast while accepted ones carry on.  It is closed
     * (http_free) only after the daemon's threads are gone. */
    http_accept_stop(srv);
    shutdown(srv->listen_fd, SHUT_RDWR);
    /* paced connections go on now (a stop never waits for a pacing
     * deadline), and none is suspended by the pacer from here on */
    if (srv->pacer) http_pacer_drain(srv->pacer);
    struct timespec deadline =
        clock_mono_deadline((uint64_t)srv->shutdown_timeout_secs * CLOCK_NS_PER_SEC);
    pthread_mutex_lock(&srv->idle_lock);
    while (atomic_load(&srv->metrics.in_flight) > 0) {
        if (pthread_cond_timedwait(&srv->idle_cond, &srv->idle_lock, &deadline) == ETIMEDOUT) {
            LOG_WARN("http: %lld requests still in flight after %u s; closing them",
                     (long long)atomic_load(&srv->metrics.in_flight), srv->shutdown_timeout_secs);
            break;
        }
    }
    /* libmicrohttpd cannot stop with suspended connections: a pending
     * request is always completed by its owner, so wait for it.  After the
     * timeout, requests still in flight may reach their ingest: `closing`
     * (set before the count is read, which they raise before they read
     * `closing`) makes them answer 503 instead of becoming pending. */
    atomic_store(&srv->closing, 1);
    while (atomic_load(&srv->pending) > 0) {
        deadline = clock_mono_deadline(5 * CLOCK_NS_PER_SEC);
        if (pthread_cond_timedwait(&srv->idle_cond, &srv->idle_lock, &deadline) == ETIMEDOUT)
            LOG_WARN("http: waiting for %ld pending requests to be answered",
                     (long)atomic_load(&srv->pending));
    }
    pthread_mutex_unlock(&srv->idle_lock);
    MHD_stop_daemon(srv->daemon);
    http_free(srv);
}
