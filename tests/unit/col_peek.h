/*
 * col_peek: reads back what was appended to a pq_column (PLAIN values and
 * level bytes), so table-writing tests can check contents entry by entry.
 */
#ifndef O2P_TESTS_COL_PEEK_H
#define O2P_TESTS_COL_PEEK_H

#include <stdint.h>
#include <string.h>

#include "parquet/pq_column.h"

/* A run-mode column (shared resource/scope values) as plain entries, so
 * tests read entry k of row k the same way for every column.  The result
 * lives until the next call. */
static inline const pq_column *peek_flat(const pq_column *c)
{
    static pq_column flat;
    static int ready;
    if (!pq_col_is_run(c)) return c;
    if (!ready) {
        pq_col_init(&flat, c->leaf);
        ready = 1;
    }
    pq_col_reset(&flat);
    flat.leaf = c->leaf;
    size_t rows = 0;
    for (size_t k = 0; k < c->runs.len / 4; k++) {
        uint32_t n;
        memcpy(&n, c->runs.data + 4 * k, 4);
        rows += n;
    }
    pq_col_expand_rows(&flat, c, 0, rows);
    return &flat;
}

/* Value k of a BYTE_ARRAY column, NUL-terminated in out (cut to cap - 1). */
static inline const char *peek_str(const pq_column *c, size_t k, char *out, size_t cap)
{
    c = peek_flat(c);
    size_t off = 0;
    uint32_t n = 0;
    for (size_t i = 0;; i++) {
        if (off + 4 > c->values.len) return "(missing)";
        memcpy(&n, c->values.data + off, 4);
        if (i == k) break;
        off += 4 + n;
    }
    size_t m = n < cap - 1 ? n : cap - 1;
    memcpy(out, c->values.data + off + 4, m);
    out[m] = '\0';
    return out;
}

static inline int64_t peek_i64(const pq_column *c, size_t k)
{
    c = peek_flat(c);
    int64_t v = 0;
    if ((k + 1) * 8 <= c->values.len) memcpy(&v, c->values.data + 8 * k, 8);
    return v;
}

static inline int32_t peek_i32(const pq_column *c, size_t k)
{
    c = peek_flat(c);
    int32_t v = 0;
    if ((k + 1) * 4 <= c->values.len) memcpy(&v, c->values.data + 4 * k, 4);
    return v;
}

static inline double peek_f64(const pq_column *c, size_t k)
{
    c = peek_flat(c);
    double v = 0;
    if ((k + 1) * 8 <= c->values.len) memcpy(&v, c->values.data + 8 * k, 8);
    return v;
}

static inline int peek_def(const pq_column *c, size_t k)
{
    c = peek_flat(c);
    return k < c->def.len ? c->def.data[k] : -1;
}

static inline int peek_rep(const pq_column *c, size_t k)
{
    c = peek_flat(c);
    return k < c->rep.len ? c->rep.data[k] : -1;
}

#endif
