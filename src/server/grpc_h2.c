/*
 * grpc_h2: HTTP/2 sessions for unary gRPC Export calls (see grpc_h2.h).
 */
#include "server/grpc_h2.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <nghttp2/nghttp2.h>

#include "core/clock.h"
#include "core/mem.h"
#include "server/grpc_frame.h"

#define GRPC_H2_MAX_STREAMS   100
#define GRPC_H2_STREAM_WINDOW (1u << 20) /* per-stream receive window */
/* The connection receive window is half of max_payload within these
 * bounds: bytes of waiting calls stay in it (see grpc_h2.h), so a paced
 * connection holds at most that much before the client must stop. */
#define GRPC_H2_CONN_WINDOW_MIN 65535u
#define GRPC_H2_CONN_WINDOW_MAX (16u << 20)
/* Before a compressed message was measured, it is taken to expand this
 * many times (x1024) when its admission is estimated from its prefix. */
#define GRPC_H2_RATIO_GUESS_Q10 (4u * 1024)
#define GRPC_H2_HDR_VALUE_MAX   256
/* A finished call's body buffer up to this size is kept for the next
 * stream of the connection (fresh 270 KB buffers cost ~70 page faults a
 * call); bigger ones are freed so idle connections do not pin megabytes. */
#define GRPC_H2_KEEP_BYTES ((size_t)1024 * 1024)

typedef struct grpc_stream {
    struct grpc_stream *prev, *next; /* the connection's open streams */
    int32_t id;
    uint64_t start_ns; /* headers began, for the call duration */
    int answered;      /* a response was submitted; further body bytes are dropped */
    int route_ok;
    otlp_signal signal;
    int is_post;
    int grpc_ctype;
    int auth_ok;
    int enc_ok;
    http_encoding encoding;
    char enc_text[64];
    o2p_buf body;    /* collected request body */
    size_t reserved; /* bytes of body reserved ahead from the prefix */
    int admitted;    /* admit_paced said yes at the prefix */
    int waiting;     /* admitted at due_ns, which has not come yet */
    uint64_t due_ns;
    size_t withheld;   /* body bytes received while waiting, not yet consumed */
    grpc_h2_job *held; /* the finished call, waiting for due_ns */
    o2p_buf resp;      /* the response message (prefix included) */
    size_t resp_off;
    char status[8];
    char message[1024]; /* percent-encoded grpc-message */
    char details[512];  /* base64 grpc-status-details-bin, may be empty */
    char pushback[24];  /* grpc-retry-pushback-ms, empty unless retryable */
} grpc_stream;

struct grpc_h2 {
    nghttp2_session *session;
    grpc_h2_env *env;
    size_t buffered; /* body bytes held across this connection's open streams */
    size_t reserved; /* body capacity reserved ahead by open streams (<= max_payload) */
    size_t streams;
    size_t pending;    /* jobs handed off, not completed */
    size_t waiting;    /* streams waiting for their admission time */
    void *owner;       /* the caller's */
    grpc_stream *open; /* freed by grpc_h2_free if nghttp2 never closed them */
    o2p_buf spare;     /* a finished call's body buffer, for the next stream */
    int failed;
};

void grpc_h2_env_init(grpc_h2_env *env, const http_handlers *handlers, unsigned thread_index,
                      size_t max_payload, const char *auth_token)
{
    memset(env, 0, sizeof *env);
    env->handlers = handlers;
    env->thread_index = thread_index;
    env->max_payload = max_payload;
    env->auth_token = auth_token && auth_token[0] ? auth_token : NULL;
    http_decompressor_init(&env->dec, max_payload);
    buf_init(&env->scratch, 0);
}

void grpc_h2_env_free(grpc_h2_env *env)
{
    http_decompressor_free(&env->dec);
    buf_free(&env->scratch);
}

/* ---- answers ------------------------------------------------------------- */

static void grpc_body_unreserve(grpc_h2 *h, grpc_stream *st);

/* Gives back the stream-level window withheld while the stream waited. */
static void grpc_unwait(grpc_h2 *h, grpc_stream *st)
{
    if (!st->waiting) return;
    st->waiting = 0;
    h->waiting--;
    if (st->withheld && h->session) nghttp2_session_consume(h->session, st->id, st->withheld);
    st->withheld = 0;
}

