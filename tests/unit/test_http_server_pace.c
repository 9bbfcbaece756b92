/* Tests for http_server's paced admission (http_handlers.admit_paced +
 * http_pacer): a request given a wait is suspended without holding a
 * server thread (other connections are served meanwhile, on a server with
 * one thread), is answered once the pacer resumes it, and a graceful stop
 * resumes and answers every waiting request at once.  The waits are forced
 * by the test's admit callback, never provoked by load. */
#include "server/http_server.h"

#include <libdeflate.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "server/http_pacer.h"
#include "test_http_util.h"
#include "unit.h"

#define MS 1000000ULL

/* A body of this size waits "forever" (600 s: only a stop resumes it);
 * any other body waits PACE_SHORT_NS. */
#define LONG_BODY_LEN 5000
#define PACE_SHORT_NS (20 * MS)

typedef struct pace_sink {
    atomic_int admits;
    atomic_int ingests;
    atomic_int ingested_long;
} pace_sink;

static int pace_admit(void *ctx, otlp_signal signal, size_t body_bytes, uint64_t *wait_ns,
                      http_ingest_reply *reply, o2p_error *err)
{
    (void)signal, (void)reply, (void)err;
    pace_sink *s = ctx;
    atomic_fetch_add(&s->admits, 1);
    *wait_ns = body_bytes == LONG_BODY_LEN ? 600000 * MS : PACE_SHORT_NS;
    return O2P_OK;
}

static int pace_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                       const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err)
{
    (void)thread_index, (void)signal, (void)format, (void)body, (void)reply, (void)err;
    pace_sink *s = ctx;
    if (len == LONG_BODY_LEN) atomic_fetch_add(&s->ingested_long, 1);
    atomic_fetch_add(&s->ingests, 1);
    return O2P_OK;
}

static http_server *pace_server(pace_sink *s)
{
    /* one server thread: a wait that held it would block every other request */
    http_config cfg = {.listen_addr = "127.0.0.1:0", .threads = 1};
    http_handlers h = {.ctx = s, .ingest = pace_ingest, .admit_paced = pace_admit};
    http_server *srv = NULL;
    o2p_error err;
    o2p_error_clear(&err);
    CHECK_MSG(http_server_start(&srv, &cfg, &h, &err) == 0, "http_server_start: %s", err.msg);
    return srv;
}

static const char *const PB[] = {"Content-Type: application/x-protobuf", NULL};

typedef struct poster {
    uint16_t port;
    const void *body;
    size_t len;
    const char *const *headers;
    long status;
    atomic_int done;
} poster;

static void *poster_main(void *arg)
{
    poster *p = arg;
    http_req req = {.path = "/v1/logs",
                    .headers = p->headers ? p->headers : PB,
                    .body = p->body,
                    .len = p->len};
    http_resp r;
    http_do(p->port, &req, &r, NULL);
    p->status = r.status;
    http_resp_free(&r);
    atomic_store(&p->done, 1);
    return NULL;
}

