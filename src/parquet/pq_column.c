/* pq_column: pending column data and column sets (see pq_column.h). */
#include "parquet/pq_column.h"

#include <string.h>

#include "core/copy.h"
#include "core/mem.h"

void pq_col_init(pq_column *c, const pq_leaf *leaf)
{
    memset(c, 0, sizeof *c);
    c->leaf = leaf;
    buf_init(&c->def, 0);
    buf_init(&c->rep, 0);
    buf_init(&c->values, 0);
    buf_init(&c->runs, 0);
}

void pq_col_reset(pq_column *c)
{
    buf_reset(&c->def);
    buf_reset(&c->rep);
    buf_reset(&c->values);
    buf_reset(&c->runs);
    c->run_ident = 0;
    c->num_entries = 0;
    c->num_values = 0;
    c->failed = O2P_OK;
}

void pq_col_free(pq_column *c)
{
    buf_free(&c->def);
    buf_free(&c->rep);
    buf_free(&c->values);
    buf_free(&c->runs);
    c->run_ident = 0;
    c->num_entries = 0;
    c->num_values = 0;
}

size_t pq_col_mem(const pq_column *c)
{
    return c->def.cap + c->rep.cap + c->values.cap + c->runs.cap;
}

size_t pq_value_width(const pq_leaf *leaf)
{
    switch (leaf->physical) {
    case PQ_BOOLEAN:
        return 1;
    case PQ_INT32:
    case PQ_FLOAT:
        return 4;
    case PQ_INT64:
    case PQ_DOUBLE:
        return 8;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        return (size_t)leaf->type_length;
    case PQ_BYTE_ARRAY:
        break;
    }
    return 0;
}

int pq_col_run_row(pq_column *c, uint64_t ident)
{
    if (c->failed) return 0;
    if (ident != 0 && ident == c->run_ident && c->runs.len >= 4) {
        uint8_t *last = c->runs.data + c->runs.len - 4;
        uint32_t n;
        memcpy(&n, last, 4);
        if (n < UINT32_MAX) {
            n++;
            memcpy(last, &n, 4);
            return 0;
        }
    }
    uint32_t one = 1;
    if (buf_append(&c->runs, &one, 4) < 0) {
        c->failed = O2P_ENOMEM;
        return 0;
    }
    c->run_ident = ident;
    return 1;
}

size_t pq_col_row_end(const pq_column *src, size_t e, size_t *nvalues)
{
    const pq_leaf *leaf = src->leaf;
    size_t e_end = e + 1;
    if (leaf->max_rep > 0)
        while (e_end < src->num_entries && src->rep.data[e_end] != 0) e_end++;
    size_t nv = e_end - e;
    if (leaf->max_def > 0) {
        nv = 0;
        for (size_t i = e; i < e_end; i++) nv += src->def.data[i] == leaf->max_def;
    }
    *nvalues = nv;
    return e_end;
}

int pq_col_expand_rows(pq_column *dst, const pq_column *src, size_t row0, size_t nrows)
{
    const pq_leaf *leaf = src->leaf;
    size_t width = pq_value_width(leaf);
    size_t nruns = src->runs.len / 4;
    size_t row = 0, e = 0, b = 0;
    for (size_t k = 0; k < nruns && nrows > 0 && e < src->num_entries; k++) {
        uint32_t count;
        memcpy(&count, src->runs.data + 4 * k, 4);
        /* stored row k: entries [e, e_end), values [b, b_end) */
        size_t nv;
        size_t e_end = pq_col_row_end(src, e, &nv);
        size_t b_end = b;
        if (width) {
            b_end = b + nv * width;
        } else {
            for (size_t i = 0; i < nv; i++) {
                uint32_t n;
                memcpy(&n, src->values.data + b_end, 4);
                b_end += 4 + (size_t)n;
            }
        }
        if (row + count > row0) {
            size_t from = row0 > row ? row0 - row : 0;
            size_t reps = count - from < nrows ? count - from : nrows;
            int rc = O2P_OK;
            if (leaf->max_def > 0)
                rc = buf_append_copies(&dst->def, src->def.data + e, e_end - e, reps);
            if (rc == O2P_OK && leaf->max_rep > 0)
                rc = buf_append_copies(&dst->rep, src->rep.data + e, e_end - e, reps);
            if (rc == O2P_OK)
                rc = buf_append_copies(&dst->values, src->values.data + b, b_end - b, reps);
            if (rc < 0) return dst->failed = rc;
            dst->num_entries += reps * (e_end - e);
            dst->num_values += reps * nv;
            row0 += reps;
            nrows -= reps;
        }
        row += count;
        e = e_end;
        b = b_end;
    }
    return O2P_OK;
}

