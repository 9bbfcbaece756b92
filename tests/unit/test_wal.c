/* Unit tests for the write-ahead log (src/wal/wal.c): append/replay round
 * trip, torn tail, corrupt middle record, rolling and in-order deletion,
 * max_bytes, injected write/sync/allocation failures, rolls that defer their
 * syncs to the next group sync, the directory lock,
 * concurrent appends sharing syncs, the syncer's callbacks (wal_notify_durable). */
#include <dirent.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "wal/wal.h"
#include "unit.h"

typedef struct seen {
    uint64_t lsn[256];
    int type[256];
    char payload[256][64];
    char segment[256][32];
    uint64_t offset[256];
    int n;
} seen;

static int collect(void *ctx, const wal_record *rec)
{
    seen *s = ctx;
    if (s->n < 256) {
        s->lsn[s->n] = rec->lsn;
        s->type[s->n] = rec->type;
        size_t n = rec->len < 63 ? rec->len : 63;
        memcpy(s->payload[s->n], rec->payload, n);
        s->payload[s->n][n] = '\0';
        snprintf(s->segment[s->n], sizeof s->segment[s->n], "%s", rec->segment ? rec->segment : "");
        s->offset[s->n] = rec->offset;
    }
    s->n++;
    return 0;
}

static void wal_dir_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", unit_tmpdir(), name);
}

static int count_segments(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "wal-", 4) == 0) n++;
    closedir(d);
    return n;
}

static wal *open_wal(const char *dir, uint64_t segment_bytes, uint64_t max_bytes)
{
    wal_config c;
    wal_config_default(&c);
    c.dir = dir;
    if (segment_bytes) c.segment_bytes = segment_bytes;
    if (max_bytes) c.max_bytes = max_bytes;
    wal *w = NULL;
    o2p_error err;
    int rc = wal_open(&w, &c, &err);
    CHECK_MSG(rc == 0, "wal_open: %s", err.msg);
    return w;
}

TEST(wal_append_replay_round_trip)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    o2p_error err;
    wal *w = open_wal(dir, 0, 0);
    uint64_t a, b, c;
    CHECK_OK(wal_append(w, WAL_DATA, "head-", 5, "body one", 8, &a, &err));
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, "second", 6, &b, &err));
    CHECK_OK(wal_append(w, WAL_INTENT, "key", 3, NULL, 0, &c, &err));
    CHECK(a < b && b < c);
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.appends, 3);
    CHECK(st.syncs >= 1);
    CHECK_UINT(st.segments, 1);
    wal_close(w); /* a and b still referenced: the segment stays */

    w = open_wal(dir, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_OK(wal_replay(w, collect, &s, &err));
    CHECK_INT(s.n, 3);
    CHECK_UINT(s.lsn[0], a);
    CHECK_STR(s.payload[0], "head-body one");
    CHECK_INT(s.type[0], WAL_DATA);
    CHECK_STR(s.payload[1], "second");
    CHECK_INT(s.type[2], WAL_INTENT);
    CHECK_STR(s.payload[2], "key");
    CHECK_STR(s.segment[0], "wal-0000000000000001.log");
    wal_get_stats(w, &st);
    CHECK_UINT(st.replay_records, 2);
    CHECK_UINT(st.corrupt_records, 0);
    /* new records continue the LSN sequence in a new segment */
    uint64_t d;
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, "x", 1, &d, &err));
    CHECK(d > c);
    CHECK_INT(count_segments(dir), 2);
    /* releasing the old records after replay deletes the old segment */
    wal_release(w, a);
    wal_release(w, b);
    CHECK_INT(count_segments(dir), 2); /* replay not finished yet */
    wal_replay_done(w);
    CHECK_INT(count_segments(dir), 1);
    wal_release(w, d);
    wal_close(w); /* everything released: no segment left */
    CHECK_INT(count_segments(dir), 0);
}

