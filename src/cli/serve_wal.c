/* serve_wal: the write-ahead log wired to serve (see serve_wal.h). */
#include "cli/serve_wal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/le.h"
#include "core/log.h"
#include "core/mem.h"
#include "server/http_metrics.h"
#include "storage/layout.h"
#include "storage/retry.h"
#include "wal/wal.h"

/* DATA record head: version, signal, format, 5 bytes of padding, the
 * receive time (ns, little-endian); the body follows. */
#define DATA_HEAD      16
#define DATA_VERSION   1
#define SUBMIT_WAIT_MS 50

typedef struct intent_ref {
    uint64_t lsn;
    size_t key; /* index into keys */
} intent_ref;

typedef struct replay_key {
    char *key;
    int exists; /* -1 not asked yet, 0 no, 1 yes */
} replay_key;

struct serve_wal {
    wal *w;
    store *st;
    batch *b;
    pthread_t replay_thread;
    int replay_started;
    int sync_always;
    atomic_int replay_done;
    atomic_int stopping;
    atomic_uint_fast64_t replayed_rows;
    atomic_uint_fast64_t replayed_records;
    atomic_uint_fast64_t skipped_stored_groups;
    atomic_uint_fast64_t cancels;
    /* replay state (replay thread only) */
    intent_ref *intents;
    size_t num_intents, cap_intents;
    replay_key *keys;
    size_t num_keys, cap_keys;
    uint64_t *cancelled;
    size_t num_cancelled, cap_cancelled;
    otlp_decoder *dec;
    tbl_batch rows;
    store_retry_policy retry;
};

/* ---- the journal hook ------------------------------------------------- */

static void journal_hold(void *ctx, uint64_t lsn)
{
    serve_wal *sw = ctx;
    wal_ref(sw->w, lsn);
}

/* INTENT payload: u64 count, count LSNs, then the key. */
static int journal_intent(void *ctx, const char *key, const uint64_t *lsns, size_t n,
                          o2p_error *err)
{
    serve_wal *sw = ctx;
    size_t head_len = 8 + 8 * n;
    uint8_t *head = mem_alloc(head_len);
    if (head == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory logging an intent");
    le_put64(head, n);
    for (size_t i = 0; i < n; i++) le_put64(head + 8 + 8 * i, lsns[i]);
    uint64_t lsn;
    int rc = wal_append_start(sw->w, WAL_INTENT, head, head_len, key, strlen(key), &lsn, err);
    mem_free(head);
    /* durable before the upload whatever durability.sync says: replay must
     * know about an object that may exist */
    return rc < 0 ? rc : wal_wait_durable(sw->w, lsn, err);
}

static void journal_stored(void *ctx, const uint64_t *lsns, size_t n)
{
    serve_wal *sw = ctx;
    for (size_t i = 0; i < n; i++) wal_release(sw->w, lsns[i]);
}

/* ---- appends ---------------------------------------------------------- */

static void write_cancel(serve_wal *sw, uint64_t lsn)
{
    uint8_t p[8];
    le_put64(p, lsn);
    uint64_t id;
    o2p_error err;
    if (wal_append(sw->w, WAL_CANCEL, p, sizeof p, NULL, 0, &id, &err) < 0)
        LOG_WARN("wal: cannot record that request %llu was refused: %s", (unsigned long long)lsn,
                 err.msg);
    atomic_fetch_add(&sw->cancels, 1);
}

/* Writes a request's DATA record (not yet synced). */
static int append_data(serve_wal *sw, otlp_signal signal, otlp_format format, uint64_t receive_ns,
                       const uint8_t *body, size_t len, uint64_t *id, o2p_error *err)
{
    uint8_t head[DATA_HEAD] = {DATA_VERSION, (uint8_t)signal, (uint8_t)format};
    le_put64(head + 8, receive_ns);
    return wal_append_start(sw->w, WAL_DATA, head, sizeof head, body, len, id, err);
}

int serve_wal_append(serve_wal *sw, otlp_signal signal, otlp_format format, uint64_t receive_ns,
                     const uint8_t *body, size_t len, uint64_t *lsn, o2p_error *err)
{
    *lsn = 0;
    uint64_t id;
    O2P_TRY(append_data(sw, signal, format, receive_ns, body, len, &id, err));
    int rc = wal_append_finish(sw->w, id, err);
    if (rc < 0) {
        /* maybe on disk after all: never bring it back, the client retries */
        write_cancel(sw, id);
        wal_release(sw->w, id);
        return rc;
    }
    *lsn = id;
    return O2P_OK;
}

int serve_wal_async(const serve_wal *sw)
{
    return sw->sync_always;
}

int serve_wal_append_async(serve_wal *sw, otlp_signal signal, otlp_format format,
                           uint64_t receive_ns, const uint8_t *body, size_t len, wal_waiter *wt,
                           o2p_error *err)
{
    O2P_TRY(append_data(sw, signal, format, receive_ns, body, len, &wt->lsn, err));
    if (wal_notify_durable(sw->w, wt) == O2P_OK) return O2P_OK;
    /* the log is closing: no syncer any more, wait here */
    int rc = wal_append_finish(sw->w, wt->lsn, err);
    wt->done(wt, rc < 0 ? O2P_EIO : O2P_OK, rc < 0 ? err->msg : "");
    return O2P_OK;
}

void serve_wal_done(serve_wal *sw, uint64_t lsn, int cancel)
{
    if (lsn == 0) return;
    if (cancel) write_cancel(sw, lsn);
    wal_release(sw->w, lsn);
}

/* ---- replay ----------------------------------------------------------- */

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return O2P_OK;
    size_t c = *cap ? *cap * 2 : 64;
    while (c < need) c *= 2;
    void *q = mem_realloc(*p, c * elem);
    if (q == NULL) return O2P_ENOMEM;
    *p = q;
    *cap = c;
    return O2P_OK;
}

