/* Unit tests for WAL segment recycling (src/wal/wal.c, recycle): a released
 * segment is kept as free-<seq>.tmp and reused by the next roll; replay of
 * a reused file returns only its new records (the older ones after the end
 * mark are never read, not even past a torn record); a free-marked segment
 * found at open holds nothing and stale free files are deleted; a failed
 * recycle falls back to deleting the segment; at most four are kept and
 * close deletes them. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "wal/wal.h"
#include "unit.h"

#define SEG   4096u /* two 1,500-byte records per segment */
#define BIG   1500u
#define FRESH "fresh record"

typedef struct replayed {
    int n;
    int big; /* 1,500-byte records among them */
    uint64_t last_lsn;
    char last[32];
} replayed;

static int note(void *ctx, const wal_record *rec)
{
    replayed *r = ctx;
    r->n++;
    if (rec->len == BIG) r->big++;
    r->last_lsn = rec->lsn;
    size_t n = rec->len < sizeof r->last - 1 ? rec->len : sizeof r->last - 1;
    memcpy(r->last, rec->payload, n);
    r->last[n] = '\0';
    return 0;
}

static int fail_recycle(void *ctx, wal_op op)
{
    (void)ctx;
    return op == WAL_OP_RECYCLE ? EIO : 0;
}

static wal *open_recycle_wal(const char *dir, uint64_t max_bytes, int fail)
{
    wal_config c;
    wal_config_default(&c);
    c.dir = dir;
    c.segment_bytes = SEG;
    if (max_bytes) c.max_bytes = max_bytes;
    if (fail) c.fault = fail_recycle;
    wal *w = NULL;
    o2p_error err;
    int rc = wal_open(&w, &c, &err);
    CHECK_MSG(rc == 0, "wal_open: %s", err.msg);
    return w;
}

/* Files in dir whose name starts with prefix. */
static int count_files(const char *dir, const char *prefix)
{
    DIR *d = opendir(dir);
    if (d == NULL) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strncmp(e->d_name, prefix, strlen(prefix)) == 0) n++;
    closedir(d);
    return n;
}

static void recycle_dir(char *out, size_t cap)
{
    snprintf(out, cap, "%s/wal", unit_tmpdir());
}

#define SMALL 200u /* fifteen per segment */

/* Opens the log in dir as a restart would, replays it into *r and returns
 * its stats in *st. */
static void replay_dir(const char *dir, replayed *r, wal_stats *st)
{
    o2p_error err;
    wal *w = open_recycle_wal(dir, 0, 0);
    memset(r, 0, sizeof *r);
    CHECK_OK(wal_replay(w, note, r, &err));
    wal_get_stats(w, st);
    wal_close(w);
}

/* n DATA records of len bytes of `fill`; their LSNs in lsns (unless NULL),
 * the last one returned. */
static uint64_t append_records(wal *w, size_t len, char fill, int n, uint64_t *lsns)
{
    o2p_error err;
    char body[BIG];
    memset(body, fill, sizeof body);
    uint64_t lsn = 0;
    for (int i = 0; i < n; i++) {
        CHECK_OK(wal_append(w, WAL_DATA, NULL, 0, body, len, &lsn, &err));
        if (lsns) lsns[i] = lsn;
    }
    return lsn;
}

/* Fifteen small records (the first segment) and four big ones (the second
 * and third), then the first segment released: it is kept. */
static void fill_and_release_first(wal *w, const char *dir)
{
    uint64_t small[15];
    append_records(w, SMALL, 's', 15, small);
    CHECK_INT(count_files(dir, "wal-"), 1);
    append_records(w, BIG, 'b', 4, NULL);
    CHECK_INT(count_files(dir, "wal-"), 3);
    for (int i = 0; i < 15; i++) wal_release(w, small[i]);
}

/* A fifth big record: it rolls into a fourth segment, the first one's file
 * when it was kept.  Past the big record that file still holds small
 * records, valid but older.  Returns its LSN. */
static uint64_t roll_once_more(wal *w)
{
    return append_records(w, BIG, 'b', 1, NULL);
}

static uint64_t reuse_first_segment(wal *w, const char *dir)
{
    fill_and_release_first(w, dir);
    return roll_once_more(w);
}

