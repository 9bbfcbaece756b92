/* Tests for grpc_h2: a real nghttp2 client session talks to a server
 * session in memory (no sockets), so calls, trailers, refusals, the
 * per-connection buffer cap and GOAWAY are checked end to end. */
#include <nghttp2/nghttp2.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/mem.h"
#include "server/grpc_frame.h"
#include "server/grpc_h2.h"
#include "unit.h"

typedef struct fake_backend {
    int calls;
    otlp_signal last_signal;
    size_t last_len;
    int rc; /* what ingest returns */
} fake_backend;

static int fake_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                       const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err)
{
    (void)thread_index;
    (void)body;
    fake_backend *fb = ctx;
    fb->calls++;
    fb->last_signal = signal;
    fb->last_len = len;
    if (format != OTLP_FMT_PROTOBUF) return o2p_errorf(err, O2P_EINVAL, "not protobuf");
    if (fb->rc == O2P_EBUSY) {
        reply->retry_after_secs = 4;
        return o2p_errorf(err, O2P_EBUSY, "buffer full");
    }
    if (fb->rc < 0) return o2p_errorf(err, fb->rc, "bad field resource_logs[0]");
    reply->rejected = 2;
    snprintf(reply->message, sizeof reply->message, "two dropped");
    return O2P_OK;
}

typedef struct client_call {
    char status[8];
    char message[256];
    int has_details;
    char pushback[16]; /* grpc-retry-pushback-ms */
    int closed;
    uint8_t body[256];
    size_t body_len;
} client_call;

typedef struct client {
    nghttp2_session *s;
    client_call calls[8];
    const uint8_t *send_data[8];
    size_t send_len[8], send_off[8];
    int ping_acks;
} client;

static int cl_frame(nghttp2_session *s, const nghttp2_frame *f, void *ud)
{
    (void)s;
    client *cl = ud;
    if (f->hd.type == NGHTTP2_PING && (f->hd.flags & NGHTTP2_FLAG_ACK)) cl->ping_acks++;
    return 0;
}

static int cl_header(nghttp2_session *s, const nghttp2_frame *f, const uint8_t *name, size_t nl,
                     const uint8_t *value, size_t vl, uint8_t flags, void *ud)
{
    (void)flags;
    (void)ud;
    client_call *c = nghttp2_session_get_stream_user_data(s, f->hd.stream_id);
    if (c == NULL) return 0;
    if (nl == 11 && memcmp(name, "grpc-status", 11) == 0)
        snprintf(c->status, sizeof c->status, "%.*s", (int)vl, (const char *)value);
    if (nl == 12 && memcmp(name, "grpc-message", 12) == 0)
        snprintf(c->message, sizeof c->message, "%.*s", (int)vl, (const char *)value);
    if (nl == 23 && memcmp(name, "grpc-status-details-bin", 23) == 0) c->has_details = 1;
    if (nl == 22 && memcmp(name, "grpc-retry-pushback-ms", 22) == 0)
        snprintf(c->pushback, sizeof c->pushback, "%.*s", (int)vl, (const char *)value);
    return 0;
}

static int cl_data(nghttp2_session *s, uint8_t flags, int32_t id, const uint8_t *d, size_t n,
                   void *ud)
{
    (void)flags;
    (void)ud;
    client_call *c = nghttp2_session_get_stream_user_data(s, id);
    if (c && c->body_len + n <= sizeof c->body) {
        memcpy(c->body + c->body_len, d, n);
        c->body_len += n;
    }
    return 0;
}

static int cl_close(nghttp2_session *s, int32_t id, uint32_t code, void *ud)
{
    (void)code;
    (void)ud;
    client_call *c = nghttp2_session_get_stream_user_data(s, id);
    if (c) c->closed = 1;
    return 0;
}