/* Appends three records and returns the segment path and record offsets. */
static void three_records(const char *dir, char *seg, size_t cap, uint64_t off[3])
{
    o2p_error err;
    wal *w = open_wal(dir, 0, 0);
    uint64_t lsn;
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, "first record", 12, &lsn, &err));
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, "second record", 13, &lsn, &err));
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, "third record", 12, &lsn, &err));
    wal_close(w);
    snprintf(seg, cap, "%s/wal-0000000000000001.log", dir);
    wal *r = open_wal(dir, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_OK(wal_replay(r, collect, &s, &err));
    CHECK_INT(s.n, 3);
    for (int i = 0; i < 3; i++) off[i] = s.offset[i];
    wal_close(r);
}

TEST(wal_torn_tail_is_cut_off)
{
    char dir[512], seg[600];
    wal_dir_path(dir, sizeof dir, "wal");
    uint64_t off[3];
    three_records(dir, seg, sizeof seg, off);
    /* a crash in the middle of the third record: its tail never reached disk */
    int fd = open(seg, O_WRONLY);
    CHECK(fd >= 0);
    static const uint8_t zeros[8];
    CHECK(pwrite(fd, zeros, sizeof zeros, (off_t)off[2] + 24) == (ssize_t)sizeof zeros);
    close(fd);
    o2p_error err;
    wal *w = open_wal(dir, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_OK(wal_replay(w, collect, &s, &err));
    CHECK_INT(s.n, 2);
    CHECK_STR(s.payload[1], "second record");
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.torn_tails, 1);
    CHECK_UINT(st.corrupt_records, 0);
    wal_close(w);
}

TEST(wal_corrupt_middle_record_is_skipped)
{
    char dir[512], seg[600];
    wal_dir_path(dir, sizeof dir, "wal");
    uint64_t off[3];
    three_records(dir, seg, sizeof seg, off);
    int fd = open(seg, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "X", 1, (off_t)off[1] + 26) == 1); /* a flipped payload byte */
    close(fd);
    o2p_error err;
    wal *w = open_wal(dir, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_OK(wal_replay(w, collect, &s, &err));
    CHECK_INT(s.n, 2);
    CHECK_STR(s.payload[0], "first record");
    CHECK_STR(s.payload[1], "third record");
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.corrupt_records, 1);
    CHECK_UINT(st.torn_tails, 0);
    wal_close(w);
}

TEST(wal_rolls_and_deletes_in_order)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    o2p_error err;
    wal *w = open_wal(dir, 4096, 0);
    char body[1500];
    memset(body, 'b', sizeof body);
    uint64_t lsn[6];
    for (int i = 0; i < 6; i++)
        CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &lsn[i], &err));
    /* two records fit in a 4 KiB segment: three segments */
    CHECK_INT(count_segments(dir), 3);
    /* releasing the second segment first deletes nothing: the first is older */
    wal_release(w, lsn[2]);
    wal_release(w, lsn[3]);
    CHECK_INT(count_segments(dir), 3);
    /* an extra reference (a batcher group) keeps the first segment */
    wal_ref(w, lsn[0]);
    wal_release(w, lsn[0]);
    wal_release(w, lsn[1]);
    CHECK_INT(count_segments(dir), 3);
    wal_release(w, lsn[0]);
    /* first and second are gone; the third is active */
    CHECK_INT(count_segments(dir), 1);
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.segments, 1);
    CHECK_UINT(st.bytes, 4096);
    wal_close(w);
}

TEST(wal_max_bytes_refuses_with_busy)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    o2p_error err;
    wal *w = open_wal(dir, 4096, 8192);
    char body[3000];
    memset(body, 'm', sizeof body);
    uint64_t a, b, c;
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &a, &err));
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &b, &err));
    CHECK_INT(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &c, &err), O2P_EBUSY);
    CHECK(strstr(err.msg, "durability.max_bytes") != NULL);
    /* storing the first record's rows frees its segment: room again */
    wal_release(w, a);
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &c, &err));
    wal_release(w, b);
    wal_release(w, c);
    wal_close(w);
}