TEST(wal_released_segment_is_reused_and_replays_only_new_records)
{
    char dir[512];
    recycle_dir(dir, sizeof dir);
    wal *w = open_recycle_wal(dir, 0, 0);
    fill_and_release_first(w, dir);
    /* the first segment is kept, not deleted */
    CHECK_INT(count_files(dir, "wal-"), 2);
    CHECK_INT(count_files(dir, "free-"), 1);
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.recycled_bytes, SEG);
    /* the next roll takes it */
    uint64_t last = roll_once_more(w);
    wal_get_stats(w, &st);
    CHECK_UINT(st.recycled_rolls, 1);
    CHECK_UINT(st.alloc_rolls, 3);
    CHECK_UINT(st.recycled_bytes, 0);
    CHECK_INT(count_files(dir, "free-"), 0);
    CHECK_INT(count_files(dir, "wal-"), 3);
    wal_close(w);
    /* replay returns the five big records, none of the small ones the
     * reused file still holds, and no torn or corrupt record */
    replayed r;
    replay_dir(dir, &r, &st);
    CHECK_INT(r.n, 5);
    CHECK_INT(r.big, 5);
    CHECK_UINT(r.last_lsn, last);
    CHECK_UINT(st.torn_tails, 0);
    CHECK_UINT(st.corrupt_records, 0);
}

/* The reused segment's name: the highest wal-*.log in dir. */
static void newest_segment(const char *dir, char *out, size_t cap)
{
    DIR *d = opendir(dir);
    CHECK(d != NULL);
    char best[256] = "";
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        if (strncmp(e->d_name, "wal-", 4) == 0 && strcmp(e->d_name, best) > 0)
            snprintf(best, sizeof best, "%s", e->d_name);
    if (d) closedir(d);
    snprintf(out, cap, "%s/%s", dir, best);
}

TEST(wal_torn_record_in_a_reused_segment_does_not_bring_back_old_ones)
{
    char dir[512];
    recycle_dir(dir, sizeof dir);
    wal *w = open_recycle_wal(dir, 0, 0);
    reuse_first_segment(w, dir);
    wal_close(w);
    /* the reused file's big record never fully reached the disk */
    char seg[600];
    newest_segment(dir, seg, sizeof seg);
    int fd = open(seg, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "XXXX", 4, 32 + 24 + 700) == 4);
    close(fd);
    replayed r;
    wal_stats st;
    replay_dir(dir, &r, &st);
    CHECK_INT(r.n, 4); /* the four big ones before; not the torn one, no small one */
    CHECK_INT(r.big, 4);
    CHECK_UINT(st.torn_tails, 1);
    CHECK_UINT(st.corrupt_records, 0);
}

TEST(wal_free_marked_segment_and_free_files_hold_nothing_at_open)
{
    char dir[512];
    recycle_dir(dir, sizeof dir);
    wal *w = open_recycle_wal(dir, 0, 0);
    append_records(w, BIG, 'b', 2, NULL);
    wal_close(w);
    /* a crash between recycling's rename to the next segment name and the
     * new header reaching the disk: the name, the free mark, old records */
    char path[600];
    snprintf(path, sizeof path, "%s/wal-0000000000000001.log", dir);
    int fd = open(path, O_WRONLY);
    CHECK(fd >= 0);
    CHECK(pwrite(fd, "O2PWALFR", 8, 0) == 8);
    close(fd);
    snprintf(path, sizeof path, "%s/free-0000000000000007.tmp", dir);
    fd = open(path, O_WRONLY | O_CREAT, 0644);
    CHECK(fd >= 0);
    close(fd);
    w = open_recycle_wal(dir, 0, 0);
    replayed r;
    memset(&r, 0, sizeof r);
    o2p_error err;
    CHECK_OK(wal_replay(w, note, &r, &err));
    CHECK_INT(r.n, 0);
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.corrupt_records, 0);
    CHECK_INT(count_files(dir, "free-"), 0);
    wal_close(w);
}

TEST(wal_failed_recycle_deletes_the_segment)
{
    char dir[512];
    recycle_dir(dir, sizeof dir);
    wal *w = open_recycle_wal(dir, 0, 1);
    reuse_first_segment(w, dir);
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.recycled_rolls, 0);
    CHECK_UINT(st.alloc_rolls, 4);
    CHECK_UINT(st.recycled_bytes, 0);
    CHECK_INT(count_files(dir, "free-"), 0);
    CHECK_INT(count_files(dir, "wal-"), 3);
    wal_close(w);
}

TEST(wal_at_most_four_recycled_segments_are_kept)
{
    char dir[512];
    recycle_dir(dir, sizeof dir);
    wal *w = open_recycle_wal(dir, 0, 0);
    uint64_t lsn[12];
    append_records(w, BIG, 'b', 12, lsn);
    CHECK_INT(count_files(dir, "wal-"), 6);
    for (int i = 0; i < 10; i++) wal_release(w, lsn[i]);
    wal_stats st;
    wal_get_stats(w, &st);
    CHECK_UINT(st.recycled_bytes, 4 * SEG);
    CHECK_UINT(st.bytes, SEG);
    CHECK_INT(count_files(dir, "free-"), 4);
    CHECK_INT(count_files(dir, "wal-"), 1);
    wal_close(w);
    CHECK_INT(count_files(dir, "free-"), 0);
}