static ssize_t cl_read(nghttp2_session *s, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
                       nghttp2_data_source *src, void *ud)
{
    (void)s;
    (void)id;
    client *cl = ud;
    int k = (int)(intptr_t)src->ptr;
    size_t left = cl->send_len[k] - cl->send_off[k];
    size_t n = left < len ? left : len;
    memcpy(buf, cl->send_data[k] + cl->send_off[k], n);
    cl->send_off[k] += n;
    if (cl->send_off[k] == cl->send_len[k]) *flags |= NGHTTP2_DATA_FLAG_EOF;
    return (ssize_t)n;
}

static void cl_init(client *cl)
{
    memset(cl, 0, sizeof *cl);
    nghttp2_session_callbacks *cbs;
    nghttp2_session_callbacks_new(&cbs);
    nghttp2_session_callbacks_set_on_header_callback(cbs, cl_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, cl_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, cl_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, cl_frame);
    nghttp2_session_client_new(&cl->s, cbs, cl);
    nghttp2_session_callbacks_del(cbs);
    nghttp2_submit_settings(cl->s, NGHTTP2_FLAG_NONE, NULL, 0);
}

#define NVS(n, v)                                                                                  \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), strlen(n), strlen(v), NGHTTP2_NV_FLAG_NONE                 \
    }

/* Starts call k: path, optional extra header, the bytes to send. */
static void cl_call(client *cl, int k, const char *path, const char *hname, const char *hvalue,
                    const uint8_t *data, size_t len)
{
    nghttp2_nv nva[6] = {NVS(":method", "POST"), NVS(":scheme", "http"), NVS(":authority", "x"),
                         NVS(":path", path), NVS("content-type", "application/grpc")};
    size_t n = 5;
    if (hname) {
        nghttp2_nv extra = NVS(hname, hvalue);
        nva[n++] = extra;
    }
    cl->send_data[k] = data;
    cl->send_len[k] = len;
    nghttp2_data_provider prd = {.source = {.ptr = (void *)(intptr_t)k}, .read_callback = cl_read};
    nghttp2_submit_request(cl->s, NULL, nva, n, &prd, &cl->calls[k]);
}

/* Moves bytes both ways until neither side has anything to say. */
static void pump(client *cl, grpc_h2 *h)
{
    o2p_buf out;
    buf_init(&out, 0);
    for (int round = 0; round < 100; round++) {
        int moved = 0;
        const uint8_t *p;
        ssize_t n;
        while ((n = nghttp2_session_mem_send(cl->s, &p)) > 0) {
            grpc_h2_recv(h, p, (size_t)n);
            moved = 1;
        }
        buf_reset(&out);
        grpc_h2_send(h, &out, 1u << 20);
        if (out.len) {
            nghttp2_session_mem_recv(cl->s, out.data, out.len);
            moved = 1;
        }
        if (!moved) break;
    }
    buf_free(&out);
}

static const char LOGS[] = "/opentelemetry.proto.collector.logs.v1.LogsService/Export";