typedef struct faults {
    int fail_op;
    int err;
} faults;

static int inject(void *ctx, wal_op op)
{
    faults *f = ctx;
    return (int)op == f->fail_op ? f->err : 0;
}

/* Defaults in dir, with the fault hook asking f, no spare segment. */
static void fault_config(wal_config *c, const char *dir, faults *f)
{
    wal_config_default(c);
    c->dir = dir;
    c->fault = inject;
    c->fault_ctx = f;
    c->spare = 0; /* the spare thread would read f while the test changes it */
}

TEST(wal_injected_failures_answer_eio_and_recover)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    faults f = {0, 0};
    wal_config c;
    fault_config(&c, dir, &f);
    c.segment_bytes = 8192;
    wal *w;
    o2p_error err;
    CHECK_OK(wal_open(&w, &c, &err));
    uint64_t ok1, bad, ok2;
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, "kept", 4, &ok1, &err));

    /* a failing sync: the record is not acknowledged, /ready says why */
    f = (faults){WAL_OP_SYNC, 5 /* EIO */};
    CHECK_INT(wal_append(w, WAL_DATA, NULL, 0, "lost", 4, &bad, &err), O2P_EIO);
    char why[512];
    wal_failure(w, why, sizeof why);
    CHECK(strstr(why, "cannot sync") != NULL);
    wal_release(w, bad);

    /* disk full when a new segment is needed */
    f = (faults){WAL_OP_ALLOC, 28 /* ENOSPC */};
    CHECK_INT(wal_append(w, WAL_DATA, NULL, 0, "full", 4, &bad, &err), O2P_EIO);
    CHECK(strstr(err.msg, "No space left") != NULL);
    /* a failing write */
    f = (faults){WAL_OP_WRITE, 30 /* EROFS */};
    CHECK_INT(wal_append(w, WAL_DATA, NULL, 0, "ro", 2, &bad, &err), O2P_EIO);

    /* the disk recovers: appends work again and the failure clears */
    f = (faults){0, 0};
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, "again", 5, &ok2, &err));
    wal_failure(w, why, sizeof why);
    CHECK_STR(why, "");
    wal_close(w);

    /* replay sees the acknowledged records; "lost" was written but its sync
     * failed, so it may be there too (never acknowledged): only check the
     * acknowledged ones */
    w = open_wal(dir, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_OK(wal_replay(w, collect, &s, &err));
    int kept = 0, again = 0;
    for (int i = 0; i < s.n; i++) {
        kept += strcmp(s.payload[i], "kept") == 0;
        again += strcmp(s.payload[i], "again") == 0;
        CHECK(strcmp(s.payload[i], "full") != 0 && strcmp(s.payload[i], "ro") != 0);
    }
    CHECK_INT(kept, 1);
    CHECK_INT(again, 1);
    wal_close(w);
}

/* Counts the operations the fault hook sees, failing fail_op with err. */
typedef struct op_log {
    int n[WAL_OP_SPARE + 1];
    int fail_op;
    int err;
} op_log;

static int log_op(void *ctx, wal_op op)
{
    op_log *l = ctx;
    l->n[op]++;
    return (int)op == l->fail_op ? l->err : 0;
}

/* A roll makes the new segment without a sync on the appender's path: the
 * next sync covers the sealed segment's last records, the directory and the
 * new segment; when it fails, records of both are not acknowledged. */
