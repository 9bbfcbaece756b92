/* Tests for http_server's pending requests (ingest_async +
 * http_server_complete): answers completed from another thread, many
 * requests pending on one server thread, completion before the callback
 * returns, error answers, and a graceful stop with requests pending. */
#include "server/http_server.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "test_http_util.h"
#include "unit.h"

#define MAX_HELD 64

static const char *const PB[] = {"Content-Type: application/x-protobuf", NULL};

/* The async callback's side: tokens it holds, and a completer thread that
 * answers them once `batch` of them are pending (so the test forces the
 * condition it checks instead of hoping for it). */
typedef struct async_sink {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    http_pending *held[MAX_HELD];
    int held_rc[MAX_HELD];
    int nheld;
    int batch;       /* complete only once this many are pending */
    int max_pending; /* most pending at once */
    atomic_int calls;
    atomic_int completed;
    int stop;
    pthread_t completer;
} async_sink;

/* The body says how to answer: "ok", "busy" (429), "partial" (200 with
 * partial_success), "inline" (completed before the callback returns),
 * "sync" (answered synchronously, not pending). */
static int async_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                        const uint8_t *body, size_t len, http_pending *pending,
                        http_ingest_reply *reply, o2p_error *err)
{
    (void)thread_index, (void)signal, (void)format, (void)reply, (void)err;
    async_sink *s = ctx;
    atomic_fetch_add(&s->calls, 1);
    if (len == 4 && memcmp(body, "sync", 4) == 0) return O2P_OK;
    if (len == 6 && memcmp(body, "inline", 6) == 0) {
        http_ingest_reply r = {.rejected = 0};
        atomic_fetch_add(&s->completed, 1); /* before: the answer may arrive at once */
        http_server_complete(pending, O2P_OK, &r, NULL);
        return HTTP_INGEST_PENDING;
    }
    int rc = O2P_OK;
    if (len == 4 && memcmp(body, "busy", 4) == 0) rc = O2P_EBUSY;
    if (len == 7 && memcmp(body, "partial", 7) == 0) rc = 1; /* marker: partial success */
    pthread_mutex_lock(&s->lock);
    CHECK(s->nheld < MAX_HELD);
    s->held[s->nheld] = pending;
    s->held_rc[s->nheld] = rc;
    s->nheld++;
    if (s->nheld > s->max_pending) s->max_pending = s->nheld;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    return HTTP_INGEST_PENDING;
}