TEST(grpc_h2_unary_calls_and_status)
{
    fake_backend fb = {0};
    http_handlers hd = {.ctx = &fb, .ingest = fake_ingest};
    grpc_h2_env env;
    grpc_h2_env_init(&env, &hd, 3, 1024, "tok");
    grpc_h2 *h = grpc_h2_new(&env);
    CHECK(h != NULL);
    client cl;
    cl_init(&cl);
    static const uint8_t msg[] = {0, 0, 0, 0, 3, 1, 2, 3};
    cl_call(&cl, 0, LOGS, "authorization", "Bearer tok", msg, sizeof msg);
    cl_call(&cl, 1, LOGS, NULL, NULL, msg, sizeof msg); /* no token */
    cl_call(&cl, 2, "/x.Y/Z", "authorization", "Bearer tok", msg, sizeof msg);
    cl_call(&cl, 3, LOGS, "authorization", "Bearer tok", msg, 4); /* truncated prefix */
    pump(&cl, h);

    CHECK_INT(fb.calls, 1);
    CHECK_INT(fb.last_signal, OTLP_LOGS);
    CHECK_INT(fb.last_len, 3);
    CHECK_STR(cl.calls[0].status, "0");
    /* 5-byte prefix + ExportLogsServiceResponse{partial_success{2, "two dropped"}} */
    CHECK_INT(cl.calls[0].body_len, 5 + 2 + 2 + 2 + 11);
    CHECK_INT(cl.calls[0].body[4], 17);
    CHECK_STR(cl.calls[1].status, "16");
    CHECK_STR(cl.calls[1].message, "missing or invalid bearer token");
    CHECK_STR(cl.calls[2].status, "12");
    CHECK_STR(cl.calls[3].status, "3");
    CHECK(strstr(cl.calls[3].message, "prefix truncated") != NULL);
    for (int k = 0; k < 4; k++) CHECK(cl.calls[k].closed);
    CHECK_INT(grpc_h2_streams(h), 0);

    /* busy: RESOURCE_EXHAUSTED with RetryInfo details; other errors map too */
    fb.rc = O2P_EBUSY;
    cl_call(&cl, 4, LOGS, "authorization", "Bearer tok", msg, sizeof msg);
    pump(&cl, h);
    CHECK_STR(cl.calls[4].status, "8");
    CHECK(cl.calls[4].has_details);
    CHECK_STR(cl.calls[4].pushback, "4000"); /* the reply's retry_after_secs */
    fb.rc = O2P_EINVAL;
    cl_call(&cl, 5, LOGS, "authorization", "Bearer tok", msg, sizeof msg);
    pump(&cl, h);
    CHECK_STR(cl.calls[5].status, "3");
    CHECK(!cl.calls[5].has_details);
    CHECK_STR(cl.calls[5].pushback, "");
    CHECK_STR(cl.calls[5].message, "bad field resource_logs[0]");

    /* GOAWAY: the session finishes once the client has nothing open */
    grpc_h2_goaway(h);
    pump(&cl, h);
    nghttp2_session_terminate_session(cl.s, NGHTTP2_NO_ERROR);
    pump(&cl, h);
    nghttp2_session_del(cl.s);
    grpc_h2_free(h);
    grpc_h2_env_free(&env);
}

TEST(grpc_h2_limits_per_stream_and_connection)
{
    fake_backend fb = {0};
    http_handlers hd = {.ctx = &fb, .ingest = fake_ingest};
    grpc_h2_env env;
    grpc_h2_env_init(&env, &hd, 0, 100, NULL);
    grpc_h2 *h = grpc_h2_new(&env);
    client cl;
    cl_init(&cl);
    static uint8_t big[300];
    big[3] = 1; /* declares 256+ bytes */
    cl_call(&cl, 0, LOGS, NULL, NULL, big, sizeof big);
    pump(&cl, h);
    CHECK_STR(cl.calls[0].status, "8");
    CHECK_INT(fb.calls, 0);

    /* two unfinished calls of 60 bytes each: the second would make the
     * connection hold more than the 100-byte limit */
    static uint8_t part[60];
    nghttp2_nv nva[] = {NVS(":method", "POST"), NVS(":scheme", "http"), NVS(":authority", "x"),
                        NVS(":path", LOGS), NVS("content-type", "application/grpc")};
    int32_t a = nghttp2_submit_headers(cl.s, NGHTTP2_FLAG_NONE, -1, NULL, nva, 5, &cl.calls[1]);
    int32_t b = nghttp2_submit_headers(cl.s, NGHTTP2_FLAG_NONE, -1, NULL, nva, 5, &cl.calls[2]);
    cl.send_data[1] = part;
    cl.send_len[1] = sizeof part;
    cl.send_data[2] = part;
    cl.send_len[2] = sizeof part;
    pump(&cl, h); /* the HEADERS open both streams */
    nghttp2_data_provider p1 = {.source = {.ptr = (void *)(intptr_t)1}, .read_callback = cl_read};
    nghttp2_data_provider p2 = {.source = {.ptr = (void *)(intptr_t)2}, .read_callback = cl_read};
    /* FLAG_NONE: the DATA does not end the stream, so both calls stay unfinished */
    nghttp2_submit_data(cl.s, NGHTTP2_FLAG_NONE, a, &p1);
    pump(&cl, h);
    nghttp2_submit_data(cl.s, NGHTTP2_FLAG_NONE, b, &p2);
    pump(&cl, h);
    CHECK_STR(cl.calls[2].status, "8");
    CHECK(strstr(cl.calls[2].message, "already buffers") != NULL);
    CHECK(cl.calls[2].has_details); /* retryable */

    nghttp2_session_del(cl.s);
    grpc_h2_free(h); /* frees the call still open */
    grpc_h2_env_free(&env);
}

