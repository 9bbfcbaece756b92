/* test_http_util: in-process server and libcurl client for the http_*
 * tests (see test_http_util.h). */
#include "test_http_util.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "unit.h"

void http_sink_init(http_sink *s)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    buf_init(&s->body, 0);
    s->ready = 1;
}

void http_sink_free(http_sink *s)
{
    buf_free(&s->body);
    pthread_mutex_destroy(&s->lock);
}

void http_sink_answer(http_sink *s, int rc, int retry_after_secs, const char *err_msg)
{
    pthread_mutex_lock(&s->lock);
    s->rc = rc;
    s->reply.retry_after_secs = retry_after_secs;
    snprintf(s->err_msg, sizeof s->err_msg, "%s", err_msg ? err_msg : "");
    pthread_mutex_unlock(&s->lock);
}

void http_sink_set_ready(http_sink *s, int ready)
{
    pthread_mutex_lock(&s->lock);
    s->ready = ready;
    pthread_mutex_unlock(&s->lock);
}

static int http_sink_ingest(void *ctx, unsigned thread_index, otlp_signal signal,
                            otlp_format format, const uint8_t *body, size_t len,
                            http_ingest_reply *reply, o2p_error *err)
{
    http_sink *s = ctx;
    atomic_store(&s->entered, 1);
    if (s->sleep_ms > 0) {
        struct timespec ts = {s->sleep_ms / 1000, (long)(s->sleep_ms % 1000) * 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&s->lock);
    s->signal = signal;
    s->format = format;
    if (thread_index > s->max_thread_index) s->max_thread_index = thread_index;
    buf_reset(&s->body);
    buf_append(&s->body, body, len);
    *reply = s->reply;
    int rc = s->rc;
    char msg[sizeof s->err_msg];
    memcpy(msg, s->err_msg, sizeof msg);
    pthread_mutex_unlock(&s->lock);
    atomic_fetch_add(&s->calls, 1);
    if (rc < 0) return o2p_errorf(err, rc, "%s", msg);
    return O2P_OK;
}

static int http_sink_ready(void *ctx, char *why, size_t cap)
{
    (void)why;
    (void)cap;
    http_sink *s = ctx;
    pthread_mutex_lock(&s->lock);
    int ready = s->ready;
    pthread_mutex_unlock(&s->lock);
    return ready;
}

static void http_sink_metrics(void *ctx, o2p_buf *out)
{
    (void)ctx;
    buf_append_str(out, "test_extra_metric 42\n");
}

http_server *http_test_server(http_sink *sink, size_t max_payload, unsigned threads,
                              const char *auth_token)
{
    http_config cfg = {
        .listen_addr = "127.0.0.1:0",
        .max_payload_bytes = max_payload,
        .threads = threads,
        .auth_token = auth_token,
    };
    http_handlers h = {
        .ctx = sink,
        .ingest = http_sink_ingest,
        .ready = http_sink_ready,
        .metrics = http_sink_metrics,
    };
    http_server *srv = NULL;
    o2p_error err;
    o2p_error_clear(&err);
    int rc = http_server_start(&srv, &cfg, &h, &err);
    CHECK_MSG(rc == 0, "http_server_start: %s", err.msg);
    CHECK(http_server_port(srv) != 0);
    return srv;
}

static size_t http_write_cb(char *data, size_t size, size_t n, void *ud)
{
    buf_append(ud, data, size * n);
    return size * n;
}

typedef struct http_upload {
    const uint8_t *data;
    size_t len, pos;
} http_upload;

/* Hands the body over in odd-sized pieces so chunk boundaries fall
 * everywhere. */
static size_t http_read_cb(char *dst, size_t size, size_t n, void *ud)
{
    http_upload *u = ud;
    size_t room = size * n, left = u->len - u->pos;
    if (room > 7777) room = 7777;
    if (room > left) room = left;
    memcpy(dst, u->data + u->pos, room);
    u->pos += room;
    return room;
}

void http_do(uint16_t port, const http_req *req, http_resp *out, void *reuse)
{
    memset(out, 0, sizeof *out);
    buf_init(&out->body, 0);
    buf_init(&out->headers, 0);
    CURL *curl = reuse ? reuse : curl_easy_init();
    CHECK(curl != NULL);
    if (reuse) curl_easy_reset(curl);
    char url[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, req->path);
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, http_write_cb);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &out->body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, http_write_cb);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &out->headers);

    struct curl_slist *hdrs = NULL;
    for (const char *const *h = req->headers; h && *h; h++) hdrs = curl_slist_append(hdrs, *h);
    hdrs = curl_slist_append(hdrs, req->expect_continue ? "Expect: 100-continue" : "Expect:");
    http_upload up = {req->body, req->len, 0};
    const char *method = req->method ? req->method : (req->body ? "POST" : "GET");
    if (strcmp(method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        if (req->chunked) {
            hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
            curl_easy_setopt(curl, CURLOPT_READFUNCTION, http_read_cb);
            curl_easy_setopt(curl, CURLOPT_READDATA, &up);
        } else {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->len);
        }
    } else if (strcmp(method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    }
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
    if (curl_easy_perform(curl) == CURLE_OK) {
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
        curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &out->new_connections);
    }
    buf_push_byte(&out->body, 0); /* NUL-terminate for string checks */
    out->body.len--;
    buf_push_byte(&out->headers, 0);
    out->headers.len--;
    curl_slist_free_all(hdrs);
    if (!reuse) curl_easy_cleanup(curl);
}

const char *http_resp_header(const http_resp *r, const char *name)
{
    static char value[512];
    size_t name_len = strlen(name);
    const char *p = (const char *)r->headers.data;
    if (p == NULL) return NULL;
    while (*p) {
        const char *eol = strstr(p, "\r\n");
        size_t line_len = eol ? (size_t)(eol - p) : strlen(p);
        if (line_len > name_len && p[name_len] == ':' && strncasecmp(p, name, name_len) == 0) {
            const char *v = p + name_len + 1;
            while (*v == ' ') v++;
            size_t vlen = line_len - (size_t)(v - p);
            if (vlen >= sizeof value) vlen = sizeof value - 1;
            memcpy(value, v, vlen);
            value[vlen] = '\0';
            return value;
        }
        p += line_len + (eol ? 2 : 0);
    }
    return NULL;
}

void http_resp_free(http_resp *r)
{
    buf_free(&r->body);
    buf_free(&r->headers);
}

void *http_stopper_main(void *arg)
{
    http_stopper *st = arg;
    http_server_stop(st->srv);
    atomic_store(&st->returned, 1);
    return NULL;
}
