/*
 * batch: buffered groups, the memory budget and the flusher threads
 * (see batch.h for the contract).
 *
 * One mutex guards the group table and the counters.  A group is BUFFERING
 * (accepting rows) until a threshold seals it; a sealed group is immutable
 * and waits for a flusher, which encodes and stores it without the lock.  A
 * new group with the same key can start buffering while the sealed one is
 * being written, so requests never wait on storage.  A failed store puts
 * the group back with a backoff deadline; nothing is dropped.
 */
#include "batch/batch.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "batch/batch_pace.h"
#include "core/clock.h"
#include "core/log.h"
#include "core/mem.h"
#include "storage/retry.h"
#include "storage/store.h"

#define BATCH_KEY_MAX 1024

typedef enum { GROUP_FREE = 0, GROUP_BUFFERING, GROUP_SEALED, GROUP_FLUSHING } group_state;

typedef struct bgroup {
    tbl_group g;
    group_state state;
    uint64_t first_row_ns;   /* monotonic time of the oldest buffered row */
    uint64_t bytes;          /* memory the group's column buffers hold (capacity) */
    uint32_t attempts;       /* failed store attempts so far */
    uint64_t next_try_ns;    /* monotonic; sealed groups wait until then after a failure */
    char key[BATCH_KEY_MAX]; /* object key, fixed at the first attempt ("" before) */
    uint64_t *lsns;          /* distinct journal records of its rows (batch_journal) */
    size_t num_lsns, cap_lsns;
} bgroup;

struct batch {
    batch_config cfg;
    const tbl_schemas *schemas;
    store *st;
    pthread_mutex_t mu;
    pthread_cond_t work;     /* flushers wait here */
    pthread_cond_t progress; /* flush_all waits here */
    bgroup **groups;         /* each group allocated on its own: flushers hold
                              * pointers to groups while the array grows */
    size_t num_groups;
    size_t cap;
    batch_stats stats;
    int closing;            /* no more submits */
    int stopping;           /* flusher threads exit */
    int urgent;             /* flush_all in progress: ignore backoff */
    int saturated;          /* a submit was refused since the last successful flush */
    int pressure_pending;   /* refused while every flusher was busy: the next free
                               flusher seals the largest group (seal_largest) */
    int pace_pending;       /* as pressure_pending, for a paced admission: wanted
                               only while the buffer is still above the soft level */
    int admit_blocked;      /* a decoded request did not fit: admit refuses every
                               request until a flush frees memory */
    uint64_t next_probe_ns; /* when an idle flusher next checks failing storage */
    uint32_t probes;        /* failed probes since storage started failing */
    pthread_t *threads;
    int num_threads;
    int threads_started; /* flushers at their priority (batch_create waits) */
    store_retry_policy retry;
    /* Buffer bytes one request body byte cost on recent submits, x1024
     * (an exponential moving average), for batch_admit's estimate. */
    uint64_t cost_per_body_byte_q10;
    int cost_learned;
    /* Flush rate: bytes freed since the window began, over the time some
     * flusher was working in it (idle time would understate what the
     * flushers can do, and pacing admits by it). */
    uint64_t rate_window_busy_ns; /* busy_ns when the window began */
    uint64_t rate_window_bytes;
    int flushing;           /* flushers working now */
    uint64_t busy_since_ns; /* when `flushing` last went from 0 to 1 */
    uint64_t busy_ns;       /* total time with flushing > 0, up to busy_since_ns */
    batch_pace pace;        /* admission pacing (batch_admit_paced) */
    batch_journal journal;  /* all NULL: no journal */
};

/* Before any request was measured, a body byte is assumed to cost this
 * many buffer bytes (x1024): decoded rows are bigger than protobuf. */
#define BATCH_INITIAL_COST_Q10 (4u * 1024u)
/* The flush rate is re-measured over windows of at least this long. */
#define BATCH_RATE_WINDOW_NS 1000000000ULL

const uint32_t batch_pace_bucket_ms[BATCH_PACE_BUCKETS] = {1, 2, 5, 10, 25, 100, 250, 1000};

