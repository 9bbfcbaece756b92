/* pq_sort: row order by a timestamp column (see pq_sort.h). */
#include "parquet/pq_sort.h"

#include <string.h>

#include "core/copy.h"
#include "core/mem.h"
#include "parquet/pq_radix.h"

void pq_row_index_init(pq_row_index *ix)
{
    memset(ix, 0, sizeof *ix);
}

void pq_row_index_free(pq_row_index *ix)
{
    mem_free(ix->entry);
    mem_free(ix->byte);
    mem_free(ix->row);
    mem_free(ix->stored_of);
    mem_free(ix->sort_keys);
    mem_free(ix->sort_rows);
    memset(ix, 0, sizeof *ix);
}

static int reserve(pq_row_index *ix, size_t n)
{
    if (n <= ix->cap) return O2P_OK;
    size_t cap = ix->cap ? ix->cap : 1024;
    while (cap < n) cap += cap / 2;
    size_t *e = mem_realloc(ix->entry, cap * sizeof *e);
    if (e == NULL) return O2P_ENOMEM;
    ix->entry = e;
    size_t *b = mem_realloc(ix->byte, cap * sizeof *b);
    if (b == NULL) return O2P_ENOMEM;
    ix->byte = b;
    size_t *r = mem_realloc(ix->row, cap * sizeof *r);
    if (r == NULL) return O2P_ENOMEM;
    ix->row = r;
    ix->cap = cap;
    return O2P_OK;
}

/* Fills ix for column c and sets *stored to its number of stored rows:
 * O2P_ENOMEM, or O2P_EINVAL when BYTE_ARRAY values do not frame their bytes
 * exactly (a length running past the end, or bytes left over). */
static int build_index(const pq_column *c, pq_row_index *ix, size_t *stored)
{
    const pq_leaf *leaf = c->leaf;
    size_t width = pq_value_width(leaf);
    size_t nrows = 0;
    if (leaf->max_rep == 0) {
        nrows = c->num_entries;
    } else {
        for (size_t i = 0; i < c->num_entries; i++) nrows += c->rep.data[i] == 0;
    }
    if (reserve(ix, nrows + 1) < 0) return O2P_ENOMEM;
    size_t e = 0, b = 0, row = 0;
    const uint8_t *values = c->values.data;
    const size_t len = c->values.len;
    for (size_t s = 0; s < nrows; s++) {
        ix->entry[s] = e;
        ix->byte[s] = b;
        ix->row[s] = row;
        size_t e_end = e + 1;
        if (leaf->max_rep > 0)
            while (e_end < c->num_entries && c->rep.data[e_end] != 0) e_end++;
        for (size_t i = e; i < e_end; i++) {
            if (leaf->max_def > 0 && c->def.data[i] != leaf->max_def) continue;
            if (width) {
                b += width;
            } else {
                /* the length prefixes are checked here, on the one walk over them */
                uint32_t n;
                if (len - b < 4) return O2P_EINVAL;
                memcpy(&n, values + b, 4);
                if (len - b - 4 < n) return O2P_EINVAL;
                b += 4 + (size_t)n;
            }
        }
        if (pq_col_is_run(c)) {
            uint32_t count;
            memcpy(&count, c->runs.data + 4 * s, 4);
            row += count;
        } else {
            row++;
        }
        e = e_end;
    }
    if (width == 0 && b != len) return O2P_EINVAL; /* bytes after the last value */
    ix->entry[nrows] = e;
    ix->byte[nrows] = b;
    ix->row[nrows] = row;
    *stored = nrows;
    return O2P_OK;
}

int pq_sort_key_ok(const pq_column *key)
{
    return key != NULL && key->leaf != NULL && key->leaf->physical == PQ_INT64 &&
           key->leaf->max_rep == 0;
}

/* Grows pq_sort_perm's scratch to n keys and rows, twice (the second
 * halves are the radix sort's buffers); kept for the next sort. */
static int reserve_sort(pq_row_index *ix, size_t n)
{
    if (n <= ix->sort_cap) return O2P_OK;
    uint64_t *k = mem_realloc(ix->sort_keys, 2 * n * sizeof *k);
    if (k == NULL) return O2P_ENOMEM;
    ix->sort_keys = k;
    uint32_t *r = mem_realloc(ix->sort_rows, 2 * n * sizeof *r);
    if (r == NULL) return O2P_ENOMEM;
    ix->sort_rows = r;
    ix->sort_cap = n;
    return O2P_OK;
}

