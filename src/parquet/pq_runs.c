/* pq_runs: run-mode column chunks as runs of stored rows (see pq_runs.h). */
#include "parquet/pq_runs.h"

#include <string.h>

#include "core/mem.h"

void pq_runs_init(pq_runs *rs)
{
    memset(rs, 0, sizeof *rs);
}

void pq_runs_free(pq_runs *rs)
{
    mem_free(rs->entry);
    mem_free(rs->value);
    mem_free(rs->byte);
    mem_free(rs->stored_of);
    mem_free(rs->run_row);
    mem_free(rs->run_count);
    mem_free(rs->memo);
    mem_free(rs->done);
    mem_free(rs->val_byte);
    memset(rs, 0, sizeof *rs);
}

/* Grows *p to at least n elements of size elem; *cap counts elements. */
static int reserve(void **p, size_t *cap, size_t n, size_t elem)
{
    if (n <= *cap) return O2P_OK;
    size_t c = *cap ? *cap : 256;
    while (c < n) c += c / 2;
    void *q = mem_realloc(*p, c * elem);
    if (q == NULL) return O2P_ENOMEM;
    *p = q;
    *cap = c;
    return O2P_OK;
}

static int reserve_offsets(pq_runs *rs, size_t n)
{
    if (n <= rs->cap) return O2P_OK;
    size_t c = rs->cap;
    int rc = reserve((void **)&rs->entry, &c, n, sizeof *rs->entry);
    c = rs->cap;
    if (rc == O2P_OK) rc = reserve((void **)&rs->value, &c, n, sizeof *rs->value);
    c = rs->cap;
    if (rc == O2P_OK) rc = reserve((void **)&rs->byte, &c, n, sizeof *rs->byte);
    if (rc == O2P_OK) rs->cap = c;
    return rc;
}

/* The stored rows' entry, value and byte offsets; O2P_EINVAL when the
 * values do not frame their bytes exactly. */
static int index_stored(pq_runs *rs, const pq_column *src)
{
    const pq_leaf *leaf = src->leaf;
    size_t width = pq_value_width(leaf);
    size_t nstored = src->runs.len / 4;
    if (reserve_offsets(rs, nstored + 1) < 0) return O2P_ENOMEM;
    size_t e = 0, v = 0, b = 0;
    const uint8_t *values = src->values.data;
    const size_t len = src->values.len;
    for (size_t s = 0; s < nstored; s++) {
        rs->entry[s] = e;
        rs->value[s] = v;
        rs->byte[s] = b;
        if (e >= src->num_entries) return O2P_EINVAL;
        size_t nv;
        size_t e_end = pq_col_row_end(src, e, &nv);
        if (width) {
            b += nv * width;
        } else {
            for (size_t i = 0; i < nv; i++) {
                uint32_t n;
                if (len - b < 4) return O2P_EINVAL;
                memcpy(&n, values + b, 4);
                if (len - b - 4 < n) return O2P_EINVAL;
                b += 4 + (size_t)n;
            }
        }
        e = e_end;
        v += nv;
    }
    rs->entry[nstored] = e;
    rs->value[nstored] = v;
    rs->byte[nstored] = b;
    if (e != src->num_entries || v != src->num_values || b != len) return O2P_EINVAL;
    rs->nstored = nstored;
    return O2P_OK;
}

static int add_run(pq_runs *rs, uint32_t s, uint32_t k)
{
    if (rs->nruns > 0 && rs->run_row[rs->nruns - 1] == s) {
        rs->run_count[rs->nruns - 1] += k;
        return O2P_OK;
    }
    if (rs->nruns == rs->runs_cap) {
        size_t c = rs->runs_cap;
        if (reserve((void **)&rs->run_row, &c, rs->nruns + 1, sizeof *rs->run_row) < 0)
            return O2P_ENOMEM;
        c = rs->runs_cap;
        if (reserve((void **)&rs->run_count, &c, rs->nruns + 1, sizeof *rs->run_count) < 0)
            return O2P_ENOMEM;
        rs->runs_cap = c;
    }
    rs->run_row[rs->nruns] = s;
    rs->run_count[rs->nruns] = k;
    rs->nruns++;
    return O2P_OK;
}