static int collect_visit(void *ctx, const wal_record *rec)
{
    serve_wal *sw = ctx;
    if (rec->type == WAL_CANCEL && rec->len >= 8) {
        if (grow((void **)&sw->cancelled, &sw->cap_cancelled, sw->num_cancelled + 1, 8) < 0)
            return O2P_ENOMEM;
        sw->cancelled[sw->num_cancelled++] = le_get64(rec->payload);
        return 0;
    }
    if (rec->type != WAL_INTENT || rec->len < 8) return 0;
    uint64_t n = le_get64(rec->payload);
    if (n > (rec->len - 8) / 8) {
        LOG_WARN("wal: %s offset %llu: intent record with a bad count; ignored", rec->segment,
                 (unsigned long long)rec->offset);
        return 0;
    }
    size_t key_off = 8 + 8 * (size_t)n;
    if (grow((void **)&sw->keys, &sw->cap_keys, sw->num_keys + 1, sizeof *sw->keys) < 0 ||
        grow((void **)&sw->intents, &sw->cap_intents, sw->num_intents + n, sizeof *sw->intents) < 0)
        return O2P_ENOMEM;
    char *key = mem_strndup((const char *)rec->payload + key_off, rec->len - key_off);
    if (key == NULL) return O2P_ENOMEM;
    sw->keys[sw->num_keys] = (replay_key){key, -1};
    for (uint64_t i = 0; i < n; i++)
        sw->intents[sw->num_intents++] =
            (intent_ref){le_get64(rec->payload + 8 + 8 * i), sw->num_keys};
    sw->num_keys++;
    return 0;
}

