/* Unit tests for the WAL's spare segment (src/wal/wal.c, "the spare
 * segment"): a roll takes the prepared, zero-filled spare; without a spare
 * (disabled, or its preparation failed) a roll allocates as before; a stale
 * spare is deleted at open; the spare counts against max_bytes; a segment
 * that came from a spare replays like any other (its zero tail is neither
 * torn nor corrupt).  The tests wait for the spare thread by polling the
 * stats with a generous deadline, never by sleeping a fixed time. */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/error.h"
#include "wal/wal.h"
#include "unit.h"

#define WAIT_SECS 60

static void spare_dir(char *out, size_t cap)
{
    snprintf(out, cap, "%s/wal", unit_tmpdir());
}

static wal *open_spare_wal(const char *dir, uint64_t segment_bytes, uint64_t max_bytes, int spare)
{
    wal_config c;
    wal_config_default(&c);
    c.dir = dir;
    c.segment_bytes = segment_bytes;
    if (max_bytes) c.max_bytes = max_bytes;
    c.spare = spare;
    wal *w = NULL;
    o2p_error err;
    int rc = wal_open(&w, &c, &err);
    CHECK_MSG(rc == 0, "wal_open: %s", err.msg);
    return w;
}

static int file_exists(const char *dir, const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    struct stat st;
    return stat(p, &st) == 0;
}

static void nap(void)
{
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
}

/* Polls until the spare is ready (1) or the deadline passes (0). */
static int wait_spare_ready(wal *w)
{
    time_t end = time(NULL) + WAIT_SECS;
    for (;;) {
        wal_stats st;
        wal_get_stats(w, &st);
        if (st.spare_ready) return 1;
        if (time(NULL) > end) return 0;
        nap();
    }
}

/* Appends 1,000-byte DATA records "record <i>" (i from n on) until the WAL
 * has `segments` segments; returns the new count (LSNs in lsn). */
static int append_until_segments(wal *w, uint64_t *lsn, int n, int cap, uint64_t segments)
{
    char body[1000];
    memset(body, 'r', sizeof body);
    o2p_error err;
    for (;;) {
        wal_stats st;
        wal_get_stats(w, &st);
        if (st.segments >= segments || n == cap) return n;
        snprintf(body, sizeof body, "record %d", n);
        CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &lsn[n], &err));
        n++;
    }
}

typedef struct replayed {
    int n;
    int bad_payload;
} replayed;

static int count_replayed(void *ctx, const wal_record *rec)
{
    replayed *r = ctx;
    char want[32];
    snprintf(want, sizeof want, "record %d", r->n);
    if (rec->len != 1000 || strncmp((const char *)rec->payload, want, strlen(want)) != 0)
        r->bad_payload++;
    r->n++;
    return 0;
}

TEST(wal_spare_roll_takes_the_prepared_spare_and_replays)
{
    char dir[512];
    spare_dir(dir, sizeof dir);
    o2p_error err;
    wal *w = open_spare_wal(dir, 64 * 1024, 0, 1);
    /* the spare thread prepares one before anything is written */
    CHECK(wait_spare_ready(w));
    CHECK(file_exists(dir, "spare.tmp"));
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.spare_bytes, 64 * 1024);
    CHECK_UINT(st.segments, 0);
    /* the first segment is the spare, renamed */
    uint64_t lsn[400];
    int n = append_until_segments(w, lsn, 0, 400, 1);
    CHECK(n >= 1);
    wal_get_stats(w, &st);
    CHECK_UINT(st.spare_rolls, 1);
    CHECK_UINT(st.alloc_rolls, 0);
    CHECK(file_exists(dir, "wal-0000000000000001.log"));
    /* the next spare is prepared; the second segment comes from it too */
    CHECK(wait_spare_ready(w));
    n = append_until_segments(w, lsn, n, 400, 2);
    wal_get_stats(w, &st);
    CHECK_UINT(st.spare_rolls, 2);
    CHECK_UINT(st.partial_rolls + st.alloc_rolls, 0);
    CHECK_UINT(st.bytes, 2 * 64 * 1024);
    wal_close(w); /* records referenced: the segments stay, the spare goes */
    CHECK(!file_exists(dir, "spare.tmp"));

    /* replay: every record, no torn tail, nothing corrupt (the rest of each
     * segment is the spare's zeros) */
    w = open_spare_wal(dir, 64 * 1024, 0, 0);
    replayed r = {0, 0};
    CHECK_OK(wal_replay(w, count_replayed, &r, &err));
    CHECK_INT(r.n, n);
    CHECK_INT(r.bad_payload, 0);
    wal_get_stats(w, &st);
    CHECK_UINT(st.torn_tails, 0);
    CHECK_UINT(st.corrupt_records, 0);
    CHECK_UINT(st.replay_records, (uint64_t)n);
    wal_close(w);
}

TEST(wal_spare_disabled_rolls_allocate)
{
    char dir[512];
    spare_dir(dir, sizeof dir);
    wal *w = open_spare_wal(dir, 16 * 1024, 0, 0);
    uint64_t lsn[100];
    int n = append_until_segments(w, lsn, 0, 100, 3);
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.alloc_rolls, 3);
    CHECK_UINT(st.spare_rolls + st.partial_rolls, 0);
    CHECK_UINT(st.spare_bytes, 0);
    CHECK(!file_exists(dir, "spare.tmp"));
    for (int i = 0; i < n; i++) wal_release(w, lsn[i]);
    wal_close(w);
}

