/*
 * wal: segment files, group commit, reference counting and the segment
 * scanner (see wal.h for the contract and the on-disk format).
 *
 * One mutex guards the segment list, the write position and the counters.
 * Records are written (pwritev into the page cache) under the lock, so LSN
 * order is file order.  Durability is tracked by a watermark, synced_lsn
 * (every record up to it is on disk), and by the LSN ranges that a failed
 * write or sync hit (never acknowledged, even once a later sync moves the
 * watermark past them).  A failed write or sync abandons the active
 * segment; the next append starts a new one, so a half-written record can
 * only be a torn tail.
 *
 * Syncer (sync = always): wal_notify_durable queues a waiter instead of
 * blocking its thread.  One thread takes every queued waiter, runs one
 * fdatasync (or waits for the one running) covering everything written so
 * far, and calls the settled waiters back itself while no other waiter is
 * queued; once one is, it hands the rest to a second thread that calls them
 * back, so the next sync starts at once instead of after the callbacks;
 * while it syncs, new waiters queue for the next sync, so the merge grows
 * with the load.
 *
 * Spare (cfg.spare): a third thread keeps one spare segment file, reserved
 * with posix_fallocate and then overwritten with zeros in SPARE_CHUNK
 * writes (an fdatasync every SPARE_SYNC_EVERY bytes and at the end), never
 * holding the lock during its I/O.  spare_busy is set while it is inside
 * one of those writes: a roll waits for that (one chunk at most, never the
 * whole fill) and then renames the file, taking it as it is.  A failed
 * preparation (disk full) is logged once and retried after the next
 * segment deletion.
 *
 * Recycling (without a spare): delete_released keeps up to WAL_FREE_MAX
 * released segments as free-<seq>.tmp (recycle), and a roll takes one
 * before it allocates (take_recycled).
 */
#include "wal/wal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <libdeflate.h>
#include <zlib.h>

#include "core/clock.h"
#include "core/le.h"
#include "core/log.h"
#include "core/mem.h"

#define SEG_MAGIC        "O2PWALSG"
#define SEG_FREE_MAGIC   "O2PWALFR" /* a released segment kept for reuse (recycled) */
#define SEG_VERSION      2u         /* 2: may be a recycled file (older records follow) */
#define SEG_HEADER       32u
#define REC_MAGIC        0x4F32574Cu
#define REC_HEADER       24u
#define SEG_NAME_MAX     32
#define FAILURE_MAX      320
#define BAD_RANGES       8 /* failed LSN ranges remembered (older ones long answered) */
#define SPARE_NAME       "spare.tmp"
#define FREE_PREFIX      "free-"    /* recycled segments: free-<seq as 16 hex>.tmp */
#define WAL_FREE_MAX     4          /* recycled segments kept at most */
#define SPARE_CHUNK      (1u << 20) /* zeros per write */
#define SPARE_SYNC_EVERY (8u << 20) /* fdatasync while filling, so writeback is spread */

enum { SPARE_NONE = 0, SPARE_FILLING = 1, SPARE_READY = 2 };

const double WAL_SYNC_BUCKETS_S[WAL_SYNC_BUCKET_COUNT] = {0.0005, 0.001, 0.0025, 0.005, 0.01,
                                                          0.025,  0.05,  0.1,    0.25,  1.0};

/* LSNs lo+1 .. hi. */
typedef struct lsn_range {
    uint64_t lo, hi;
} lsn_range;

typedef struct wal_seg {
    uint64_t seq;
    uint64_t first_lsn; /* lowest LSN it may hold */
    uint64_t last_lsn;  /* highest LSN written (0: none) */
    uint64_t size;      /* bytes on disk (preallocated) */
    int64_t refs;       /* outstanding references of its DATA records */
    uint8_t *map;       /* segments found at open: read-only mapping */
    size_t map_len;
    char name[SEG_NAME_MAX];
} wal_seg;

struct wal {
    wal_config cfg;
    char *dir;
    int dirfd;
    int lockfd;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* sync progress, timer wake-ups */
    wal_seg *segs;     /* by sequence number; the last is active when active_fd >= 0 */
    size_t nsegs;
    size_t cap;
    int active_fd;
    uint64_t active_off;
    int prev_fd;   /* the segment a roll sealed, until the next sync has synced it (-1) */
    int dir_dirty; /* a roll's new segment name is not synced yet */
    int deleting;  /* a thread is deleting released segments (delete_released) */
    uint64_t next_lsn;
    uint64_t next_seq;
    uint64_t written_lsn;
    uint64_t synced_lsn;
    lsn_range bad[BAD_RANGES]; /* ring of failed ranges, the newest at nbad - 1 */
    unsigned nbad;
    int syncing;
    /* syncer: waiters in arrival order, its thread and wake-up */
    wal_waiter *wait_head, *wait_tail;
    pthread_cond_t syncer_cv;
    pthread_t syncer;
    int syncer_started;
    /* completer: settled waiters to call back, its thread and wake-up */
    wal_waiter *done_head, *done_tail;
    pthread_cond_t done_cv;
    pthread_t completer;
    int completer_started;
    int completing; /* the completer is calling a list back */
    int syncer_exited;
    char last_error[FAILURE_MAX]; /* the latest failure (not cleared on recovery) */
    int replaying;                /* old segments are not deleted until wal_replay_done */
    size_t num_old;
    char failure[FAILURE_MAX];
    wal_stats stats;
    pthread_t timer;
    int timer_started;
    int stopping;
    /* spare segment: state, size, its thread and wake-up */
    int spare_state;       /* SPARE_NONE, _FILLING (the thread owns it), _READY */
    int spare_busy;        /* the spare thread is in a write/allocation */
    int roll_waiting;      /* rolls waiting on w->cv for spare_busy to clear */
    int spare_taken;       /* a roll took or dropped the file while it was filling */
    int spare_blocked;     /* the last preparation failed: wait for a deletion */
    int spare_warned;      /* its failure was logged */
    uint64_t spare_size;   /* size of the spare being prepared or ready */
    uint64_t spare_filled; /* bytes zero-written so far */
    pthread_cond_t spare_cv;
    pthread_t spare_thread;
    int spare_started;
    uint64_t free_seqs[WAL_FREE_MAX]; /* recycled segments (recycle), by their old seq */
    unsigned nfree;
};

/* ---- record layout ---- */

static uint64_t align8(uint64_t n)
{
    return (n + 7) & ~(uint64_t)7;
}

void wal_config_default(wal_config *c)
{
    memset(c, 0, sizeof *c);
    c->sync_always = 1;
    c->sync_interval_ms = 100;
    c->max_bytes = 4ULL << 30;
    c->segment_bytes = 64ULL << 20;
    c->spare = 0; /* measured: no win on the shared test VM (docs/performance.md) */
}

/* ---- scanner ---- */

/* The CRC-32 of zlib and gzip, computed by libdeflate (several times
 * faster than zlib's crc32 on a request body: ~10 against ~56 µs per
 * 272 KB here; same values, so the format is unchanged). */
