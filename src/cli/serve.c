/*
 * serve: the server command — wires configuration, storage, the batcher and
 * the HTTP layer together, handles signals and prints the start-up banner.
 *
 * Each HTTP thread owns an otlp_decoder and a tbl_batch (indexed by the
 * thread index the HTTP layer passes), so a request decodes without locks
 * and the only shared step is batch_submit; the gRPC threads get the slots
 * after the HTTP ones.  With the WAL synced before each answer, an HTTP
 * request does not wait for the sync on its thread: its decoded rows move
 * into a serve_pending (a free list of them, so the steady state allocates
 * nothing), the request is left pending, and the WAL's syncer submits the
 * rows and completes it once the record is durable.  Past SERVE_MAX_PENDING
 * requests waiting (and for gRPC) the thread waits for the sync itself.
 * Either way the decoded rows are reserved in the batcher's memory budget
 * before the record is written (a request that would not fit is refused
 * before it costs a write) until they are submitted or the write failed.  SIGTERM/SIGINT: stop
 * accepting, let in-flight requests finish, flush every buffered row, exit 0.  SIGHUP: reload the
 * TLS certificate, key and client CAs of both listeners (a bad file keeps
 * the old ones and logs why).
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch/batch.h"
#include "cli/cli.h"
#include "cli/runtime.h"
#include "cli/serve_wal.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "otlp/otlp.h"
#include "server/grpc_server.h"
#include "server/http_server.h"
#include "storage/store.h"

#define SERVE_SHUTDOWN_FLUSH_SECS 120
/* Requests waiting for a WAL sync without a thread; each holds its decoded
 * rows (~400 KB per 1,000 log records), reserved in the batcher's budget
 * until the sync is over (batch_reserve). */
#define SERVE_MAX_PENDING 64

typedef struct serve_slot {
    otlp_decoder *dec;
    tbl_batch rows;
} serve_slot;

struct serve_ctx;

/* A request waiting for its WAL record to be durable. */
typedef struct serve_pending {
    wal_waiter wt; /* first: done() gets a pointer to it */
    struct serve_ctx *sc;
    http_pending *token;
    tbl_batch rows;
    size_t len;
    uint64_t reserved; /* its rows' share of the batcher's budget */
    uint64_t rejected;
    char reason[256];
    struct serve_pending *next_free;
} serve_pending;

typedef struct serve_ctx {
    batch *b;
    serve_wal *wal; /* NULL with durability = "memory" */
    serve_slot *slots;
    unsigned num_slots;
    const tbl_schemas *schemas;
    pthread_mutex_t pend_lock;
    serve_pending *pend_free;
    unsigned pend_made;       /* allocated (free or in use), at most SERVE_MAX_PENDING */
    unsigned pend_busy;       /* in use */
    int grpc_on;              /* the gRPC listener is configured */
    grpc_metrics grpc_counts; /* its counters; here, not in grpc_server, so /metrics never
                                 reads a stopped server */
} serve_ctx;

/* A pending slot from the free list, or NULL when SERVE_MAX_PENDING are in
 * use (or out of memory): the caller then waits for the sync itself. */
static serve_pending *pending_get(serve_ctx *sc)
{
    pthread_mutex_lock(&sc->pend_lock);
    serve_pending *p = sc->pend_free;
    if (p != NULL) {
        sc->pend_free = p->next_free;
    } else if (sc->pend_made < SERVE_MAX_PENDING && (p = mem_calloc(1, sizeof *p)) != NULL) {
        sc->pend_made++;
        p->sc = sc;
        tbl_batch_init(&p->rows, sc->schemas);
    }
    if (p != NULL) sc->pend_busy++;
    pthread_mutex_unlock(&sc->pend_lock);
    return p;
}

static void pending_put(serve_ctx *sc, serve_pending *p)
{
    tbl_batch_reset(&p->rows);
    p->token = NULL;
    pthread_mutex_lock(&sc->pend_lock);
    p->next_free = sc->pend_free;
    sc->pend_free = p;
    sc->pend_busy--;
    pthread_mutex_unlock(&sc->pend_lock);
}

static void pending_free_all(serve_ctx *sc)
{
    while (sc->pend_free) {
        serve_pending *p = sc->pend_free;
        sc->pend_free = p->next_free;
        tbl_batch_free(&p->rows);
        mem_free(p);
    }
}

static void swap_rows(tbl_batch *a, tbl_batch *b)
{
    tbl_batch t = *a;
    *a = *b;
    *b = t;
}