static void grpc_stream_drop_body(grpc_h2 *h, grpc_stream *st)
{
    grpc_unwait(h, st);
    grpc_body_unreserve(h, st);
    h->buffered -= st->body.len;
    buf_free(&st->body);
    buf_init(&st->body, 0);
}

static void grpc_fill_status(grpc_stream *st, int code, const char *msg, int retry_secs)
{
    snprintf(st->status, sizeof st->status, "%d", code);
    o2p_buf b;
    buf_init(&b, sizeof st->message - 1);
    if (grpc_message_encode(&b, msg) < 0) b.len = 0;
    memcpy(st->message, b.data, b.len);
    st->message[b.len] = '\0';
    buf_reset(&b);
    b.limit = sizeof st->details - 1;
    st->details[0] = '\0';
    st->pushback[0] = '\0';
    if (retry_secs > 0) snprintf(st->pushback, sizeof st->pushback, "%d", retry_secs * 1000);
    if (retry_secs > 0 && grpc_status_details(&b, code, msg, retry_secs) == 0) {
        memcpy(st->details, b.data, b.len);
        st->details[b.len] = '\0';
    }
    buf_free(&b);
}

/* Counts the call once, when its answer is submitted. */
static void grpc_count(grpc_h2 *h, const grpc_stream *st, int code)
{
    h->env->calls++;
    grpc_metrics_call(h->env->metrics, grpc_method_of(st->route_ok, st->signal), code,
                      clock_mono_ns() - st->start_ns);
}

#define NV(n, v)                                                                                   \
    {                                                                                              \
        (uint8_t *)(n), (uint8_t *)(v), sizeof(n) - 1, strlen(v), NGHTTP2_NV_FLAG_NONE             \
    }

/* A Trailers-Only response: status in the one HEADERS frame, which ends the
 * stream. */
static void grpc_answer_error(grpc_h2 *h, grpc_stream *st, int rc, const char *msg, int retry_secs)
{
    if (st->answered) return;
    st->answered = 1;
    grpc_stream_drop_body(h, st);
    int code = grpc_status_of(rc);
    grpc_fill_status(st, code, msg,
                     grpc_status_retryable(rc) ? (retry_secs > 0 ? retry_secs : 1) : 0);
    nghttp2_nv nva[7] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                         NV("grpc-accept-encoding", GRPC_ACCEPT_ENCODING),
                         NV("grpc-status", st->status), NV("grpc-message", st->message)};
    size_t n = 5;
    if (st->details[0]) {
        nghttp2_nv d = NV("grpc-status-details-bin", st->details);
        nva[n++] = d;
    }
    if (st->pushback[0]) {
        /* gRFC A6 server pushback: clients with a retry policy wait this
         * long (grpc-js, grpc-go, grpc-java read it; RetryInfo is for the
         * OTLP exporters) */
        nghttp2_nv pb = NV("grpc-retry-pushback-ms", st->pushback);
        nva[n++] = pb;
    }
    grpc_count(h, st, code);
    if (nghttp2_submit_response(h->session, st->id, nva, n, NULL) != 0) h->failed = 1;
}

static ssize_t grpc_read_resp(nghttp2_session *session, int32_t stream_id, uint8_t *buf,
                              size_t length, uint32_t *data_flags, nghttp2_data_source *source,
                              void *user_data)
{
    (void)user_data;
    grpc_stream *st = source->ptr;
    size_t left = st->resp.len - st->resp_off;
    size_t n = left < length ? left : length;
    memcpy(buf, st->resp.data + st->resp_off, n);
    st->resp_off += n;
    if (st->resp_off == st->resp.len) {
        *data_flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_nv tr[2] = {NV("grpc-status", st->status), NV("grpc-message", st->message)};
        if (nghttp2_submit_trailer(session, stream_id, tr, st->message[0] ? 2 : 1) != 0)
            return NGHTTP2_ERR_CALLBACK_FAILURE;
    }
    return (ssize_t)n;
}