/* The prefix's declared length reserves the body at once, but the open
 * streams of a connection never reserve more than max_payload together:
 * the second stream's body grows as it comes, and both calls arrive whole
 * with whatever framing split their prefixes. */
TEST(grpc_h2_reserves_bodies_within_the_connection_budget)
{
    fake_backend fb = {0};
    http_handlers hd = {.ctx = &fb, .ingest = fake_ingest};
    grpc_h2_env env;
    grpc_h2_env_init(&env, &hd, 0, 100, NULL);
    grpc_h2 *h = grpc_h2_new(&env);
    client cl;
    cl_init(&cl);
    static uint8_t a[85], b[85]; /* prefixes declare 80 bytes each */
    a[4] = 80;
    b[4] = 80;
    nghttp2_nv nva[] = {NVS(":method", "POST"), NVS(":scheme", "http"), NVS(":authority", "x"),
                        NVS(":path", LOGS), NVS("content-type", "application/grpc")};
    int32_t ia = nghttp2_submit_headers(cl.s, NGHTTP2_FLAG_NONE, -1, NULL, nva, 5, &cl.calls[0]);
    int32_t ib = nghttp2_submit_headers(cl.s, NGHTTP2_FLAG_NONE, -1, NULL, nva, 5, &cl.calls[1]);
    pump(&cl, h);
    /* a: the prefix split 3 + 2 over two DATA frames, then 20 bytes */
    cl.send_data[0] = a;
    cl.send_len[0] = 3;
    nghttp2_data_provider pa = {.source = {.ptr = (void *)(intptr_t)0}, .read_callback = cl_read};
    nghttp2_submit_data(cl.s, NGHTTP2_FLAG_NONE, ia, &pa);
    pump(&cl, h);
    CHECK_INT(grpc_h2_reserved(h), 0); /* no length known yet */
    cl.send_data[0] = a + 3;
    cl.send_len[0] = 22;
    cl.send_off[0] = 0;
    nghttp2_submit_data(cl.s, NGHTTP2_FLAG_NONE, ia, &pa);
    pump(&cl, h);
    CHECK_INT(grpc_h2_reserved(h), 85);
    /* b: 85 more would pass the 100-byte budget, so nothing is reserved */
    cl.send_data[1] = b;
    cl.send_len[1] = 10;
    nghttp2_data_provider pb = {.source = {.ptr = (void *)(intptr_t)1}, .read_callback = cl_read};
    nghttp2_submit_data(cl.s, NGHTTP2_FLAG_NONE, ib, &pb);
    pump(&cl, h);
    CHECK_INT(grpc_h2_reserved(h), 85);
    /* a ends: its reservation goes */
    cl.send_data[0] = a + 25;
    cl.send_len[0] = 60;
    cl.send_off[0] = 0;
    nghttp2_submit_data(cl.s, NGHTTP2_FLAG_END_STREAM, ia, &pa);
    pump(&cl, h);
    CHECK_STR(cl.calls[0].status, "0");
    CHECK_INT(fb.last_len, 80);
    CHECK_INT(grpc_h2_reserved(h), 0);
    cl.send_data[1] = b + 10;
    cl.send_len[1] = 75;
    cl.send_off[1] = 0;
    nghttp2_submit_data(cl.s, NGHTTP2_FLAG_END_STREAM, ib, &pb);
    pump(&cl, h);
    CHECK_STR(cl.calls[1].status, "0");
    CHECK_INT(fb.calls, 2);
    CHECK_INT(fb.last_len, 80);
    CHECK_INT(grpc_h2_reserved(h), 0);

    /* a prefix declaring more than the limit reserves nothing and is refused */
    static uint8_t big[300];
    big[3] = 1;
    cl_call(&cl, 2, LOGS, NULL, NULL, big, sizeof big);
    pump(&cl, h);
    CHECK_STR(cl.calls[2].status, "8");
    CHECK_INT(grpc_h2_reserved(h), 0);

    nghttp2_session_del(cl.s);
    grpc_h2_free(h);
    grpc_h2_env_free(&env);
}