/* The answer for a request whose rows were submitted (or refused) with rc. */
static int serve_result(serve_ctx *sc, int rc, uint64_t rejected, const char *reason,
                        http_ingest_reply *reply, o2p_error *err)
{
    if (rc == O2P_EBUSY && reply->retry_after_secs == 0)
        reply->retry_after_secs = batch_retry_after_secs(sc->b);
    if (rc == O2P_ESTATE) {
        reply->retry_after_secs = 5;
        return o2p_errorf(err, O2P_EIO, "server is shutting down; retry");
    }
    if (rc < 0) return rc;
    reply->rejected = rejected;
    if (rejected) snprintf(reply->message, sizeof reply->message, "%s", reason);
    return O2P_OK;
}

/* The WAL record of a pending request is durable (or its sync failed):
 * submit the rows, answer.  Runs on the WAL's syncer or completion thread. */
static void serve_durable(wal_waiter *wt, int rc, const char *why)
{
    serve_pending *p = (serve_pending *)wt;
    serve_ctx *sc = p->sc;
    http_ingest_reply reply;
    memset(&reply, 0, sizeof reply);
    o2p_error err;
    o2p_error_clear(&err);
    if (rc < 0) {
        batch_unreserve(sc->b, p->reserved);
        rc = o2p_errorf(&err, O2P_EIO, "WAL write failed: %s", why);
        reply.retry_after_secs = 5; /* 503: the WAL disk fails */
    } else {
        rc = batch_submit_reserved(sc->b, &p->rows, p->len, wt->lsn, p->reserved, &err);
    }
    serve_wal_done(sc->wal, wt->lsn, rc < 0);
    rc = serve_result(sc, rc, p->rejected, p->reason, &reply, &err);
    http_pending *token = p->token;
    pending_put(sc, p);
    http_server_complete(token, rc, &reply, &err);
}

/* Decode, log, submit.  With a token (HTTP, sync = always) the WAL sync is
 * not waited for here: HTTP_INGEST_PENDING, and serve_durable answers. */
static int serve_ingest_token(serve_ctx *sc, unsigned thread_index, otlp_signal signal,
                              otlp_format format, const uint8_t *body, size_t len,
                              http_pending *token, http_ingest_reply *reply, o2p_error *err)
{
    serve_slot *slot = &sc->slots[thread_index];
    otlp_stats stats;
    memset(&stats, 0, sizeof stats);
    uint64_t receive_ns = clock_real_ns();
    /* slot->rows is empty here: every call resets it on the way out */
    int rc =
        otlp_decode(slot->dec, signal, format, body, len, receive_ns, &slot->rows, &stats, err);
    uint64_t lsn = 0;      /* 0: not logged */
    uint64_t reserved = 0; /* the rows' share of the budget while the record is synced */
    /* With the WAL, the body is durable before its rows are buffered (and
     * so before the 200); a request with no rows needs no record. */
    serve_pending *p = NULL;
    int log_it = rc == 0 && sc->wal && tbl_batch_rows(&slot->rows, TBL_COUNT) > 0;
    if (log_it) rc = batch_reserve(sc->b, &slot->rows, &reserved, err);
    if (log_it && rc == 0) {
        if (token != NULL && (p = pending_get(sc)) != NULL) {
            /* everything done() needs is in p before the record is queued */
            swap_rows(&slot->rows, &p->rows);
            p->token = token;
            p->len = len;
            p->reserved = reserved;
            p->rejected = stats.rejected;
            snprintf(p->reason, sizeof p->reason, "%s",
                     stats.rejected ? stats.rejected_reason : "");
            p->wt.done = serve_durable;
            rc =
                serve_wal_append_async(sc->wal, signal, format, receive_ns, body, len, &p->wt, err);
            if (rc == 0) return HTTP_INGEST_PENDING;
            swap_rows(&slot->rows, &p->rows);
            pending_put(sc, p);
        } else {
            rc = serve_wal_append(sc->wal, signal, format, receive_ns, body, len, &lsn, err);
        }
        if (rc == O2P_EIO) reply->retry_after_secs = 5; /* 503: the WAL disk fails */
        if (rc < 0) batch_unreserve(sc->b, reserved);
    }
    if (rc == 0) rc = batch_submit_reserved(sc->b, &slot->rows, len, lsn, reserved, err);
    if (lsn != 0) serve_wal_done(sc->wal, lsn, rc < 0);
    tbl_batch_reset(&slot->rows);
    return serve_result(sc, rc, stats.rejected, stats.rejected_reason, reply, err);
}