void pq_col_put_bytes(pq_column *c, const void *data, size_t len, uint8_t def, uint8_t rep)
{
    if (c->failed) return;
    if (c->leaf->physical == PQ_FIXED_LEN_BYTE_ARRAY) {
        if (len != (size_t)c->leaf->type_length) {
            c->failed = O2P_EINVAL;
            return;
        }
        pq_col_put_raw(c, data, len, def, rep);
        return;
    }
    if (len > UINT32_MAX) {
        c->failed = O2P_ELIMIT;
        return;
    }
    uint8_t *dst = buf_extend(&c->values, 4 + len);
    if (dst == NULL) {
        c->failed = O2P_ENOMEM;
        return;
    }
    uint32_t n = (uint32_t)len;
    memcpy(dst, &n, 4);
    copy_short(dst + 4, (const uint8_t *)data, len);
    pq_col_levels(c, def, rep);
    c->num_values++;
}

void pq_col_put_plain_run(pq_column *c, const uint8_t *plain, size_t plain_len, size_t count,
                          uint8_t def, uint8_t rep_first, uint8_t rep_next)
{
    if (c->failed || count == 0) return;
    if (buf_append(&c->values, plain, plain_len) < 0) {
        c->failed = O2P_ENOMEM;
        return;
    }
    if (c->leaf->max_def > 0) {
        uint8_t *d = buf_extend(&c->def, count);
        if (d == NULL) {
            c->failed = O2P_ENOMEM;
            return;
        }
        memset(d, def, count);
    }
    if (c->leaf->max_rep > 0) {
        uint8_t *r = buf_extend(&c->rep, count);
        if (r == NULL) {
            c->failed = O2P_ENOMEM;
            return;
        }
        r[0] = rep_first;
        memset(r + 1, rep_next, count - 1);
    }
    c->num_entries += count;
    c->num_values += count;
}

size_t pq_col_bytes_open(pq_column *c)
{
    size_t mark = c->values.len;
    if (!c->failed && buf_extend(&c->values, 4) == NULL) c->failed = O2P_ENOMEM;
    return mark;
}

void pq_col_bytes_close(pq_column *c, size_t mark, uint8_t def, uint8_t rep)
{
    if (c->failed) return;
    size_t len = c->values.len - mark - 4;
    if (len > UINT32_MAX) {
        c->failed = O2P_ELIMIT;
        return;
    }
    uint32_t n = (uint32_t)len;
    memcpy(c->values.data + mark, &n, 4);
    pq_col_levels(c, def, rep);
    c->num_values++;
}

int pq_col_append(pq_column *dst, const pq_column *src)
{
    if (dst->failed) return dst->failed;
    if (src->failed) return dst->failed = src->failed;
    /* a run-mode column only ever meets run-mode columns (or empty ones) */
    if ((pq_col_is_run(src) && !pq_col_is_run(dst) && dst->num_entries) ||
        (pq_col_is_run(dst) && !pq_col_is_run(src) && src->num_entries))
        return dst->failed = O2P_EINVAL;
    if (buf_append(&dst->def, src->def.data, src->def.len) < 0 ||
        buf_append(&dst->rep, src->rep.data, src->rep.len) < 0 ||
        buf_append(&dst->values, src->values.data, src->values.len) < 0 ||
        buf_append(&dst->runs, src->runs.data, src->runs.len) < 0)
        return dst->failed = O2P_ENOMEM;
    dst->run_ident = 0; /* identities are the producer's: never extend across appends */
    dst->num_entries += src->num_entries;
    dst->num_values += src->num_values;
    return O2P_OK;
}

