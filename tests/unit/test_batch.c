/* Unit tests for src/batch: thresholds, age flush, memory budget, storage
 * failure and recovery, shutdown flush. */
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "batch/batch.h"
#include "storage/store.h"
#include "log_rows.h"
#include "table/tbl_attrs.h"
#include "unit.h"

#define HOUR_NS 3600000000000ULL
#define T0_NS   (1767225600ULL * 1000000000ULL) /* 2026-01-01T00:00:00Z */

/* Appends `n` minimal log rows for `service` at time ts_ns to rows. */
static void add_logs(tbl_batch *rows, const char *service, uint64_t ts_ns, int n)
{
    tbl_attrs empty;
    tbl_attrs_init(&empty, 0);
    tbl_attrs_finish(&empty);
    for (int i = 0; i < n; i++) CHECK_OK(log_row_add(rows, &empty, service, ts_ns, "hello", 5));
    tbl_attrs_free(&empty);
}

/* Counts *.parquet files below dir (recursively); no temp files allowed. */
static int count_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0) continue;
        if (S_ISDIR(st.st_mode)) {
            n += count_files(path);
        } else {
            size_t len = strlen(e->d_name);
            CHECK_MSG(len > 8 && strcmp(e->d_name + len - 8, ".parquet") == 0, "unexpected file %s",
                      path);
            n++;
        }
    }
    closedir(d);
    return n;
}

typedef struct {
    tbl_schemas schemas;
    store *st;
    batch *b;
    tbl_batch rows;
    char root[512];
} fixture;

static void setup(fixture *f, const batch_config *cfg, const char *subdir)
{
    o2p_error err;
    CHECK_OK(tbl_schemas_init(&f->schemas, TBL_TS_MICROS, &err));
    snprintf(f->root, sizeof f->root, "%s/%s", unit_tmpdir(), subdir);
    CHECK_OK(store_open_fs(&f->st, f->root, &err));
    CHECK_OK(batch_create(&f->b, cfg, &f->schemas, f->st, &err));
    tbl_batch_init(&f->rows, &f->schemas);
}

static void teardown(fixture *f)
{
    batch_destroy(f->b);
    store_destroy(f->st);
    tbl_batch_free(&f->rows);
    tbl_schemas_free(&f->schemas);
}

TEST(batch_groups_by_service_and_hour_on_shutdown)
{
    batch_config cfg;
    batch_config_default(&cfg);
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 10);
    add_logs(&f.rows, "api", T0_NS + HOUR_NS, 5);
    add_logs(&f.rows, "web", T0_NS, 3);
    CHECK_OK(batch_submit(f.b, &f.rows, 0, &err));
    tbl_batch_reset(&f.rows);
    add_logs(&f.rows, "api", T0_NS + 60000000000ULL, 7); /* same group as the first 10 */
    CHECK_OK(batch_submit(f.b, &f.rows, 0, &err));
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.buffered_rows, 25);
    CHECK_UINT(st.rows_in[TBL_LOGS], 25);
    CHECK_INT(count_files(f.root), 0); /* nothing flushed before a threshold */
    CHECK_OK(batch_shutdown(f.b, 10, &err));
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.rows_out[TBL_LOGS], 25);
    CHECK_UINT(st.files_out[TBL_LOGS], 3); /* api@h0, api@h1, web@h0 */
    CHECK_UINT(st.buffered_rows, 0);
    CHECK_UINT(st.buffered_bytes, 0);
    CHECK_INT(count_files(f.root), 3);
    char path[1024];
    snprintf(path, sizeof path, "%s/logs/api/year=2026/month=01/day=01/hour=01", f.root);
    CHECK_INT(count_files(path), 1);
    CHECK_INT(batch_submit(f.b, &f.rows, 0, &err), O2P_ESTATE);
    teardown(&f);
}

TEST(batch_max_rows_seals_group)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_rows = 100;
    cfg.max_age_secs = 3600;
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 150);
    CHECK_OK(batch_submit(f.b, &f.rows, 0, &err));
    /* the flusher writes the sealed group without waiting for age */
    batch_stats st;
    for (int i = 0; i < UNIT_POLLS_10MS; i++) {
        batch_get_stats(f.b, &st);
        if (st.files_out[TBL_LOGS] == 1) break;
        usleep(10000);
    }
    CHECK_UINT(st.files_out[TBL_LOGS], 1);
    CHECK_UINT(st.rows_out[TBL_LOGS], 150);
    teardown(&f);
}