TEST(wal_roll_defers_its_syncs_to_the_next_sync)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    op_log l;
    memset(&l, 0, sizeof l);
    wal_config c;
    wal_config_default(&c);
    c.dir = dir;
    c.fault = log_op;
    c.fault_ctx = &l;
    c.spare = 0;
    c.segment_bytes = 4096;
    wal *w;
    o2p_error err;
    CHECK_OK(wal_open(&w, &c, &err));
    char body[1500];
    memset(body, 'b', sizeof body);
    uint64_t a, b, r;
    /* two records fit in a 4 KiB segment: the third rolls */
    CHECK_OK(wal_append_start(w, WAL_DATA, "a", 1, body, sizeof body, &a, &err));
    CHECK_OK(wal_append_start(w, WAL_DATA, "b", 1, body, sizeof body, &b, &err));
    int allocs = l.n[WAL_OP_ALLOC], syncs = l.n[WAL_OP_SYNC];
    CHECK_OK(wal_append_start(w, WAL_DATA, "r", 1, body, sizeof body, &r, &err));
    CHECK_INT(l.n[WAL_OP_ALLOC], allocs + 1);
    CHECK_INT(l.n[WAL_OP_SYNC], syncs); /* rolled without syncing */
    CHECK_INT(count_segments(dir), 2);
    /* one sync makes the records of both segments durable */
    CHECK_OK(wal_append_finish(w, r, &err));
    CHECK_INT(l.n[WAL_OP_SYNC], syncs + 1);
    CHECK_OK(wal_append_finish(w, a, &err));
    CHECK_OK(wal_append_finish(w, b, &err));
    CHECK_INT(l.n[WAL_OP_SYNC], syncs + 1);

    /* the sync after the next roll fails: the sealed segment's last record
     * and the new segment's first are both not acknowledged */
    uint64_t d, e, f;
    CHECK_OK(wal_append_start(w, WAL_DATA, "d", 1, body, sizeof body, &d, &err));
    CHECK_OK(wal_append_start(w, WAL_DATA, "e", 1, body, sizeof body, &e, &err));
    CHECK_INT(count_segments(dir), 3);
    l.fail_op = WAL_OP_SYNC;
    l.err = 5; /* EIO */
    CHECK_INT(wal_append_finish(w, e, &err), O2P_EIO);
    CHECK_INT(wal_append_finish(w, d, &err), O2P_EIO);
    l.fail_op = 0;
    CHECK_OK(wal_append(w, WAL_DATA, "f", 1, body, sizeof body, &f, &err));
    wal_close(w);

    /* every acknowledged record is read back */
    w = open_wal(dir, 0, 0);
    seen s;
    memset(&s, 0, sizeof s);
    CHECK_OK(wal_replay(w, collect, &s, &err));
    int found = 0;
    for (int i = 0; i < s.n && i < 256; i++)
        found += s.payload[i][0] == 'a' || s.payload[i][0] == 'b' || s.payload[i][0] == 'r' ||
                 s.payload[i][0] == 'f';
    CHECK_INT(found, 4);
    wal_close(w);
}

TEST(wal_second_open_of_a_dir_is_refused)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    wal *w = open_wal(dir, 0, 0);
    wal_config c;
    wal_config_default(&c);
    c.dir = dir;
    wal *w2 = NULL;
    o2p_error err;
    CHECK_INT(wal_open(&w2, &c, &err), O2P_EBUSY);
    CHECK(strstr(err.msg, "in use by another") != NULL);
    wal_close(w);
    CHECK_OK(wal_open(&w2, &c, &err));
    wal_close(w2);
}

typedef struct appender {
    wal *w;
    int ok;
} appender;

static void *append_many(void *arg)
{
    appender *a = arg;
    o2p_error err;
    for (int i = 0; i < 50; i++) {
        uint64_t lsn;
        if (wal_append(a->w, WAL_DATA, NULL, 0, "concurrent", 10, &lsn, &err) == 0) {
            a->ok++;
            wal_release(a->w, lsn);
        }
    }
    return NULL;
}

TEST(wal_concurrent_appends_all_durable)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    wal *w = open_wal(dir, 0, 0);
    pthread_t t[4];
    appender a[4];
    for (int i = 0; i < 4; i++) {
        a[i] = (appender){w, 0};
        CHECK(pthread_create(&t[i], NULL, append_many, &a[i]) == 0);
    }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
    for (int i = 0; i < 4; i++) CHECK_INT(a[i].ok, 50);
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.appends, 200);
    CHECK(st.syncs >= 1 &&
          st.syncs <= 200); /* shared syncs are allowed, never more than one each */
    wal_close(w);
}