/* The next stream of a connection takes the finished call's body buffer:
 * the second of two 64 KiB calls allocates far less than its body. */
TEST(grpc_h2_reuses_a_finished_calls_body_buffer)
{
    fake_backend fb = {0};
    http_handlers hd = {.ctx = &fb, .ingest = fake_ingest};
    grpc_h2_env env;
    grpc_h2_env_init(&env, &hd, 0, 1u << 17, NULL);
    grpc_h2 *h = grpc_h2_new(&env);
    client cl;
    cl_init(&cl);
    static uint8_t msg[5 + 65536];
    msg[2] = 1; /* 65,536 bytes */
    mem_stats before, after;
    uint64_t used[2];
    for (int k = 0; k < 2; k++) {
        mem_get_stats(&before);
        cl_call(&cl, k, LOGS, NULL, NULL, msg, sizeof msg);
        pump(&cl, h);
        mem_get_stats(&after);
        used[k] = after.bytes_allocated - before.bytes_allocated;
        CHECK_STR(cl.calls[k].status, "0");
    }
    CHECK_INT(fb.calls, 2);
    CHECK_INT(fb.last_len, 65536);
    CHECK(used[0] >= 65536);
    CHECK(used[1] < 65536 / 2);
    nghttp2_session_del(cl.s);
    grpc_h2_free(h);
    grpc_h2_env_free(&env);
}

TEST(grpc_h2_counts_calls_in_metrics)
{
    fake_backend fb = {0};
    http_handlers hd = {.ctx = &fb, .ingest = fake_ingest};
    grpc_h2_env env;
    grpc_h2_env_init(&env, &hd, 0, 1024, "tok");
    grpc_metrics gm;
    grpc_metrics_init(&gm);
    env.metrics = &gm;
    grpc_h2 *h = grpc_h2_new(&env);
    client cl;
    cl_init(&cl);
    static const uint8_t msg[] = {0, 0, 0, 0, 3, 1, 2, 3};
    cl_call(&cl, 0, LOGS, "authorization", "Bearer tok", msg, sizeof msg);
    cl_call(&cl, 1, LOGS, "authorization", "Bearer tok", msg, sizeof msg);
    cl_call(&cl, 2, LOGS, NULL, NULL, msg, sizeof msg);
    cl_call(&cl, 3, "/x.Y/Z", "authorization", "Bearer tok", msg, sizeof msg);
    cl_call(&cl, 4, LOGS, "authorization", "Bearer tok", msg, 4);
    pump(&cl, h);
    CHECK_INT(grpc_metrics_calls(&gm, GRPC_METHOD_LOGS, 0), 2);
    CHECK_INT(grpc_metrics_calls(&gm, GRPC_METHOD_LOGS, 16), 1);
    CHECK_INT(grpc_metrics_calls(&gm, GRPC_METHOD_LOGS, 3), 1);
    CHECK_INT(grpc_metrics_calls(&gm, GRPC_METHOD_OTHER, 12), 1);
    CHECK_INT(grpc_metrics_calls(&gm, GRPC_METHOD_TRACES, 0), 0);
    CHECK_INT(atomic_load(&gm.message_bytes[GRPC_METHOD_LOGS]), 6);
    CHECK_INT(atomic_load(&gm.streams), 0);

    o2p_buf out;
    buf_init(&out, 0);
    CHECK_INT(grpc_metrics_render(&gm, &out), 0);
    CHECK_INT(buf_push_byte(&out, 0), 0);
    const char *text = (const char *)out.data;
    CHECK(strstr(text, "otlp2parquet_grpc_calls_total{service=\"opentelemetry.proto.collector."
                       "logs.v1.LogsService\",method=\"Export\",code=\"OK\"} 2\n") != NULL);
    CHECK(strstr(text, "code=\"UNAUTHENTICATED\"} 1\n") != NULL);
    CHECK(strstr(text, "code=\"INVALID_ARGUMENT\"} 1\n") != NULL);
    CHECK(strstr(text, "{service=\"other\",method=\"other\",code=\"UNIMPLEMENTED\"} 1\n") != NULL);
    CHECK(strstr(text, "otlp2parquet_grpc_call_duration_seconds_count{service=\"opentelemetry."
                       "proto.collector.trace.v1.TraceService\",method=\"Export\"} 0\n") != NULL);
    CHECK(strstr(text, "otlp2parquet_grpc_streams_in_flight 0\n") != NULL);
    buf_free(&out);

    /* an unfinished call is an open stream */
    nghttp2_nv nva[] = {NVS(":method", "POST"), NVS(":scheme", "http"), NVS(":authority", "x"),
                        NVS(":path", LOGS), NVS("content-type", "application/grpc")};
    nghttp2_submit_headers(cl.s, NGHTTP2_FLAG_NONE, -1, NULL, nva, 5, &cl.calls[5]);
    pump(&cl, h);
    CHECK_INT(atomic_load(&gm.streams), 1);
    nghttp2_session_del(cl.s);
    grpc_h2_free(h);
    CHECK_INT(atomic_load(&gm.streams), 0);
    grpc_h2_env_free(&env);
}