static void grpc_answer_ok(grpc_h2 *h, grpc_stream *st, otlp_signal signal,
                           const http_ingest_reply *reply)
{
    st->answered = 1;
    buf_reset(&h->env->scratch);
    buf_reset(&st->resp);
    if (http_response_export(&h->env->scratch, signal, 0, reply->rejected, reply->message) < 0 ||
        grpc_prefix_append(&st->resp, h->env->scratch.len) < 0 ||
        buf_append(&st->resp, h->env->scratch.data, h->env->scratch.len) < 0) {
        st->answered = 0;
        grpc_answer_error(h, st, O2P_ENOMEM, "out of memory encoding the response", 1);
        return;
    }
    grpc_fill_status(st, HTTP_GRPC_OK, "", 0);
    st->message[0] = '\0';
    nghttp2_nv nva[3] = {NV(":status", "200"), NV("content-type", "application/grpc"),
                         NV("grpc-accept-encoding", GRPC_ACCEPT_ENCODING)};
    nghttp2_data_provider prd = {.source = {.ptr = st}, .read_callback = grpc_read_resp};
    grpc_count(h, st, HTTP_GRPC_OK);
    if (nghttp2_submit_response(h->session, st->id, nva, 3, &prd) != 0) h->failed = 1;
}

/* ---- request handling ----------------------------------------------------- */

/* Compares the whole token in time independent of where it differs. */
static int grpc_token_ok(const char *want, const uint8_t *value, size_t len)
{
    if (len < 7 || strncasecmp((const char *)value, "Bearer ", 7) != 0) return 0;
    value += 7;
    len -= 7;
    while (len > 0 && *value == ' ') {
        value++;
        len--;
    }
    size_t wlen = strlen(want);
    unsigned diff = len != wlen;
    for (size_t i = 0; i < wlen; i++)
        diff |= (unsigned char)want[i] ^ (unsigned char)(i < len ? value[i] : 0);
    return diff == 0;
}

/* The headers are complete: refuse what can be refused before the body. */
static void grpc_check_headers(grpc_h2 *h, grpc_stream *st)
{
    char msg[200];
    if (!st->route_ok) {
        grpc_answer_error(h, st, O2P_EUNSUPPORTED,
                          "unknown method; this server implements the OTLP Export services", 0);
    } else if (!st->is_post) {
        grpc_answer_error(h, st, O2P_EUNSUPPORTED, "gRPC calls use the POST method", 0);
    } else if (!st->grpc_ctype) {
        grpc_answer_error(h, st, O2P_EUNSUPPORTED,
                          "content-type must be application/grpc or application/grpc+proto", 0);
    } else if (h->env->auth_token && !st->auth_ok) {
        grpc_answer_error(h, st, O2P_EAUTH, "missing or invalid bearer token", 0);
    } else if (!st->enc_ok) {
        snprintf(msg, sizeof msg, "unsupported grpc-encoding '%.60s'; expected %s", st->enc_text,
                 GRPC_ACCEPT_ENCODING);
        grpc_answer_error(h, st, O2P_EUNSUPPORTED, msg, 0);
    } else if (h->env->stopping) {
        grpc_answer_error(h, st, O2P_EIO, "server is shutting down; retry", 1);
    }
}

void grpc_h2_job_run(grpc_h2_job *job, const http_handlers *hd, unsigned thread_index,
                     http_decompressor *dec, size_t max_payload, grpc_metrics *metrics)
{
    o2p_error *err = &job->err;
    o2p_error_clear(err);
    memset(&job->reply, 0, sizeof job->reply);
    grpc_message m;
    int rc = grpc_message_parse(job->body.data, job->body.len, max_payload, &m, err);
    if (rc < 0) {
        job->rc = rc;
        return;
    }
    const uint8_t *data = m.data;
    size_t len = m.len;
    if (m.compressed) {
        if (job->encoding == HTTP_ENC_IDENTITY) {
            job->rc = o2p_errorf(err, O2P_EINVAL,
                                 "grpc: message is flagged compressed but grpc-encoding is "
                                 "identity");
            return;
        }
        rc = http_decompress(dec, job->encoding, data, len, err);
        if (rc < 0) {
            job->rc = rc;
            return;
        }
        data = dec->out.data;
        len = dec->out.len;
    }
    grpc_metrics_add_bytes(metrics, grpc_method_of(1, job->signal), m.len, len);
    if (m.compressed) {
        job->wire_len = m.len;
        job->plain_len = len;
    }
    rc = !job->admitted && hd->admit ? hd->admit(hd->ctx, job->signal, len, &job->reply, err)
                                     : O2P_OK;
    if (rc == O2P_OK) {
        memset(&job->reply, 0, sizeof job->reply);
        rc = hd->ingest(hd->ctx, thread_index, job->signal, OTLP_FMT_PROTOBUF, data, len,
                        &job->reply, err);
    }
    job->reply.message[sizeof job->reply.message - 1] = '\0';
    if (rc < 0 && err->msg[0] == '\0')
        snprintf(err->msg, sizeof err->msg, "request rejected: %s", o2p_strerror(rc));
    job->rc = rc;
}