static uint32_t run_count_at(const pq_column *src, size_t s)
{
    uint32_t k;
    memcpy(&k, src->runs.data + 4 * s, 4);
    return k;
}

int pq_runs_build(pq_runs *rs, const pq_column *src, size_t num_rows, const uint32_t *perm,
                  size_t row0, size_t n)
{
    rs->nruns = 0;
    rs->entries = 0;
    rs->values = 0;
    int rc = index_stored(rs, src);
    if (rc < 0) return rc;
    size_t nstored = rs->nstored;
    if (nstored > UINT32_MAX) return O2P_ELIMIT;
    size_t total = 0;
    for (size_t s = 0; s < nstored; s++) total += run_count_at(src, s);
    if (total != num_rows) return O2P_EINVAL;
    if (perm != NULL) {
        if (reserve((void **)&rs->stored_of, &rs->stored_cap, num_rows, sizeof *rs->stored_of) < 0)
            return O2P_ENOMEM;
        size_t r = 0;
        for (size_t s = 0; s < nstored; s++)
            for (uint32_t k = run_count_at(src, s); k > 0; k--) rs->stored_of[r++] = (uint32_t)s;
        for (size_t i = 0; i < n; i++) {
            if (perm[i] >= num_rows) return O2P_EINVAL;
            if ((rc = add_run(rs, rs->stored_of[perm[i]], 1)) < 0) return rc;
        }
    } else {
        if (row0 > num_rows || n > num_rows - row0) return O2P_EINVAL;
        size_t row = 0;
        for (size_t s = 0; s < nstored && n > 0; s++) {
            size_t k = run_count_at(src, s);
            if (row + k > row0) {
                size_t from = row0 > row ? row0 - row : 0;
                size_t take = k - from < n ? k - from : n;
                if ((rc = add_run(rs, (uint32_t)s, (uint32_t)take)) < 0) return rc;
                row0 += take;
                n -= take;
            }
            row += k;
        }
    }
    for (size_t j = 0; j < rs->nruns; j++) {
        size_t s = rs->run_row[j];
        rs->entries += (size_t)rs->run_count[j] * (rs->entry[s + 1] - rs->entry[s]);
        rs->values += (size_t)rs->run_count[j] * (rs->value[s + 1] - rs->value[s]);
    }
    if (reserve((void **)&rs->memo, &rs->memo_cap, src->num_values + 1, sizeof *rs->memo) < 0 ||
        reserve((void **)&rs->done, &rs->done_cap, nstored + 1, sizeof *rs->done) < 0)
        return O2P_ENOMEM;
    memset(rs->done, 0, nstored * sizeof *rs->done);
    return O2P_OK;
}

/* Writes the run's k copies of the stored row's levels src[0..ne) at dst. */
static uint8_t *copy_levels(uint8_t *dst, const uint8_t *src, size_t ne, size_t k)
{
    if (ne == 1) {
        memset(dst, src[0], k);
        return dst + k;
    }
    for (size_t i = 0; i < k; i++, dst += ne) memcpy(dst, src, ne);
    return dst;
}

int pq_runs_levels(const pq_runs *rs, const pq_column *src, pq_column *dst)
{
    const pq_leaf *leaf = src->leaf;
    uint8_t *def = NULL, *rep = NULL;
    if (rs->entries > 0 && leaf->max_def > 0 && (def = buf_extend(&dst->def, rs->entries)) == NULL)
        return dst->failed = O2P_ENOMEM;
    if (rs->entries > 0 && leaf->max_rep > 0 && (rep = buf_extend(&dst->rep, rs->entries)) == NULL)
        return dst->failed = O2P_ENOMEM;
    for (size_t j = 0; j < rs->nruns; j++) {
        size_t s = rs->run_row[j], k = rs->run_count[j];
        size_t e0 = rs->entry[s], ne = rs->entry[s + 1] - e0;
        if (def) def = copy_levels(def, src->def.data + e0, ne, k);
        if (rep) rep = copy_levels(rep, src->rep.data + e0, ne, k);
    }
    dst->num_entries += rs->entries;
    dst->num_values += rs->values;
    return O2P_OK;
}