static uint32_t record_crc(const uint8_t *hdr, const uint8_t *payload, size_t len)
{
    uint32_t crc = libdeflate_crc32(0, hdr + 8, 12); /* LSN, type, padding */
    return libdeflate_crc32(crc, payload, len);
}

/* A complete, intact record at pos with an LSN of at least min_lsn (older
 * ones are what a recycled file held before)?  Sets *plen. */
static int record_valid(const uint8_t *data, size_t len, uint64_t pos, uint64_t min_lsn,
                        uint32_t *plen)
{
    if (pos > len || len - pos < REC_HEADER) return 0;
    const uint8_t *h = data + pos;
    if (le_get32(h) != REC_MAGIC) return 0;
    uint32_t n = le_get32(h + 4);
    if (le_get64(h + 8) < min_lsn) return 0;
    if (h[16] != WAL_DATA && h[16] != WAL_INTENT && h[16] != WAL_CANCEL) return 0;
    if (h[17] != 0 || h[18] != 0 || h[19] != 0) return 0;
    if ((uint64_t)n > len - pos - REC_HEADER) return 0;
    if (record_crc(h, h + REC_HEADER, n) != le_get32(h + 20)) return 0;
    *plen = n;
    return 1;
}

static int all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0) return 0;
    return 1;
}

int wal_scan_buffer(const uint8_t *data, size_t len, wal_visit_fn fn, void *ctx,
                    wal_scan_result *res, o2p_error *err)
{
    memset(res, 0, sizeof *res);
    res->first_bad = UINT64_MAX;
    res->torn_at = UINT64_MAX;
    res->end = SEG_HEADER;
    if (len < SEG_HEADER || memcmp(data, SEG_MAGIC, 8) != 0)
        return o2p_errorf(err, O2P_EINVAL, "not a WAL segment (bad magic)");
    if (le_get32(data + 8) != 1 && le_get32(data + 8) != SEG_VERSION)
        return o2p_errorf(err, O2P_EINVAL, "unsupported WAL segment version %u",
                          (unsigned)le_get32(data + 8));
    if (le_get32(data + 12) != SEG_HEADER)
        return o2p_errorf(err, O2P_EINVAL, "bad WAL segment header length %u",
                          (unsigned)le_get32(data + 12));
    res->first_lsn = le_get64(data + 16);
    res->seq = le_get64(data + 24);
    uint64_t pos = SEG_HEADER;
    while (pos < len && len - pos >= REC_HEADER) {
        uint32_t plen;
        /* LSNs rise in file order: an older one is a recycled file's past */
        uint64_t fresh = res->records ? res->last_lsn + 1 : res->first_lsn;
        if (!record_valid(data, len, pos, fresh, &plen)) {
            uint64_t q = pos + 8;
            while (q < len && !record_valid(data, len, q, fresh, &plen)) q += 8;
            if (q >= len) {
                /* nothing valid follows: the zeros after the last record (or
                 * preallocated ones), or a torn tail */
                if (!all_zero(data + pos, REC_HEADER)) {
                    res->torn++;
                    res->torn_at = pos;
                    if (res->first_bad == UINT64_MAX) res->first_bad = pos;
                }
                break;
            }
            res->corrupt++;
            if (res->first_bad == UINT64_MAX) res->first_bad = pos;
            pos = q;
        }
        const uint8_t *h = data + pos;
        wal_record rec = {.lsn = le_get64(h + 8),
                          .type = (wal_record_type)h[16],
                          .payload = h + REC_HEADER,
                          .len = plen,
                          .segment = NULL,
                          .offset = pos};
        res->records++;
        if (rec.lsn > res->last_lsn) res->last_lsn = rec.lsn;
        pos += align8((uint64_t)REC_HEADER + plen);
        if (pos > len) pos = len;
        res->end = pos;
        if (fn != NULL) {
            int rc = fn(ctx, &rec);
            if (rc != 0) return rc;
        }
    }
    /* a torn tail that is shorter than a record header */
    if (pos < len && len - pos < REC_HEADER && !all_zero(data + pos, len - pos) && res->torn == 0) {
        res->torn++;
        res->torn_at = pos;
        if (res->first_bad == UINT64_MAX) res->first_bad = pos;
    }
    return O2P_OK;
}

/* ---- segments ---- */

static void free_name(char *out, uint64_t seq)
{
    snprintf(out, SEG_NAME_MAX, FREE_PREFIX "%016" PRIx64 ".tmp", seq);
}

static int fault(wal *w, wal_op op)
{
    return w->cfg.fault ? w->cfg.fault(w->cfg.fault_ctx, op) : 0;
}

static void set_failure(wal *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_failure(wal *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->failure, sizeof w->failure, fmt, ap);
    va_end(ap);
    memcpy(w->last_error, w->failure, sizeof w->last_error);
    w->stats.failing = 1;
    LOG_ERROR("wal: %s", w->failure);
}

static void clear_failure(wal *w)
{
    if (w->stats.failing) LOG_INFO("wal: %s is writable again", w->dir);
    w->failure[0] = '\0';
    w->stats.failing = 0;
}

static int push_seg(wal *w, const wal_seg *s)
{
    if (w->nsegs == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 16;
        wal_seg *segs = mem_realloc(w->segs, cap * sizeof *segs);
        if (segs == NULL) return O2P_ENOMEM;
        w->segs = segs;
        w->cap = cap;
    }
    w->segs[w->nsegs++] = *s;
    return O2P_OK;
}

/* The segment holding lsn, or NULL. */
static wal_seg *seg_of(wal *w, uint64_t lsn)
{
    for (size_t i = w->nsegs; i-- > 0;) {
        wal_seg *s = &w->segs[i];
        int active = w->active_fd >= 0 && i == w->nsegs - 1;
        if (lsn >= s->first_lsn && (active || lsn <= s->last_lsn)) return s;
    }
    return NULL;
}

/* Keeps a released segment for the next roll instead of deleting it:
 * writing over blocks a file already has makes each sync cheaper than
 * filling newly allocated ones (no extent to convert, so no journal commit:
 * 0.27 against 0.47 ms wall and 0.10 against 0.17 ms CPU per 278 KB
 * pwrite + fdatasync on ext4 here) and saves the allocation and the
 * deletion.  Its header is marked free and synced before it is renamed to
 * free-<seq>.tmp, so a crash never leaves a segment's name on records that
 * are stored; the records it still holds are older than the first LSN
 * its next header names, which is how a scan tells them from new ones.
 * 1 when kept (the caller syncs the directory); lock not held. */
static int recycle(wal *w, const wal_seg *gone)
{
    int fd = openat(w->dirfd, gone->name, O_RDWR | O_CLOEXEC);
    if (fd < 0) return 0;
    uint8_t hdr[SEG_HEADER];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, SEG_FREE_MAGIC, 8);
    char name[SEG_NAME_MAX];
    free_name(name, gone->seq);
    int ok = fault(w, WAL_OP_RECYCLE) == 0 &&
             pwrite(fd, hdr, sizeof hdr, 0) == (ssize_t)sizeof hdr && fdatasync(fd) == 0 &&
             renameat(w->dirfd, gone->name, w->dirfd, name) == 0;
    close(fd);
    return ok;
}