void grpc_h2_job_free(grpc_h2_job *job)
{
    if (job == NULL) return;
    buf_free(&job->body);
    mem_free(job);
}

void grpc_h2_complete(grpc_h2 *h, grpc_h2_job *job)
{
    h->buffered -= job->body.len;
    h->pending--;
    if (job->wire_len > 0) {
        /* what a compressed byte became, for the next prefixes' estimates */
        uint64_t q10 = (uint64_t)job->plain_len * 1024 / job->wire_len;
        grpc_h2_env *env = h->env;
        env->ratio_q10 = env->ratio_q10 ? (env->ratio_q10 * 7 + q10) / 8 : q10;
    }
    grpc_stream *st = nghttp2_session_get_stream_user_data(h->session, job->stream_id);
    if (st != NULL && !st->answered) {
        if (job->rc == O2P_OK)
            grpc_answer_ok(h, st, job->signal, &job->reply);
        else
            grpc_answer_error(h, st, job->rc, job->err.msg, job->reply.retry_after_secs);
    }
    if (h->spare.cap == 0 && job->body.cap <= GRPC_H2_KEEP_BYTES) {
        h->spare = job->body;
        buf_init(&job->body, 0);
    }
    grpc_h2_job_free(job);
}

/* Runs a finished call here or hands it off. */
static void grpc_start(grpc_h2 *h, grpc_h2_job *job)
{
    grpc_h2_env *env = h->env;
    h->pending++;
    if (env->dispatch) {
        env->dispatch(env->dispatch_ctx, h, job);
        return;
    }
    grpc_h2_job_run(job, env->handlers, env->thread_index, &env->dec, env->max_payload,
                    env->metrics);
    grpc_h2_complete(h, job);
}

/* The stream ended: its call becomes a job, started now or, while the
 * stream waits for its admission time, held until grpc_h2_tick. */
static void grpc_finish(grpc_h2 *h, grpc_stream *st)
{
    if (st->answered) return;
    grpc_h2_job *job = mem_calloc(1, sizeof *job);
    if (job == NULL) {
        grpc_answer_error(h, st, O2P_ENOMEM, "out of memory starting the call", 1);
        return;
    }
    job->stream_id = st->id;
    job->signal = st->signal;
    job->encoding = st->encoding;
    job->admitted = st->admitted;
    job->body = st->body; /* moved: still counted in h->buffered until completed */
    buf_init(&st->body, 0);
    grpc_body_unreserve(h, st);
    if (st->waiting)
        st->held = job;
    else
        grpc_start(h, job);
}

/* ---- nghttp2 callbacks ---------------------------------------------------- */

static int grpc_on_begin_headers(nghttp2_session *session, const nghttp2_frame *frame,
                                 void *user_data)
{
    grpc_h2 *h = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    grpc_stream *st = mem_calloc(1, sizeof *st);
    if (st == NULL) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE; /* resets this stream */
    st->id = frame->hd.stream_id;
    st->start_ns = clock_mono_ns();
    st->enc_ok = 1;
    if (h->spare.cap) {
        st->body = h->spare;
        buf_init(&h->spare, 0);
        buf_reset(&st->body);
        st->body.limit = h->env->max_payload + GRPC_PREFIX_LEN;
    } else {
        buf_init(&st->body, h->env->max_payload + GRPC_PREFIX_LEN);
    }
    buf_init(&st->resp, 0);
    h->streams++;
    grpc_metrics_streams(h->env->metrics, 1);
    st->next = h->open;
    if (h->open) h->open->prev = st;
    h->open = st;
    nghttp2_session_set_stream_user_data(session, st->id, st);
    return 0;
}

static int grpc_on_header(nghttp2_session *session, const nghttp2_frame *frame, const uint8_t *name,
                          size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
                          void *user_data)
{
    (void)flags;
    grpc_h2 *h = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST) return 0;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (st == NULL) return 0;