int pq_colset_init(pq_colset *set, const pq_schema *schema)
{
    set->schema = schema;
    set->num_rows = 0;
    set->num_cols = pq_schema_num_leaves(schema);
    set->cols = mem_calloc(set->num_cols ? set->num_cols : 1, sizeof *set->cols);
    if (set->cols == NULL) {
        set->num_cols = 0;
        return O2P_ENOMEM;
    }
    for (size_t i = 0; i < set->num_cols; i++)
        pq_col_init(&set->cols[i], pq_schema_leaf(schema, i));
    return O2P_OK;
}

void pq_colset_reset(pq_colset *set)
{
    for (size_t i = 0; i < set->num_cols; i++) pq_col_reset(&set->cols[i]);
    set->num_rows = 0;
}

void pq_colset_free(pq_colset *set)
{
    for (size_t i = 0; i < set->num_cols; i++) pq_col_free(&set->cols[i]);
    mem_free(set->cols);
    set->cols = NULL;
    set->num_cols = 0;
    set->num_rows = 0;
}

size_t pq_colset_mem(const pq_colset *set)
{
    size_t total = 0;
    for (size_t i = 0; i < set->num_cols; i++) total += pq_col_mem(&set->cols[i]);
    return total;
}

size_t pq_colset_mem_after_append(const pq_colset *dst, const pq_colset *src)
{
    o2p_buf empty;
    buf_init(&empty, 0);
    size_t total = 0;
    for (size_t i = 0; i < src->num_cols; i++) {
        const pq_column *s = &src->cols[i];
        const o2p_buf *def = dst ? &dst->cols[i].def : &empty;
        const o2p_buf *rep = dst ? &dst->cols[i].rep : &empty;
        const o2p_buf *values = dst ? &dst->cols[i].values : &empty;
        const o2p_buf *runs = dst ? &dst->cols[i].runs : &empty;
        total += buf_capacity_after(def, s->def.len) + buf_capacity_after(rep, s->rep.len) +
                 buf_capacity_after(values, s->values.len) + buf_capacity_after(runs, s->runs.len);
    }
    return total;
}

int pq_colset_append(pq_colset *dst, const pq_colset *src)
{
    if (dst->schema != src->schema || dst->num_cols != src->num_cols) return O2P_EINVAL;
    for (size_t i = 0; i < dst->num_cols; i++) {
        int rc = pq_col_append(&dst->cols[i], &src->cols[i]);
        if (rc < 0) return rc;
    }
    dst->num_rows += src->num_rows;
    return O2P_OK;
}

static const char *failure_text(int code)
{
    switch (code) {
    case O2P_EINVAL:
        return "a fixed-length value of the wrong length, or rows of a different mode (run and "
               "plain), was appended";
    case O2P_ELIMIT:
        return "a value longer than 4 GiB was appended";
    default:
        return "out of memory while appending";
    }
}

/* Levels are checked here, once per column, because the encoders trust
 * them: a level above the maximum would not fit its bit width. */