TEST(batch_max_age_flushes)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_age_secs = 1;
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 5);
    CHECK_OK(batch_submit(f.b, &f.rows, 0, &err));
    batch_stats st;
    for (int i = 0; i < UNIT_POLLS_10MS; i++) {
        batch_get_stats(f.b, &st);
        if (st.files_out[TBL_LOGS] == 1) break;
        usleep(10000);
    }
    CHECK_UINT(st.files_out[TBL_LOGS], 1);
    teardown(&f);
}

TEST(batch_memory_budget_refuses_with_busy)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_buffered_bytes = 16384;
    cfg.max_age_secs = 3600;
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 20);
    CHECK_OK(batch_submit(f.b, &f.rows, 0, &err));
    int busy = 0;
    for (int i = 0; i < 50 && !busy; i++) busy = batch_submit(f.b, &f.rows, 0, &err) == O2P_EBUSY;
    CHECK(busy);
    CHECK(strstr(err.msg, "buffer full") != NULL);
    CHECK(!batch_ready(f.b, NULL, 0));
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK(st.rejected_busy >= 1);
    CHECK(st.buffered_bytes <= cfg.max_buffered_bytes);
    uint64_t accepted = st.buffered_rows;
    CHECK_OK(batch_shutdown(f.b, 10, &err));
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.rows_out[TBL_LOGS], accepted);
    teardown(&f);
}

TEST(batch_admit_refuses_early_from_the_measured_cost)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_buffered_bytes = 16384;
    cfg.max_age_secs = 3600;
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    /* nothing buffered: anything may try (submit decides exactly) */
    CHECK_OK(batch_admit(f.b, 1u << 20, &err));
    add_logs(&f.rows, "api", T0_NS, 20);
    CHECK_OK(batch_submit(f.b, &f.rows, 1000, &err)); /* learns the cost of 1,000 body bytes */
    CHECK_OK(batch_admit(f.b, 10, &err));
    CHECK_INT(batch_admit(f.b, 1000000, &err), O2P_EBUSY);
    CHECK(strstr(err.msg, "buffer full") != NULL);
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.refused_admit, 1);
    CHECK_UINT(st.refused_full, 0);
    CHECK_UINT(st.pressure_seals, 1);
    CHECK(!batch_ready(f.b, NULL, 0));
    int ra = batch_retry_after_secs(f.b);
    CHECK(ra >= 1 && ra <= 30);
    teardown(&f);
}

TEST(batch_storage_failure_keeps_data_and_recovers)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.enabled = 0; /* write every submit at once */
    fixture f;
    /* the store root is a regular file: every put fails until it is removed */
    char blocker[600];
    snprintf(blocker, sizeof blocker, "%s/blocked", unit_tmpdir());
    FILE *fp = fopen(blocker, "w");
    CHECK(fp != NULL);
    fclose(fp);
    setup(&f, &cfg, "blocked");
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 4);
    CHECK_OK(batch_submit(f.b, &f.rows, 0, &err));
    batch_stats st;
    for (int i = 0; i < UNIT_POLLS_10MS; i++) {
        batch_get_stats(f.b, &st);
        if (st.storage_errors >= 1) break;
        usleep(10000);
    }
    CHECK(st.storage_errors >= 1);
    CHECK(st.storage_failing);
    CHECK(!batch_ready(f.b, NULL, 0));
    CHECK_UINT(st.buffered_rows, 4);
    CHECK_INT(unlink(blocker), 0);
    CHECK_OK(batch_flush_all(f.b, 30, &err));
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.rows_out[TBL_LOGS], 4);
    CHECK(!st.storage_failing);
    CHECK(batch_ready(f.b, NULL, 0));
    CHECK_INT(count_files(f.root), 1);
    teardown(&f);
}

TEST(batch_request_larger_than_budget_is_refused_as_too_large)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_buffered_bytes = 16384;
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 2000);
    CHECK_INT(batch_submit(f.b, &f.rows, 0, &err), O2P_ELIMIT);
    CHECK(strstr(err.msg, "batch.max_buffered_bytes") != NULL);
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.buffered_rows, 0);
    teardown(&f);
}