#define IS(lit) (namelen == sizeof(lit) - 1 && memcmp(name, lit, namelen) == 0)
    if (IS(":path")) {
        st->route_ok = grpc_route((const char *)value, valuelen, &st->signal) == O2P_OK;
    } else if (IS(":method")) {
        st->is_post = valuelen == 4 && memcmp(value, "POST", 4) == 0;
    } else if (IS("content-type")) {
        st->grpc_ctype = (valuelen == 16 && memcmp(value, "application/grpc", 16) == 0) ||
                         (valuelen == 22 && memcmp(value, "application/grpc+proto", 22) == 0);
    } else if (IS("authorization")) {
        st->auth_ok = h->env->auth_token && grpc_token_ok(h->env->auth_token, value, valuelen);
    } else if (IS("grpc-encoding")) {
        snprintf(st->enc_text, sizeof st->enc_text, "%.*s", (int)(valuelen < 60 ? valuelen : 60),
                 (const char *)value);
        st->enc_ok = grpc_encoding_parse((const char *)value, valuelen, &st->encoding) == O2P_OK;
    }
#undef IS
    return 0;
}

/* Paced admission at the message prefix (handlers->admit_paced): the
 * message's size is known, its body mostly not yet.  A compressed message
 * is estimated at the expansion measured on this thread's earlier calls.
 * A refusal is answered at once (RESOURCE_EXHAUSTED with RetryInfo for a
 * wait over the limit); a wait makes the stream wait for its time: the
 * bytes it receives are not consumed for flow control (grpc_consume) and
 * its finished call is held until grpc_h2_tick.  While the server stops,
 * a wait is not taken. */
static void grpc_admit(grpc_h2 *h, grpc_stream *st, const uint8_t prefix[GRPC_PREFIX_LEN],
                       size_t declared)
{
    const http_handlers *hd = h->env->handlers;
    if (hd->admit_paced == NULL || declared > h->env->max_payload) return;
    uint64_t need = declared;
    if (prefix[0] & 1) {
        uint64_t q10 = h->env->ratio_q10 ? h->env->ratio_q10 : GRPC_H2_RATIO_GUESS_Q10;
        need = declared * q10 / 1024;
        if (need > h->env->max_payload) need = h->env->max_payload;
    }
    uint64_t wait_ns = 0;
    http_ingest_reply reply;
    memset(&reply, 0, sizeof reply);
    o2p_error err;
    o2p_error_clear(&err);
    int rc = hd->admit_paced(hd->ctx, st->signal, (size_t)need, &wait_ns, &reply, &err);
    if (rc < 0) {
        grpc_answer_error(h, st, rc, err.msg[0] ? err.msg : o2p_strerror(rc),
                          reply.retry_after_secs);
        return;
    }
    st->admitted = 1;
    if (wait_ns == 0 || h->env->stopping) return;
    st->waiting = 1;
    st->due_ns = clock_mono_ns() + wait_ns;
    h->waiting++;
}

/* When these bytes complete the message prefix, admits the call (paced)
 * and reserves the whole message at once (growing 16 KiB frame by frame
 * would copy it about once more and overshoot by up to 2x).  What the open
 * streams reserve ahead stays within max_payload per connection, so a
 * prefix that lies costs no more than the connection's budget; otherwise
 * the body grows as it comes. */
static int grpc_body_reserve(grpc_h2 *h, grpc_stream *st, const uint8_t *data, size_t len)
{
    size_t have = st->body.len;
    if (have >= GRPC_PREFIX_LEN || have + len < GRPC_PREFIX_LEN) return O2P_OK;
    uint8_t prefix[GRPC_PREFIX_LEN];
    memcpy(prefix, st->body.data, have);
    memcpy(prefix + have, data, GRPC_PREFIX_LEN - have);
    size_t declared = (size_t)prefix[1] << 24 | (size_t)prefix[2] << 16 | (size_t)prefix[3] << 8 |
                      (size_t)prefix[4];
    grpc_admit(h, st, prefix, declared);
    if (st->answered) return O2P_OK;
    size_t total = GRPC_PREFIX_LEN + declared;
    if (total > h->env->max_payload || h->reserved + total > h->env->max_payload) return O2P_OK;
    if (buf_reserve(&st->body, total - have) < 0) return O2P_OK; /* may still fit as it grows */
    st->reserved = total;
    h->reserved += total;
    return O2P_OK;
}

