/*
 * pq_column: the pending data of one leaf column, and pq_colset, the columns
 * of one schema (the rows of a row group in the making).
 *
 * Producers append Dremel-shredded entries directly: one entry per
 * (definition level, repetition level) pair, carrying a value only when its
 * definition level equals the leaf's max_def.  Level bytes are stored only
 * when the leaf has max_def > 0 / max_rep > 0.  Values are kept in PLAIN
 * encoding (little-endian numbers; BYTE_ARRAY as u32 length + bytes;
 * BOOLEAN as one byte 0/1 per value, packed when encoded), so concatenating
 * two columns is a memcpy.
 *
 * Run mode, for columns whose values are shared by consecutive rows (a
 * resource's attributes, a scope's name): the producer calls pq_col_run_row
 * once per row with an identity of the row's values; only the first row of
 * each run is stored, with a row count in `runs`.  Such a column holds
 * "stored rows" x counts; pq_col_expand_rows turns rows of it back into
 * plain entries (the writer does that one column chunk at a time, or
 * encodes the chunk from its runs, pq_runs), so a resource with a dozen
 * attributes costs its bytes once per request, not once per log record.
 *
 * Append calls do not return a status: the first allocation failure sets the
 * sticky `failed` status, later appends are ignored, and pq_colset_check /
 * the writer report it.  Nothing here encodes or compresses.
 */
#ifndef O2P_PARQUET_COLUMN_H
#define O2P_PARQUET_COLUMN_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "parquet/pq_schema.h"

typedef struct pq_column {
    const pq_leaf *leaf;
    o2p_buf def;        /* one byte per entry when leaf->max_def > 0 */
    o2p_buf rep;        /* one byte per entry when leaf->max_rep > 0 */
    o2p_buf values;     /* non-null values, PLAIN-encoded (see above) */
    size_t num_entries; /* level entries (== values for flat required columns) */
    size_t num_values;  /* non-null values */
    o2p_buf runs;       /* run mode only: one uint32 row count per stored row */
    uint64_t run_ident; /* identity of the last stored row's values (0: none) */
    int failed;         /* sticky negative status of the first failed append */
} pq_column;

/* Bytes one stored value of the leaf occupies (0: BYTE_ARRAY, u32
 * length-prefixed). */
size_t pq_value_width(const pq_leaf *leaf);

void pq_col_init(pq_column *c, const pq_leaf *leaf);
void pq_col_reset(pq_column *c);
void pq_col_free(pq_column *c);
/* Bytes of memory the column's buffers hold (allocated capacity). */
size_t pq_col_mem(const pq_column *c);

/* Records the levels of one entry (internal helper of the put functions). */
static inline void pq_col_levels(pq_column *c, uint8_t def, uint8_t rep)
{
    if (c->leaf->max_def > 0 && buf_push_byte(&c->def, def) < 0) c->failed = O2P_ENOMEM;
    if (c->leaf->max_rep > 0 && buf_push_byte(&c->rep, rep) < 0) c->failed = O2P_ENOMEM;
    c->num_entries++;
}

static inline void pq_col_put_raw(pq_column *c, const void *v, size_t n, uint8_t def, uint8_t rep)
{
    if (c->failed) return;
    pq_col_levels(c, def, rep);
    if (buf_append(&c->values, v, n) < 0) c->failed = O2P_ENOMEM;
    c->num_values++;
}

static inline void pq_col_put_i32(pq_column *c, int32_t v, uint8_t def, uint8_t rep)
{
    pq_col_put_raw(c, &v, sizeof v, def, rep);
}
static inline void pq_col_put_i64(pq_column *c, int64_t v, uint8_t def, uint8_t rep)
{
    pq_col_put_raw(c, &v, sizeof v, def, rep);
}
static inline void pq_col_put_f32(pq_column *c, float v, uint8_t def, uint8_t rep)
{
    pq_col_put_raw(c, &v, sizeof v, def, rep);
}
static inline void pq_col_put_f64(pq_column *c, double v, uint8_t def, uint8_t rep)
{
    pq_col_put_raw(c, &v, sizeof v, def, rep);
}
static inline void pq_col_put_bool(pq_column *c, int v, uint8_t def, uint8_t rep)
{
    uint8_t b = v ? 1 : 0;
    pq_col_put_raw(c, &b, 1, def, rep);
}
/* BYTE_ARRAY (u32 length prefix) or FIXED_LEN_BYTE_ARRAY (exactly type_length bytes). */
void pq_col_put_bytes(pq_column *c, const void *data, size_t len, uint8_t def, uint8_t rep);

