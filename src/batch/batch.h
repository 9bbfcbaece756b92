/*
 * batch: the in-memory buffer between decoding and storage (spec §5).
 *
 * Requests decode into a private tbl_batch and hand it to batch_submit,
 * which appends its rows to the buffered group of each (table, service,
 * hour) under a short lock — no encoding or I/O on the request path.
 * Flusher threads turn a group into one Parquet file and store it when the
 * group reaches max_rows or max_bytes, or its oldest row is max_age_secs
 * old.  With batching disabled every submitted group is written at once
 * (still off the request path: submit returns after queueing).
 *
 * Back-pressure: when the buffers would grow past max_buffered_bytes,
 * batch_submit refuses with O2P_EBUSY (HTTP 429 + Retry-After), appends
 * nothing, and seals the largest group so it is flushed early; a request
 * that could never fit is refused with O2P_ELIMIT (HTTP 413).
 * Before that, batch_admit_paced (HTTP) paces instead of refusing: above
 * pace_above_percent of the budget a request is told how long to wait for
 * its turn, at the measured flush rate (batch_pace.h).
 * Storage failures keep the group buffered and retry with
 * exponential backoff and jitter; batch_ready() is false meanwhile.
 * batch_shutdown flushes everything (retrying storage until it succeeds or
 * the deadline passes) and stops the threads.
 */
#ifndef O2P_BATCH_H
#define O2P_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "parquet/pq_writer.h"
#include "table/tbl_batch.h"

typedef struct store store;

typedef struct batch_config {
    int enabled;                 /* 0: write each submitted group directly */
    uint64_t max_rows;           /* per group, default 200,000 */
    uint64_t max_bytes;          /* per group (memory its column buffers hold), default 128 MiB */
    uint32_t max_age_secs;       /* default 10 */
    uint64_t max_buffered_bytes; /* memory budget over all groups, default 512 MiB */
    int flush_threads;           /* flusher threads; 0 (default): one per online CPU */
    uint32_t pace_above_percent; /* pace admission above this share of the budget
                                    (batch_admit_paced); >= 100: never; default 50 */
    uint32_t max_pace_ms;        /* a longer admission wait is refused; default 1000 */
    int flush_nice;              /* flusher threads run this much nicer than the
                                    process (0..19); default BATCH_FLUSH_NICE */
    pq_writer_options parquet;   /* codec, level, row_group_rows, page size */
} batch_config;

/* The flushers' default nice increment: request threads preempt an encode,
 * so a request's decoding is not queued behind a flusher's time slice; the
 * flushers still get the CPU the paced requests leave (batch_admit_paced). */
#define BATCH_FLUSH_NICE     10
#define BATCH_FLUSH_NICE_MAX 19

void batch_config_default(batch_config *c);

/* Upper bounds (ms) of the admission-wait histogram's buckets. */
#define BATCH_PACE_BUCKETS 8
extern const uint32_t batch_pace_bucket_ms[BATCH_PACE_BUCKETS];

/* Counters for /metrics; all monotonic except the buffered_* gauges. */
typedef struct batch_stats {
    uint64_t rows_in[TBL_COUNT];
    uint64_t rows_out[TBL_COUNT];
    uint64_t bytes_out[TBL_COUNT]; /* Parquet bytes stored */
    uint64_t files_out[TBL_COUNT];
    uint64_t flushes;
    uint64_t flush_seconds_sum_us; /* total time spent encoding + storing, µs */
    uint64_t storage_errors;
    uint64_t rejected_busy;     /* requests refused with O2P_EBUSY (admit + full) */
    uint64_t refused_admit;     /* refused by batch_admit, before the body was decoded */
    uint64_t refused_full;      /* refused by batch_submit: the decoded rows did not fit */
    uint64_t refused_too_large; /* a request that could never fit (O2P_ELIMIT) */
    uint64_t refused_pace;      /* its admission wait would exceed max_pace_ms */
    uint64_t paced;             /* requests admitted with a wait (batch_admit_paced) */
    uint64_t pace_wait_us_sum;  /* their waits, total µs */
    uint64_t pace_wait_buckets[BATCH_PACE_BUCKETS]; /* waits <= batch_pace_bucket_ms[i] */
    uint64_t pressure_seals;   /* groups sealed early because the budget was reached */
    uint64_t flush_rate_bytes; /* buffer bytes freed per second of flushing (recent:
                                  seconds in which at least one flusher worked) */
    int flush_threads;
    uint64_t buffered_rows;
    uint64_t buffered_bytes;
    uint64_t reserved_bytes; /* rows decoded but not submitted yet (batch_reserve) */
    int storage_failing;     /* the last store attempt failed */
} batch_stats;

typedef struct batch batch;

/* `schemas` and `st` must outlive the batch.  Returns once every flusher
 * thread ("o2p-flush") runs at its priority (flush_nice). */
int batch_create(batch **out, const batch_config *cfg, const tbl_schemas *schemas, store *st,
                 o2p_error *err);

