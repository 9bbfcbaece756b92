/*
 * test_http_util: shared fixtures for the http_* tests — an in-process
 * server on 127.0.0.1 with a recording ingest callback, and a libcurl
 * client that captures status, headers and body.
 */
#ifndef O2P_TESTS_HTTP_UTIL_H
#define O2P_TESTS_HTTP_UTIL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "server/http_server.h"

/* What the ingest callback saw and what it answers. */
typedef struct http_sink {
    pthread_mutex_t lock;
    atomic_int calls;
    atomic_int entered; /* set when a call starts (for the slow-request test) */
    otlp_signal signal;
    otlp_format format;
    unsigned max_thread_index;
    o2p_buf body; /* copy of the last body */
    /* answer */
    int rc;
    char err_msg[128];
    http_ingest_reply reply;
    int sleep_ms;
    int ready;
} http_sink;

void http_sink_init(http_sink *s);
void http_sink_free(http_sink *s);
/* Change the answer while the server runs; under the sink's lock, because
 * the callback reads it on an MHD thread (TSan sees no order through the
 * socket between one request's reply and the next one's setup). */
void http_sink_answer(http_sink *s, int rc, int retry_after_secs, const char *err_msg);
void http_sink_set_ready(http_sink *s, int ready);

/* Starts a server on 127.0.0.1:0 wired to the sink; fails the test on error. */
http_server *http_test_server(http_sink *sink, size_t max_payload, unsigned threads,
                              const char *auth_token);

typedef struct http_resp {
    long status; /* 0 when the transfer failed */
    o2p_buf body;
    o2p_buf headers;
    long new_connections;
} http_resp;

typedef struct http_req {
    const char *method; /* default POST when a body is given, else GET */
    const char *path;
    const char *const *headers; /* NULL-terminated, may be NULL */
    const void *body;
    size_t len;
    int chunked; /* send with Transfer-Encoding: chunked */
    int expect_continue;
} http_req;

/* Performs one request; a non-NULL `reuse` handle keeps the connection. */
void http_do(uint16_t port, const http_req *req, http_resp *out, void *reuse);
/* The value of a response header (case-insensitive), in a static buffer, or NULL. */
const char *http_resp_header(const http_resp *r, const char *name);
void http_resp_free(http_resp *r);

/* Runs http_server_stop on its own thread (pthread_create with
 * http_stopper_main): `returned` tells whether stop has come back. */
typedef struct http_stopper {
    http_server *srv;
    atomic_int returned;
} http_stopper;
void *http_stopper_main(void *arg);

#endif
