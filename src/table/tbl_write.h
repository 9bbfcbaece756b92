/*
 * tbl_write: how a decoder writes one row's values into a table's columns.
 *
 * The table shapes are fixed (tbl_schema.h), so the definition/repetition
 * levels are known here and decoders never compute them:
 *   - top-level REQUIRED scalars: levels (0, 0);
 *   - top-level OPTIONAL doubles: def 1 when present, 0 when null;
 *   - top-level LIST<scalar>: items (def 1, rep 0 for the first, 1 after);
 *     an empty list is one entry (def 0, rep 0);
 *   - LIST<STRUCT<...>> (Events, Links, Exemplars, ValueAtQuantiles): every
 *     struct leaf of element i gets (def 1, rep i ? 1 : 0); a MAP inside the
 *     element uses tbl_attrs_emit with def_present 2 and that element's rep;
 *     an empty list puts (def 0, rep 0) in every leaf of the struct
 *     (tbl_list_empty).
 */
#ifndef O2P_TABLE_WRITE_H
#define O2P_TABLE_WRITE_H

#include <stddef.h>
#include <stdint.h>

#include "parquet/pq_column.h"

static inline void tbl_put_str(pq_column *c, const void *s, size_t n)
{
    pq_col_put_bytes(c, s, n, 0, 0);
}
static inline void tbl_put_i32(pq_column *c, int32_t v)
{
    pq_col_put_i32(c, v, 0, 0);
}
static inline void tbl_put_i64(pq_column *c, int64_t v)
{
    pq_col_put_i64(c, v, 0, 0);
}
static inline void tbl_put_f64(pq_column *c, double v)
{
    pq_col_put_f64(c, v, 0, 0);
}
static inline void tbl_put_bool(pq_column *c, int v)
{
    pq_col_put_bool(c, v, 0, 0);
}
static inline void tbl_put_opt_f64(pq_column *c, int present, double v)
{
    if (present)
        pq_col_put_f64(c, v, 1, 0);
    else
        pq_col_put_null(c, 0, 0);
}

/* Item `index` (0-based) of a top-level LIST<INT64> / LIST<DOUBLE>. */
static inline void tbl_list_i64(pq_column *c, size_t index, int64_t v)
{
    pq_col_put_i64(c, v, 1, index ? 1 : 0);
}
static inline void tbl_list_f64(pq_column *c, size_t index, double v)
{
    pq_col_put_f64(c, v, 1, index ? 1 : 0);
}

/* Struct-leaf values of element `index` of a top-level LIST<STRUCT>. */
static inline uint8_t tbl_elem_rep(size_t index)
{
    return index ? 1 : 0;
}
static inline void tbl_elem_str(pq_column *c, size_t index, const void *s, size_t n)
{
    pq_col_put_bytes(c, s, n, 1, tbl_elem_rep(index));
}
static inline void tbl_elem_i64(pq_column *c, size_t index, int64_t v)
{
    pq_col_put_i64(c, v, 1, tbl_elem_rep(index));
}
static inline void tbl_elem_f64(pq_column *c, size_t index, double v)
{
    pq_col_put_f64(c, v, 1, tbl_elem_rep(index));
}

/* An empty top-level list: one (0, 0) entry in each of its `num_leaves`
 * leaves, starting at column `first`. */
static inline void tbl_list_empty(pq_column *first, int num_leaves)
{
    for (int i = 0; i < num_leaves; i++) pq_col_put_null(&first[i], 0, 0);
}

#endif
