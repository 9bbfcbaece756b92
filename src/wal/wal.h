/*
 * wal: the write-ahead log that makes a 200 survive kill -9 and power loss
 * (spec §5, durability = "wal"; docs/durability.md).
 *
 * The log is a directory of segment files `wal-<seq as 16 hex>.log`, each
 * preallocated to segment_bytes and starting with a 32-byte header (magic,
 * version, first LSN, sequence number).  A record is a 24-byte header
 * (magic, payload length, LSN, type, CRC32 of LSN+type+payload) followed by
 * the payload, padded to 8 bytes, and is written together with 24 zero
 * bytes after it (the end mark; the next record overwrites it).  The LSN
 * is a monotonically increasing record id over the whole log, so LSNs rise
 * in file order: a scan takes only records newer than the header's first
 * LSN and than the record before, and stops at the zeros after the last.
 *
 * Appends: wal_append_start writes the record (page cache) under a short
 * lock and returns its LSN; wal_append_finish waits until it is durable.
 * With sync = always the first waiter becomes the syncer and one
 * fdatasync covers every record written before it (group commit); with
 * sync = interval a timer thread syncs every sync_interval_ms and finish
 * returns at once.  wal_notify_durable is finish without blocking: the
 * log's syncer thread syncs and calls back once the record is durable (or
 * its completion thread does, when more waiters queued meanwhile), so the
 * caller's thread goes on working while a sync runs, and one sync covers
 * every record written meanwhile.  A failing
 * disk (ENOSPC, EROFS, EIO) gives O2P_EIO and wal_failure() names it; past
 * max_bytes an append gives O2P_EBUSY.
 *
 * References: a DATA record starts with one reference (held by the
 * appender, or by replay for records found at open).  wal_ref/wal_release
 * count references per segment; a segment is deleted when it is not the
 * active one, holds no referenced DATA record and every older segment is
 * gone — in order, so INTENT records outlive the data they name.
 *
 * Spare segment (cfg.spare): a background thread prepares the next segment
 * as `<dir>/spare.tmp`, posix_fallocate'd and then overwritten with zeros
 * and fdatasync'ed, so that appends into it write blocks that are already
 * written (an fdatasync then needs no extent conversion).  A roll renames it
 * to the next segment name and writes the header; a
 * spare still being zero-filled is taken as it is (its unwritten rest reads
 * as zeros too); with no spare the roll allocates as before.  Its size
 * counts against max_bytes (stats.spare_bytes); open deletes a stale one.
 *
 * Recycling (without cfg.spare): a released segment of the configured size
 * is not deleted but kept for a later roll (up to 4 of them, within
 * max_bytes) — its header is overwritten with a "free" magic and synced,
 * then it is renamed to free-<seq>.tmp.  Appends then overwrite written
 * blocks, which syncs faster than allocated ones; the older records after
 * the end mark are never read (older LSNs).  A free-marked segment found
 * at open holds nothing; open and close delete free-*.tmp files.
 * Version 2 segments may be recycled; version 1 ones are still read.
 *
 * Rolls: a new segment (allocated or the spare) gets its header under the
 * lock but no sync; the next sync syncs the sealed segment, the directory
 * and the new segment, in that order, before it acknowledges anything.
 *
 * Opening takes an exclusive flock on `<dir>/LOCK`: two servers cannot
 * share a WAL.  Segments found at open are read-only; new records go to a
 * fresh segment.  wal_replay walks the old segments' records.
 */
#ifndef O2P_WAL_WAL_H
#define O2P_WAL_WAL_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct wal wal;

/* DATA: a request body; INTENT: an object key and the DATA LSNs its rows
 * come from; CANCEL: a DATA record that was not acknowledged after all. */
typedef enum wal_record_type { WAL_DATA = 1, WAL_INTENT = 2, WAL_CANCEL = 3 } wal_record_type;

/* Operations a fault hook can fail (tests inject disk errors with it). */
/* WAL_OP_SPARE: preparing the spare segment (on the spare thread). */
typedef enum wal_op {
    WAL_OP_ALLOC = 1,
    WAL_OP_WRITE = 2,
    WAL_OP_SYNC = 3,
    WAL_OP_SPARE = 4,
    WAL_OP_RECYCLE = 5 /* keeping a released segment for reuse (falls back to deleting it) */
} wal_op;

typedef struct wal_config {
    const char *dir;           /* created if missing */
    int sync_always;           /* 1: finish waits for fdatasync; 0: timer sync */
    uint32_t sync_interval_ms; /* sync_always == 0: timer period (default 100) */
    uint64_t max_bytes;        /* disk the segments may take (default 4 GiB) */
    uint64_t segment_bytes;    /* roll size (default 64 MiB) */
    int spare;                 /* 1: a thread zero-fills the next segment ahead (default 0) */
    /* Test hook: return an errno to make that operation fail, 0 to go on. */
    int (*fault)(void *ctx, wal_op op);
    void *fault_ctx;
} wal_config;

void wal_config_default(wal_config *c);