static void grpc_body_unreserve(grpc_h2 *h, grpc_stream *st)
{
    h->reserved -= st->reserved;
    st->reserved = 0;
}

/* Flow control (no automatic window updates): connection-level, bytes
 * are consumed as they arrive unless their stream waits, then when its
 * wait ends; stream-level, likewise.  So waiting calls keep their bytes in
 * the connection's window, and a waiting stream gets no more than its own. */
static void grpc_consume(grpc_h2 *h, grpc_stream *st, size_t len)
{
    if (st->waiting && !st->answered)
        st->withheld += len;
    else
        nghttp2_session_consume(h->session, st->id, len);
}

/* Takes body bytes of an unanswered stream (or answers it). */
static void grpc_take_data(grpc_h2 *h, grpc_stream *st, const uint8_t *data, size_t len)
{
    char msg[160];
    if (h->buffered + len > h->env->max_payload) {
        snprintf(msg, sizeof msg,
                 "this connection already buffers %zu bytes of unfinished calls (limit %zu); "
                 "retry",
                 h->buffered, h->env->max_payload);
        /* retryable: the other calls will have finished */
        grpc_answer_error(h, st, O2P_EBUSY, msg, 1);
        return;
    }
    int rc = grpc_body_reserve(h, st, data, len);
    if (st->answered) return; /* refused at its prefix */
    if (rc == O2P_OK) rc = buf_append(&st->body, data, len);
    if (rc == O2P_ELIMIT) {
        snprintf(msg, sizeof msg, "grpc: message exceeds the %zu byte limit", h->env->max_payload);
        grpc_answer_error(h, st, O2P_ELIMIT, msg, 0);
    } else if (rc < 0) {
        grpc_answer_error(h, st, O2P_ENOMEM, "out of memory receiving the message", 1);
    } else {
        h->buffered += len;
    }
}

static int grpc_on_data(nghttp2_session *session, uint8_t flags, int32_t stream_id,
                        const uint8_t *data, size_t len, void *user_data)
{
    (void)flags;
    grpc_h2 *h = user_data;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (st == NULL || st->answered) {
        nghttp2_session_consume(session, stream_id, len);
        return 0;
    }
    grpc_take_data(h, st, data, len);
    grpc_consume(h, st, len);
    return 0;
}

static int grpc_on_frame(nghttp2_session *session, const nghttp2_frame *frame, void *user_data)
{
    grpc_h2 *h = user_data;
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, frame->hd.stream_id);
    if (st == NULL) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && frame->headers.cat == NGHTTP2_HCAT_REQUEST)
        grpc_check_headers(h, st);
    if (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) grpc_finish(h, st);
    return 0;
}

static void grpc_stream_free(grpc_h2 *h, grpc_stream *st)
{
    if (st->prev)
        st->prev->next = st->next;
    else
        h->open = st->next;
    if (st->next) st->next->prev = st->prev;
    grpc_unwait(h, st);
    if (st->held) { /* reset while its call waited */
        h->buffered -= st->held->body.len;
        grpc_h2_job_free(st->held);
    }
    grpc_body_unreserve(h, st);
    h->buffered -= st->body.len;
    buf_free(&st->body);
    buf_free(&st->resp);
    mem_free(st);
    h->streams--;
    grpc_metrics_streams(h->env->metrics, -1);
}

static int grpc_on_close(nghttp2_session *session, int32_t stream_id, uint32_t error_code,
                         void *user_data)
{
    (void)error_code;
    grpc_h2 *h = user_data;
    grpc_stream *st = nghttp2_session_get_stream_user_data(session, stream_id);
    if (st == NULL) return 0;
    nghttp2_session_set_stream_user_data(session, stream_id, NULL);
    grpc_stream_free(h, st);
    return 0;
}

/* ---- session -------------------------------------------------------------- */