void batch_config_default(batch_config *c)
{
    memset(c, 0, sizeof *c);
    c->enabled = 1;
    c->max_rows = 200000;
    c->max_bytes = 128ULL << 20;
    c->max_age_secs = 10;
    c->max_buffered_bytes = 512ULL << 20;
    c->flush_threads = 0;
    c->pace_above_percent = 50;
    c->max_pace_ms = 1000;
    c->flush_nice = BATCH_FLUSH_NICE;
    pq_writer_options_default(&c->parquet);
}

static bgroup *find_buffering(batch *b, const tbl_group *src)
{
    for (size_t i = 0; i < b->num_groups; i++) {
        bgroup *bg = b->groups[i];
        if (bg->state == GROUP_BUFFERING && bg->g.table == src->table && bg->g.hour == src->hour &&
            bg->g.service_len == src->service_len &&
            memcmp(bg->g.service, src->service, src->service_len) == 0)
            return bg;
    }
    return NULL;
}

static bgroup *new_group(batch *b, const tbl_group *src)
{
    bgroup *slot = NULL;
    for (size_t i = 0; i < b->num_groups; i++)
        if (b->groups[i]->state == GROUP_FREE) {
            slot = b->groups[i];
            break;
        }
    if (slot == NULL) {
        if (b->num_groups == b->cap) {
            size_t cap = b->cap ? b->cap * 2 : 16;
            bgroup **groups = mem_realloc(b->groups, cap * sizeof *groups);
            if (groups == NULL) return NULL;
            b->groups = groups;
            b->cap = cap;
        }
        slot = mem_alloc(sizeof *slot);
        if (slot == NULL) return NULL;
        b->groups[b->num_groups++] = slot;
    }
    memset(slot, 0, sizeof *slot);
    slot->g.service = mem_strndup(src->service, src->service_len);
    if (slot->g.service == NULL) return NULL;
    if (pq_colset_init(&slot->g.rows, b->schemas->schema[src->table]) < 0) {
        mem_free(slot->g.service);
        slot->g.service = NULL;
        return NULL;
    }
    slot->g.service_len = src->service_len;
    slot->g.service_cap = src->service_len + 1;
    slot->g.table = src->table;
    slot->g.hour = src->hour;
    slot->g.min_ts_us = src->min_ts_us;
    slot->g.max_ts_us = src->max_ts_us;
    slot->g.in_use = 1;
    slot->state = GROUP_BUFFERING;
    slot->first_row_ns = clock_mono_ns();
    return slot;
}

static void release_group(bgroup *bg)
{
    pq_colset_free(&bg->g.rows);
    mem_free(bg->g.service);
    mem_free(bg->lsns);
    memset(bg, 0, sizeof *bg);
}

static void seal(batch *b, bgroup *bg)
{
    bg->state = GROUP_SEALED;
    bg->next_try_ns = 0;
    pthread_cond_signal(&b->work);
}

static int over_threshold(const batch *b, const bgroup *bg)
{
    return !b->cfg.enabled || bg->g.rows.num_rows >= b->cfg.max_rows ||
           bg->bytes >= b->cfg.max_bytes;
}

/* The buffer growth appending `rows` would cause, computed exactly as the
 * appends will grow the buffers: *growth given the groups buffered now,
 * *alone if nothing were buffered (a request over the budget alone can
 * never be taken). */
static void projected_growth(batch *b, const tbl_batch *rows, uint64_t *growth, uint64_t *alone)
{
    *growth = 0;
    *alone = 0;
    for (size_t i = 0; i < rows->cap; i++) {
        const tbl_group *src = &rows->groups[i];
        if (!src->in_use || src->rows.num_rows == 0) continue;
        uint64_t fresh = pq_colset_mem_after_append(NULL, &src->rows);
        *alone += fresh;
        const bgroup *bg = find_buffering(b, src);
        *growth += bg ? pq_colset_mem_after_append(&bg->g.rows, &src->rows) - bg->bytes : fresh;
    }
}

/* The buffering group holding the most memory, or NULL. */
static bgroup *largest_buffering(const batch *b)
{
    bgroup *largest = NULL;
    for (size_t i = 0; i < b->num_groups; i++) {
        bgroup *bg = b->groups[i];
        if (bg->state == GROUP_BUFFERING && (largest == NULL || bg->bytes > largest->bytes))
            largest = bg;
    }
    return largest;
}