static void *completer_main(void *arg)
{
    async_sink *s = arg;
    pthread_mutex_lock(&s->lock);
    for (;;) {
        while (!s->stop && s->nheld < s->batch) pthread_cond_wait(&s->cond, &s->lock);
        if (s->nheld == 0 && s->stop) break;
        if (s->nheld < s->batch && !s->stop) continue;
        int n = s->nheld;
        http_pending *held[MAX_HELD];
        int rcs[MAX_HELD];
        memcpy(held, s->held, sizeof held[0] * (size_t)n);
        memcpy(rcs, s->held_rc, sizeof rcs[0] * (size_t)n);
        s->nheld = 0;
        pthread_mutex_unlock(&s->lock);
        /* a little later, and from this thread */
        struct timespec ts = {0, 5 * 1000000L};
        nanosleep(&ts, NULL);
        for (int i = 0; i < n; i++) {
            http_ingest_reply r;
            memset(&r, 0, sizeof r);
            o2p_error err;
            o2p_error_clear(&err);
            int rc = rcs[i];
            if (rc == O2P_EBUSY) {
                r.retry_after_secs = 7;
                o2p_errorf(&err, O2P_EBUSY, "buffer full");
            } else if (rc == 1) {
                rc = O2P_OK;
                r.rejected = 3;
                snprintf(r.message, sizeof r.message, "three bad records");
            }
            /* counted before: the client (and stop) may see the answer at once */
            atomic_fetch_add(&s->completed, 1);
            http_server_complete(held[i], rc, &r, &err);
        }
        pthread_mutex_lock(&s->lock);
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

static void async_sink_start(async_sink *s, int batch)
{
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->cond, NULL);
    s->batch = batch;
    CHECK_OK(pthread_create(&s->completer, NULL, completer_main, s));
}

/* Lets the completer answer whatever is held (also fewer than batch). */
static void async_sink_release(async_sink *s)
{
    pthread_mutex_lock(&s->lock);
    s->batch = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
}

static void async_sink_stop(async_sink *s)
{
    pthread_mutex_lock(&s->lock);
    s->stop = 1;
    pthread_cond_broadcast(&s->cond);
    pthread_mutex_unlock(&s->lock);
    pthread_join(s->completer, NULL);
    pthread_mutex_destroy(&s->lock);
    pthread_cond_destroy(&s->cond);
}

static int sync_ingest_unused(void *ctx, unsigned thread_index, otlp_signal signal,
                              otlp_format format, const uint8_t *body, size_t len,
                              http_ingest_reply *reply, o2p_error *err)
{
    (void)ctx, (void)thread_index, (void)signal, (void)format, (void)body, (void)len;
    (void)reply;
    return o2p_errorf(err, O2P_EINVAL, "the blocking ingest must not be called");
}

static http_server *async_server(async_sink *s, unsigned threads)
{
    http_config cfg = {.listen_addr = "127.0.0.1:0", .threads = threads};
    http_handlers h = {.ctx = s, .ingest = sync_ingest_unused, .ingest_async = async_ingest};
    http_server *srv = NULL;
    o2p_error err;
    o2p_error_clear(&err);
    CHECK_MSG(http_server_start(&srv, &cfg, &h, &err) == 0, "http_server_start: %s", err.msg);
    return srv;
}

typedef struct client {
    uint16_t port;
    const char *body;
    int requests;
    int ok; /* answers as expected */
    long last_status;
} client;

static void *client_main(void *arg)
{
    client *c = arg;
    void *curl = curl_easy_init();
    for (int i = 0; i < c->requests; i++) {
        http_req req = {.path = "/v1/logs", .headers = PB, .body = c->body, .len = strlen(c->body)};
        http_resp r;
        http_do(c->port, &req, &r, curl);
        c->last_status = r.status;
        if (strcmp(c->body, "busy") == 0) {
            /* (not http_resp_header: its static buffer is shared by the threads) */
            if (r.status == 429 &&
                memmem(r.headers.data, r.headers.len, "Retry-After: 7\r\n", 16) != NULL &&
                strstr((const char *)r.body.data, "buffer full") != NULL)
                c->ok++;
        } else if (strcmp(c->body, "partial") == 0) {
            /* ExportLogsServiceResponse.partial_success.rejected_log_records = 3 */
            if (r.status == 200 && r.body.len > 0 &&
                memmem(r.body.data, r.body.len, "three bad records", 17) != NULL)
                c->ok++;
        } else if (r.status == 200 && r.body.len == 0) {
            c->ok++;
        }
        http_resp_free(&r);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

TEST(http_async_many_pending_on_one_thread)
{
    /* One server thread, 6 clients: the completer answers only once all 6
     * are pending at the same time, which a handler blocking its thread
     * could never reach. */
    async_sink s;
    async_sink_start(&s, 6);
    http_server *srv = async_server(&s, 1);
    client c[6];
    pthread_t t[6];
    for (int i = 0; i < 6; i++) {
        c[i] = (client){.port = http_server_port(srv), .body = "ok", .requests = 3};
        CHECK_OK(pthread_create(&t[i], NULL, client_main, &c[i]));
    }
    for (int i = 0; i < 6; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(c[i].ok, 3);
    }
    pthread_mutex_lock(&s.lock); /* written on an MHD thread */
    int max_pending = s.max_pending;
    pthread_mutex_unlock(&s.lock);
    CHECK_INT(max_pending, 6);
    CHECK_INT(atomic_load(&s.completed), 18);
    CHECK_INT(http_metrics_requests(http_server_metrics(srv), HTTP_ROUTE_LOGS, 200), 18);
    http_server_stop(srv);
    async_sink_stop(&s);
}

TEST(http_async_answers_from_another_thread)
{
    /* concurrent clients with every kind of answer, over keep-alive */
    async_sink s;
    async_sink_start(&s, 1);
    http_server *srv = async_server(&s, 2);
    static const char *const bodies[] = {"ok",   "busy", "partial", "inline",
                                         "sync", "ok",   "busy",    "inline"};
    enum { N = sizeof bodies / sizeof bodies[0] };
    client c[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        c[i] = (client){.port = http_server_port(srv), .body = bodies[i], .requests = 12};
        CHECK_OK(pthread_create(&t[i], NULL, client_main, &c[i]));
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK_MSG(c[i].ok == 12, "client %d (%s): %d of 12 as expected, last status %ld", i,
                  bodies[i], c[i].ok, c[i].last_status);
    }
    CHECK_INT(atomic_load(&s.calls), N * 12);
    const http_metrics *m = http_server_metrics(srv);
    CHECK_INT(http_metrics_requests(m, HTTP_ROUTE_LOGS, 429), 24);
    CHECK_INT(http_metrics_requests(m, HTTP_ROUTE_LOGS, 200), (N - 2) * 12);
    http_server_stop(srv);
    async_sink_stop(&s);
}

TEST(http_async_stop_waits_for_pending)
{
    /* three requests pending (never completed until the test says so);
     * stop must answer them all, and cannot return before they are */
    async_sink s;
    async_sink_start(&s, MAX_HELD); /* holds everything */
    http_server *srv = async_server(&s, 2);
    client c[3];
    pthread_t t[3];
    for (int i = 0; i < 3; i++) {
        c[i] = (client){.port = http_server_port(srv), .body = "ok", .requests = 1};
        CHECK_OK(pthread_create(&t[i], NULL, client_main, &c[i]));
    }
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&s.lock);
        int n = s.nheld;
        pthread_mutex_unlock(&s.lock);
        if (n == 3) break;
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    pthread_mutex_lock(&s.lock);
    CHECK_INT(s.nheld, 3);
    pthread_mutex_unlock(&s.lock);
    http_stopper st = {.srv = srv};
    pthread_t ts_;
    CHECK_OK(pthread_create(&ts_, NULL, http_stopper_main, &st));
    /* nothing completed yet, so stop cannot have returned (it may not
     * even have started: either way it must not be done) */
    CHECK_INT(atomic_load(&st.returned), 0);
    async_sink_release(&s);
    pthread_join(ts_, NULL);
    CHECK_INT(atomic_load(&st.returned), 1);
    CHECK_INT(atomic_load(&s.completed), 3);
    for (int i = 0; i < 3; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(c[i].ok, 1);
    }
    async_sink_stop(&s);
}

/* POST /v1/logs with this body on a kept connection; returns the status. */
static long post_on(uint16_t port, void *conn, const char *body)
{
    http_req req = {.path = "/v1/logs", .headers = PB, .body = body, .len = strlen(body)};
    http_resp r;
    http_do(port, &req, &r, conn);
    long status = r.status;
    http_resp_free(&r);
    return status;
}

TEST(http_async_request_after_stop_is_refused_not_ingested)
{
    /* Keep-alive connections send requests once stop has begun (stop waits
     * for a held request meanwhile): they are answered 503 at their
     * headers, and their bodies (which libmicrohttpd still hands over)
     * must be neither ingested nor left pending — stop no longer waits
     * for them, and libmicrohttpd aborts when stopped with a suspended
     * connection. */
    async_sink s;
    async_sink_start(&s, MAX_HELD); /* holds everything until released */
    http_server *srv = async_server(&s, 2);
    uint16_t port = http_server_port(srv);
    /* both connections are open before stop closes the listening socket */
    void *probe = curl_easy_init(), *late = curl_easy_init();
    CHECK_INT(post_on(port, probe, "sync"), 200);
    CHECK_INT(post_on(port, late, "sync"), 200);
    client held = {.port = port, .body = "ok", .requests = 1};
    pthread_t tc;
    CHECK_OK(pthread_create(&tc, NULL, client_main, &held));
    pthread_mutex_lock(&s.lock);
    while (s.nheld < 1) pthread_cond_wait(&s.cond, &s.lock);
    pthread_mutex_unlock(&s.lock);
    http_stopper st = {.srv = srv};
    pthread_t ts_;
    CHECK_OK(pthread_create(&ts_, NULL, http_stopper_main, &st));
    /* answered (and ingested) normally until stop has begun */
    int ingested = 3;
    long status;
    while ((status = post_on(port, probe, "sync")) == 200) ingested++;
    CHECK_INT(status, 503);
    /* a request that would be left pending */
    CHECK_INT(post_on(port, late, "ok"), 503);
    CHECK_INT(atomic_load(&s.calls), ingested);
    CHECK_INT(atomic_load(&st.returned), 0); /* still waiting for the held one */
    async_sink_release(&s);
    pthread_join(ts_, NULL);
    pthread_join(tc, NULL);
    CHECK_INT(held.ok, 1);
    curl_easy_cleanup(probe);
    curl_easy_cleanup(late);
    async_sink_stop(&s);
}