int pq_sort_perm(const pq_column *key, size_t num_rows, pq_row_index *ix, uint32_t **perm,
                 o2p_error *err)
{
    *perm = NULL;
    if (!pq_sort_key_ok(key))
        return o2p_errorf(err, O2P_EINVAL, "parquet writer: cannot sort rows by column %s: %s",
                          key && key->leaf ? key->leaf->path : "(none)",
                          "the sort column must be a flat INT64 column");
    if (num_rows > UINT32_MAX)
        return o2p_errorf(err, O2P_ELIMIT,
                          "parquet writer: %zu rows are too many to sort in one write", num_rows);
    size_t nstored;
    int brc = build_index(key, ix, &nstored);
    if (brc < 0)
        return brc == O2P_ENOMEM
                   ? o2p_errorf(err, O2P_ENOMEM, "parquet writer: out of memory for the sort index")
                   : o2p_errorf(err, brc, "parquet writer: sort column %s: bad values",
                                key->leaf->path);
    if (ix->row[nstored] != num_rows)
        return o2p_errorf(err, O2P_EINVAL, "parquet writer: sort column %s holds %zu rows, not %zu",
                          key->leaf->path, ix->row[nstored], num_rows);
    if (reserve_sort(ix, num_rows ? num_rows : 1) < 0)
        return o2p_errorf(err, O2P_ENOMEM, "parquet writer: out of memory sorting %zu rows",
                          num_rows);
    /* The order: nulls first in arrival order, then the keys ascending, equal
     * keys in arrival order.  The keys of the present rows (signed, with the
     * sign bit flipped so that they sort as unsigned) go to sort_keys and
     * their rows to sort_rows; the null rows, fewer than num_rows - m, fill
     * sort_rows from its second half (num_rows - m of them), copied out before
     * the radix sort reuses it. */
    uint64_t *keys = ix->sort_keys;
    uint32_t *rows = ix->sort_rows, *null_rows = ix->sort_rows + num_rows;
    int sorted = 1, seen_present = 0;
    uint64_t prev = 0;
    size_t nulls = 0, m = 0, s = 0;
    for (size_t r = 0; r < num_rows; r++) {
        while (s + 1 < nstored && ix->row[s + 1] <= r) s++;
        if (key->leaf->max_def > 0 && key->def.data[ix->entry[s]] != key->leaf->max_def) {
            null_rows[nulls++] = (uint32_t)r;
            if (seen_present) sorted = 0; /* a null after a present key */
            continue;
        }
        int64_t v;
        memcpy(&v, key->values.data + ix->byte[s], 8);
        uint64_t k = (uint64_t)v ^ (UINT64_C(1) << 63);
        if (seen_present && k < prev) sorted = 0;
        prev = k;
        seen_present = 1;
        keys[m] = k;
        rows[m++] = (uint32_t)r;
    }
    if (sorted) return O2P_OK;
    uint32_t *p = mem_alloc(num_rows * sizeof *p);
    if (p == NULL)
        return o2p_errorf(err, O2P_ENOMEM, "parquet writer: out of memory sorting %zu rows",
                          num_rows);
    memcpy(p, null_rows, nulls * sizeof *p);
    pq_radix_sort_u64(keys, rows, keys + num_rows, rows + num_rows, m);
    memcpy(p + nulls, rows, m * sizeof *rows);
    *perm = p;
    return O2P_OK;
}

/* Flat, required, fixed-width, not run mode: row r is value r, so the
 * gather is one fixed-size copy per row and needs no row index. */
static int gather_fixed(pq_column *dst, const pq_column *src, size_t num_rows, const uint32_t *perm,
                        size_t n, size_t width)
{
    if (src->num_entries != num_rows || src->values.len != num_rows * width)
        return dst->failed = O2P_EINVAL;
    for (size_t i = 0; i < n; i++)
        if (perm[i] >= num_rows) return dst->failed = O2P_EINVAL;
    if (n == 0) return O2P_OK;
    uint8_t *out = buf_extend(&dst->values, n * width);
    if (out == NULL) return dst->failed = O2P_ENOMEM;
    const uint8_t *in = src->values.data;
    switch (width) { /* constant sizes, so each copy is one load and store */
    case 8:
        for (size_t i = 0; i < n; i++) memcpy(out + 8 * i, in + 8 * (size_t)perm[i], 8);
        break;
    case 4:
        for (size_t i = 0; i < n; i++) memcpy(out + 4 * i, in + 4 * (size_t)perm[i], 4);
        break;
    case 1:
        for (size_t i = 0; i < n; i++) out[i] = in[perm[i]];
        break;
    default:
        for (size_t i = 0; i < n; i++) memcpy(out + width * i, in + width * perm[i], width);
    }
    dst->num_entries += n;
    dst->num_values += n;
    return O2P_OK;
}