/* Rows reserved while their request waits for the WAL sync count against
 * the budget: admission and later reservations see them, the hand-off
 * moves them into the buffer without counting them twice, a cancel gives
 * them back. */
TEST(batch_reserved_rows_count_against_the_budget_until_submitted_or_cancelled)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_buffered_bytes = 16384;
    cfg.max_age_secs = 3600;
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 20);
    uint64_t r[64];
    int n = 0;
    for (; n < 64; n++) {
        int rc = batch_reserve(f.b, &f.rows, &r[n], &err);
        if (rc == O2P_EBUSY) break;
        CHECK_OK(rc);
        CHECK(r[n] > 0);
    }
    /* the reservations alone filled the budget, nothing was buffered */
    CHECK(n >= 2 && n < 64);
    CHECK(strstr(err.msg, "reserved") != NULL);
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.buffered_bytes, 0);
    CHECK_UINT(st.reserved_bytes, r[0] * (uint64_t)n);
    CHECK(st.reserved_bytes <= cfg.max_buffered_bytes);
    CHECK(st.reserved_bytes + r[0] > cfg.max_buffered_bytes);
    CHECK_UINT(st.refused_full, 1);
    /* admission counts them: 1,000 body bytes (4,000 buffer bytes before
     * any cost was measured) would fit in an empty budget, not now */
    CHECK(4000 < cfg.max_buffered_bytes);
    CHECK_INT(batch_admit(f.b, 1000, &err), O2P_EBUSY);
    /* a decoded request refused for the reservations alone does not block
     * admission until a flush (none would come): checked at the end */
    CHECK_INT(batch_submit(f.b, &f.rows, 0, &err), O2P_EBUSY);
    /* the hand-off: the reservation becomes buffered bytes */
    CHECK_OK(batch_submit_reserved(f.b, &f.rows, 0, 0, r[0], &err));
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.reserved_bytes, r[0] * (uint64_t)(n - 1));
    CHECK(st.buffered_bytes > 0 && st.buffered_bytes <= r[0]);
    CHECK_UINT(st.buffered_rows, 20);
    /* cancelled (the sync failed): given back */
    for (int i = 1; i < n; i++) batch_unreserve(f.b, r[i]);
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.reserved_bytes, 0);
    CHECK(st.buffered_bytes + 4000 <= cfg.max_buffered_bytes);
    CHECK_OK(batch_admit(f.b, 1000, &err));
    CHECK_OK(batch_shutdown(f.b, 10, &err));
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.rows_out[TBL_LOGS], 20);
    teardown(&f);
}

TEST(batch_pressure_flushes_the_largest_group_early)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_buffered_bytes = 16384;
    cfg.max_age_secs = 3600; /* only pressure can flush */
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 20);
    int busy = 0;
    for (int i = 0; i < 50 && !busy; i++) busy = batch_submit(f.b, &f.rows, 0, &err) == O2P_EBUSY;
    CHECK(busy);
    batch_stats st;
    for (int i = 0; i < UNIT_POLLS_10MS; i++) {
        batch_get_stats(f.b, &st);
        if (st.files_out[TBL_LOGS] >= 1) break;
        usleep(10000);
    }
    CHECK(st.files_out[TBL_LOGS] >= 1);
    CHECK_OK(batch_submit(f.b, &f.rows, 0, &err)); /* room again */
    CHECK(batch_ready(f.b, NULL, 0) || st.buffered_rows > 0);
    teardown(&f);
}

TEST(batch_failed_startup_check_is_not_ready_until_storage_answers)
{
    batch_config cfg;
    batch_config_default(&cfg);
    char blocker[600];
    snprintf(blocker, sizeof blocker, "%s/blocked", unit_tmpdir());
    FILE *fp = fopen(blocker, "w");
    CHECK(fp != NULL);
    fclose(fp);
    fixture f;
    setup(&f, &cfg, "blocked");
    batch_note_storage_failure(f.b);
    CHECK(!batch_ready(f.b, NULL, 0));
    usleep(200000);
    CHECK(!batch_ready(f.b, NULL, 0)); /* probes fail while the root is a file */
    CHECK_INT(unlink(blocker), 0);
    int ready = 0;
    for (int i = 0; i < UNIT_POLLS_10MS && !ready; i++) {
        ready = batch_ready(f.b, NULL, 0);
        usleep(10000);
    }
    CHECK(ready);
    teardown(&f);
}