/* Waits (up to 20 s, polling) until `n` connections are paced. */
static void wait_paced(http_server *srv, unsigned n)
{
    for (int i = 0; i < 20000 && http_server_paced(srv) != n; i++) {
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    CHECK_UINT(http_server_paced(srv), n);
}

TEST(http_pace_suspends_without_holding_a_thread_until_resumed)
{
    pace_sink s;
    memset(&s, 0, sizeof s);
    http_server *srv = pace_server(&s);
    uint16_t port = http_server_port(srv);
    static char long_body[LONG_BODY_LEN];
    memset(long_body, 'x', sizeof long_body);
    poster slow = {.port = port, .body = long_body, .len = sizeof long_body};
    pthread_t ts;
    CHECK_OK(pthread_create(&ts, NULL, poster_main, &slow));
    wait_paced(srv, 1);
    /* the only server thread is free: /health is answered meanwhile */
    http_req health = {.path = "/health"};
    http_resp r;
    http_do(port, &health, &r, NULL);
    CHECK_INT(r.status, 200);
    http_resp_free(&r);
    /* a request paced for a short time is resumed by the pacer and answered,
     * while the long one still waits (its body unread, not ingested) */
    poster quick = {.port = port, .body = "quick", .len = 5};
    pthread_t tq;
    CHECK_OK(pthread_create(&tq, NULL, poster_main, &quick));
    pthread_join(tq, NULL);
    CHECK_INT(quick.status, 200);
    CHECK_INT(atomic_load(&s.ingests), 1);
    CHECK_INT(atomic_load(&s.ingested_long), 0);
    CHECK_INT(atomic_load(&slow.done), 0);
    CHECK_UINT(http_server_paced(srv), 1);
    /* a graceful stop resumes the waiting request: it is read, ingested and
     * answered, and stop returns (it does not wait out the 600 s) */
    http_stopper st = {.srv = srv};
    pthread_t tst;
    CHECK_OK(pthread_create(&tst, NULL, http_stopper_main, &st));
    pthread_join(ts, NULL);
    CHECK_INT(slow.status, 200);
    pthread_join(tst, NULL);
    CHECK_INT(atomic_load(&st.returned), 1);
    CHECK_INT(atomic_load(&s.ingested_long), 1);
    CHECK_INT(atomic_load(&s.ingests), 2);
    CHECK_INT(atomic_load(&s.admits), 2);
}

typedef struct keeper {
    uint16_t port;
    int requests;
    const void *body;
    size_t len;
    const char *const *headers;
    int ok;
} keeper;

static void *keeper_main(void *arg)
{
    keeper *k = arg;
    void *curl = curl_easy_init();
    for (int i = 0; i < k->requests; i++) {
        http_req req = {.path = "/v1/logs", .headers = k->headers, .body = k->body, .len = k->len};
        http_resp r;
        http_do(k->port, &req, &r, curl);
        if (r.status == 200) k->ok++;
        http_resp_free(&r);
    }
    curl_easy_cleanup(curl);
    return NULL;
}

TEST(http_pace_many_waiting_on_one_thread_over_keep_alive)
{
    /* 8 clients, 5 requests each on one keep-alive connection, every
     * request paced: all answered 200 and ingested once, on one thread */
    pace_sink s;
    memset(&s, 0, sizeof s);
    http_server *srv = pace_server(&s);
    enum { N = 8, REQS = 5 };
    keeper k[N];
    pthread_t t[N];
    for (int i = 0; i < N; i++) {
        k[i] = (keeper){.port = http_server_port(srv),
                        .requests = REQS,
                        .body = "paced",
                        .len = 5,
                        .headers = PB};
        CHECK_OK(pthread_create(&t[i], NULL, keeper_main, &k[i]));
    }
    for (int i = 0; i < N; i++) {
        pthread_join(t[i], NULL);
        CHECK_INT(k[i].ok, REQS);
    }
    CHECK_INT(atomic_load(&s.ingests), N * REQS);
    CHECK_INT(atomic_load(&s.admits), N * REQS);
    CHECK_UINT(http_server_paced(srv), 0);
    CHECK_INT(http_metrics_requests(http_server_metrics(srv), HTTP_ROUTE_LOGS, 200), N * REQS);
    http_server_stop(srv);
}

TEST(http_pace_compressed_body_waits_after_it_is_read)
{
    /* gzip: the size is known only after decompression, so the wait comes
     * once the body is complete; it is decompressed again and ingested
     * after the resume (the sink sees the plain body), and counted once */
    pace_sink s;
    memset(&s, 0, sizeof s);
    http_server *srv = pace_server(&s);
    static char plain[LONG_BODY_LEN];
    memset(plain, 'y', sizeof plain);
    struct libdeflate_compressor *lc = libdeflate_alloc_compressor(6);
    uint8_t z[LONG_BODY_LEN];
    size_t zlen = libdeflate_gzip_compress(lc, plain, sizeof plain, z, sizeof z);
    libdeflate_free_compressor(lc);
    CHECK(zlen > 0);
    static const char *const gz[] = {"Content-Type: application/x-protobuf",
                                     "Content-Encoding: gzip", NULL};
    /* the plain size is the "long" one: waits until the stop */
    poster slow = {.port = http_server_port(srv), .body = z, .len = zlen, .headers = gz};
    pthread_t ts;
    CHECK_OK(pthread_create(&ts, NULL, poster_main, &slow));
    wait_paced(srv, 1);
    CHECK_INT(atomic_load(&s.ingests), 0);
    /* short waits, compressed and over keep-alive */
    keeper k = {.port = http_server_port(srv), .requests = 3, .body = z, .len = 0, .headers = gz};
    uint8_t zq[256];
    lc = libdeflate_alloc_compressor(6);
    k.len = libdeflate_gzip_compress(lc, "quick", 5, zq, sizeof zq);
    libdeflate_free_compressor(lc);
    k.body = zq;
    pthread_t tk;
    CHECK_OK(pthread_create(&tk, NULL, keeper_main, &k));
    pthread_join(tk, NULL);
    CHECK_INT(k.ok, 3);
    CHECK_INT(atomic_load(&s.ingests), 3);
    CHECK_INT(atomic_load(&slow.done), 0);
    http_stopper st = {.srv = srv};
    pthread_t tst;
    CHECK_OK(pthread_create(&tst, NULL, http_stopper_main, &st));
    pthread_join(ts, NULL);
    CHECK_INT(slow.status, 200);
    pthread_join(tst, NULL);
    CHECK_INT(atomic_load(&s.ingested_long), 1);
    CHECK_INT(atomic_load(&s.ingests), 4);
}

/* ---- http_pacer alone ---------------------------------------------------- */

typedef struct order_log {
    pthread_mutex_t lock;
    int order[16];
    int n;
} order_log;

typedef struct order_item {
    order_log *log;
    int id;
} order_item;

static void order_fire(void *arg)
{
    order_item *it = arg;
    pthread_mutex_lock(&it->log->lock);
    it->log->order[it->log->n++] = it->id;
    pthread_mutex_unlock(&it->log->lock);
}

TEST(http_pacer_runs_timers_in_deadline_order_and_drains_the_rest)
{
    http_pacer *p;
    o2p_error err;
    CHECK_OK(http_pacer_start(&p, &err));
    order_log log = {.n = 0};
    pthread_mutex_init(&log.lock, NULL);
    order_item it[6];
    for (int i = 0; i < 6; i++) it[i] = (order_item){&log, i};
    /* a deadline already passed runs without a drain */
    uint64_t past = 1000;
    CHECK_OK(http_pacer_add(p, past, order_fire, &it[1]));
    for (int i = 0; i < 20000; i++) {
        pthread_mutex_lock(&log.lock);
        int n = log.n;
        pthread_mutex_unlock(&log.lock);
        if (n == 1) break;
        struct timespec ts = {0, 1000000L};
        nanosleep(&ts, NULL);
    }
    /* far in the future, added out of order: the drain runs them now, by deadline */
    uint64_t far = (uint64_t)1 << 62;
    CHECK_OK(http_pacer_add(p, far + 3, order_fire, &it[4]));
    CHECK_OK(http_pacer_add(p, far + 1, order_fire, &it[2]));
    CHECK_OK(http_pacer_add(p, far + 2, order_fire, &it[3]));
    CHECK_UINT(http_pacer_waiting(p), 3);
    http_pacer_drain(p);
    CHECK_UINT(http_pacer_waiting(p), 0);
    CHECK_INT(http_pacer_add(p, past, order_fire, &it[5]), O2P_ESTATE); /* refused after */
    http_pacer_stop(p);
    CHECK_INT(log.n, 4);
    static const int want[] = {1, 2, 3, 4};
    for (int i = 0; i < 4; i++) CHECK_INT(log.order[i], want[i]);
    pthread_mutex_destroy(&log.lock);
}