grpc_h2 *grpc_h2_new(grpc_h2_env *env)
{
    grpc_h2 *h = mem_calloc(1, sizeof *h);
    if (h == NULL) return NULL;
    h->env = env;
    nghttp2_session_callbacks *cbs;
    if (nghttp2_session_callbacks_new(&cbs) != 0) {
        mem_free(h);
        return NULL;
    }
    nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, grpc_on_begin_headers);
    nghttp2_session_callbacks_set_on_header_callback(cbs, grpc_on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, grpc_on_data);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, grpc_on_frame);
    nghttp2_session_callbacks_set_on_stream_close_callback(cbs, grpc_on_close);
    nghttp2_option *opt;
    int rc = nghttp2_option_new(&opt);
    if (rc == 0) {
        nghttp2_option_set_no_auto_window_update(opt, 1);
        rc = nghttp2_session_server_new2(&h->session, cbs, h, opt);
        nghttp2_option_del(opt);
    }
    nghttp2_session_callbacks_del(cbs);
    if (rc != 0) {
        mem_free(h);
        return NULL;
    }
    size_t window = env->max_payload / 2;
    if (window < GRPC_H2_CONN_WINDOW_MIN) window = GRPC_H2_CONN_WINDOW_MIN;
    if (window > GRPC_H2_CONN_WINDOW_MAX) window = GRPC_H2_CONN_WINDOW_MAX;
    nghttp2_settings_entry iv[] = {
        {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, GRPC_H2_MAX_STREAMS},
        {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, GRPC_H2_STREAM_WINDOW},
        {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE, 16384},
    };
    if (nghttp2_submit_settings(h->session, NGHTTP2_FLAG_NONE, iv, sizeof iv / sizeof iv[0]) != 0 ||
        nghttp2_session_set_local_window_size(h->session, NGHTTP2_FLAG_NONE, 0, (int32_t)window) !=
            0) {
        grpc_h2_free(h);
        return NULL;
    }
    return h;
}

void grpc_h2_free(grpc_h2 *h)
{
    if (h == NULL) return;
    nghttp2_session_del(h->session);
    h->session = NULL;
    while (h->open) grpc_stream_free(h, h->open);
    buf_free(&h->spare);
    mem_free(h);
}

int grpc_h2_recv(grpc_h2 *h, const uint8_t *data, size_t len)
{
    if (h->failed) return O2P_EINVAL;
    ssize_t n = nghttp2_session_mem_recv(h->session, data, len);
    if (n < 0 || h->failed) {
        h->failed = 1;
        return O2P_EINVAL;
    }
    return O2P_OK;
}

int grpc_h2_send(grpc_h2 *h, o2p_buf *out, size_t max)
{
    size_t start = out->len;
    while (out->len - start < max) {
        const uint8_t *p;
        ssize_t n = nghttp2_session_mem_send(h->session, &p);
        if (n < 0) {
            h->failed = 1;
            return O2P_EINVAL;
        }
        if (n == 0) break;
        O2P_TRY(buf_append(out, p, (size_t)n));
    }
    return O2P_OK;
}

int grpc_h2_done(grpc_h2 *h)
{
    if (h->failed) return !nghttp2_session_want_write(h->session);
    return !nghttp2_session_want_read(h->session) && !nghttp2_session_want_write(h->session);
}

void grpc_h2_goaway(grpc_h2 *h)
{
    nghttp2_submit_goaway(h->session, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(h->session), NGHTTP2_NO_ERROR,
                          NULL, 0);
}

size_t grpc_h2_streams(const grpc_h2 *h)
{
    return h->streams;
}

size_t grpc_h2_pending(const grpc_h2 *h)
{
    return h->pending;
}

size_t grpc_h2_reserved(const grpc_h2 *h)
{
    return h->reserved;
}

size_t grpc_h2_waiting(const grpc_h2 *h)
{
    return h->waiting;
}

uint64_t grpc_h2_next_due(const grpc_h2 *h)
{
    uint64_t due = UINT64_MAX;
    for (const grpc_stream *st = h->waiting ? h->open : NULL; st; st = st->next)
        if (st->waiting && st->due_ns < due) due = st->due_ns;
    return due;
}

size_t grpc_h2_tick(grpc_h2 *h, uint64_t now_ns)
{
    size_t n = 0;
    grpc_stream *st = h->waiting ? h->open : NULL;
    while (st) {
        /* starting a call may answer it inline, never closes a stream */
        grpc_stream *next = st->next;
        if (st->waiting && st->due_ns <= now_ns) {
            grpc_unwait(h, st);
            grpc_h2_job *job = st->held;
            st->held = NULL;
            if (job) grpc_start(h, job);
            n++;
        }
        st = next;
    }
    return n;
}

void grpc_h2_set_owner(grpc_h2 *h, void *owner)
{
    h->owner = owner;
}

void *grpc_h2_owner(const grpc_h2 *h)
{
    return h->owner;
}