/* Groups are created while flushers work on others: the group table grows
 * under them (regression: flushers held pointers into a reallocated array). */
TEST(batch_many_groups_while_flushing)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_rows = 3;
    cfg.flush_threads = 2;
    fixture f;
    setup(&f, &cfg, "data");
    o2p_error err;
    uint64_t sent = 0;
    for (int round = 0; round < 4; round++) {
        for (int s = 0; s < 40; s++) {
            char service[32];
            snprintf(service, sizeof service, "svc-%d", s);
            add_logs(&f.rows, service, T0_NS + (uint64_t)round * HOUR_NS, 3);
            sent += 3;
        }
        CHECK_OK(batch_submit(f.b, &f.rows, 0, &err));
        tbl_batch_reset(&f.rows);
    }
    CHECK_OK(batch_shutdown(f.b, 30, &err));
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.rows_out[TBL_LOGS], sent);
    CHECK_INT(count_files(f.root), 160);
    teardown(&f);
}

/* Journal hook (the WAL): what serve_wal sees from the batcher. */
typedef struct journal_log {
    pthread_mutex_t mu;
    int holds;
    int intents;
    int fail_intents; /* fail this many intent() calls first */
    int stored;
    uint64_t stored_lsns[16];
    char first_key[1024];
    char retry_key[1024];
} journal_log;

static void j_hold(void *ctx, uint64_t lsn)
{
    journal_log *j = ctx;
    (void)lsn;
    j->holds++; /* called under the batch lock */
}

static int j_intent(void *ctx, const char *key, const uint64_t *lsns, size_t n, o2p_error *err)
{
    journal_log *j = ctx;
    pthread_mutex_lock(&j->mu);
    j->intents++;
    int fail = j->fail_intents > 0;
    if (fail) {
        j->fail_intents--;
        snprintf(j->first_key, sizeof j->first_key, "%s", key);
    } else if (j->first_key[0] && !j->retry_key[0] && strcmp(key, j->first_key) == 0) {
        snprintf(j->retry_key, sizeof j->retry_key, "%s", key);
    }
    pthread_mutex_unlock(&j->mu);
    (void)lsns;
    (void)n;
    if (fail) return o2p_errorf(err, O2P_EIO, "journal disk failing");
    return O2P_OK;
}

static void j_stored(void *ctx, const uint64_t *lsns, size_t n)
{
    journal_log *j = ctx;
    pthread_mutex_lock(&j->mu);
    for (size_t i = 0; i < n; i++)
        if (j->stored < 16) j->stored_lsns[j->stored++] = lsns[i];
    pthread_mutex_unlock(&j->mu);
}

TEST(batch_journal_holds_intents_and_stores_each_lsn)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_age_secs = 3600; /* only the shutdown flushes, however slow the machine */
    fixture f;
    setup(&f, &cfg, "data");
    journal_log j;
    memset(&j, 0, sizeof j);
    pthread_mutex_init(&j.mu, NULL);
    j.fail_intents = 1;
    batch_journal bj = {.ctx = &j, .hold = j_hold, .intent = j_intent, .stored = j_stored};
    batch_set_journal(f.b, &bj);
    o2p_error err;
    add_logs(&f.rows, "api", T0_NS, 10);
    add_logs(&f.rows, "web", T0_NS, 3);
    CHECK_OK(batch_submit_lsn(f.b, &f.rows, 0, 7, &err));
    tbl_batch_reset(&f.rows);
    add_logs(&f.rows, "api", T0_NS, 2);
    CHECK_OK(batch_submit_lsn(f.b, &f.rows, 0, 8, &err));
    tbl_batch_reset(&f.rows);
    add_logs(&f.rows, "api", T0_NS, 1);
    CHECK_OK(batch_submit_lsn(f.b, &f.rows, 0, 8, &err)); /* same LSN again: held once */
    tbl_batch_reset(&f.rows);
    CHECK_INT(j.holds, 3); /* api: 7 and 8, web: 7 */
    CHECK_OK(batch_shutdown(f.b, 30, &err));
    /* one failed intent: that group is retried under the same key */
    CHECK_INT(j.intents, 3);
    CHECK(j.first_key[0] != '\0');
    CHECK_STR(j.retry_key, j.first_key);
    CHECK_INT(j.stored, 3);
    uint64_t sum = 0;
    for (int i = 0; i < j.stored; i++) sum += j.stored_lsns[i];
    CHECK_UINT(sum, 7 + 8 + 7);
    CHECK_INT(count_files(f.root), 2);
    pthread_mutex_destroy(&j.mu);
    teardown(&f);
}