int pq_runs_prefix(const pq_runs *rs, const pq_column *src, size_t min_values, o2p_buf *dst)
{
    size_t got = 0;
    for (size_t j = 0; j < rs->nruns && got < min_values; j++) {
        size_t s = rs->run_row[j], nv = rs->value[s + 1] - rs->value[s];
        if (nv == 0) continue;
        size_t k = rs->run_count[j], want = (min_values - got + nv - 1) / nv;
        size_t copies = k < want ? k : want;
        int rc = buf_append_copies(dst, src->values.data + rs->byte[s],
                                   rs->byte[s + 1] - rs->byte[s], copies);
        if (rc < 0) return rc;
        got += copies * nv;
    }
    return O2P_OK;
}

/* Byte offset, within stored row s's values, of its value i. */
static size_t value_offset(const pq_runs *rs, const pq_column *src, size_t s, size_t i)
{
    size_t width = pq_value_width(src->leaf);
    if (width) return i * width;
    const uint8_t *p = src->values.data + rs->byte[s];
    size_t off = 0;
    for (size_t k = 0; k < i; k++) {
        uint32_t n;
        memcpy(&n, p + off, 4);
        off += 4 + (size_t)n;
    }
    return off;
}

size_t pq_runs_bytes(const pq_runs *rs, const pq_column *src, size_t values)
{
    size_t pos = 0, bytes = 0;
    for (size_t j = 0; j < rs->nruns && pos < values; j++) {
        size_t s = rs->run_row[j], k = rs->run_count[j], nv = rs->value[s + 1] - rs->value[s];
        size_t row_bytes = rs->byte[s + 1] - rs->byte[s];
        if (pos + k * nv <= values) {
            pos += k * nv;
            bytes += k * row_bytes;
            continue;
        }
        size_t copies = (values - pos) / nv, rest = values - pos - copies * nv;
        return bytes + copies * row_bytes + value_offset(rs, src, s, rest);
    }
    return bytes;
}

int pq_runs_dict_encode(pq_runs *rs, const pq_column *src, pq_dict *d, size_t from, size_t to,
                        uint32_t *entries, size_t byte_limit)
{
    size_t pos = 0;
    for (size_t j = 0; j < rs->nruns && pos < to; j++) {
        size_t s = rs->run_row[j], k = rs->run_count[j];
        size_t v0 = rs->value[s], nv = rs->value[s + 1] - v0;
        if (nv == 0 || pos + k * nv <= from) {
            pos += k * nv;
            continue;
        }
        const uint32_t *memo = rs->memo + v0;
        for (size_t c = from > pos ? (from - pos) / nv : 0; c < k; c++) {
            size_t q = pos + c * nv;
            if (q >= to) break;
            size_t a = from > q ? from - q : 0, b = to - q < nv ? to - q : nv;
            if (rs->done[s] < b) {
                /* the first rows of this stored row in the chunk: look its
                 * values up (from where an earlier call stopped) */
                size_t at = rs->done[s];
                int rc =
                    pq_dict_encode(d, src->values.data + rs->byte[s] + value_offset(rs, src, s, at),
                                   b - at, rs->memo + v0 + at, byte_limit);
                if (rc < 0) return rc;
                rs->done[s] = (uint32_t)b;
            }
            if (nv == 1) {
                /* one value per row (a scope's name, a resource's schema
                 * URL): the rest of the run at once */
                size_t end = pos + k < to ? pos + k : to;
                for (size_t i = q; i < end; i++) entries[i] = memo[0];
                break;
            }
            memcpy(entries + q + a, memo + a, (b - a) * sizeof *entries);
        }
        pos += k * nv;
    }
    return O2P_OK;
}