int pq_col_gather(pq_column *dst, const pq_column *src, size_t num_rows, const uint32_t *perm,
                  size_t n, pq_row_index *ix)
{
    const pq_leaf *leaf = src->leaf;
    size_t width = pq_value_width(leaf);
    if (width && leaf->max_def == 0 && leaf->max_rep == 0 && !pq_col_is_run(src))
        return gather_fixed(dst, src, num_rows, perm, n, width);
    size_t nstored;
    int brc = build_index(src, ix, &nstored);
    if (brc < 0) return dst->failed = brc;
    if (ix->row[nstored] != num_rows) return dst->failed = O2P_EINVAL;
    const uint32_t *stored_of = NULL; /* run mode: row -> stored row, in one pass */
    if (pq_col_is_run(src)) {
        if (nstored > UINT32_MAX) return dst->failed = O2P_ELIMIT;
        if (num_rows > ix->stored_cap) {
            uint32_t *m = mem_realloc(ix->stored_of, num_rows * sizeof *m);
            if (m == NULL) return dst->failed = O2P_ENOMEM;
            ix->stored_of = m;
            ix->stored_cap = num_rows;
        }
        for (size_t st = 0; st < nstored; st++)
            for (size_t r = ix->row[st]; r < ix->row[st + 1]; r++) ix->stored_of[r] = (uint32_t)st;
        stored_of = ix->stored_of;
    }
    /* sizes first, so the copies below need no capacity checks */
    size_t entries = 0, bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (perm[i] >= num_rows) return dst->failed = O2P_EINVAL;
        size_t s = stored_of ? stored_of[perm[i]] : perm[i];
        entries += ix->entry[s + 1] - ix->entry[s];
        bytes += ix->byte[s + 1] - ix->byte[s];
    }
    if (entries == 0) return O2P_OK;
    uint8_t *def = NULL, *rep = NULL, *val = NULL;
    if (bytes > 0 && (val = buf_extend(&dst->values, bytes)) == NULL)
        return dst->failed = O2P_ENOMEM;
    if (leaf->max_def > 0 && (def = buf_extend(&dst->def, entries)) == NULL)
        return dst->failed = O2P_ENOMEM;
    if (leaf->max_rep > 0 && (rep = buf_extend(&dst->rep, entries)) == NULL)
        return dst->failed = O2P_ENOMEM;
    for (size_t i = 0; i < n; i++) {
        size_t s = stored_of ? stored_of[perm[i]] : perm[i];
        size_t e0 = ix->entry[s], ne = ix->entry[s + 1] - e0;
        size_t b0 = ix->byte[s], nb = ix->byte[s + 1] - b0;
        if (def) {
            copy_short(def, src->def.data + e0, ne);
            def += ne;
        }
        if (rep) {
            copy_short(rep, src->rep.data + e0, ne);
            rep += ne;
        }
        if (nb > 0) { /* an all-null chunk has no value bytes (val is NULL) */
            copy_short(val, src->values.data + b0, nb);
            val += nb;
        }
    }
    size_t nv = entries;
    if (leaf->max_def > 0) {
        const uint8_t *d = dst->def.data + dst->def.len - entries;
        nv = 0;
        for (size_t k = 0; k < entries; k++) nv += d[k] == leaf->max_def;
    }
    dst->num_entries += entries;
    dst->num_values += nv;
    return O2P_OK;
}

static int64_t key_at(const pq_column *key, const uint32_t *perm, size_t pos)
{
    int64_t v;
    memcpy(&v, key->values.data + 8 * (size_t)(perm ? perm[pos] : pos), 8);
    return v;
}

/* floor(v / span) for span > 0, also for negative v */
static int64_t span_of(int64_t v, int64_t span)
{
    int64_t q = v / span;
    return (v % span != 0 && v < 0) ? q - 1 : q;
}

size_t pq_sort_time_cut(const pq_column *key, const uint32_t *perm, size_t from, size_t min_end,
                        size_t max_end, int64_t span)
{
    if (span <= 0 || min_end <= from || min_end >= max_end || !pq_sort_key_ok(key) ||
        key->leaf->max_def != 0 || pq_col_is_run(key) || key->values.len < 8 * max_end)
        return max_end;
    int64_t s = span_of(key_at(key, perm, min_end - 1), span);
    if (s >= INT64_MAX / span) return max_end; /* the next span's start would overflow */
    int64_t next = (s + 1) * span;             /* the first key of the next span */
    /* sorted: binary search for the first key >= next in [min_end, max_end) */
    size_t lo = min_end, hi = max_end;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (key_at(key, perm, mid) < next)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