typedef struct stash {
    grpc_h2_job *jobs[8];
    int n;
} stash;

static void stash_dispatch(void *ctx, grpc_h2 *h, grpc_h2_job *job)
{
    (void)h;
    stash *s = ctx;
    s->jobs[s->n++] = job;
}

TEST(grpc_h2_dispatched_calls_are_answered_when_completed)
{
    fake_backend fb = {0};
    http_handlers hd = {.ctx = &fb, .ingest = fake_ingest};
    grpc_h2_env env;
    grpc_h2_env_init(&env, &hd, 0, 1024, NULL);
    stash st = {0};
    env.dispatch = stash_dispatch;
    env.dispatch_ctx = &st;
    grpc_h2 *h = grpc_h2_new(&env);
    client cl;
    cl_init(&cl);
    static const uint8_t msg[] = {0, 0, 0, 0, 3, 1, 2, 3};
    static const uint8_t cut[] = {0, 0, 0};
    cl_call(&cl, 0, LOGS, NULL, NULL, msg, sizeof msg);
    cl_call(&cl, 1, LOGS, NULL, NULL, cut, sizeof cut); /* truncated prefix */
    cl_call(&cl, 2, LOGS, NULL, NULL, msg, sizeof msg);
    cl_call(&cl, 3, "/x.Y/Z", NULL, NULL, msg, sizeof msg); /* refused at once, no job */
    pump(&cl, h);
    CHECK_INT(st.n, 3);
    CHECK_INT(grpc_h2_pending(h), 3);
    CHECK_INT(fb.calls, 0); /* nothing ran on the session's thread */
    CHECK_STR(cl.calls[0].status, "");
    CHECK_STR(cl.calls[3].status, "12");
    CHECK_INT(grpc_h2_streams(h), 3);

    /* the client gives up on call 2 before its job comes back */
    nghttp2_submit_rst_stream(cl.s, NGHTTP2_FLAG_NONE, st.jobs[2]->stream_id, NGHTTP2_CANCEL);
    pump(&cl, h);
    CHECK_INT(grpc_h2_streams(h), 2);

    /* run elsewhere, complete in reverse order */
    http_decompressor dec;
    http_decompressor_init(&dec, 1024);
    for (int k = 2; k >= 0; k--) {
        grpc_h2_job_run(st.jobs[k], &hd, 9, &dec, 1024, NULL);
        grpc_h2_complete(h, st.jobs[k]);
    }
    http_decompressor_free(&dec);
    pump(&cl, h);
    CHECK_INT(fb.calls, 2); /* calls 0 and 2 ran; 1 failed unframing */
    CHECK_INT(grpc_h2_pending(h), 0);
    CHECK_STR(cl.calls[0].status, "0");
    CHECK_INT(cl.calls[0].body_len, 5 + 2 + 2 + 2 + 11);
    CHECK_STR(cl.calls[1].status, "3");
    CHECK(strstr(cl.calls[1].message, "prefix truncated") != NULL);
    CHECK_STR(cl.calls[2].status, ""); /* reset: never answered */
    CHECK_INT(grpc_h2_streams(h), 0);
    nghttp2_session_del(cl.s);
    grpc_h2_free(h);
    grpc_h2_env_free(&env);
}