/* Renames the newest recycled segment to `name` and opens it, or returns
 * -1 (lock held). */
static int take_recycled(wal *w, uint64_t size, const char *name)
{
    if (w->nfree == 0 || size != w->cfg.segment_bytes) return -1;
    char from[SEG_NAME_MAX];
    free_name(from, w->free_seqs[--w->nfree]);
    w->stats.recycled_bytes -= size;
    int fd = -1;
    if (renameat(w->dirfd, from, w->dirfd, name) != 0) {
        LOG_WARN("wal: cannot rename %s/%s to %s: %s; allocating instead", w->dir, from, name,
                 strerror(errno));
        unlinkat(w->dirfd, from, 0);
    } else if ((fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC)) < 0) {
        LOG_WARN("wal: cannot open %s/%s: %s; allocating instead", w->dir, name, strerror(errno));
        unlinkat(w->dirfd, name, 0);
    } else {
        w->stats.recycled_rolls++;
    }
    return fd;
}

/* Deletes the recycled segments (lock held, closing). */
static void drop_recycled(wal *w)
{
    char name[SEG_NAME_MAX];
    while (w->nfree > 0) {
        free_name(name, w->free_seqs[--w->nfree]);
        unlinkat(w->dirfd, name, 0);
    }
    w->stats.recycled_bytes = 0;
}

/* Deletes released segments, oldest first, stopping at the first one still
 * needed.  Lock held; released while a file is unlinked and the directory
 * synced (freeing a segment's page cache takes milliseconds, which appends
 * and syncs need not wait for) except when closing.  One thread deletes at
 * a time (deleting), so deletions stay in order; one that finds another at
 * work leaves the segments it released to it. */
static void delete_released(wal *w, int closing)
{
    if (w->deleting) return;
    w->deleting = 1;
    while (w->nsegs > 0) {
        wal_seg *s = &w->segs[0];
        int active = w->active_fd >= 0 && w->nsegs == 1 && !closing;
        if (active || s->refs > 0 || (w->replaying && s->map != NULL)) break;
        if (w->active_fd >= 0 && w->nsegs == 1) {
            close(w->active_fd);
            w->active_fd = -1;
        }
        wal_seg gone = *s; /* out of the list first: nothing finds it any more */
        memmove(&w->segs[0], &w->segs[1], (w->nsegs - 1) * sizeof *w->segs);
        w->nsegs--;
        /* kept within max_bytes, without a spare thread (which makes them) */
        int reuse = !closing && !w->cfg.spare && w->nfree < WAL_FREE_MAX &&
                    gone.size == w->cfg.segment_bytes &&
                    w->stats.bytes + w->stats.recycled_bytes <= w->cfg.max_bytes; /* gone counted */
        if (!closing) pthread_mutex_unlock(&w->mu);
        if (gone.map != NULL) munmap(gone.map, gone.map_len);
        int kept = reuse && recycle(w, &gone);
        if (!kept && unlinkat(w->dirfd, gone.name, 0) != 0 && errno != ENOENT)
            LOG_WARN("wal: cannot delete %s/%s: %s", w->dir, gone.name, strerror(errno));
        fsync(w->dirfd); /* durable before a newer segment may go */
        if (!closing) pthread_mutex_lock(&w->mu);
        w->stats.bytes -= gone.size; /* counted until the file is gone */
        w->stats.segments--;
        if (kept) {
            w->free_seqs[w->nfree++] = gone.seq;
            w->stats.recycled_bytes += gone.size;
        }
        w->spare_blocked = 0; /* room again: a failed spare may be retried */
        pthread_cond_signal(&w->spare_cv);
    }
    w->deleting = 0;
}

/* Waits for a running sync to finish (lock held). */
static void wait_sync_idle(wal *w)
{
    while (w->syncing) pthread_cond_wait(&w->cv, &w->mu);
}

static void note_sync(wal *w, uint64_t ns)
{
    w->stats.syncs++;
    w->stats.sync_ns_sum += ns;
    double s = (double)ns / 1e9;
    for (int i = 0; i < WAL_SYNC_BUCKET_COUNT; i++)
        if (s <= WAL_SYNC_BUCKETS_S[i]) w->stats.sync_buckets[i]++;
}

/* Records synced_lsn+1 .. upto as failed (lock held).  Failures with no
 * successful sync between them extend one range. */
static void mark_bad(wal *w, uint64_t upto)
{
    if (upto <= w->synced_lsn) return;
    lsn_range *last = w->nbad ? &w->bad[(w->nbad - 1) % BAD_RANGES] : NULL;
    if (last && last->lo == w->synced_lsn) {
        if (upto > last->hi) last->hi = upto;
        return;
    }
    w->bad[w->nbad % BAD_RANGES] = (lsn_range){w->synced_lsn, upto};
    w->nbad++;
}

/* 1 durable, -1 hit by a failure (never acknowledged), 0 not yet synced.
 * Lock held. */
static int durable_state(const wal *w, uint64_t lsn)
{
    unsigned n = w->nbad < BAD_RANGES ? w->nbad : BAD_RANGES;
    for (unsigned i = 0; i < n; i++)
        if (lsn > w->bad[i].lo && lsn <= w->bad[i].hi) return -1;
    return lsn <= w->synced_lsn ? 1 : 0;
}

/* Gives up the active segment (and a sealed one not synced yet) after a
 * failure: records written and not synced are never acknowledged.  Lock
 * held, no sync running. */
static void abandon_active(wal *w)
{
    if (w->prev_fd < 0 && w->active_fd < 0) return;
    if (w->prev_fd >= 0) close(w->prev_fd);
    if (w->active_fd >= 0) close(w->active_fd);
    w->prev_fd = w->active_fd = -1;
    mark_bad(w, w->written_lsn);
}

/* Syncs and closes the active segment (lock held, no sync running). */
static int seal_active(wal *w, o2p_error *err)
{
    if (w->active_fd < 0) return O2P_OK;
    int rc = O2P_OK;
    if (w->written_lsn > w->synced_lsn) {
        uint64_t t0 = clock_mono_ns();
        int e = fault(w, WAL_OP_SYNC);
        if (e == 0 && fdatasync(w->active_fd) != 0) e = errno;
        if (e != 0) {
            set_failure(w, "cannot sync %s/%s: %s", w->dir, w->segs[w->nsegs - 1].name,
                        strerror(e));
            rc = o2p_errorf(err, O2P_EIO, "%s", w->failure);
        } else {
            note_sync(w, clock_mono_ns() - t0);
            w->synced_lsn = w->written_lsn;
        }
    }
    abandon_active(w);
    pthread_cond_broadcast(&w->cv);
    return rc;
}

/* Room at the end of each segment that only INTENT and CANCEL records may
 * use: when DATA has filled the log (max_bytes) or the disk, the flushes
 * that would free it still need to log their intents. */
static uint64_t seg_reserve(const wal *w)
{
    uint64_t r = w->cfg.segment_bytes / 8;
    return r > (1u << 20) ? (1u << 20) : r;
}