/* Seals the largest buffering group for memory pressure; the group, or NULL. */
static bgroup *pressure_seal(batch *b)
{
    b->pressure_pending = 0;
    b->pace_pending = 0;
    bgroup *largest = largest_buffering(b);
    if (largest != NULL) {
        b->stats.pressure_seals++;
        seal(b, largest);
    }
    return largest;
}

/* Under memory pressure: seal the largest buffering group so a flusher
 * frees its memory now instead of at max_age -- when a flusher is free to
 * take it.  While sealed groups wait or every flusher is busy, sealing
 * more frees nothing sooner and only cuts the groups that keep buffering
 * into small files (under a closed-loop overload every refused request
 * sealed the newest group); the refusal is remembered instead, and the
 * next flusher to run out of work seals the largest group then. */
static void seal_largest_or_note(batch *b, int *pending)
{
    int flushing = 0;
    for (size_t i = 0; i < b->num_groups; i++) {
        if (b->groups[i]->state == GROUP_SEALED) {
            *pending = 1;
            return;
        }
        if (b->groups[i]->state == GROUP_FLUSHING) flushing++;
    }
    if (flushing >= b->num_threads) {
        *pending = 1;
        return;
    }
    pressure_seal(b);
}

static void seal_largest(batch *b)
{
    seal_largest_or_note(b, &b->pressure_pending);
}

/* What counts against the budget: buffered rows and reserved ones. */
static uint64_t held(const batch *b)
{
    return b->stats.buffered_bytes + b->stats.reserved_bytes;
}

static int busy(batch *b, uint64_t *counter, o2p_error *err)
{
    (*counter)++;
    b->stats.rejected_busy++;
    b->saturated = 1;
    seal_largest(b);
    return o2p_errorf(err, O2P_EBUSY,
                      "buffer full: %llu bytes buffered, %llu reserved, budget %llu bytes "
                      "(batch.max_buffered_bytes); retry later",
                      (unsigned long long)b->stats.buffered_bytes,
                      (unsigned long long)b->stats.reserved_bytes,
                      (unsigned long long)b->cfg.max_buffered_bytes);
}

/* A paced admission: counted in the wait histogram (lock held). */
static void note_paced(batch *b, uint64_t wait_ns)
{
    b->stats.paced++;
    b->stats.pace_wait_us_sum += wait_ns / 1000;
    for (int i = 0; i < BATCH_PACE_BUCKETS; i++)
        if (wait_ns <= (uint64_t)batch_pace_bucket_ms[i] * 1000000ULL) {
            b->stats.pace_wait_buckets[i]++;
            break;
        }
}

static int admit(batch *b, size_t body_bytes, uint64_t *wait_ns, o2p_error *err)
{
    int rc = O2P_OK;
    if (wait_ns) *wait_ns = 0;
    if (b->closing) return o2p_errorf(err, O2P_ESTATE, "server is shutting down");
    if (held(b) == 0) return O2P_OK;
    /* After a request was refused once decoded, the next ones would
     * most likely need the same buffer growth (a column buffer's next
     * step, larger than the per-byte estimate): refuse them here,
     * before they are decoded, until a flush has freed memory. */
    uint64_t need = (uint64_t)body_bytes * b->cost_per_body_byte_q10 / 1024;
    uint64_t budget = b->cfg.max_buffered_bytes;
    if (b->admit_blocked || held(b) + need > budget) return busy(b, &b->stats.refused_admit, err);
    if (wait_ns == NULL) return O2P_OK;
    if (held(b) > batch_pace_soft_bytes(&b->pace, budget))
        seal_largest_or_note(b, &b->pace_pending); /* the flushers must not idle */
    batch_pace_verdict v = batch_pace_decide(&b->pace, clock_mono_ns(), held(b), budget, need,
                                             b->stats.flush_rate_bytes, wait_ns);
    if (v == BATCH_PACE_REFUSE) {
        b->stats.refused_pace++;
        b->stats.rejected_busy++;
        return o2p_errorf(err, O2P_EBUSY,
                          "buffer nearly full: %llu bytes buffered, budget %llu bytes "
                          "(batch.max_buffered_bytes); admission would wait more than "
                          "batch.max_pace_ms (%u ms); retry later",
                          (unsigned long long)b->stats.buffered_bytes, (unsigned long long)budget,
                          b->cfg.max_pace_ms);
    }
    if (v == BATCH_PACE_WAIT) note_paced(b, *wait_ns);
    return rc;
}