/* The blocking form (gRPC, and HTTP without a sync to wait for). */
static int serve_ingest(void *ctx, unsigned thread_index, otlp_signal signal, otlp_format format,
                        const uint8_t *body, size_t len, http_ingest_reply *reply, o2p_error *err)
{
    return serve_ingest_token(ctx, thread_index, signal, format, body, len, NULL, reply, err);
}

static int serve_ingest_async(void *ctx, unsigned thread_index, otlp_signal signal,
                              otlp_format format, const uint8_t *body, size_t len,
                              http_pending *token, http_ingest_reply *reply, o2p_error *err)
{
    return serve_ingest_token(ctx, thread_index, signal, format, body, len, token, reply, err);
}

static int serve_admit(void *ctx, otlp_signal signal, size_t body_bytes, http_ingest_reply *reply,
                       o2p_error *err)
{
    (void)signal;
    serve_ctx *sc = ctx;
    return serve_result(sc, batch_admit(sc->b, body_bytes, err), 0, NULL, reply, err);
}

/* HTTP's and gRPC's admission: paced above batch.pace_above_percent of
 * the budget (serve_admit is the fallback of a front end without pacing). */
static int serve_admit_paced(void *ctx, otlp_signal signal, size_t body_bytes, uint64_t *wait_ns,
                             http_ingest_reply *reply, o2p_error *err)
{
    (void)signal;
    serve_ctx *sc = ctx;
    return serve_result(sc, batch_admit_paced(sc->b, body_bytes, wait_ns, err), 0, NULL, reply,
                        err);
}

static int serve_ready(void *ctx, char *why, size_t cap)
{
    serve_ctx *sc = ctx;
    if (sc->wal && !serve_wal_ready(sc->wal, why, cap)) return 0;
    return batch_ready(sc->b, why, cap);
}

static void prom_tables(o2p_buf *out, const char *name, const char *type, const char *help,
                        const uint64_t *values)
{
    http_prom_family(out, name, type, help);
    for (int t = 0; t < TBL_COUNT; t++) {
        char labels[64];
        snprintf(labels, sizeof labels, "table=\"%s\"", tbl_name((tbl_id)t));
        http_prom_u64(out, name, labels, values[t]);
    }
}