/* Drops the spare file (lock held, spare thread not busy): a roll that
 * cannot use it, or the budget needs its bytes.  A spare still filling is
 * closed and forgotten by its thread (spare_taken). */
static void drop_spare(wal *w)
{
    if (w->spare_state == SPARE_NONE) return;
    if (unlinkat(w->dirfd, SPARE_NAME, 0) != 0 && errno != ENOENT)
        LOG_WARN("wal: cannot delete %s/%s: %s", w->dir, SPARE_NAME, strerror(errno));
    if (w->spare_state == SPARE_FILLING) w->spare_taken = 1;
    w->spare_state = SPARE_NONE;
    w->stats.spare_bytes = 0;
    w->stats.spare_ready = 0;
}

/* Renames the spare to `name` and opens it, or returns -1 (lock held, the
 * spare thread not busy).  The spare thread then prepares the next one. */
static int take_spare(wal *w, uint64_t size, const char *name)
{
    if (w->spare_state == SPARE_NONE || w->spare_size != size) return -1;
    int full = w->spare_state == SPARE_READY;
    int fd = -1;
    if (renameat(w->dirfd, SPARE_NAME, w->dirfd, name) != 0) {
        LOG_WARN("wal: cannot rename %s/%s to %s: %s; allocating instead", w->dir, SPARE_NAME, name,
                 strerror(errno));
    } else {
        fd = openat(w->dirfd, name, O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            LOG_WARN("wal: cannot open %s/%s: %s; allocating instead", w->dir, name,
                     strerror(errno));
            unlinkat(w->dirfd, name, 0);
        }
    }
    if (w->spare_state == SPARE_FILLING) w->spare_taken = 1;
    w->spare_state = SPARE_NONE;
    w->stats.spare_bytes = 0;
    w->stats.spare_ready = 0;
    if (fd >= 0) {
        if (full)
            w->stats.spare_rolls++;
        else
            w->stats.partial_rolls++;
    }
    pthread_cond_signal(&w->spare_cv);
    return fd;
}

/* Creates a new active segment with room for `need` bytes (plus the
 * reserve) and seals the old one: from the spare when one of the right size
 * exists, else posix_fallocate.  When the new one cannot be made the old
 * one stays active, so its reserve still takes intents.  max_bytes bounds
 * DATA only (data = 1): an intent may take one segment more.  Returns
 * ROLL_AGAIN after waiting for a running sync or spare write (the lock was
 * released: the caller checks again whether a roll is needed).  Lock held. */
#define ROLL_AGAIN 1
static void sync_now(wal *w);
static int roll(wal *w, uint64_t need, int data, o2p_error *err)
{
    if (w->prev_fd >= 0 && !w->syncing) {
        sync_now(w); /* two rolls within one sync (a tiny segment size) */
        return ROLL_AGAIN;
    }
    if (w->prev_fd >= 0 || w->spare_busy) {
        w->roll_waiting++;
        pthread_cond_wait(&w->cv, &w->mu);
        w->roll_waiting--;
        return ROLL_AGAIN;
    }
    uint64_t size = w->cfg.segment_bytes;
    if (size < SEG_HEADER + need + seg_reserve(w)) size = SEG_HEADER + need + seg_reserve(w);
    int usable = w->spare_state != SPARE_NONE && w->spare_size == size;
    /* a record larger than a segment: the spare does not fit it; drop it
     * rather than keep its disk and budget (the thread makes a new one) */
    if (!usable) drop_spare(w);
    if (data && w->stats.bytes + size > w->cfg.max_bytes)
        return o2p_errorf(err, O2P_EBUSY,
                          "WAL full: %" PRIu64 " bytes in %" PRIu64
                          " segments in %s, limit %" PRIu64 " (durability.max_bytes); retry later",
                          w->stats.bytes, w->stats.segments, w->dir, w->cfg.max_bytes);
    wal_seg s;
    memset(&s, 0, sizeof s);
    s.seq = w->next_seq;
    s.first_lsn = w->next_lsn;
    s.size = size;
    snprintf(s.name, sizeof s.name, "wal-%016" PRIx64 ".log", s.seq);
    int e = fault(w, WAL_OP_ALLOC);
    int fd = -1;
    if (e == 0) fd = take_recycled(w, size, s.name);
    if (e == 0 && fd < 0) fd = take_spare(w, size, s.name);
    if (e == 0 && fd < 0) {
        fd = openat(w->dirfd, s.name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            e = errno;
            set_failure(w, "cannot create %s/%s: %s", w->dir, s.name, strerror(e));
            return o2p_errorf(err, O2P_EIO, "%s", w->failure);
        }
        e = posix_fallocate(fd, 0, (off_t)size);
        if (e == EOPNOTSUPP || e == EINVAL) e = ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
        if (e == 0) w->stats.alloc_rolls++;
    }
    uint8_t hdr[SEG_HEADER];
    memset(hdr, 0, sizeof hdr);
    memcpy(hdr, SEG_MAGIC, 8);
    le_put32(hdr + 8, SEG_VERSION);
    le_put32(hdr + 12, SEG_HEADER);
    le_put64(hdr + 16, s.first_lsn);
    le_put64(hdr + 24, s.seq);
    if (e == 0) e = fault(w, WAL_OP_WRITE);
    if (e == 0 && pwrite(fd, hdr, sizeof hdr, 0) != (ssize_t)sizeof hdr) e = errno ? errno : EIO;
    if (e != 0) {
        if (fd >= 0) {
            close(fd);
            unlinkat(w->dirfd, s.name, 0);
        }
        set_failure(w, "cannot prepare WAL segment %s/%s (%" PRIu64 " bytes): %s", w->dir, s.name,
                    size, strerror(e));
        return o2p_errorf(err, O2P_EIO, "%s", w->failure);
    }
    if (push_seg(w, &s) < 0) {
        close(fd);
        unlinkat(w->dirfd, s.name, 0);
        return o2p_errorf(err, O2P_ENOMEM, "out of memory adding a WAL segment");
    }
    /* The old segment's last records, the new header and the new name
     * become durable with the next sync, before any record written from
     * here on is acknowledged (sync_now), not on this request's path. */
    w->prev_fd = w->active_fd;
    w->dir_dirty = 1;
    w->next_seq++;
    w->active_fd = fd;
    w->active_off = SEG_HEADER;
    w->stats.bytes += size;
    w->stats.segments++;
    clear_failure(w);
    return O2P_OK;
}

/* ---- the spare segment ---- */

/* Whether the spare thread should prepare one now (lock held). */
static int spare_wanted(const wal *w)
{
    return w->spare_state == SPARE_NONE && !w->spare_blocked && !w->stopping &&
           w->stats.bytes + w->cfg.segment_bytes <= w->cfg.max_bytes;
}