typedef struct wal_stats {
    uint64_t bytes;    /* disk the segments take (preallocated sizes) */
    uint64_t segments; /* segment files */
    uint64_t appends;
    uint64_t appended_bytes; /* record bytes written (headers and padding included) */
    uint64_t syncs;
    uint64_t sync_ns_sum;
    uint64_t sync_buckets[10]; /* cumulative counts for WAL_SYNC_BUCKETS_S */
    uint64_t corrupt_records;  /* skipped while scanning at open */
    uint64_t torn_tails;       /* partial last records cut off at open */
    uint64_t replay_records;   /* DATA records found at open */
    uint64_t spare_bytes;      /* the spare segment's size while it exists (0: none) */
    int spare_ready;           /* the spare is zero-filled and synced */
    uint64_t spare_rolls;      /* rolls that took a fully prepared spare */
    uint64_t partial_rolls;    /* rolls that took a spare still being zero-filled */
    uint64_t alloc_rolls;      /* rolls that fell back to posix_fallocate */
    uint64_t recycled_rolls;   /* rolls that reused a released segment */
    uint64_t recycled_bytes;   /* released segments kept for reuse (free-*.tmp) */
    uint64_t spare_failures;   /* spare preparations that failed (disk full, ...) */
    int failing;               /* the last write or sync failed */
} wal_stats;

#define WAL_SYNC_BUCKET_COUNT 10
extern const double WAL_SYNC_BUCKETS_S[WAL_SYNC_BUCKET_COUNT];

/* Opens (creating) the log in cfg->dir, locks it and scans the existing
 * segments (verifying every record's CRC; corrupt records are logged with
 * segment and offset, counted and skipped; a torn tail is cut off with a
 * warning).  O2P_EBUSY when another process holds the lock, O2P_EIO when
 * the directory is unusable. */
int wal_open(wal **out, const wal_config *cfg, o2p_error *err);

/* Writes one record of `type` whose payload is head followed by body (either
 * may be empty) and returns its LSN in *lsn.  A DATA record starts with one
 * reference, owned by the caller from here on (also when finish fails). */
int wal_append_start(wal *w, wal_record_type type, const void *head, size_t head_len,
                     const void *body, size_t body_len, uint64_t *lsn, o2p_error *err);

/* Waits until `lsn` is durable (sync = always) or returns at once
 * (interval).  O2P_EIO when the sync failed: the record is not
 * acknowledged. */
int wal_append_finish(wal *w, uint64_t lsn, o2p_error *err);

/* A request to be called back when a record is durable (sync = always). */
typedef struct wal_waiter wal_waiter;
struct wal_waiter {
    uint64_t lsn; /* set by the caller */
    /* Runs on the log's syncer or completion thread (never both at once),
     * outside its lock, once per waiter and in the order they were queued:
     * rc O2P_OK (durable) or O2P_EIO (its write or sync failed: not
     * acknowledged; why says what failed).  May reuse or free wt and may
     * append to the log. */
    void (*done)(wal_waiter *wt, int rc, const char *why);
    /* the log's own */
    wal_waiter *next;
    int state;
};

/* wal_append_finish without blocking: queues wt for the syncer.  Returns
 * O2P_ESTATE (and never calls back) when sync is not "always" or the log
 * is closing; the caller then waits with wal_append_finish.  The syncer
 * drains its queue before wal_close returns. */
int wal_notify_durable(wal *w, wal_waiter *wt);

/* Waits until `lsn` is durable whatever the sync mode (an INTENT must be on
 * disk before its upload, also with sync = interval). */
int wal_wait_durable(wal *w, uint64_t lsn, o2p_error *err);

/* start + finish. */
int wal_append(wal *w, wal_record_type type, const void *head, size_t head_len, const void *body,
               size_t body_len, uint64_t *lsn, o2p_error *err);

/* Reference counting of DATA records (lsn 0 is ignored). */
void wal_ref(wal *w, uint64_t lsn);
void wal_release(wal *w, uint64_t lsn);

/* A record seen by wal_replay or wal_scan_buffer. */
typedef struct wal_record {
    uint64_t lsn;
    wal_record_type type;
    const uint8_t *payload;
    size_t len;
    const char *segment; /* file name (replay only) */
    uint64_t offset;     /* byte offset in the segment */
} wal_record;

/* Return non-zero to stop the walk (that value is returned). */
typedef int (*wal_visit_fn)(void *ctx, const wal_record *rec);

/* Walks every record of the segments found at open, oldest first.  May be
 * called several times (e.g. once for INTENTs, once for DATA).  Does not
 * release anything: release each DATA record once it is handled. */
int wal_replay(wal *w, wal_visit_fn fn, void *ctx, o2p_error *err);

/* Replay is over: released old segments may be deleted from now on. */
void wal_replay_done(wal *w);

/* Scans one segment image (header included): calls fn for every valid
 * record, skips corrupt ones.  The segment scanner behind wal_open and the
 * fuzz target.  Returns 0, or O2P_EINVAL for a bad header; *corrupt and
 * *torn (may be NULL) count skipped records and a cut-off tail;
 * *first_bad is the offset of the first corrupt record (or of the torn
 * tail), UINT64_MAX if none. */
typedef struct wal_scan_result {
    uint64_t first_lsn; /* from the header */
    uint64_t seq;
    uint64_t records;
    uint64_t corrupt;
    uint64_t torn;
    uint64_t first_bad;
    uint64_t torn_at;  /* offset of the torn tail, UINT64_MAX if none */
    uint64_t last_lsn; /* 0 if no record */
    uint64_t end;      /* offset after the last valid record */
} wal_scan_result;
int wal_scan_buffer(const uint8_t *data, size_t len, wal_visit_fn fn, void *ctx,
                    wal_scan_result *res, o2p_error *err);

/* "" when healthy, else why the WAL cannot take appends (for /ready). */
void wal_failure(wal *w, char *out, size_t cap);

void wal_get_stats(wal *w, wal_stats *out);
const char *wal_dir(const wal *w);

/* Syncs what is written, stops the timer thread, unlocks, frees.  Segments
 * stay on disk unless fully released. */
void wal_close(wal *w);

#endif