static void serve_metrics(void *ctx, o2p_buf *out)
{
    serve_ctx *sc = ctx;
    batch_stats st;
    batch_get_stats(sc->b, &st);
    prom_tables(out, "otlp2parquet_rows_received_total", "counter",
                "Rows accepted into the buffer, by table.", st.rows_in);
    prom_tables(out, "otlp2parquet_rows_written_total", "counter",
                "Rows stored in Parquet files, by table.", st.rows_out);
    prom_tables(out, "otlp2parquet_bytes_written_total", "counter",
                "Parquet bytes stored, by table.", st.bytes_out);
    prom_tables(out, "otlp2parquet_files_written_total", "counter",
                "Parquet files stored, by table.", st.files_out);
    http_prom_family(out, "otlp2parquet_flush_duration_seconds", "summary",
                     "Time spent encoding and storing flushed groups.");
    http_prom_double(out, "otlp2parquet_flush_duration_seconds_sum", NULL,
                     (double)st.flush_seconds_sum_us / 1e6);
    http_prom_u64(out, "otlp2parquet_flush_duration_seconds_count", NULL, st.flushes);
    http_prom_metric(out, "otlp2parquet_buffered_rows", "gauge", "Rows waiting to be flushed.",
                     st.buffered_rows);
    http_prom_metric(
        out, "otlp2parquet_buffered_bytes", "gauge",
        "Bytes of row data waiting to be flushed (counted against batch.max_buffered_bytes).",
        st.buffered_bytes);
    http_prom_metric(out, "otlp2parquet_reserved_bytes", "gauge",
                     "Bytes of decoded rows waiting for their write-ahead log sync before they "
                     "are buffered (counted against batch.max_buffered_bytes too).",
                     st.reserved_bytes);
    http_prom_metric(out, "otlp2parquet_storage_errors_total", "counter",
                     "Failed attempts to store a file (retried with backoff).", st.storage_errors);
    http_prom_metric(out, "otlp2parquet_storage_failing", "gauge",
                     "1 while the last attempt to store a file failed.",
                     (uint64_t)st.storage_failing);
    http_prom_metric(out, "otlp2parquet_rejected_busy_total", "counter",
                     "Requests refused because the buffer was full (HTTP 429, gRPC "
                     "RESOURCE_EXHAUSTED).",
                     st.rejected_busy);
    http_prom_family(
        out, "otlp2parquet_refused_total", "counter",
        "Requests refused for lack of buffer, by cause: admit (before decoding, from "
        "the size), full (the decoded rows did not fit), too_large (could never fit), pace "
        "(its admission wait would exceed batch.max_pace_ms).");
    http_prom_u64(out, "otlp2parquet_refused_total", "cause=\"admit\"", st.refused_admit);
    http_prom_u64(out, "otlp2parquet_refused_total", "cause=\"full\"", st.refused_full);
    http_prom_u64(out, "otlp2parquet_refused_total", "cause=\"too_large\"", st.refused_too_large);
    http_prom_u64(out, "otlp2parquet_refused_total", "cause=\"pace\"", st.refused_pace);
    http_prom_family(out, "otlp2parquet_pace_wait_seconds", "histogram",
                     "How long HTTP requests and gRPC calls admitted with a wait (above "
                     "batch.pace_above_percent of the budget) waited before being decoded.");
    uint64_t cum = 0;
    for (int i = 0; i < BATCH_PACE_BUCKETS; i++) {
        char le[32];
        cum += st.pace_wait_buckets[i];
        snprintf(le, sizeof le, "le=\"%g\"", batch_pace_bucket_ms[i] / 1000.0);
        http_prom_u64(out, "otlp2parquet_pace_wait_seconds_bucket", le, cum);
    }
    http_prom_u64(out, "otlp2parquet_pace_wait_seconds_bucket", "le=\"+Inf\"", st.paced);
    http_prom_double(out, "otlp2parquet_pace_wait_seconds_sum", NULL,
                     (double)st.pace_wait_us_sum / 1e6);
    http_prom_u64(out, "otlp2parquet_pace_wait_seconds_count", NULL, st.paced);
    http_prom_metric(out, "otlp2parquet_pressure_flushes_total", "counter",
                     "Groups sealed for an early flush because the memory budget was reached.",
                     st.pressure_seals);
    http_prom_metric(out, "otlp2parquet_flush_rate_bytes", "gauge",
                     "Buffer bytes freed per second by the flushers (recent); Retry-After is "
                     "derived from it.",
                     st.flush_rate_bytes);
    http_prom_metric(out, "otlp2parquet_flush_threads", "gauge", "Flusher threads.",
                     (uint64_t)st.flush_threads);
    mem_stats ms;
    mem_get_stats(&ms);
    http_prom_metric(out, "otlp2parquet_heap_bytes", "gauge",
                     "Heap bytes in use (allocator count).", ms.bytes_in_use);
    http_prom_metric(out, "otlp2parquet_heap_peak_bytes", "gauge", "Peak heap bytes in use.",
                     ms.peak_bytes_in_use);
    if (sc->wal) {
        serve_wal_metrics(sc->wal, out);
        pthread_mutex_lock(&sc->pend_lock);
        unsigned busy = sc->pend_busy;
        pthread_mutex_unlock(&sc->pend_lock);
        http_prom_metric(out, "otlp2parquet_wal_pending_requests", "gauge",
                         "HTTP requests waiting for a WAL sync without holding a thread.", busy);
    }
    if (sc->grpc_on) grpc_metrics_render(&sc->grpc_counts, out);
}

static void print_banner(const cfg_config *cfg, uint16_t port, const grpc_server *grpc)
{
    o2p_buf b;
    buf_init(&b, 0);
    if (cfg_banner(cfg, &b) == 0) {
        if (cfg->server.listen_port == 0) buf_printf(&b, "bound to port %u\n", (unsigned)port);
        if (grpc && cfg->server.grpc_listen_port == 0)
            buf_printf(&b, "grpc on port %u\n", (unsigned)grpc_server_port(grpc));
        buf_append_str(&b, "routes: POST /v1/logs, POST /v1/traces, POST /v1/metrics, "
                           "GET /health, GET /ready, GET /metrics\n");
        fwrite(b.data, 1, b.len, stdout);
        fflush(stdout);
    }
    buf_free(&b);
}

static unsigned server_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (unsigned)n;
}