/* A fake pacer (admit_paced): what each admission is told, and what it saw. */
typedef struct fake_pacer {
    fake_backend fb;
    uint64_t wait_ns; /* given to every call */
    int refuse;       /* O2P_EBUSY: a wait over the limit */
    int asked;
    size_t last_need;
} fake_pacer;

static int fake_ingest_paced(void *ctx, unsigned thread_index, otlp_signal signal,
                             otlp_format format, const uint8_t *body, size_t len,
                             http_ingest_reply *reply, o2p_error *err)
{
    return fake_ingest(&((fake_pacer *)ctx)->fb, thread_index, signal, format, body, len, reply,
                       err);
}

static int fake_admit_paced(void *ctx, otlp_signal signal, size_t body_bytes, uint64_t *wait_ns,
                            http_ingest_reply *reply, o2p_error *err)
{
    (void)signal;
    fake_pacer *fp = ctx;
    fp->asked++;
    fp->last_need = body_bytes;
    if (fp->refuse) {
        reply->retry_after_secs = 2;
        return o2p_errorf(err, O2P_EBUSY, "admission would wait more than batch.max_pace_ms");
    }
    *wait_ns = fp->wait_ns;
    return O2P_OK;
}

/* A call above the pace level waits for its turn without holding the
 * session: PING is answered meanwhile, its bytes stay out of the
 * connection's window, and it is answered OK once its time has come. */