/* A journal whose intent() holds the flusher until the test lets it go, so
 * "every flusher is busy" is a state the test makes, not a race it hopes for. */
typedef struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int entered; /* intent() calls so far */
    int open;    /* 1: intent() returns at once */
} gate;

static int gate_intent(void *ctx, const char *key, const uint64_t *lsns, size_t n, o2p_error *err)
{
    (void)key;
    (void)lsns;
    (void)n;
    (void)err;
    gate *g = ctx;
    pthread_mutex_lock(&g->mu);
    g->entered++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
    return 0;
}

static void gate_wait_entered(gate *g)
{
    pthread_mutex_lock(&g->mu);
    while (g->entered == 0) pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void gate_open(gate *g)
{
    pthread_mutex_lock(&g->mu);
    g->open = 1;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* A 16 KiB buffer, one flusher held by the gate, no age flushes. */
static void setup_gated(fixture *f, batch_config *cfg, gate *g, batch_journal *bj)
{
    batch_config_default(cfg);
    cfg->max_buffered_bytes = 16384;
    cfg->max_age_secs = 3600; /* only pressure and the shutdown flush */
    cfg->flush_threads = 1;
    setup(f, cfg, "data");
    g->entered = 0;
    g->open = 0;
    pthread_mutex_init(&g->mu, NULL);
    pthread_cond_init(&g->cv, NULL);
    memset(bj, 0, sizeof *bj);
    bj->ctx = g;
    bj->intent = gate_intent;
    batch_set_journal(f->b, bj);
}

static void teardown_gated(fixture *f, gate *g)
{
    pthread_cond_destroy(&g->cv);
    pthread_mutex_destroy(&g->mu);
    teardown(f);
}

TEST(batch_pressure_seals_only_when_a_flusher_is_free)
{
    batch_config cfg;
    fixture f;
    gate g;
    batch_journal bj;
    setup_gated(&f, &cfg, &g, &bj);
    o2p_error err;
    uint64_t lsn = 1, accepted = 0;
    add_logs(&f.rows, "api", T0_NS, 20);
    int busy = 0;
    for (int i = 0; i < 50 && !busy; i++) {
        int rc = batch_submit_lsn(f.b, &f.rows, 0, lsn++, &err);
        busy = rc == O2P_EBUSY;
        if (rc == O2P_OK) accepted += 20;
    }
    CHECK(busy);
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.pressure_seals, 1); /* "api", taken by the only flusher */
    gate_wait_entered(&g);            /* the flusher holds "api" */
    /* The flusher is busy: refused requests must not seal "web" while it grows. */
    tbl_batch_reset(&f.rows);
    add_logs(&f.rows, "web", T0_NS, 5);
    int refused = 0;
    for (int i = 0; i < 200 && refused < 5; i++) {
        int rc = batch_submit_lsn(f.b, &f.rows, 0, lsn++, &err);
        if (rc == O2P_EBUSY) refused++;
        if (rc == O2P_OK) accepted += 5;
    }
    CHECK_INT(refused, 5);
    CHECK_INT(batch_admit(f.b, 1u << 30, &err), O2P_EBUSY);
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.pressure_seals, 1);
    CHECK_UINT(st.files_out[TBL_LOGS], 0);
    /* Let the flusher go: free again, it seals "web" for the refusals it
     * missed, without another request (nothing else would flush it). */
    gate_open(&g);
    for (int i = 0; i < UNIT_POLLS_10MS; i++) {
        batch_get_stats(f.b, &st);
        if (st.files_out[TBL_LOGS] == 2) break;
        usleep(10000);
    }
    CHECK_UINT(st.files_out[TBL_LOGS], 2);
    CHECK_UINT(st.pressure_seals, 2);
    CHECK_OK(batch_shutdown(f.b, 30, &err));
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.rows_out[TBL_LOGS], accepted);
    CHECK_INT(count_files(f.root), 2);
    teardown_gated(&f, &g);
}