static int cmp_intent(const void *a, const void *b)
{
    uint64_t x = ((const intent_ref *)a)->lsn, y = ((const intent_ref *)b)->lsn;
    return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether an intent's object was stored; retried with backoff while the
 * storage cannot answer.  -1 when asked to stop. */
static int key_exists(serve_wal *sw, replay_key *k)
{
    for (uint32_t attempt = 1; k->exists < 0; attempt++) {
        if (atomic_load(&sw->stopping)) return -1;
        o2p_error err;
        int rc = store_exists(sw->st, k->key, &err);
        if (rc >= 0) {
            k->exists = rc > 0;
            break;
        }
        uint32_t ms = store_retry_delay_ms(&sw->retry, attempt);
        LOG_WARN("wal replay: cannot tell whether %s was stored (%s); retrying in %u ms", k->key,
                 err.msg, ms);
        store_retry_sleep_ms(ms);
    }
    return k->exists;
}

/* The directory part of an object key: its partition. */
static size_t key_partition_len(const char *key)
{
    const char *slash = strrchr(key, '/');
    return slash ? (size_t)(slash - key) : 0;
}

static int group_partition(const tbl_group *g, o2p_buf *out, o2p_error *err)
{
    buf_reset(out);
    O2P_TRY(layout_object_key(out, tbl_dataset(g->table), (const uint8_t *)g->service,
                              g->service_len, g->hour, 0, "00000000000000000000000000000000", err));
    out->len = key_partition_len((const char *)out->data);
    return O2P_OK;
}

/* Drops the groups of a decoded record whose partition is already stored
 * under an intent naming the record.  -1 when asked to stop. */
static int drop_stored(serve_wal *sw, uint64_t lsn, o2p_buf *part)
{
    if (sw->num_intents == 0) return 0;
    intent_ref probe = {lsn, 0};
    intent_ref *first = bsearch(&probe, sw->intents, sw->num_intents, sizeof *first, cmp_intent);
    if (first == NULL) return 0;
    while (first > sw->intents && first[-1].lsn == lsn) first--;
    for (size_t i = 0; i < sw->rows.cap; i++) {
        tbl_group *g = &sw->rows.groups[i];
        if (!g->in_use || g->rows.num_rows == 0) continue;
        o2p_error err;
        if (group_partition(g, part, &err) < 0) continue;
        for (intent_ref *hit = first; hit < sw->intents + sw->num_intents && hit->lsn == lsn;
             hit++) {
            replay_key *k = &sw->keys[hit->key];
            if (key_partition_len(k->key) != part->len || memcmp(part->data, k->key, part->len))
                continue;
            int e = key_exists(sw, k);
            if (e < 0) return -1;
            if (!e) continue;
            pq_colset_reset(&g->rows); /* these rows are in that file already */
            atomic_fetch_add(&sw->skipped_stored_groups, 1);
            break;
        }
    }
    return 0;
}

typedef struct replay_ctx {
    serve_wal *sw;
    o2p_buf part;
} replay_ctx;

static int data_visit(void *ctx, const wal_record *rec)
{
    replay_ctx *rc_ = ctx;
    serve_wal *sw = rc_->sw;
    if (rec->type != WAL_DATA) return 0;
    if (atomic_load(&sw->stopping)) return 1;
    uint64_t lsn = rec->lsn;
    if (sw->num_cancelled && bsearch(&lsn, sw->cancelled, sw->num_cancelled, 8, cmp_u64) != NULL) {
        wal_release(sw->w, lsn);
        return 0;
    }
    if (rec->len < DATA_HEAD || rec->payload[0] != DATA_VERSION || rec->payload[1] > OTLP_METRICS ||
        rec->payload[2] > OTLP_FMT_JSONL) {
        LOG_WARN("wal replay: %s offset %llu: not a request record; skipped", rec->segment,
                 (unsigned long long)rec->offset);
        wal_release(sw->w, lsn);
        return 0;
    }
    otlp_signal signal = (otlp_signal)rec->payload[1];
    otlp_format format = (otlp_format)rec->payload[2];
    uint64_t receive_ns = le_get64(rec->payload + 8);
    otlp_stats stats;
    memset(&stats, 0, sizeof stats);
    o2p_error err;
    tbl_batch_reset(&sw->rows);
    if (otlp_decode(sw->dec, signal, format, rec->payload + DATA_HEAD, rec->len - DATA_HEAD,
                    receive_ns, &sw->rows, &stats, &err) < 0) {
        LOG_WARN("wal replay: %s offset %llu: the request does not decode (%s); skipped",
                 rec->segment, (unsigned long long)rec->offset, err.msg);
        wal_release(sw->w, lsn);
        return 0;
    }
    if (drop_stored(sw, lsn, &rc_->part) < 0) return 1;
    size_t rows = tbl_batch_rows(&sw->rows, TBL_COUNT);
    for (;;) {
        int rc = batch_submit_lsn(sw->b, &sw->rows, rec->len - DATA_HEAD, lsn, &err);
        if (rc == O2P_OK) break;
        if (rc != O2P_EBUSY || atomic_load(&sw->stopping)) {
            if (rc != O2P_EBUSY)
                LOG_WARN("wal replay: %s offset %llu: %s; kept for the next start", rec->segment,
                         (unsigned long long)rec->offset, err.msg);
            return 1; /* the record keeps its reference: it stays in the log */
        }
        store_retry_sleep_ms(SUBMIT_WAIT_MS); /* the budget is full: wait for flushes */
    }
    wal_release(sw->w, lsn); /* the groups hold their own references now */
    atomic_fetch_add(&sw->replayed_rows, rows);
    atomic_fetch_add(&sw->replayed_records, 1);
    return 0;
}

static void *replay_main(void *arg)
{
    serve_wal *sw = arg;
    o2p_error err;
    uint64_t t0 = clock_mono_ns();
    replay_ctx rc_ = {sw, {0}};
    buf_init(&rc_.part, 0);
    int rc = wal_replay(sw->w, collect_visit, sw, &err);
    if (rc == 0) {
        if (sw->num_intents) qsort(sw->intents, sw->num_intents, sizeof *sw->intents, cmp_intent);
        if (sw->num_cancelled) qsort(sw->cancelled, sw->num_cancelled, 8, cmp_u64);
        rc = wal_replay(sw->w, data_visit, &rc_, &err);
    }
    buf_free(&rc_.part);
    if (rc < 0) {
        LOG_ERROR("wal replay failed: %s; the log is kept for the next start", err.msg);
    } else if (rc == 0) {
        wal_replay_done(sw->w);
        if (sw->num_keys || atomic_load(&sw->replayed_records))
            LOG_INFO("wal replay: %llu requests (%llu rows) submitted again, %llu partitions "
                     "already stored skipped, in %.1f s",
                     (unsigned long long)atomic_load(&sw->replayed_records),
                     (unsigned long long)atomic_load(&sw->replayed_rows),
                     (unsigned long long)atomic_load(&sw->skipped_stored_groups),
                     (double)(clock_mono_ns() - t0) / 1e9);
        atomic_store(&sw->replay_done, 1);
    }
    return NULL;
}

/* ---- life cycle --------------------------------------------------------- */

int serve_wal_open(serve_wal **out, const cfg_config *cfg, const tbl_schemas *schemas, store *st,
                   o2p_error *err)
{
    *out = NULL;
    serve_wal *sw = mem_calloc(1, sizeof *sw);
    if (sw == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    sw->st = st;
    tbl_batch_init(&sw->rows, schemas);
    sw->retry = (store_retry_policy){.max_attempts = UINT32_MAX, .base_ms = 200, .max_ms = 5000};
    o2p_buf dir;
    buf_init(&dir, 0);
    int rc = cfg_wal_dir(cfg, &dir);
    if (rc == 0) rc = buf_append(&dir, "", 1); /* a C string */
    wal_config wc;
    wal_config_default(&wc);
    wc.dir = (const char *)dir.data;
    wc.sync_always = !cfg->wal.sync_interval;
    sw->sync_always = wc.sync_always;
    wc.sync_interval_ms = (uint32_t)cfg->wal.sync_interval_ms;
    wc.max_bytes = cfg->wal.max_bytes;
    wc.segment_bytes = cfg->wal.segment_bytes;
    wc.spare = cfg->wal.spare_segment;
    if (rc == 0) rc = wal_open(&sw->w, &wc, err);
    buf_free(&dir);
    otlp_options oo;
    otlp_options_default(&oo);
    if (rc == 0) rc = otlp_decoder_create(&sw->dec, &oo, err);
    if (rc < 0) {
        serve_wal_close(sw);
        return rc;
    }
    *out = sw;
    return O2P_OK;
}

int serve_wal_start(serve_wal *sw, batch *b, o2p_error *err)
{
    sw->b = b;
    batch_journal j = {
        .ctx = sw, .hold = journal_hold, .intent = journal_intent, .stored = journal_stored};
    batch_set_journal(b, &j);
    if (pthread_create(&sw->replay_thread, NULL, replay_main, sw) != 0)
        return o2p_errorf(err, O2P_ENOMEM, "cannot start the wal replay thread");
    sw->replay_started = 1;
    return O2P_OK;
}

int serve_wal_ready(serve_wal *sw, char *why, size_t cap)
{
    wal_failure(sw->w, why, cap);
    if (why[0]) return 0;
    if (!atomic_load(&sw->replay_done)) {
        snprintf(why, cap, "write-ahead log replay in progress");
        return 0;
    }
    return 1;
}

void serve_wal_metrics(serve_wal *sw, o2p_buf *out)
{
    wal_stats st;
    wal_get_stats(sw->w, &st);
    http_prom_metric(out, "otlp2parquet_wal_bytes", "gauge",
                     "Disk the write-ahead log takes (segments, the spare, recycled segments).",
                     st.bytes + st.spare_bytes + st.recycled_bytes);
    http_prom_metric(out, "otlp2parquet_wal_spare_bytes", "gauge",
                     "Size of the spare segment being zero-filled or ready (0: none).",
                     st.spare_bytes);
    http_prom_family(out, "otlp2parquet_wal_rolls_total", "counter",
                     "New segments, by where they came from (spare: zero-filled ahead; "
                     "partial_spare: taken while being filled; allocate: posix_fallocate; "
                     "recycled: a released segment reused).");
    http_prom_u64(out, "otlp2parquet_wal_rolls_total", "from=\"spare\"", st.spare_rolls);
    http_prom_u64(out, "otlp2parquet_wal_rolls_total", "from=\"partial_spare\"", st.partial_rolls);
    http_prom_u64(out, "otlp2parquet_wal_rolls_total", "from=\"allocate\"", st.alloc_rolls);
    http_prom_u64(out, "otlp2parquet_wal_rolls_total", "from=\"recycled\"", st.recycled_rolls);
    http_prom_metric(out, "otlp2parquet_wal_spare_failures_total", "counter",
                     "Spare segment preparations that failed (disk full, ...; logged once).",
                     st.spare_failures);
    http_prom_metric(out, "otlp2parquet_wal_segments", "gauge", "Write-ahead log segment files.",
                     st.segments);
    http_prom_metric(out, "otlp2parquet_wal_appends_total", "counter",
                     "Records appended (requests, intents, cancels).", st.appends);
    http_prom_metric(out, "otlp2parquet_wal_appended_bytes_total", "counter",
                     "Bytes appended to the log (record headers and padding included).",
                     st.appended_bytes);
    http_prom_metric(out, "otlp2parquet_wal_syncs_total", "counter",
                     "fdatasync calls (one covers every record written before it).", st.syncs);
    http_prom_family(out, "otlp2parquet_wal_sync_duration_seconds", "histogram",
                     "Duration of one write-ahead log sync.");
    for (int i = 0; i < WAL_SYNC_BUCKET_COUNT; i++) {
        char le[48];
        snprintf(le, sizeof le, "le=\"%g\"", WAL_SYNC_BUCKETS_S[i]);
        http_prom_u64(out, "otlp2parquet_wal_sync_duration_seconds_bucket", le, st.sync_buckets[i]);
    }
    http_prom_u64(out, "otlp2parquet_wal_sync_duration_seconds_bucket", "le=\"+Inf\"", st.syncs);
    http_prom_double(out, "otlp2parquet_wal_sync_duration_seconds_sum", NULL,
                     (double)st.sync_ns_sum / 1e9);
    http_prom_u64(out, "otlp2parquet_wal_sync_duration_seconds_count", NULL, st.syncs);
    http_prom_metric(out, "otlp2parquet_wal_replayed_rows_total", "counter",
                     "Rows submitted again from the log at start.",
                     atomic_load(&sw->replayed_rows));
    http_prom_metric(
        out, "otlp2parquet_wal_replay_skipped_partitions_total", "counter",
        "Partitions of replayed requests already in a stored file (not written again).",
        atomic_load(&sw->skipped_stored_groups));
    http_prom_metric(out, "otlp2parquet_wal_corrupt_records_total", "counter",
                     "Corrupt records skipped at start (logged with segment and offset).",
                     st.corrupt_records);
    http_prom_metric(out, "otlp2parquet_wal_torn_tails_total", "counter",
                     "Partially written last records cut off at start.", st.torn_tails);
    http_prom_metric(out, "otlp2parquet_wal_cancelled_total", "counter",
                     "Logged requests that were refused after all (never replayed).",
                     atomic_load(&sw->cancels));
    http_prom_metric(out, "otlp2parquet_wal_replaying", "gauge", "1 while the log is replayed.",
                     !atomic_load(&sw->replay_done));
}

void serve_wal_stop_replay(serve_wal *sw, int stop)
{
    if (sw == NULL || !sw->replay_started) return;
    if (stop) atomic_store(&sw->stopping, 1);
    pthread_join(sw->replay_thread, NULL);
    sw->replay_started = 0;
}

void serve_wal_close(serve_wal *sw)
{
    if (sw == NULL) return;
    serve_wal_stop_replay(sw, 1);
    wal_close(sw->w);
    otlp_decoder_destroy(sw->dec);
    tbl_batch_free(&sw->rows);
    for (size_t i = 0; i < sw->num_keys; i++) mem_free(sw->keys[i].key);
    mem_free(sw->keys);
    mem_free(sw->intents);
    mem_free(sw->cancelled);
    mem_free(sw);
}