/* A preparation failed with errno e (lock held): forget it, log once. */
static void spare_failed(wal *w, int e)
{
    unlinkat(w->dirfd, SPARE_NAME, 0);
    w->spare_state = SPARE_NONE;
    w->stats.spare_bytes = 0;
    w->stats.spare_ready = 0;
    w->stats.spare_failures++;
    w->spare_blocked = 1;
    if (!w->spare_warned)
        LOG_WARN("wal: cannot prepare the spare segment %s/%s (%" PRIu64 " bytes): %s; new "
                 "segments are allocated when needed, retried after a segment is deleted",
                 w->dir, SPARE_NAME, w->spare_size, strerror(e));
    w->spare_warned = 1;
}

/* Sets spare_busy (lock held) or clears it and wakes a waiting roll. */
static void spare_set_busy(wal *w, int busy)
{
    w->spare_busy = busy;
    if (!busy && w->roll_waiting) pthread_cond_broadcast(&w->cv);
}

/* Fills one spare; lock held on entry and exit, released for the I/O. */
static void spare_prepare(wal *w, const uint8_t *zeros)
{
    uint64_t size = w->cfg.segment_bytes;
    w->spare_state = SPARE_FILLING;
    w->spare_taken = 0;
    w->spare_size = size;
    w->spare_filled = 0;
    w->stats.spare_bytes = size;
    spare_set_busy(w, 1);
    pthread_mutex_unlock(&w->mu);
    int e = fault(w, WAL_OP_SPARE);
    int fd = -1;
    if (e == 0) {
        fd = openat(w->dirfd, SPARE_NAME, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) e = errno;
    }
    if (e == 0) {
        /* reserve the space first: a full disk fails here, not halfway */
        e = posix_fallocate(fd, 0, (off_t)size);
        if (e == EOPNOTSUPP || e == EINVAL) e = ftruncate(fd, (off_t)size) == 0 ? 0 : errno;
    }
    pthread_mutex_lock(&w->mu);
    spare_set_busy(w, 0);
    uint64_t unsynced = 0;
    while (e == 0 && !w->spare_taken && !w->stopping && w->spare_filled < size) {
        uint64_t off = w->spare_filled;
        size_t n = size - off < SPARE_CHUNK ? (size_t)(size - off) : SPARE_CHUNK;
        spare_set_busy(w, 1);
        pthread_mutex_unlock(&w->mu);
        ssize_t k = pwrite(fd, zeros, n, (off_t)off);
        if (k != (ssize_t)n) e = k < 0 ? errno : ENOSPC;
        pthread_mutex_lock(&w->mu);
        spare_set_busy(w, 0);
        if (e != 0) break;
        w->spare_filled += n;
        unsynced += n;
        int last = w->spare_filled == size;
        if (unsynced >= SPARE_SYNC_EVERY || last) {
            /* not busy: a roll may take the file meanwhile (a sync writes nothing) */
            unsynced = 0;
            pthread_mutex_unlock(&w->mu);
            if (fdatasync(fd) != 0) e = errno;
            pthread_mutex_lock(&w->mu);
        }
        if (e == 0 && last && !w->spare_taken && !w->stopping) {
            w->spare_state = SPARE_READY;
            w->stats.spare_ready = 1;
        }
    }
    if (!w->spare_taken && w->spare_state == SPARE_FILLING) {
        /* failed, or closing: nobody took it */
        if (e != 0)
            spare_failed(w, e);
        else
            drop_spare(w);
    }
    w->spare_taken = 0;
    if (fd >= 0) close(fd);
}

/* The spare thread: keeps one spare ready while there is budget for it.
 * Its I/O gets the idle priority (Linux ioprio_set; schedulers that ignore
 * priorities ignore it): the zeros yield to the syncs of the active segment,
 * and a spare that is late is taken as it is. */