/* An entry without a value (def < max_def: a null, or an empty/absent list or map). */
static inline void pq_col_put_null(pq_column *c, uint8_t def, uint8_t rep)
{
    if (c->failed) return;
    pq_col_levels(c, def, rep);
}

/* Appends `count` entries whose values are already PLAIN-encoded
 * (plain[0..plain_len), e.g. a run of length-prefixed strings), all at
 * definition level def (== the leaf's max_def), the first at repetition
 * level rep_first and the others at rep_next.  One copy for the whole run:
 * used to repeat a pre-encoded map on every row. */
void pq_col_put_plain_run(pq_column *c, const uint8_t *plain, size_t plain_len, size_t count,
                          uint8_t def, uint8_t rep_first, uint8_t rep_next);

/*
 * Writing a BYTE_ARRAY value in place (e.g. a stringifier formatting straight
 * into the column): mark = pq_col_bytes_open(c); append the bytes to
 * c->values with buf_append; pq_col_bytes_close(c, mark, def, rep).
 */
size_t pq_col_bytes_open(pq_column *c);
void pq_col_bytes_close(pq_column *c, size_t mark, uint8_t def, uint8_t rep);

/* Run mode (see the top): call before putting a row's entries, with a
 * non-zero identity of the row's values that no other values share (e.g.
 * otlp_next_ident() per resource).  Returns 1 when the caller must put the
 * row's entries (a new run starts), 0 when the row repeats the previous
 * row's values and nothing is to be put.  A column is in run mode for all of
 * its rows or for none. */
int pq_col_run_row(pq_column *c, uint64_t ident);
static inline int pq_col_is_run(const pq_column *c)
{
    return c->runs.len != 0;
}
/* The end of the row whose first entry is e (e < num_entries): the next
 * entry at repetition level 0; *nvalues gets the row's non-null values. */
size_t pq_col_row_end(const pq_column *src, size_t e, size_t *nvalues);
/* Appends rows [row0, row0 + nrows) of run-mode column src to dst (same
 * leaf) as plain entries. */
int pq_col_expand_rows(pq_column *dst, const pq_column *src, size_t row0, size_t nrows);

/* Appends all entries of src (same leaf shape) to dst. */
int pq_col_append(pq_column *dst, const pq_column *src);

/* The columns of one schema. */
typedef struct pq_colset {
    const pq_schema *schema;
    pq_column *cols; /* pq_schema_num_leaves(schema) columns */
    size_t num_cols;
    size_t num_rows; /* maintained by the producer */
} pq_colset;

int pq_colset_init(pq_colset *set, const pq_schema *schema);
void pq_colset_reset(pq_colset *set);
void pq_colset_free(pq_colset *set);
size_t pq_colset_mem(const pq_colset *set);
/* Appends all rows of src (same schema) to dst. */
int pq_colset_append(pq_colset *dst, const pq_colset *src);
/* pq_colset_mem(dst) after pq_colset_append(dst, src) would succeed,
 * computed without allocating; dst NULL stands for a new, empty colset of
 * src's schema. */
size_t pq_colset_mem_after_append(const pq_colset *dst, const pq_colset *src);
/* Reports a sticky append failure, or a column whose row count (entries with
 * rep == 0) differs from num_rows, naming the column. */
int pq_colset_check(const pq_colset *set, o2p_error *err);
/* pq_colset_check without the walk over BYTE_ARRAY length prefixes (all
 * else is checked: sticky failures, levels, counts, fixed-width sizes).
 * For a caller whose first walk over the values checks their framing
 * itself (the writer's gather of sorted rows, pq_col_gather). */
int pq_colset_check_levels(const pq_colset *set, o2p_error *err);

#endif