/* Appends all rows of `rows` (which the caller then resets); O2P_EBUSY when
 * over the memory budget (nothing appended), O2P_ENOMEM on allocation
 * failure, O2P_ESTATE after shutdown began.  body_bytes is the size of the
 * (decompressed) request the rows came from, 0 if unknown: the batcher
 * learns from it how much buffer a body byte costs, for batch_admit. */
int batch_submit(batch *b, const tbl_batch *rows, size_t body_bytes, o2p_error *err);

/*
 * Journal hook (the write-ahead log, src/cli/serve_wal.c).  Each buffered
 * group keeps the distinct LSNs of its rows; a request's rows for one
 * partition always go to one group.  hold() runs under the batch lock when a
 * group first holds rows of an LSN; intent() runs before store_put once the
 * key is fixed and must be durable when it returns (a failure retries the
 * group later); stored() runs after the object is stored.
 */
typedef struct batch_journal {
    void *ctx;
    void (*hold)(void *ctx, uint64_t lsn);
    int (*intent)(void *ctx, const char *key, const uint64_t *lsns, size_t n, o2p_error *err);
    void (*stored)(void *ctx, const uint64_t *lsns, size_t n);
} batch_journal;

/* Before the first submit. */
void batch_set_journal(batch *b, const batch_journal *j);

/* batch_submit for rows journalled as record `lsn` (0: not journalled). */
int batch_submit_lsn(batch *b, const tbl_batch *rows, size_t body_bytes, uint64_t lsn,
                     o2p_error *err);

/*
 * Reservations: rows decoded but held back before batch_submit (a request
 * waiting for its write-ahead log sync) count against max_buffered_bytes
 * from batch_reserve until batch_submit_reserved or batch_unreserve, so
 * admission, pacing and submit see them.  batch_reserve refuses as
 * batch_submit would (O2P_EBUSY counted as refused_full, O2P_ELIMIT,
 * O2P_ESTATE) and reserves nothing then; else *reserved is the buffer a
 * copy of the rows takes.  batch_submit_reserved is batch_submit_lsn that
 * first gives back `reserved` (also when it fails): no double counting.
 */
int batch_reserve(batch *b, const tbl_batch *rows, uint64_t *reserved, o2p_error *err);
void batch_unreserve(batch *b, uint64_t reserved);
int batch_submit_reserved(batch *b, const tbl_batch *rows, size_t body_bytes, uint64_t lsn,
                          uint64_t reserved, o2p_error *err);

/* Early refusal, before a body is read or decoded: O2P_EBUSY (counted as
 * refused_admit, and the largest group is sealed for an early flush when a
 * flusher is free to take it) when the buffer it would need, estimated
 * from body_bytes and the cost measured on earlier requests, does not fit
 * in the budget now, or when a decoded request was refused for lack of
 * buffer since the last flush.  O2P_OK means
 * "go ahead", not a reservation: batch_submit decides exactly. */
int batch_admit(batch *b, size_t body_bytes, o2p_error *err);

/* batch_admit with pacing (batch_pace.h) for front ends that can make a
 * request wait without holding a thread (HTTP): below pace_above_percent
 * of the budget O2P_OK and *wait_ns = 0; above it O2P_OK with *wait_ns, the
 * time the request should wait before its body is read (0 when its turn is
 * now), so that ingest follows the measured flush rate.  O2P_EBUSY as
 * batch_admit when it would not fit in the budget, or (counted as
 * refused_pace) when the wait would exceed max_pace_ms.  Above the soft
 * level the largest group is sealed whenever a flusher is free, so the
 * flushers never idle while requests wait. */
int batch_admit_paced(batch *b, size_t body_bytes, uint64_t *wait_ns, o2p_error *err);

/* Seconds a refused client should wait: the time the flushers need, at
 * their measured rate, to free a quarter of the budget (1..30). */
int batch_retry_after_secs(batch *b);

/* Records that storage is failing although no flush has tried it yet (the
 * start-up check failed): not ready until storage answers again, which an
 * idle flusher checks with backoff. */
void batch_note_storage_failure(batch *b);

/* Ready: storage is not failing, and no submit was refused for lack of
 * buffer space since the last successful flush. */
int batch_ready(batch *b, char *why, size_t cap); /* why (may be NULL): the reason when not */
void batch_get_stats(batch *b, batch_stats *out);

/* Flushes every buffered group now and waits until they are stored (or the
 * deadline passes: returns O2P_EIO naming what is still unstored). */
int batch_flush_all(batch *b, uint32_t deadline_secs, o2p_error *err);

/* Stops accepting, flushes everything (as batch_flush_all), stops threads. */
int batch_shutdown(batch *b, uint32_t deadline_secs, o2p_error *err);
void batch_destroy(batch *b);

/*
 * Encodes one group's rows into a Parquet file in memory (file key/value
 * metadata: otlp2parquet.table, otlp2parquet.schema_version).  The storage
 * key (spec §4) is made when key[0] == '\0' and reused otherwise: a retry of
 * the same group must overwrite the object an earlier attempt may have
 * stored without hearing back, never add a second one.  Used by the flusher
 * and by `convert`.
 */
int batch_encode_group(const tbl_group *g, const pq_writer_options *opts, o2p_buf *file, char *key,
                       size_t key_cap, o2p_error *err);

#endif