int batch_admit(batch *b, size_t body_bytes, o2p_error *err)
{
    pthread_mutex_lock(&b->mu);
    int rc = admit(b, body_bytes, NULL, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

int batch_admit_paced(batch *b, size_t body_bytes, uint64_t *wait_ns, o2p_error *err)
{
    pthread_mutex_lock(&b->mu);
    int rc = admit(b, body_bytes, wait_ns, err);
    pthread_mutex_unlock(&b->mu);
    return rc;
}

int batch_retry_after_secs(batch *b)
{
    pthread_mutex_lock(&b->mu);
    uint64_t rate = b->stats.flush_rate_bytes;
    uint64_t quarter = b->cfg.max_buffered_bytes / 4;
    pthread_mutex_unlock(&b->mu);
    if (rate == 0) return 1;
    uint64_t secs = (quarter + rate - 1) / rate;
    return secs < 1 ? 1 : secs > 30 ? 30 : (int)secs;
}

/* Learns what a body byte costs in buffer (capacity a fresh copy of the
 * rows needs), smoothed over requests. */
static void learn_cost(batch *b, size_t body_bytes, uint64_t alone)
{
    if (body_bytes == 0) return;
    uint64_t q10 = alone * 1024 / body_bytes;
    if (!b->cost_learned)
        b->cost_per_body_byte_q10 = q10;
    else
        b->cost_per_body_byte_q10 = (b->cost_per_body_byte_q10 * 7 + q10) / 8;
    b->cost_learned = 1;
}

/* A flusher starts (lock held): the busy clock runs while any works. */
static void flush_started(batch *b)
{
    if (b->flushing++ == 0) b->busy_since_ns = clock_mono_ns();
}

/* Called with the lock held when a flush ended, having freed `bytes`. */
static void flush_ended(batch *b, uint64_t bytes)
{
    uint64_t now = clock_mono_ns();
    uint64_t busy = b->busy_ns + (now - b->busy_since_ns); /* flushing > 0 until now */
    if (--b->flushing == 0) b->busy_ns = busy;
    if (bytes == 0) return;
    b->rate_window_bytes += bytes;
    uint64_t span = busy - b->rate_window_busy_ns;
    if (span < BATCH_RATE_WINDOW_NS) return;
    uint64_t rate = b->rate_window_bytes * 1000000000ULL / span;
    /* smoothed: one window of lumpy group sizes does not swing pacing */
    b->stats.flush_rate_bytes =
        b->stats.flush_rate_bytes ? (b->stats.flush_rate_bytes + rate) / 2 : rate;
    b->rate_window_busy_ns = busy;
    b->rate_window_bytes = 0;
}

void batch_set_journal(batch *b, const batch_journal *j)
{
    pthread_mutex_lock(&b->mu);
    b->journal = *j;
    pthread_mutex_unlock(&b->mu);
}

/* Records that bg holds rows of lsn (lock held). */
static int group_hold(batch *b, bgroup *bg, uint64_t lsn)
{
    if (lsn == 0) return O2P_OK;
    for (size_t i = bg->num_lsns; i-- > 0;)
        if (bg->lsns[i] == lsn) return O2P_OK;
    if (bg->num_lsns == bg->cap_lsns) {
        size_t cap = bg->cap_lsns ? bg->cap_lsns * 2 : 8;
        uint64_t *l = mem_realloc(bg->lsns, cap * sizeof *l);
        if (l == NULL) return O2P_ENOMEM;
        bg->lsns = l;
        bg->cap_lsns = cap;
    }
    bg->lsns[bg->num_lsns++] = lsn;
    if (b->journal.hold) b->journal.hold(b->journal.ctx, lsn);
    return O2P_OK;
}

int batch_submit(batch *b, const tbl_batch *rows, size_t body_bytes, o2p_error *err)
{
    return batch_submit_reserved(b, rows, body_bytes, 0, 0, err);
}

int batch_submit_lsn(batch *b, const tbl_batch *rows, size_t body_bytes, uint64_t lsn,
                     o2p_error *err)
{
    return batch_submit_reserved(b, rows, body_bytes, lsn, 0, err);
}

/* Whether rows fit in the budget now (lock held): O2P_OK, O2P_ESTATE,
 * O2P_ELIMIT or O2P_EBUSY (counted); *alone is the buffer a copy of them
 * takes by itself. */
static int fits(batch *b, const tbl_batch *rows, uint64_t *alone, o2p_error *err)
{
    if (b->closing) return o2p_errorf(err, O2P_ESTATE, "server is shutting down");
    uint64_t growth;
    projected_growth(b, rows, &growth, alone);
    if (*alone > b->cfg.max_buffered_bytes) {
        b->stats.refused_too_large++;
        return o2p_errorf(err, O2P_ELIMIT,
                          "request needs about %llu bytes of buffer, more than "
                          "batch.max_buffered_bytes (%llu); send smaller batches",
                          (unsigned long long)*alone,
                          (unsigned long long)b->cfg.max_buffered_bytes);
    }
    if (held(b) + growth > b->cfg.max_buffered_bytes) return busy(b, &b->stats.refused_full, err);
    return O2P_OK;
}

int batch_reserve(batch *b, const tbl_batch *rows, uint64_t *reserved, o2p_error *err)
{
    *reserved = 0;
    uint64_t alone;
    pthread_mutex_lock(&b->mu);
    int rc = fits(b, rows, &alone, err);
    if (rc == O2P_OK) {
        b->stats.reserved_bytes += alone;
        *reserved = alone;
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

void batch_unreserve(batch *b, uint64_t reserved)
{
    pthread_mutex_lock(&b->mu);
    b->stats.reserved_bytes -= reserved;
    pthread_mutex_unlock(&b->mu);
}

int batch_submit_reserved(batch *b, const tbl_batch *rows, size_t body_bytes, uint64_t lsn,
                          uint64_t reserved, o2p_error *err)
{
    pthread_mutex_lock(&b->mu);
    b->stats.reserved_bytes -= reserved; /* the rows are buffered or refused now */
    uint64_t alone;
    int rc = fits(b, rows, &alone, err);
    if (rc != O2P_ESTATE) learn_cost(b, body_bytes, alone);
    /* admit refuses until a flush frees memory, unless nothing is buffered
     * (reservations alone filled the budget: they drain by themselves, and
     * no flush would come to unblock admission) */
    if (rc == O2P_EBUSY && b->stats.buffered_bytes > 0) b->admit_blocked = 1;
    if (rc < 0) {
        pthread_mutex_unlock(&b->mu);
        return rc;
    }
    for (size_t i = 0; i < rows->cap && rc == O2P_OK; i++) {
        const tbl_group *src = &rows->groups[i];
        if (!src->in_use || src->rows.num_rows == 0) continue;
        bgroup *bg = find_buffering(b, src);
        if (bg == NULL) bg = new_group(b, src);
        if (bg != NULL && group_hold(b, bg, lsn) < 0) bg = NULL;
        if (bg == NULL) {
            rc = o2p_errorf(err, O2P_ENOMEM, "out of memory buffering %s rows",
                            tbl_name(src->table));
            break;
        }
        if (bg->g.rows.num_rows == 0 || src->min_ts_us < bg->g.min_ts_us)
            bg->g.min_ts_us = src->min_ts_us;
        if (bg->g.rows.num_rows == 0 || src->max_ts_us > bg->g.max_ts_us)
            bg->g.max_ts_us = src->max_ts_us;
        uint64_t before = bg->bytes;
        rc = pq_colset_append(&bg->g.rows, &src->rows);
        /* the budget counts allocated capacity, not just data, so it bounds RSS */
        bg->bytes = pq_colset_mem(&bg->g.rows);
        b->stats.buffered_bytes += bg->bytes - before;
        if (rc < 0) {
            /* the group may hold a partial row now: it cannot be written */
            o2p_errorf(err, rc, "out of memory buffering %s rows", tbl_name(src->table));
            break;
        }
        b->stats.buffered_rows += src->rows.num_rows;
        b->stats.rows_in[src->table] += src->rows.num_rows;
        if (over_threshold(b, bg)) seal(b, bg);
    }
    pthread_mutex_unlock(&b->mu);
    return rc;
}

/* Whether a pending pressure seal is still wanted: always after a refusal;
 * after a paced admission only while the buffer is above the soft level
 * (it may have drained since). */
static int memory_short(const batch *b)
{
    return b->pressure_pending ||
           (b->pace_pending &&
            held(b) > batch_pace_soft_bytes(&b->pace, b->cfg.max_buffered_bytes));
}

/* Picks work for a flusher: a sealed group whose backoff has passed, after
 * sealing groups that have aged out.  Returns NULL and sets *wait_ns to how
 * long to sleep when there is nothing to do. */
static bgroup *next_work(batch *b, uint64_t now, uint64_t *wait_ns)
{
    uint64_t wait = 1000000000ULL;
    uint64_t max_age_ns = (uint64_t)b->cfg.max_age_secs * 1000000000ULL;
    bgroup *pick = NULL;
    for (size_t i = 0; i < b->num_groups; i++) {
        bgroup *bg = b->groups[i];
        if (bg->state == GROUP_BUFFERING) {
            if (b->urgent || now - bg->first_row_ns >= max_age_ns) {
                bg->state = GROUP_SEALED;
            } else {
                uint64_t left = bg->first_row_ns + max_age_ns - now;
                if (left < wait) wait = left;
                continue;
            }
        }
        if (bg->state != GROUP_SEALED) continue;
        if (b->urgent || bg->next_try_ns <= now) {
            if (pick == NULL) pick = bg;
        } else if (bg->next_try_ns - now < wait) {
            wait = bg->next_try_ns - now;
        }
    }
    if (pick == NULL && memory_short(b)) {
        /* a refusal (or a paced admission) found every flusher busy: this
         * one is free now, and memory is still short */
        pick = pressure_seal(b);
    }
    *wait_ns = wait;
    return pick;
}

static void flush_one(batch *b, bgroup *bg, o2p_buf *file, const pq_writer_options *popts)
{
    char *key = bg->key;
    o2p_error err;
    o2p_error_clear(&err);
    uint64_t t0 = clock_mono_ns();
    int rc = batch_encode_group(&bg->g, popts, file, key, sizeof bg->key, &err);
    int encode_failed = rc < 0;
    if (rc == 0 && b->journal.intent && bg->num_lsns > 0)
        rc = b->journal.intent(b->journal.ctx, key, bg->lsns, bg->num_lsns, &err);
    if (rc == 0) rc = store_put(b->st, key, file->data, file->len, &err);
    if (rc == 0 && b->journal.stored && bg->num_lsns > 0)
        b->journal.stored(b->journal.ctx, bg->lsns, bg->num_lsns);
    uint64_t elapsed_us = (clock_mono_ns() - t0) / 1000;

    pthread_mutex_lock(&b->mu);
    if (rc == 0) {
        tbl_id t = bg->g.table;
        b->stats.rows_out[t] += bg->g.rows.num_rows;
        b->stats.bytes_out[t] += file->len;
        b->stats.files_out[t]++;
        b->stats.flushes++;
        b->stats.flush_seconds_sum_us += elapsed_us;
        b->stats.buffered_rows -= bg->g.rows.num_rows;
        b->stats.buffered_bytes -= bg->bytes;
        flush_ended(b, bg->bytes);
        b->stats.storage_failing = 0;
        b->saturated = 0;
        b->admit_blocked = 0;
        LOG_DEBUG("flushed %zu %s rows to %s (%zu bytes, %llu us)", bg->g.rows.num_rows,
                  tbl_name(t), key, file->len, (unsigned long long)elapsed_us);
        release_group(bg);
    } else {
        bg->attempts++;
        b->stats.storage_errors++;
        if (!encode_failed) b->stats.storage_failing = 1;
        uint32_t delay = store_retry_delay_ms(&b->retry, bg->attempts);
        bg->next_try_ns = clock_mono_ns() + (uint64_t)delay * 1000000ULL;
        bg->state = GROUP_SEALED;
        flush_ended(b, 0);
        LOG_WARN("flush of %zu %s rows failed (attempt %u, retrying in %u ms): %s",
                 bg->g.rows.num_rows, tbl_name(bg->g.table), bg->attempts, delay, err.msg);
    }
    pthread_cond_broadcast(&b->progress);
    pthread_mutex_unlock(&b->mu);
}

static int any_sealed(const batch *b)
{
    for (size_t i = 0; i < b->num_groups; i++)
        if (b->groups[i]->state == GROUP_SEALED || b->groups[i]->state == GROUP_FLUSHING) return 1;
    return 0;
}

/* Storage is failing but there is nothing to retry (e.g. the start-up check
 * failed before any data arrived): check it directly with backoff, so
 * /ready recovers without waiting for the next flush.  Called and returns
 * with the lock held. */
static void probe_storage(batch *b)
{
    b->next_probe_ns = UINT64_MAX; /* one prober at a time */
    pthread_mutex_unlock(&b->mu);
    o2p_error err;
    int rc = store_check(b->st, &err);
    pthread_mutex_lock(&b->mu);
    if (rc == 0) {
        b->stats.storage_failing = 0;
        b->probes = 0;
        b->next_probe_ns = 0;
        LOG_INFO("storage is reachable again");
    } else {
        b->probes++;
        uint32_t delay = store_retry_delay_ms(&b->retry, b->probes);
        b->next_probe_ns = clock_mono_ns() + (uint64_t)delay * 1000000ULL;
    }
}

/* Lowers the calling flusher thread's priority by `nice` below the
 * process's: on 2 cores a request thread that wakes preempts an encode
 * instead of sharing the core with it for a time slice (the tail of request
 * latency), and the flushers take the CPU that requests leave -- pacing
 * (batch_admit_paced) makes requests leave enough.  Linux scopes nice to
 * the thread; a failure only costs latency. */
static void flusher_set_priority(int nice)
{
    pthread_setname_np(pthread_self(), "o2p-flush");
    if (nice <= 0) return;
    id_t tid = (id_t)syscall(SYS_gettid);
    errno = 0;
    int base = getpriority(PRIO_PROCESS, tid);
    if (base == -1 && errno != 0) return;
    int target = base + nice > BATCH_FLUSH_NICE_MAX ? BATCH_FLUSH_NICE_MAX : base + nice;
    if (target > base && setpriority(PRIO_PROCESS, tid, target) != 0)
        LOG_WARN("flusher thread: cannot set nice %d: %s", target, strerror(errno));
}

static void *flusher_main(void *arg)
{
    batch *b = arg;
    flusher_set_priority(b->cfg.flush_nice);
    o2p_buf file;
    buf_init(&file, 0);
    /* each flusher keeps its writer scratch and codec context across files */
    pq_writer_options popts = b->cfg.parquet;
    pq_workspace *ws = NULL;
    o2p_error err;
    if (pq_workspace_create(&ws, &err) == 0) popts.workspace = ws;
    pthread_mutex_lock(&b->mu);
    b->threads_started++;
    pthread_cond_broadcast(&b->progress);
    while (!b->stopping) {
        uint64_t wait_ns;
        bgroup *bg = next_work(b, clock_mono_ns(), &wait_ns);
        if (bg == NULL && b->stats.storage_failing && !any_sealed(b) &&
            clock_mono_ns() >= b->next_probe_ns) {
            probe_storage(b);
            continue;
        }
        if (bg == NULL) {
            struct timespec until = clock_mono_deadline(wait_ns);
            pthread_cond_timedwait(&b->work, &b->mu, &until);
            continue;
        }
        bg->state = GROUP_FLUSHING;
        flush_started(b);
        pthread_mutex_unlock(&b->mu);
        flush_one(b, bg, &file, &popts);
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    buf_free(&file);
    pq_workspace_destroy(ws);
    return NULL;
}

int batch_create(batch **out, const batch_config *cfg, const tbl_schemas *schemas, store *st,
                 o2p_error *err)
{
    batch *b = mem_calloc(1, sizeof *b);
    if (b == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory creating the batcher");
    b->cfg = *cfg;
    if (b->cfg.flush_threads < 1) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        b->cfg.flush_threads = n < 1 ? 1 : n > 64 ? 64 : (int)n;
    }
    b->stats.flush_threads = b->cfg.flush_threads;
    b->cost_per_body_byte_q10 = BATCH_INITIAL_COST_Q10;
    batch_pace_init(&b->pace, b->cfg.pace_above_percent, b->cfg.max_pace_ms);
    b->schemas = schemas;
    b->st = st;
    b->retry = (store_retry_policy){.max_attempts = UINT32_MAX, .base_ms = 500, .max_ms = 30000};
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->work, &ca);
    pthread_cond_init(&b->progress, &ca);
    pthread_condattr_destroy(&ca);
    b->threads = mem_calloc((size_t)b->cfg.flush_threads, sizeof *b->threads);
    if (b->threads == NULL) {
        batch_destroy(b);
        return o2p_errorf(err, O2P_ENOMEM, "out of memory creating the batcher");
    }
    for (int i = 0; i < b->cfg.flush_threads; i++) {
        if (pthread_create(&b->threads[i], NULL, flusher_main, b) != 0) {
            batch_destroy(b);
            return o2p_errorf(err, O2P_ENOMEM, "cannot start flusher thread");
        }
        b->num_threads++;
    }
    pthread_mutex_lock(&b->mu);
    while (b->threads_started < b->num_threads) pthread_cond_wait(&b->progress, &b->mu);
    pthread_mutex_unlock(&b->mu);
    *out = b;
    return O2P_OK;
}

void batch_note_storage_failure(batch *b)
{
    pthread_mutex_lock(&b->mu);
    b->stats.storage_failing = 1;
    b->stats.storage_errors++;
    pthread_cond_signal(&b->work);
    pthread_mutex_unlock(&b->mu);
}

int batch_ready(batch *b, char *why, size_t cap)
{
    pthread_mutex_lock(&b->mu);
    const char *reason = b->closing                 ? "shutting down"
                         : b->stats.storage_failing ? "storage is failing; buffered rows are kept "
                                                      "and retried"
                         : b->saturated ? "the buffer is full (batch.max_buffered_bytes); flushing"
                                        : NULL;
    pthread_mutex_unlock(&b->mu);
    if (reason && why && cap) snprintf(why, cap, "%s", reason);
    return reason == NULL;
}

void batch_get_stats(batch *b, batch_stats *out)
{
    pthread_mutex_lock(&b->mu);
    *out = b->stats;
    pthread_mutex_unlock(&b->mu);
}

int batch_flush_all(batch *b, uint32_t deadline_secs, o2p_error *err)
{
    uint64_t deadline = clock_mono_ns() + (uint64_t)deadline_secs * 1000000000ULL;
    pthread_mutex_lock(&b->mu);
    b->urgent++;
    pthread_cond_broadcast(&b->work);
    int rc = O2P_OK;
    for (;;) {
        size_t pending = 0;
        uint64_t rows = 0;
        for (size_t i = 0; i < b->num_groups; i++)
            if (b->groups[i]->state != GROUP_FREE) {
                pending++;
                rows += b->groups[i]->g.rows.num_rows;
            }
        if (pending == 0) break;
        if (clock_mono_ns() >= deadline) {
            rc = o2p_errorf(err, O2P_EIO, "%zu groups (%llu rows) could not be stored in %u s",
                            pending, (unsigned long long)rows, deadline_secs);
            break;
        }
        struct timespec until = clock_mono_deadline(100000000ULL);
        pthread_cond_timedwait(&b->progress, &b->mu, &until);
        pthread_cond_broadcast(&b->work);
    }
    b->urgent--;
    pthread_mutex_unlock(&b->mu);
    return rc;
}

int batch_shutdown(batch *b, uint32_t deadline_secs, o2p_error *err)
{
    pthread_mutex_lock(&b->mu);
    b->closing = 1;
    pthread_mutex_unlock(&b->mu);
    int rc = batch_flush_all(b, deadline_secs, err);
    pthread_mutex_lock(&b->mu);
    b->stopping = 1;
    pthread_cond_broadcast(&b->work);
    pthread_mutex_unlock(&b->mu);
    for (int i = 0; i < b->num_threads; i++) pthread_join(b->threads[i], NULL);
    b->num_threads = 0;
    return rc;
}

void batch_destroy(batch *b)
{
    if (b == NULL) return;
    if (b->num_threads > 0) {
        pthread_mutex_lock(&b->mu);
        b->stopping = 1;
        pthread_cond_broadcast(&b->work);
        pthread_mutex_unlock(&b->mu);
        for (int i = 0; i < b->num_threads; i++) pthread_join(b->threads[i], NULL);
    }
    for (size_t i = 0; i < b->num_groups; i++) {
        if (b->groups[i]->state != GROUP_FREE) release_group(b->groups[i]);
        mem_free(b->groups[i]);
    }
    mem_free(b->groups);
    mem_free(b->threads);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->work);
    pthread_cond_destroy(&b->progress);
    mem_free(b);
}