TEST(batch_admit_refuses_after_a_decoded_request_did_not_fit_until_a_flush)
{
    batch_config cfg;
    fixture f;
    gate g;
    batch_journal bj;
    setup_gated(&f, &cfg, &g, &bj);
    o2p_error err;
    uint64_t lsn = 1;
    add_logs(&f.rows, "web", T0_NS, 2);
    CHECK_OK(batch_submit_lsn(f.b, &f.rows, 0, lsn++, &err));
    tbl_batch_reset(&f.rows);
    add_logs(&f.rows, "api", T0_NS, 20);
    int busy = 0;
    for (int i = 0; i < 50 && !busy; i++)
        busy = batch_submit_lsn(f.b, &f.rows, 0, lsn++, &err) == O2P_EBUSY;
    CHECK(busy);
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.refused_full, 1);
    /* a 1-byte body would fit by the estimate (4 bytes of buffer before
     * any cost was measured) ... */
    CHECK(st.buffered_bytes + 4 <= cfg.max_buffered_bytes);
    /* ... but while nothing was flushed since, admit refuses it */
    gate_wait_entered(&g); /* the flusher holds "api" */
    CHECK_INT(batch_admit(f.b, 1, &err), O2P_EBUSY);
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.refused_admit, 1);
    gate_open(&g);
    for (int i = 0; i < UNIT_POLLS_10MS; i++) {
        batch_get_stats(f.b, &st);
        if (st.files_out[TBL_LOGS] >= 1) break;
        usleep(10000);
    }
    CHECK(st.files_out[TBL_LOGS] >= 1);
    CHECK_OK(batch_admit(f.b, 1, &err)); /* memory was freed: admitted again */
    CHECK_OK(batch_shutdown(f.b, 30, &err));
    teardown_gated(&f, &g);
}

TEST(batch_admit_paced_waits_above_the_soft_level_and_refuses_past_the_max_wait)
{
    batch_config cfg;
    batch_config_default(&cfg);
    cfg.max_buffered_bytes = 65536;
    cfg.max_age_secs = 3600;
    cfg.flush_threads = 1;
    cfg.pace_above_percent = 50;
    cfg.max_pace_ms = 5000;
    fixture f;
    setup(&f, &cfg, "data");
    gate g = {.entered = 0, .open = 0};
    pthread_mutex_init(&g.mu, NULL);
    pthread_cond_init(&g.cv, NULL);
    batch_journal bj = {.ctx = &g, .intent = gate_intent};
    batch_set_journal(f.b, &bj);
    o2p_error err;
    uint64_t wait = 1, lsn = 1;
    /* nothing buffered, then little: admitted at once, however many */
    CHECK_OK(batch_admit_paced(f.b, 1000, &wait, &err));
    CHECK_UINT(wait, 0);
    add_logs(&f.rows, "api", T0_NS, 5);
    CHECK_OK(batch_submit_lsn(f.b, &f.rows, 1000, lsn++, &err)); /* learns the cost */
    batch_stats st;
    batch_get_stats(f.b, &st);
    CHECK(st.buffered_bytes < cfg.max_buffered_bytes / 2);
    for (int i = 0; i < 100; i++) {
        CHECK_OK(batch_admit_paced(f.b, 1, &wait, &err));
        CHECK_UINT(wait, 0);
    }
    /* above the soft level (60 % here, below the budget) */
    for (int i = 0; i < 1000 && st.buffered_bytes <= cfg.max_buffered_bytes * 6 / 10; i++) {
        CHECK_OK(batch_submit_lsn(f.b, &f.rows, 1000, lsn++, &err));
        batch_get_stats(f.b, &st);
    }
    CHECK(st.buffered_bytes > cfg.max_buffered_bytes * 6 / 10);
    /* each admission reserves its turn: at the start rate (an eighth of the
     * budget per second, scaled by the level) a turn is a large fraction
     * of a second, so back-to-back calls wait ever longer until the wait
     * would pass max_pace_ms */
    int paced = 0, refused = 0;
    uint64_t last = 0;
    for (int i = 0; i < 10000 && !refused; i++) {
        int rc = batch_admit_paced(f.b, 1000, &wait, &err);
        if (rc == O2P_EBUSY) {
            refused = 1;
            CHECK(strstr(err.msg, "batch.max_pace_ms (5000 ms)") != NULL);
            break;
        }
        CHECK_OK(rc);
        CHECK(wait <= 5000ULL * 1000000ULL);
        if (wait > 0) {
            paced++;
            last = wait;
        }
    }
    CHECK(refused);
    CHECK(paced >= 1);
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.refused_pace, 1);
    CHECK_UINT(st.refused_admit, 0);
    CHECK_UINT(st.paced, (uint64_t)paced);
    uint64_t in_buckets = 0;
    for (int i = 0; i < BATCH_PACE_BUCKETS; i++) in_buckets += st.pace_wait_buckets[i];
    CHECK(in_buckets <= st.paced); /* the rest waited longer than the last bound */
    CHECK(st.pace_wait_us_sum >= last / 1000);
    /* the flusher was free: the first paced admission sealed the group */
    CHECK_UINT(st.pressure_seals, 1);
    gate_wait_entered(&g);
    /* over the budget: refused as by batch_admit */
    CHECK_INT(batch_admit_paced(f.b, 1u << 30, &wait, &err), O2P_EBUSY);
    CHECK(strstr(err.msg, "buffer full") != NULL);
    batch_get_stats(f.b, &st);
    CHECK_UINT(st.refused_admit, 1);
    /* once the group is flushed, nothing is buffered: at once again */
    gate_open(&g);
    for (int i = 0; i < UNIT_POLLS_10MS; i++) {
        batch_get_stats(f.b, &st);
        if (st.buffered_bytes == 0) break;
        usleep(10000);
    }
    CHECK_UINT(st.buffered_bytes, 0);
    CHECK_OK(batch_admit_paced(f.b, 1000, &wait, &err));
    CHECK_UINT(wait, 0);
    CHECK_OK(batch_shutdown(f.b, 30, &err));
    teardown_gated(&f, &g);
}