TEST(wal_spare_stale_file_is_deleted_at_open)
{
    char dir[512];
    spare_dir(dir, sizeof dir);
    wal *w = open_spare_wal(dir, 16 * 1024, 0, 0);
    wal_close(w);
    char p[600];
    snprintf(p, sizeof p, "%s/spare.tmp", dir);
    FILE *f = fopen(p, "w");
    CHECK(f != NULL);
    fputs("left over by a crash: not zeros", f);
    fclose(f);
    w = open_spare_wal(dir, 16 * 1024, 0, 0);
    CHECK(!file_exists(dir, "spare.tmp"));
    /* and it is not taken for a segment: replay finds nothing */
    replayed r = {0, 0};
    o2p_error err;
    CHECK_OK(wal_replay(w, count_replayed, &r, &err));
    CHECK_INT(r.n, 0);
    wal_close(w);
}

static atomic_int spare_faults;

static int fail_spare(void *ctx, wal_op op)
{
    (void)ctx;
    if (op == WAL_OP_SPARE && atomic_load(&spare_faults) > 0) {
        atomic_fetch_sub(&spare_faults, 1);
        return ENOSPC;
    }
    return 0;
}

TEST(wal_spare_failure_falls_back_and_retries_after_a_deletion)
{
    char dir[512];
    spare_dir(dir, sizeof dir);
    atomic_store(&spare_faults, 1);
    wal_config c;
    wal_config_default(&c);
    c.dir = dir;
    c.segment_bytes = 16 * 1024;
    c.spare = 1;
    c.fault = fail_spare;
    wal *w;
    o2p_error err;
    CHECK_OK(wal_open(&w, &c, &err));
    /* the first preparation fails (disk full): counted, and it is not retried
     * until a segment is deleted */
    time_t end = time(NULL) + WAIT_SECS;
    wal_stats st;
    for (;;) {
        wal_get_stats(w, &st);
        if (st.spare_failures == 1 || time(NULL) > end) break;
        nap();
    }
    CHECK_UINT(st.spare_failures, 1);
    /* requests are not affected: the roll allocates */
    uint64_t lsn[100];
    int n = append_until_segments(w, lsn, 0, 100, 2);
    wal_get_stats(w, &st);
    CHECK_UINT(st.alloc_rolls, 2);
    CHECK_UINT(st.spare_rolls + st.partial_rolls, 0);
    CHECK_UINT(st.spare_bytes, 0);
    char why[256];
    wal_failure(w, why, sizeof why);
    CHECK_STR(why, ""); /* not a failure of the log */
    /* releasing the first segment's records deletes it: the spare is retried */
    for (int i = 0; i < n; i++) wal_release(w, lsn[i]);
    CHECK(wait_spare_ready(w));
    wal_get_stats(w, &st);
    CHECK_UINT(st.spare_failures, 1);
    wal_close(w);
}

TEST(wal_spare_counts_against_max_bytes)
{
    char dir[512];
    spare_dir(dir, sizeof dir);
    o2p_error err;
    /* room for two 4 KiB files: a segment and the spare */
    wal *w = open_spare_wal(dir, 4096, 8192, 1);
    char body[3000];
    memset(body, 'm', sizeof body);
    uint64_t a, b, c;
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &a, &err));
    CHECK(wait_spare_ready(w));
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.bytes + st.spare_bytes, 8192);
    /* the second segment is the spare; no room for a third file */
    uint64_t taken = st.spare_rolls;
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &b, &err));
    wal_get_stats(w, &st);
    CHECK_UINT(st.spare_rolls - taken, 1);
    CHECK_UINT(st.spare_bytes, 0);
    CHECK_INT(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &c, &err), O2P_EBUSY);
    CHECK(strstr(err.msg, "durability.max_bytes") != NULL);
    wal_get_stats(w, &st);
    CHECK_UINT(st.spare_bytes, 0);
    CHECK(!file_exists(dir, "spare.tmp"));
    /* storing a's rows frees its segment: room again */
    wal_release(w, a);
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, sizeof body, &c, &err));
    wal_release(w, b);
    wal_release(w, c);
    wal_close(w);
}

TEST(wal_spare_zero_tail_scans_clean)
{
    /* a segment image: header, one record, then zeros to the end (what a
     * roll leaves in a zero-filled spare); byte layout as in wal.h */
    o2p_error err;
    char dir[512];
    spare_dir(dir, sizeof dir);
    wal *w = open_spare_wal(dir, 8192, 0, 1);
    CHECK(wait_spare_ready(w));
    uint64_t lsn;
    CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, "only one", 8, &lsn, &err));
    wal_close(w);
    char p[600];
    snprintf(p, sizeof p, "%s/wal-0000000000000001.log", dir);
    static uint8_t img[8192];
    int fd = open(p, O_RDONLY);
    CHECK(fd >= 0);
    CHECK_INT((int)read(fd, img, sizeof img), 8192);
    close(fd);
    wal_scan_result res;
    CHECK_OK(wal_scan_buffer(img, sizeof img, NULL, NULL, &res, &err));
    CHECK_UINT(res.records, 1);
    CHECK_UINT(res.torn, 0);
    CHECK_UINT(res.corrupt, 0);
    CHECK_UINT(res.first_bad, UINT64_MAX);
    for (size_t i = res.end; i < sizeof img; i++) CHECK_INT(img[i], 0);
}
