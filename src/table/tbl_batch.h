/*
 * tbl_batch: the rows one request (or one input file) produced, grouped by
 * (table, service, hour) — the unit the batcher buffers and the storage
 * layout partitions by (spec §4, §5).
 *
 * Decoders ask tbl_batch_group for the group of each record and append the
 * record's columns to group->rows, then call tbl_group_row_done.  Groups and
 * their column buffers are kept across tbl_batch_reset, so a long-running
 * decoder reuses them and the steady state allocates nothing.
 */
#ifndef O2P_TABLE_BATCH_H
#define O2P_TABLE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "parquet/pq_column.h"
#include "table/tbl_schema.h"

#define TBL_SERVICE_MAX 1024 /* service names are cut to this many bytes for grouping */

typedef struct tbl_group {
    tbl_id table;
    char *service; /* NUL-terminated ServiceName (may contain any bytes but NUL) */
    size_t service_len;
    size_t service_cap;
    int64_t hour;      /* hours since the Unix epoch (UTC) of the rows' timestamps */
    int64_t min_ts_us; /* smallest row timestamp, microseconds */
    int64_t max_ts_us;
    pq_colset rows;
    int in_use;
} tbl_group;

typedef struct tbl_batch {
    const tbl_schemas *schemas;
    tbl_group *groups;
    size_t num_groups; /* groups in use */
    size_t cap;        /* groups allocated (in use + kept for reuse) */
    size_t last_hit;   /* index of the most recently returned group */
    int failed;
} tbl_batch;

void tbl_batch_init(tbl_batch *b, const tbl_schemas *schemas);
void tbl_batch_free(tbl_batch *b);
/* Empties every group but keeps the memory. */
void tbl_batch_reset(tbl_batch *b);

/* Group of (table, service, hour of ts_unix_ns), created on first use;
 * NULL when out of memory. */
tbl_group *tbl_batch_group(tbl_batch *b, tbl_id table, const uint8_t *service, size_t service_len,
                           uint64_t ts_unix_ns);

/* Records that one complete row was appended to g->rows. */
static inline void tbl_group_row_done(tbl_group *g, uint64_t ts_unix_ns)
{
    int64_t us = (int64_t)(ts_unix_ns / 1000);
    if (g->rows.num_rows == 0 || us < g->min_ts_us) g->min_ts_us = us;
    if (g->rows.num_rows == 0 || us > g->max_ts_us) g->max_ts_us = us;
    g->rows.num_rows++;
}

/* A timestamp in the unit of the batch's schemas. */
static inline int64_t tbl_ts(const tbl_batch *b, uint64_t ts_unix_ns)
{
    return b->schemas->unit == TBL_TS_NANOS ? (int64_t)ts_unix_ns : (int64_t)(ts_unix_ns / 1000);
}

/* Appends every row of src to the groups of dst (same schemas), in src's
 * row order after dst's own rows: O2P_ENOMEM, or O2P_EINVAL when a column's
 * mode (run or plain) differs between the two. */
int tbl_batch_append(tbl_batch *dst, const tbl_batch *src);

/* Total rows over all groups of a table (or all tables with table = TBL_COUNT). */
size_t tbl_batch_rows(const tbl_batch *b, tbl_id table);
/* Memory held by the groups' column buffers. */
size_t tbl_batch_mem(const tbl_batch *b);

#endif