/* The nice values of this process's threads named name, into out (up to
 * cap); returns how many there are. */
static int thread_nices(const char *name, int *out, int cap)
{
    DIR *d = opendir("/proc/self/task");
    CHECK(d != NULL);
    if (d == NULL) return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        char path[300], comm[64] = "";
        snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
        FILE *f = fopen(path, "r");
        if (f == NULL) continue;
        if (fgets(comm, sizeof comm, f) == NULL) comm[0] = '\0';
        fclose(f);
        comm[strcspn(comm, "\n")] = '\0';
        if (strcmp(comm, name) != 0) continue;
        errno = 0;
        int nice = getpriority(PRIO_PROCESS, (id_t)atoi(e->d_name));
        CHECK_INT(errno, 0);
        if (n < cap) out[n] = nice;
        n++;
    }
    closedir(d);
    return n;
}

TEST(batch_flushers_run_nicer_than_the_process_by_flush_nice)
{
    errno = 0;
    int base = getpriority(PRIO_PROCESS, 0);
    CHECK_INT(errno, 0);
    int want[] = {base + 7 > 19 ? 19 : base + 7, base};
    int flush_nice[] = {7, 0};
    for (int k = 0; k < 2; k++) {
        batch_config cfg;
        batch_config_default(&cfg);
        cfg.flush_threads = 3;
        cfg.flush_nice = flush_nice[k];
        fixture f;
        setup(&f, &cfg, k ? "nice0" : "nice7");
        /* batch_create returned: every flusher is named and at its priority */
        int nices[8];
        CHECK_INT(thread_nices("o2p-flush", nices, 8), 3);
        for (int i = 0; i < 3; i++) CHECK_INT(nices[i], want[k]);
        /* the creating thread keeps its own */
        CHECK_INT(getpriority(PRIO_PROCESS, 0), base);
        teardown(&f);
    }
    /* a joined thread can stay listed in /proc/self/task for a moment
     * while the kernel finishes its exit */
    int left = thread_nices("o2p-flush", NULL, 0);
    for (int i = 0; i < UNIT_POLLS_10MS && left != 0; i++) {
        struct timespec ts = {0, 10000000};
        nanosleep(&ts, NULL);
        left = thread_nices("o2p-flush", NULL, 0);
    }
    CHECK_INT(left, 0);
}