static void *spare_main(void *arg)
{
    wal *w = arg;
#ifdef SYS_ioprio_set
    enum { IOPRIO_WHO_THREAD = 1, IOPRIO_IDLE = 3 << 13 }; /* class 3 (idle) << shift 13 */
    (void)syscall(SYS_ioprio_set, IOPRIO_WHO_THREAD, 0, IOPRIO_IDLE);
#endif
    uint8_t *zeros = mem_calloc(1, SPARE_CHUNK);
    pthread_mutex_lock(&w->mu);
    while (!w->stopping && zeros != NULL) {
        if (spare_wanted(w))
            spare_prepare(w, zeros);
        else
            pthread_cond_wait(&w->spare_cv, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    mem_free(zeros);
    return NULL;
}

/* ---- appends ---- */

int wal_append_start(wal *w, wal_record_type type, const void *head, size_t head_len,
                     const void *body, size_t body_len, uint64_t *lsn, o2p_error *err)
{
    uint64_t plen = (uint64_t)head_len + body_len;
    if (plen > UINT32_MAX)
        return o2p_errorf(err, O2P_ELIMIT, "WAL record of %" PRIu64 " bytes is too large", plen);
    uint64_t total = align8(REC_HEADER + plen);
    /* the record and a zeroed header after it, the end mark that a scan of
     * a recycled file stops at (the next record overwrites it) */
    uint64_t room = total + REC_HEADER;
    /* the payload's CRC outside the lock; combined with the header's below */
    uint32_t pcrc = head_len ? libdeflate_crc32(0, head, head_len) : 0;
    if (body_len) pcrc = libdeflate_crc32(pcrc, body, body_len);
    pthread_mutex_lock(&w->mu);
    if (w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return o2p_errorf(err, O2P_ESTATE, "WAL is closed");
    }
    for (;;) {
        uint64_t limit = w->active_fd >= 0 ? w->segs[w->nsegs - 1].size : 0;
        if (type == WAL_DATA) limit = limit > seg_reserve(w) ? limit - seg_reserve(w) : 0;
        if (w->active_fd >= 0 && w->active_off + room <= limit) break;
        int rc = w->stopping ? o2p_errorf(err, O2P_ESTATE, "WAL is closed")
                             : roll(w, room, type == WAL_DATA, err);
        if (rc < 0) {
            pthread_mutex_unlock(&w->mu);
            return rc;
        }
    }
    wal_seg *s = &w->segs[w->nsegs - 1];
    uint8_t hdr[REC_HEADER];
    memset(hdr, 0, sizeof hdr);
    uint64_t id = w->next_lsn;
    le_put32(hdr, REC_MAGIC);
    le_put32(hdr + 4, (uint32_t)plen);
    le_put64(hdr + 8, id);
    hdr[16] = (uint8_t)type;
    /* CRC over LSN, type, then the payload */
    uLong crc = crc32_combine(libdeflate_crc32(0, hdr + 8, 12), pcrc, (z_off_t)plen);
    le_put32(hdr + 20, (uint32_t)crc);
    static const uint8_t zeros[8 + REC_HEADER];
    struct iovec iov[4] = {{hdr, sizeof hdr},
                           {(void *)head, head_len},
                           {(void *)body, body_len},
                           {(void *)zeros, (size_t)(room - REC_HEADER - plen)}};
    int e = fault(w, WAL_OP_WRITE);
    if (e == 0) {
        ssize_t n = pwritev(w->active_fd, iov, 4, (off_t)w->active_off);
        if (n != (ssize_t)room) e = n < 0 ? errno : ENOSPC;
    }
    if (e != 0) {
        set_failure(w, "cannot write to %s/%s: %s", w->dir, s->name, strerror(e));
        wait_sync_idle(w);
        abandon_active(w);
        pthread_mutex_unlock(&w->mu);
        return o2p_errorf(err, O2P_EIO, "%s", w->failure);
    }
    w->next_lsn++;
    w->active_off += total;
    w->written_lsn = id;
    s->last_lsn = id;
    if (type == WAL_DATA) s->refs++;
    w->stats.appends++;
    w->stats.appended_bytes += total;
    pthread_mutex_unlock(&w->mu);
    *lsn = id;
    return O2P_OK;
}

/* One fdatasync covering everything written so far; after a roll first the
 * sealed segment (its last records) and the directory (the new segment's
 * name), so nothing in the new segment is durable before them.  Lock held
 * on entry and exit; released during the sync. */
static void sync_now(wal *w)
{
    uint64_t target = w->written_lsn;
    int fd = w->active_fd, prev = w->prev_fd, dir = w->dir_dirty;
    if ((fd < 0 || target <= w->synced_lsn) && prev < 0 && !dir) return;
    w->prev_fd = -1; /* this sync owns it now */
    w->dir_dirty = 0;
    w->syncing = 1;
    pthread_mutex_unlock(&w->mu);
    uint64_t t0 = clock_mono_ns();
    int e = fault(w, WAL_OP_SYNC);
    if (e == 0 && prev >= 0 && fdatasync(prev) != 0) e = errno;
    if (e == 0 && dir && fsync(w->dirfd) != 0) e = errno;
    if (e == 0 && fd >= 0 && fdatasync(fd) != 0) e = errno;
    if (prev >= 0) close(prev);
    uint64_t ns = clock_mono_ns() - t0;
    pthread_mutex_lock(&w->mu);
    w->syncing = 0;
    if (e == 0) {
        note_sync(w, ns);
        if (target > w->synced_lsn) w->synced_lsn = target;
        if (w->stats.failing && w->active_fd >= 0) clear_failure(w);
    } else {
        set_failure(w, "cannot sync %s: %s", w->dir, strerror(e));
        mark_bad(w, target);
        abandon_active(w);
    }
    pthread_cond_broadcast(&w->cv);
}

int wal_append_finish(wal *w, uint64_t lsn, o2p_error *err)
{
    if (!w->cfg.sync_always) return O2P_OK;
    return wal_wait_durable(w, lsn, err);
}

int wal_wait_durable(wal *w, uint64_t lsn, o2p_error *err)
{
    pthread_mutex_lock(&w->mu);
    int rc = O2P_OK;
    for (;;) {
        int st = durable_state(w, lsn);
        if (st > 0) break;
        if (st < 0) {
            rc = o2p_errorf(err, O2P_EIO, "WAL write failed: %s",
                            w->failure[0] ? w->failure : "sync failed");
            break;
        }
        if (!w->syncing)
            sync_now(w);
        else
            pthread_cond_wait(&w->cv, &w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return rc;
}

int wal_append(wal *w, wal_record_type type, const void *head, size_t head_len, const void *body,
               size_t body_len, uint64_t *lsn, o2p_error *err)
{
    O2P_TRY(wal_append_start(w, type, head, head_len, body, body_len, lsn, err));
    return wal_append_finish(w, *lsn, err);
}

int wal_notify_durable(wal *w, wal_waiter *wt)
{
    pthread_mutex_lock(&w->mu);
    if (!w->syncer_started || w->stopping) {
        pthread_mutex_unlock(&w->mu);
        return O2P_ESTATE;
    }
    wt->next = NULL;
    if (w->wait_tail)
        w->wait_tail->next = wt;
    else
        w->wait_head = wt;
    w->wait_tail = wt;
    pthread_cond_signal(&w->syncer_cv);
    pthread_mutex_unlock(&w->mu);
    return O2P_OK;
}

/* Whether a waiter of the list is not settled yet (lock held). */
static int any_unsynced(const wal *w, const wal_waiter *list)
{
    for (const wal_waiter *p = list; p != NULL; p = p->next)
        if (durable_state(w, p->lsn) == 0) return 1;
    return 0;
}

/* Calls settled waiters back from the head of *list on the syncer's own
 * thread while no waiter is queued for the next sync and the completer is
 * idle (so the order holds): when requests come one at a time this saves a
 * thread hand-off (a wake-up, on a busy machine a wait for a CPU) per sync.
 * Stops as soon as a waiter is queued: the rest goes to the completer and
 * the next sync is not held up by more than one callback.  Lock held;
 * released during each callback. */
static void complete_inline(wal *w, wal_waiter **list)
{
    char why[FAILURE_MAX];
    while (*list != NULL && w->wait_head == NULL && w->done_head == NULL && !w->completing) {
        wal_waiter *p = *list;
        *list = p->next; /* done may reuse p */
        snprintf(why, sizeof why, "%s", w->last_error[0] ? w->last_error : "sync failed");
        pthread_mutex_unlock(&w->mu);
        p->done(p, p->state, p->state == O2P_OK ? "" : why);
        pthread_mutex_lock(&w->mu);
    }
}

/* The syncer: takes every queued waiter, makes them durable with one sync
 * (or the one running), then calls them back itself while nothing else
 * waits (complete_inline) and hands the rest to the completer.  At close it
 * drains the queue before it exits. */
static void *syncer_main(void *arg)
{
    wal *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->wait_head == NULL && !w->stopping) pthread_cond_wait(&w->syncer_cv, &w->mu);
        wal_waiter *list = w->wait_head;
        if (list == NULL) break;
        w->wait_head = w->wait_tail = NULL;
        while (any_unsynced(w, list)) {
            if (w->syncing) {
                pthread_cond_wait(&w->cv, &w->mu);
            } else if (w->active_fd < 0) {
                mark_bad(w, w->written_lsn); /* nothing open to sync: cannot happen */
            } else {
                sync_now(w);
            }
        }
        for (wal_waiter *p = list; p != NULL; p = p->next)
            p->state = durable_state(w, p->lsn) > 0 ? O2P_OK : O2P_EIO;
        complete_inline(w, &list);
        if (list == NULL) continue;
        wal_waiter *last = list;
        while (last->next != NULL) last = last->next;
        if (w->done_tail)
            w->done_tail->next = list;
        else
            w->done_head = list;
        w->done_tail = last;
        pthread_cond_signal(&w->done_cv);
    }
    w->syncer_exited = 1;
    pthread_cond_signal(&w->done_cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* The completer: calls settled waiters back, in order, outside the lock;
 * exits once the syncer has and nothing is left. */
static void *completer_main(void *arg)
{
    wal *w = arg;
    char why[FAILURE_MAX];
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (w->done_head == NULL && !w->syncer_exited) pthread_cond_wait(&w->done_cv, &w->mu);
        wal_waiter *list = w->done_head;
        if (list == NULL) break;
        w->done_head = w->done_tail = NULL;
        w->completing = 1;
        snprintf(why, sizeof why, "%s", w->last_error[0] ? w->last_error : "sync failed");
        pthread_mutex_unlock(&w->mu);
        for (wal_waiter *p = list; p != NULL;) {
            wal_waiter *next = p->next; /* done may reuse p */
            p->done(p, p->state, p->state == O2P_OK ? "" : why);
            p = next;
        }
        pthread_mutex_lock(&w->mu);
        w->completing = 0;
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void *timer_main(void *arg)
{
    wal *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        struct timespec until = clock_mono_deadline((uint64_t)w->cfg.sync_interval_ms * 1000000ULL);
        pthread_cond_timedwait(&w->cv, &w->mu, &until);
        if (!w->syncing) sync_now(w);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* ---- references ---- */

void wal_ref(wal *w, uint64_t lsn)
{
    if (lsn == 0) return;
    pthread_mutex_lock(&w->mu);
    wal_seg *s = seg_of(w, lsn);
    if (s != NULL)
        s->refs++;
    else
        LOG_WARN("wal: reference to unknown record %" PRIu64, lsn);
    pthread_mutex_unlock(&w->mu);
}

void wal_release(wal *w, uint64_t lsn)
{
    if (lsn == 0) return;
    pthread_mutex_lock(&w->mu);
    wal_seg *s = seg_of(w, lsn);
    if (s == NULL || s->refs <= 0) {
        LOG_WARN("wal: release of unreferenced record %" PRIu64, lsn);
    } else if (--s->refs == 0) {
        delete_released(w, 0);
    }
    pthread_mutex_unlock(&w->mu);
}

/* ---- open, replay, close ---- */

static int lock_dir(wal *w, o2p_error *err)
{
    w->lockfd = openat(w->dirfd, "LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (w->lockfd < 0)
        return o2p_errorf(err, O2P_EIO, "cannot create %s/LOCK: %s", w->dir, strerror(errno));
    if (flock(w->lockfd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return o2p_errorf(err, O2P_EBUSY,
                              "WAL directory %s is in use by another otlp2parquet process "
                              "(durability.dir must not be shared)",
                              w->dir);
        return o2p_errorf(err, O2P_EIO, "cannot lock %s/LOCK: %s", w->dir, strerror(errno));
    }
    return O2P_OK;
}

static int mkdirs(const char *path)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp) return ENAMETOOLONG;
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = '\0';
        if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return errno;
        *p = '/';
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST) return errno;
    return 0;
}

static int cmp_seq(const void *a, const void *b)
{
    const wal_seg *x = a, *y = b;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

typedef struct scan_count {
    uint64_t data;
    uint64_t min_lsn;
} scan_count;

static int count_visit(void *ctx, const wal_record *rec)
{
    scan_count *c = ctx;
    if (rec->type == WAL_DATA) c->data++;
    if (c->min_lsn == 0 || rec->lsn < c->min_lsn) c->min_lsn = rec->lsn;
    return 0;
}

/* Maps and scans one segment found at open and adds it to the list. */
static int load_segment(wal *w, const char *name, uint64_t seq)
{
    wal_seg s;
    memset(&s, 0, sizeof s);
    snprintf(s.name, sizeof s.name, "%s", name);
    s.seq = seq;
    int fd = openat(w->dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        LOG_WARN("wal: cannot open %s/%s: %s; skipped", w->dir, name, strerror(errno));
        return O2P_OK;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        close(fd);
        return O2P_OK;
    }
    s.size = (uint64_t)st.st_size;
    if (st.st_size > 0) {
        void *m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (m != MAP_FAILED) {
            s.map = m;
            s.map_len = (size_t)st.st_size;
        }
    }
    close(fd);
    scan_count c = {0, 0};
    wal_scan_result res;
    o2p_error e;
    int rc = s.map ? wal_scan_buffer(s.map, s.map_len, count_visit, &c, &res, &e) : O2P_EINVAL;
    if (rc < 0) {
        if (s.map == NULL || all_zero(s.map, s.map_len) ||
            (s.map_len >= 8 && memcmp(s.map, SEG_FREE_MAGIC, 8) == 0)) {
            /* created but never written (crash while rolling), or released
             * and being recycled: nothing in it to replay */
            s.first_lsn = UINT64_MAX;
        } else {
            LOG_WARN("wal: %s/%s: %s; left in place and not replayed", w->dir, name, e.msg);
            w->stats.corrupt_records++;
            if (s.map) munmap(s.map, s.map_len);
            return O2P_OK;
        }
        if (s.map) munmap(s.map, s.map_len);
        s.map = NULL;
        s.map_len = 0;
    } else {
        if (res.corrupt)
            LOG_WARN("wal: %s/%s: %" PRIu64 " corrupt record(s) skipped, the first at offset "
                     "%" PRIu64,
                     w->dir, name, res.corrupt, res.first_bad);
        if (res.torn)
            LOG_WARN("wal: %s/%s: torn last record at offset %" PRIu64 " cut off (a write "
                     "interrupted by the crash, never acknowledged)",
                     w->dir, name, res.torn_at);
        w->stats.corrupt_records += res.corrupt;
        w->stats.torn_tails += res.torn;
        w->stats.replay_records += c.data;
        s.first_lsn = c.min_lsn ? c.min_lsn : res.first_lsn;
        s.last_lsn = res.last_lsn;
        s.refs = (int64_t)c.data;
        if (res.last_lsn >= w->next_lsn) w->next_lsn = res.last_lsn + 1;
        if (res.first_lsn >= w->next_lsn) w->next_lsn = res.first_lsn;
    }
    if (seq >= w->next_seq) w->next_seq = seq + 1;
    if (push_seg(w, &s) < 0) {
        if (s.map) munmap(s.map, s.map_len);
        return O2P_ENOMEM;
    }
    w->stats.bytes += s.size;
    w->stats.segments++;
    return O2P_OK;
}

static int scan_dir(wal *w, o2p_error *err)
{
    int fd = dup(w->dirfd);
    DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
    if (d == NULL) {
        if (fd >= 0) close(fd);
        return o2p_errorf(err, O2P_EIO, "cannot list %s: %s", w->dir, strerror(errno));
    }
    struct dirent *de;
    int rc = O2P_OK;
    while (rc == O2P_OK && (de = readdir(d)) != NULL) {
        unsigned long long seq;
        char tail[8];
        if (strncmp(de->d_name, FREE_PREFIX, strlen(FREE_PREFIX)) == 0) {
            /* a recycled segment of an earlier run: nothing in it */
            if (unlinkat(w->dirfd, de->d_name, 0) != 0)
                LOG_WARN("wal: cannot delete %s/%s: %s", w->dir, de->d_name, strerror(errno));
            continue;
        }
        if (strlen(de->d_name) != 24 || sscanf(de->d_name, "wal-%16llx.%3s", &seq, tail) != 2 ||
            strcmp(tail, "log") != 0)
            continue;
        rc = load_segment(w, de->d_name, (uint64_t)seq);
    }
    closedir(d);
    if (rc < 0) return o2p_errorf(err, rc, "out of memory scanning %s", w->dir);
    if (w->nsegs > 1) qsort(w->segs, w->nsegs, sizeof *w->segs, cmp_seq);
    w->num_old = w->nsegs;
    w->replaying = w->nsegs > 0;
    return O2P_OK;
}

int wal_open(wal **out, const wal_config *cfg, o2p_error *err)
{
    if (cfg->dir == NULL || cfg->dir[0] == '\0')
        return o2p_errorf(err, O2P_EINVAL, "durability.dir is empty");
    wal *w = mem_calloc(1, sizeof *w);
    if (w == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory opening the WAL");
    w->cfg = *cfg;
    if (w->cfg.segment_bytes < 4096) w->cfg.segment_bytes = 4096;
    if (w->cfg.segment_bytes > w->cfg.max_bytes) w->cfg.segment_bytes = w->cfg.max_bytes;
    if (w->cfg.sync_interval_ms == 0) w->cfg.sync_interval_ms = 1;
    w->dirfd = -1;
    w->lockfd = -1;
    w->active_fd = -1;
    w->prev_fd = -1;
    w->next_lsn = 1;
    w->next_seq = 1;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, &ca);
    pthread_cond_init(&w->syncer_cv, &ca);
    pthread_cond_init(&w->done_cv, &ca);
    pthread_cond_init(&w->spare_cv, &ca);
    pthread_condattr_destroy(&ca);
    w->dir = mem_strndup(cfg->dir, strlen(cfg->dir));
    int rc = O2P_OK;
    if (w->dir == NULL) {
        rc = o2p_errorf(err, O2P_ENOMEM, "out of memory opening the WAL");
        goto fail;
    }
    int e = mkdirs(w->dir);
    if (e != 0) {
        rc = o2p_errorf(err, O2P_EIO, "cannot create WAL directory %s: %s", w->dir, strerror(e));
        goto fail;
    }
    w->dirfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (w->dirfd < 0) {
        rc = o2p_errorf(err, O2P_EIO, "cannot open WAL directory %s: %s", w->dir, strerror(errno));
        goto fail;
    }
    if ((rc = lock_dir(w, err)) < 0) goto fail;
    /* a spare left by a crash holds nothing: prepare a fresh one */
    if (unlinkat(w->dirfd, SPARE_NAME, 0) == 0)
        LOG_INFO("wal: deleted the stale spare segment %s/%s", w->dir, SPARE_NAME);
    if ((rc = scan_dir(w, err)) < 0) goto fail;
    /* the first new segment follows every old record */
    w->written_lsn = w->synced_lsn = w->next_lsn - 1;
    if (!w->cfg.sync_always) {
        if (pthread_create(&w->timer, NULL, timer_main, w) != 0) {
            rc = o2p_errorf(err, O2P_ENOMEM, "cannot start the WAL sync thread");
            goto fail;
        }
        w->timer_started = 1;
    } else {
        if (pthread_create(&w->completer, NULL, completer_main, w) != 0) {
            rc = o2p_errorf(err, O2P_ENOMEM, "cannot start the WAL completion thread");
            goto fail;
        }
        w->completer_started = 1;
        if (pthread_create(&w->syncer, NULL, syncer_main, w) != 0) {
            rc = o2p_errorf(err, O2P_ENOMEM, "cannot start the WAL syncer thread");
            goto fail;
        }
        w->syncer_started = 1;
    }
    if (w->cfg.spare) {
        if (pthread_create(&w->spare_thread, NULL, spare_main, w) != 0) {
            rc = o2p_errorf(err, O2P_ENOMEM, "cannot start the WAL spare segment thread");
            goto fail;
        }
        w->spare_started = 1;
    }
    *out = w;
    return O2P_OK;
fail:
    wal_close(w);
    return rc;
}

void wal_replay_done(wal *w)
{
    pthread_mutex_lock(&w->mu);
    w->replaying = 0;
    delete_released(w, 0);
    pthread_mutex_unlock(&w->mu);
}

typedef struct replay_shim {
    wal_visit_fn fn;
    void *ctx;
    const char *segment;
} replay_shim;

static int replay_visit(void *ctx, const wal_record *rec)
{
    const replay_shim *sh = ctx;
    wal_record r = *rec;
    r.segment = sh->segment;
    return sh->fn(sh->ctx, &r);
}

int wal_replay(wal *w, wal_visit_fn fn, void *ctx, o2p_error *err)
{
    /* the first num_old segments stay mapped and in place while replaying */
    for (size_t i = 0; i < w->num_old; i++) {
        pthread_mutex_lock(&w->mu);
        const wal_seg *s = &w->segs[i];
        const uint8_t *map = s->map;
        size_t len = s->map_len;
        char name[SEG_NAME_MAX];
        snprintf(name, sizeof name, "%s", s->name);
        pthread_mutex_unlock(&w->mu);
        if (map == NULL) continue;
        wal_scan_result res;
        replay_shim sh = {fn, ctx, name};
        int rc = wal_scan_buffer(map, len, replay_visit, &sh, &res, err);
        if (rc != 0) return rc < 0 ? o2p_error_prefix(err, "%s/%s", w->dir, name) : rc;
    }
    return O2P_OK;
}

void wal_failure(wal *w, char *out, size_t cap)
{
    pthread_mutex_lock(&w->mu);
    snprintf(out, cap, "%s", w->stats.failing ? w->failure : "");
    pthread_mutex_unlock(&w->mu);
}

void wal_get_stats(wal *w, wal_stats *out)
{
    pthread_mutex_lock(&w->mu);
    *out = w->stats;
    pthread_mutex_unlock(&w->mu);
}

const char *wal_dir(const wal *w)
{
    return w->dir;
}

void wal_close(wal *w)
{
    if (w == NULL) return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_cond_signal(&w->syncer_cv);
    pthread_cond_signal(&w->spare_cv);
    pthread_mutex_unlock(&w->mu);
    if (w->timer_started) pthread_join(w->timer, NULL);
    if (w->spare_started) pthread_join(w->spare_thread, NULL);
    if (w->syncer_started) {
        pthread_join(w->syncer, NULL);
    } else {
        pthread_mutex_lock(&w->mu);
        w->syncer_exited = 1; /* (the completer may run without a syncer after a failed open) */
        pthread_cond_signal(&w->done_cv);
        pthread_mutex_unlock(&w->mu);
    }
    if (w->completer_started) pthread_join(w->completer, NULL);
    pthread_mutex_lock(&w->mu);
    wait_sync_idle(w);
    if (w->dirfd >= 0) {
        drop_spare(w);
        drop_recycled(w);
    }
    sync_now(w); /* a roll's deferred syncs */
    o2p_error err;
    seal_active(w, &err);
    w->replaying = 0;
    delete_released(w, 1);
    for (size_t i = 0; i < w->nsegs; i++)
        if (w->segs[i].map) munmap(w->segs[i].map, w->segs[i].map_len);
    pthread_mutex_unlock(&w->mu);
    if (w->lockfd >= 0) close(w->lockfd);
    if (w->dirfd >= 0) close(w->dirfd);
    mem_free(w->segs);
    mem_free(w->dir);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->syncer_cv);
    pthread_cond_destroy(&w->done_cv);
    pthread_cond_destroy(&w->spare_cv);
    mem_free(w);
}