TEST(wal_scan_rejects_bad_header)
{
    wal_scan_result res;
    o2p_error err;
    uint8_t junk[64];
    memset(junk, 0x41, sizeof junk);
    CHECK_INT(wal_scan_buffer(junk, sizeof junk, NULL, NULL, &res, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "not a WAL segment") != NULL);
    CHECK_INT(wal_scan_buffer(junk, 10, NULL, NULL, &res, &err), O2P_EINVAL);
}

/* ---- the syncer (wal_notify_durable) ---- */

typedef struct notified {
    wal_waiter wt; /* first: the callback gets it */
    struct notes *notes;
    int rc;
    char why[128];
} notified;

typedef struct notes {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int calls;
} notes;

static void note_done(wal_waiter *wt, int rc, const char *why)
{
    notified *n = (notified *)wt;
    pthread_mutex_lock(&n->notes->lock);
    n->rc = rc;
    snprintf(n->why, sizeof n->why, "%s", why);
    n->notes->calls++;
    pthread_cond_broadcast(&n->notes->cond);
    pthread_mutex_unlock(&n->notes->lock);
}

/* Waits (generously) until `want` callbacks have run. */
static int wait_notes(notes *ns, int want)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 30;
    pthread_mutex_lock(&ns->lock);
    while (ns->calls < want)
        if (pthread_cond_timedwait(&ns->cond, &ns->lock, &until) != 0) break;
    int got = ns->calls;
    pthread_mutex_unlock(&ns->lock);
    return got;
}

static void notify_all(wal *w, notified *n, int count, notes *ns)
{
    for (int i = 0; i < count; i++) {
        n[i].notes = ns;
        n[i].rc = 99;
        n[i].wt.done = note_done;
        CHECK_OK(wal_notify_durable(w, &n[i].wt));
    }
}

TEST(wal_syncer_one_sync_covers_every_record_written)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    faults f = {0, 0};
    wal_config c;
    fault_config(&c, dir, &f);
    wal *w;
    o2p_error err;
    CHECK_OK(wal_open(&w, &c, &err));
    notes ns = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    notified n[20];
    memset(n, 0, sizeof n);
    /* 20 records written before anyone asks: one sync makes them durable */
    for (int i = 0; i < 20; i++)
        CHECK_OK(wal_append_start(w, WAL_DATA, NULL, 0, "queued", 6, &n[i].wt.lsn, &err));
    wal_stats before, after;
    wal_get_stats(w, &before);
    notify_all(w, n, 20, &ns);
    CHECK_INT(wait_notes(&ns, 20), 20);
    for (int i = 0; i < 20; i++) CHECK_INT(n[i].rc, O2P_OK);
    wal_get_stats(w, &after);
    CHECK_UINT(after.syncs - before.syncs, 1);

    /* a failing sync: every waiter it covered hears O2P_EIO and why */
    notified bad[3];
    memset(bad, 0, sizeof bad);
    for (int i = 0; i < 3; i++)
        CHECK_OK(wal_append_start(w, WAL_DATA, NULL, 0, "lost", 4, &bad[i].wt.lsn, &err));
    f = (faults){WAL_OP_SYNC, 5 /* EIO */};
    ns.calls = 0;
    notify_all(w, bad, 3, &ns);
    CHECK_INT(wait_notes(&ns, 3), 3);
    for (int i = 0; i < 3; i++) {
        CHECK_INT(bad[i].rc, O2P_EIO);
        CHECK_MSG(strstr(bad[i].why, "cannot sync") != NULL, "why: %s", bad[i].why);
    }

    /* the disk recovers; a later successful sync does not make the failed
     * records durable after the fact */
    f = (faults){0, 0};
    notified ok;
    memset(&ok, 0, sizeof ok);
    CHECK_OK(wal_append_start(w, WAL_DATA, NULL, 0, "again", 5, &ok.wt.lsn, &err));
    ns.calls = 0;
    notify_all(w, &ok, 1, &ns);
    CHECK_INT(wait_notes(&ns, 1), 1);
    CHECK_INT(ok.rc, O2P_OK);
    CHECK(ok.wt.lsn > bad[2].wt.lsn);
    for (int i = 0; i < 3; i++) CHECK_INT(wal_wait_durable(w, bad[i].wt.lsn, &err), O2P_EIO);
    CHECK_OK(wal_wait_durable(w, n[0].wt.lsn, &err));

    for (int i = 0; i < 20; i++) wal_release(w, n[i].wt.lsn);
    for (int i = 0; i < 3; i++) wal_release(w, bad[i].wt.lsn);
    wal_release(w, ok.wt.lsn);
    wal_close(w);
}