int cli_serve(const cfg_config *cfg)
{
    o2p_error err;
    o2p_error_clear(&err);
    /* Signals are taken synchronously by the main thread: block them before
     * any thread starts so every thread inherits the mask. */
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    sigaddset(&sigs, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    int exit_code = 1;
    tbl_schemas schemas;
    store *st = NULL;
    batch *b = NULL;
    serve_wal *swal = NULL;
    http_server *srv = NULL;
    grpc_server *gsrv = NULL;
    serve_ctx sc;
    memset(&sc, 0, sizeof sc);
    pthread_mutex_init(&sc.pend_lock, NULL);
    sc.schemas = &schemas;
    if (runtime_schemas(cfg, &schemas, &err) < 0) {
        LOG_ERROR("%s", err.msg);
        return 1;
    }
    if (runtime_open_store(cfg, &st, &err) < 0) {
        LOG_ERROR("storage: %s", err.msg);
        goto done;
    }
    int rc = store_check(st, &err);
    if (rc == O2P_EAUTH || rc == O2P_EINVAL) {
        LOG_ERROR("storage %s: %s", store_describe(st), err.msg);
        goto done;
    }
    int storage_down = rc < 0;
    if (storage_down)
        LOG_WARN("storage %s is not reachable yet (%s); buffering and retrying", store_describe(st),
                 err.msg);

    if (cfg->durability == CFG_DURABILITY_WAL) {
        rc = serve_wal_open(&swal, cfg, &schemas, st, &err);
        if (rc < 0) {
            LOG_ERROR("durability: %s", err.msg);
            /* another server holds the log, or its directory is unusable */
            exit_code = rc == O2P_EBUSY ? 2 : 1;
            goto done;
        }
    }
    batch_config bc;
    batch_config_default(&bc);
    bc.enabled = cfg->batch.enabled;
    bc.max_rows = cfg->batch.max_rows;
    bc.max_bytes = cfg->batch.max_bytes;
    bc.max_age_secs = (uint32_t)cfg->batch.max_age_secs;
    bc.max_buffered_bytes = cfg->batch.max_buffered_bytes;
    bc.flush_threads = (int)cfg->batch.flush_threads;
    bc.pace_above_percent = (uint32_t)cfg->batch.pace_above_percent;
    bc.max_pace_ms = (uint32_t)cfg->batch.max_pace_ms;
    bc.flush_nice = (int)cfg->batch.flush_nice;
    runtime_parquet_options(cfg, &bc.parquet);
    if (batch_create(&b, &bc, &schemas, st, &err) < 0) {
        LOG_ERROR("%s", err.msg);
        goto done;
    }
    sc.b = b;
    if (storage_down) batch_note_storage_failure(b);
    if (swal != NULL) {
        /* the journal before the first submit; replay runs beside new requests */
        if (serve_wal_start(swal, b, &err) < 0) {
            LOG_ERROR("durability: %s", err.msg);
            goto done;
        }
        sc.wal = swal;
    }
    unsigned threads = server_threads();
    sc.grpc_on = cfg->server.grpc_listen_addr != NULL;
    grpc_metrics_init(&sc.grpc_counts);
    sc.num_slots = threads * (cfg->server.grpc_listen_addr ? 2 : 1); /* HTTP, then gRPC */
    sc.slots = mem_calloc(sc.num_slots, sizeof *sc.slots);
    if (sc.slots == NULL) {
        LOG_ERROR("out of memory");
        goto done;
    }
    otlp_options oo;
    otlp_options_default(&oo);
    for (unsigned i = 0; i < sc.num_slots; i++) {
        if (otlp_decoder_create(&sc.slots[i].dec, &oo, &err) < 0) {
            LOG_ERROR("%s", err.msg);
            goto done;
        }
        tbl_batch_init(&sc.slots[i].rows, &schemas);
    }
    http_handlers handlers = {.ctx = &sc,
                              .ingest = serve_ingest,
                              /* only when there is a sync to wait for */
                              .ingest_async =
                                  swal && serve_wal_async(swal) ? serve_ingest_async : NULL,
                              .admit = serve_admit,
                              .admit_paced = serve_admit_paced,
                              .ready = serve_ready,
                              .metrics = serve_metrics};
    http_config hc = {.listen_addr = cfg->server.listen_addr,
                      .max_payload_bytes = (size_t)cfg->request.max_payload_bytes,
                      .threads = threads,
                      .auth_token = cfg->server.auth_token,
                      .shutdown_timeout_secs = (unsigned)cfg->server.shutdown_timeout_secs,
                      .tls_cert_file = cfg->server.tls.cert_file,
                      .tls_key_file = cfg->server.tls.key_file,
                      .tls_client_ca_file = cfg->server.tls.client_ca_file};
    rc = http_server_start(&srv, &hc, &handlers, &err);
    if (rc < 0) {
        LOG_ERROR("%s", err.msg);
        /* a bad address or TLS file is a configuration error */
        if (rc == O2P_EINVAL) exit_code = 2;
        goto done;
    }
    if (cfg->server.grpc_listen_addr) {
        grpc_config gc = {.listen_addr = cfg->server.grpc_listen_addr,
                          .max_payload_bytes = hc.max_payload_bytes,
                          .threads = threads,
                          .thread_base = threads,
                          .auth_token = cfg->server.auth_token,
                          .shutdown_timeout_secs = hc.shutdown_timeout_secs,
                          .tls = {cfg->server.tls.cert_file, cfg->server.tls.key_file,
                                  cfg->server.tls.client_ca_file},
                          .metrics = &sc.grpc_counts};
        rc = grpc_server_start(&gsrv, &gc, &handlers, &err);
        if (rc < 0) {
            LOG_ERROR("%s", err.msg);
            if (rc == O2P_EINVAL) exit_code = 2;
            goto done;
        }
    }
    print_banner(cfg, http_server_port(srv), gsrv);
    if (gsrv)
        LOG_INFO("otlp2parquet ready on port %u (gRPC %u)", (unsigned)http_server_port(srv),
                 (unsigned)grpc_server_port(gsrv));
    else
        LOG_INFO("otlp2parquet ready on port %u", (unsigned)http_server_port(srv));
    char tls_info[256];
    if (http_server_tls(srv)) {
        http_server_tls_describe(srv, tls_info, sizeof tls_info);
        LOG_INFO("tls: certificate %s", tls_info);
    }

    int sig = 0;
    for (;;) {
        if (sigwait(&sigs, &sig) != 0) continue;
        if (sig != SIGHUP) break;
        if (gsrv && cfg->server.tls.cert_file) {
            if (grpc_server_reload_tls(gsrv, &err) < 0)
                LOG_ERROR(
                    "received SIGHUP: gRPC TLS reload failed, keeping the old certificate: %s",
                    err.msg);
            else
                LOG_INFO("received SIGHUP: gRPC TLS certificate reloaded");
        }
        if (!http_server_tls(srv)) {
            LOG_INFO("received SIGHUP: nothing to reload (TLS is off)");
        } else if (http_server_reload_tls(srv, &err) < 0) {
            LOG_ERROR("received SIGHUP: TLS reload failed, keeping the current certificate: %s",
                      err.msg);
        } else {
            http_server_tls_describe(srv, tls_info, sizeof tls_info);
            LOG_INFO("received SIGHUP: TLS reloaded; new connections use certificate %s", tls_info);
        }
    }
    LOG_INFO("received %s: finishing requests and flushing", sig == SIGINT ? "SIGINT" : "SIGTERM");
    grpc_server_stop(gsrv);
    gsrv = NULL;
    http_server_stop(srv);
    srv = NULL;
    /* replay not finished: what it did not submit stays in the log */
    serve_wal_stop_replay(swal, 1);
    if (batch_shutdown(b, SERVE_SHUTDOWN_FLUSH_SECS, &err) < 0) {
        LOG_ERROR("shutdown flush incomplete: %s", err.msg);
        goto done;
    }
    batch_stats bs;
    batch_get_stats(b, &bs);
    uint64_t rows = 0, files = 0;
    for (int t = 0; t < TBL_COUNT; t++) {
        rows += bs.rows_out[t];
        files += bs.files_out[t];
    }
    LOG_INFO("stopped: %llu rows in %llu files written", (unsigned long long)rows,
             (unsigned long long)files);
    exit_code = 0;
done:
    grpc_server_stop(gsrv);
    http_server_stop(srv);
    serve_wal_stop_replay(swal, 1);
    batch_destroy(b);
    /* after the batcher: every stored group has released its records */
    serve_wal_close(swal);
    for (unsigned i = 0; sc.slots && i < sc.num_slots; i++) {
        otlp_decoder_destroy(sc.slots[i].dec);
        tbl_batch_free(&sc.slots[i].rows);
    }
    mem_free(sc.slots);
    /* every pending request was answered before http_server_stop returned */
    pending_free_all(&sc);
    pthread_mutex_destroy(&sc.pend_lock);
    store_destroy(st);
    tbl_schemas_free(&schemas);
    return exit_code;
}