TEST(grpc_h2_paced_call_is_answered_after_its_turn)
{
    fake_pacer fp = {.wait_ns = 5000000000ull};
    http_handlers hd = {.ctx = &fp, .ingest = fake_ingest_paced, .admit_paced = fake_admit_paced};
    grpc_h2_env env;
    grpc_h2_env_init(&env, &hd, 0, 1u << 17, NULL); /* connection window 64 KiB */
    grpc_h2 *h = grpc_h2_new(&env);
    client cl;
    cl_init(&cl);
    static uint8_t msg[5 + 40000];
    msg[3] = 40000 >> 8;
    msg[4] = 40000 & 0xff;
    pump(&cl, h);
    int32_t full = nghttp2_session_get_remote_window_size(cl.s);
    uint64_t before = clock_mono_ns();
    cl_call(&cl, 0, LOGS, NULL, NULL, msg, sizeof msg);
    pump(&cl, h);
    CHECK_INT(fp.asked, 1);
    CHECK_INT(fp.last_need, 40000);
    CHECK_INT(fp.fb.calls, 0);
    CHECK_STR(cl.calls[0].status, "");
    CHECK_INT(grpc_h2_waiting(h), 1);
    uint64_t due = grpc_h2_next_due(h);
    CHECK(due >= before + fp.wait_ns);
    /* the waiting call's bytes are not given back to the client */
    CHECK_INT(nghttp2_session_get_remote_window_size(cl.s), full - (int32_t)sizeof msg);

    nghttp2_submit_ping(cl.s, NGHTTP2_FLAG_NONE, NULL);
    pump(&cl, h);
    CHECK_INT(cl.ping_acks, 1);

    CHECK_INT(grpc_h2_tick(h, due - 1), 0);
    pump(&cl, h);
    CHECK_STR(cl.calls[0].status, "");
    CHECK_INT(grpc_h2_tick(h, due), 1);
    pump(&cl, h);
    CHECK_INT(fp.fb.calls, 1);
    CHECK_INT(fp.fb.last_len, 40000);
    CHECK_INT(fp.asked, 1); /* admitted once, at the prefix */
    CHECK_STR(cl.calls[0].status, "0");
    CHECK_INT(grpc_h2_waiting(h), 0);
    CHECK(grpc_h2_next_due(h) == UINT64_MAX);
    CHECK_INT(nghttp2_session_get_remote_window_size(cl.s), full);

    /* a call reset while it waits is dropped with its body */
    cl_call(&cl, 1, LOGS, NULL, NULL, msg, sizeof msg);
    pump(&cl, h);
    CHECK_INT(grpc_h2_waiting(h), 1);
    nghttp2_submit_rst_stream(cl.s, NGHTTP2_FLAG_NONE, 3, NGHTTP2_CANCEL);
    pump(&cl, h);
    CHECK_INT(grpc_h2_waiting(h), 0);
    CHECK_INT(grpc_h2_streams(h), 0);
    CHECK_INT(grpc_h2_tick(h, UINT64_MAX), 0);
    CHECK_INT(fp.fb.calls, 1);
    CHECK_INT(nghttp2_session_get_remote_window_size(cl.s), full);

    /* a stop ends every wait at once; no new call waits */
    cl_call(&cl, 2, LOGS, NULL, NULL, msg, sizeof msg);
    pump(&cl, h);
    CHECK_INT(grpc_h2_waiting(h), 1);
    env.stopping = 1;
    CHECK_INT(grpc_h2_tick(h, UINT64_MAX), 1);
    pump(&cl, h);
    CHECK_STR(cl.calls[2].status, "0");
    CHECK_INT(fp.fb.calls, 2);

    nghttp2_session_del(cl.s);
    grpc_h2_free(h);
    grpc_h2_env_free(&env);
}

/* A wait over batch.max_pace_ms is refused before the body is decoded:
 * RESOURCE_EXHAUSTED with RetryInfo and the pacer's retry delay. */
TEST(grpc_h2_paced_wait_over_the_limit_is_resource_exhausted)
{
    fake_pacer fp = {.refuse = 1};
    http_handlers hd = {.ctx = &fp, .ingest = fake_ingest_paced, .admit_paced = fake_admit_paced};
    grpc_h2_env env;
    grpc_h2_env_init(&env, &hd, 0, 1024, NULL);
    grpc_h2 *h = grpc_h2_new(&env);
    client cl;
    cl_init(&cl);
    static const uint8_t msg[] = {0, 0, 0, 0, 3, 1, 2, 3};
    cl_call(&cl, 0, LOGS, NULL, NULL, msg, sizeof msg);
    pump(&cl, h);
    CHECK_INT(fp.asked, 1);
    CHECK_INT(fp.fb.calls, 0);
    CHECK_STR(cl.calls[0].status, "8");
    CHECK(strstr(cl.calls[0].message, "max_pace_ms") != NULL);
    CHECK(cl.calls[0].has_details);
    CHECK_STR(cl.calls[0].pushback, "2000");
    CHECK(cl.calls[0].closed);
    CHECK_INT(grpc_h2_waiting(h), 0);
    CHECK_INT(grpc_h2_streams(h), 0);

    /* a compressed message is admitted at its expected decompressed size
     * (nothing measured yet: 4x its compressed size) */
    fp.refuse = 0;
    cl_call(&cl, 1, LOGS, "grpc-encoding", "gzip", (const uint8_t[]){1, 0, 0, 0, 3, 1, 2, 3}, 8);
    pump(&cl, h);
    CHECK_INT(fp.asked, 2);
    CHECK_INT(fp.last_need, 12);
    CHECK_STR(cl.calls[1].status, "3"); /* not gzip */

    nghttp2_session_del(cl.s);
    grpc_h2_free(h);
    grpc_h2_env_free(&env);
}