/* Callbacks from the syncer itself and from the completion thread: each
 * waiter once, in the order queued, never two at once. */
typedef struct order_log {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    uint64_t last;
    int calls, inside, bad, overlap;
} order_log;

typedef struct ordered {
    wal_waiter wt; /* first: the callback gets it */
    order_log *log;
} ordered;

static void order_done(wal_waiter *wt, int rc, const char *why)
{
    (void)why;
    order_log *l = ((ordered *)wt)->log;
    pthread_mutex_lock(&l->lock);
    l->overlap += l->inside;
    l->inside = 1;
    l->bad += rc != O2P_OK || wt->lsn <= l->last;
    l->last = wt->lsn;
    pthread_mutex_unlock(&l->lock);
    sched_yield(); /* a second caller, if there were one, would overlap here */
    pthread_mutex_lock(&l->lock);
    l->inside = 0;
    l->calls++;
    pthread_cond_broadcast(&l->cond);
    pthread_mutex_unlock(&l->lock);
}

TEST(wal_syncer_callbacks_run_in_order_one_at_a_time)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    wal *w = open_wal(dir, 0, 0);
    o2p_error err;
    enum { N = 300 };
    static ordered o[N];
    order_log l = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0, 0, 0, 0, 0};
    char body[4096];
    memset(body, 'o', sizeof body);
    /* queued faster than synced: some are called back by the syncer, the
     * rest by the completion thread while the next sync runs */
    for (int i = 0; i < N; i++) {
        o[i].log = &l;
        o[i].wt.done = order_done;
        CHECK_OK(wal_append_start(w, WAL_DATA, NULL, 0, body, sizeof body, &o[i].wt.lsn, &err));
        CHECK_OK(wal_notify_durable(w, &o[i].wt));
    }
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += 60;
    pthread_mutex_lock(&l.lock);
    while (l.calls < N)
        if (pthread_cond_timedwait(&l.cond, &l.lock, &until) != 0) break;
    pthread_mutex_unlock(&l.lock);
    CHECK_INT(l.calls, N);
    CHECK_INT(l.bad, 0);
    CHECK_INT(l.overlap, 0);
    for (int i = 0; i < N; i++) wal_release(w, o[i].wt.lsn);
    wal_close(w);
}

TEST(wal_syncer_only_with_sync_always)
{
    char dir[512];
    wal_dir_path(dir, sizeof dir, "wal");
    wal_config c;
    wal_config_default(&c);
    c.dir = dir;
    c.sync_always = 0;
    c.sync_interval_ms = 10;
    wal *w;
    o2p_error err;
    CHECK_OK(wal_open(&w, &c, &err));
    notified n;
    memset(&n, 0, sizeof n);
    CHECK_OK(wal_append_start(w, WAL_DATA, NULL, 0, "timer", 5, &n.wt.lsn, &err));
    n.wt.done = note_done;
    CHECK_INT(wal_notify_durable(w, &n.wt), O2P_ESTATE);
    CHECK_OK(wal_wait_durable(w, n.wt.lsn, &err));
    wal_release(w, n.wt.lsn);
    wal_close(w);
}