static int check_column(const pq_column *c, size_t num_rows, int frames, o2p_error *err)
{
    const pq_leaf *leaf = c->leaf;
    if (c->failed)
        return o2p_errorf(err, c->failed, "column %s: %s", leaf->path, failure_text(c->failed));
    size_t rows = c->num_entries;
    if (leaf->max_rep > 0) {
        if (c->rep.len != c->num_entries)
            return o2p_errorf(err, O2P_EINVAL, "column %s: %zu repetition levels for %zu entries",
                              leaf->path, c->rep.len, c->num_entries);
        if (c->num_entries > 0 && c->rep.data[0] != 0)
            return o2p_errorf(err, O2P_EINVAL,
                              "column %s: the first entry has repetition level %u, expected 0",
                              leaf->path, c->rep.data[0]);
        /* count and maximum without an early exit, so the loop vectorizes;
         * the offending entry is looked up only when there is one */
        rows = 0;
        uint8_t max_r = 0;
        for (size_t i = 0; i < c->rep.len; i++) {
            uint8_t r = c->rep.data[i];
            rows += r == 0;
            max_r = r > max_r ? r : max_r;
        }
        if (max_r > leaf->max_rep) {
            size_t i = 0;
            while (c->rep.data[i] <= leaf->max_rep) i++;
            return o2p_errorf(err, O2P_EINVAL,
                              "column %s: entry %zu has repetition level %u, max %u", leaf->path, i,
                              c->rep.data[i], leaf->max_rep);
        }
    }
    size_t values = c->num_entries;
    if (leaf->max_def > 0) {
        if (c->def.len != c->num_entries)
            return o2p_errorf(err, O2P_EINVAL, "column %s: %zu definition levels for %zu entries",
                              leaf->path, c->def.len, c->num_entries);
        values = 0;
        uint8_t max_d = 0;
        for (size_t i = 0; i < c->def.len; i++) {
            uint8_t d = c->def.data[i];
            values += d == leaf->max_def;
            max_d = d > max_d ? d : max_d;
        }
        if (max_d > leaf->max_def) {
            size_t i = 0;
            while (c->def.data[i] <= leaf->max_def) i++;
            return o2p_errorf(err, O2P_EINVAL,
                              "column %s: entry %zu has definition level %u, max %u", leaf->path, i,
                              c->def.data[i], leaf->max_def);
        }
    }
    if (values != c->num_values)
        return o2p_errorf(err, O2P_EINVAL,
                          "column %s: %zu entries at the maximum definition level but %zu values",
                          leaf->path, values, c->num_values);
    size_t width = leaf->physical == PQ_BYTE_ARRAY             ? 0
                   : leaf->physical == PQ_FIXED_LEN_BYTE_ARRAY ? (size_t)leaf->type_length
                   : leaf->physical == PQ_BOOLEAN              ? 1
                   : leaf->physical == PQ_INT32 || leaf->physical == PQ_FLOAT ? 4
                                                                              : 8;
    if (width && c->values.len != c->num_values * width)
        return o2p_errorf(err, O2P_EINVAL, "column %s: %zu value bytes for %zu values of %zu bytes",
                          leaf->path, c->values.len, c->num_values, width);
    if (!width && frames) {
        size_t off = 0, i = 0;
        for (; i < c->num_values; i++) {
            uint32_t n;
            if (c->values.len - off < 4) break;
            memcpy(&n, c->values.data + off, 4);
            if (c->values.len - off - 4 < n) break;
            off += 4 + (size_t)n;
        }
        if (i != c->num_values || off != c->values.len)
            return o2p_errorf(err, O2P_EINVAL,
                              "column %s: value bytes do not frame %zu length-prefixed values",
                              leaf->path, c->num_values);
    }
    if (pq_col_is_run(c)) {
        /* the stored rows are run heads: one per count, the counts sum to the rows */
        if (rows != c->runs.len / 4)
            return o2p_errorf(err, O2P_EINVAL, "column %s: %zu stored rows for %zu runs",
                              leaf->path, rows, c->runs.len / 4);
        rows = 0;
        for (size_t k = 0; k < c->runs.len / 4; k++) {
            uint32_t n;
            memcpy(&n, c->runs.data + 4 * k, 4);
            rows += n;
        }
    }
    if (rows != num_rows)
        return o2p_errorf(err, O2P_EINVAL, "column %s has %zu rows, expected %zu", leaf->path, rows,
                          num_rows);
    return O2P_OK;
}

int pq_colset_check(const pq_colset *set, o2p_error *err)
{
    for (size_t i = 0; i < set->num_cols; i++) {
        int rc = check_column(&set->cols[i], set->num_rows, 1, err);
        if (rc < 0) return rc;
    }
    return O2P_OK;
}

int pq_colset_check_levels(const pq_colset *set, o2p_error *err)
{
    for (size_t i = 0; i < set->num_cols; i++) {
        int rc = check_column(&set->cols[i], set->num_rows, 0, err);
        if (rc < 0) return rc;
    }
    return O2P_OK;
}
