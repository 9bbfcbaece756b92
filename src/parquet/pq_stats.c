/* pq_stats: page and column-chunk statistics (see pq_stats.h). */
#include "parquet/pq_stats.h"

#include "core/codec_text.h"

#include <math.h>
#include <string.h>

pq_order pq_stats_order(const pq_leaf *leaf)
{
    switch (leaf->physical) {
    case PQ_BOOLEAN:
        return PQ_ORDER_BOOL;
    case PQ_INT32:
        return leaf->logical == PQ_LOGICAL_UINT8 || leaf->logical == PQ_LOGICAL_UINT16 ||
                       leaf->logical == PQ_LOGICAL_UINT32
                   ? PQ_ORDER_UNSIGNED32
                   : PQ_ORDER_SIGNED32;
    case PQ_INT64:
        return leaf->logical == PQ_LOGICAL_UINT64 ? PQ_ORDER_UNSIGNED64 : PQ_ORDER_SIGNED64;
    case PQ_FLOAT:
        return PQ_ORDER_FLOAT;
    case PQ_DOUBLE:
        return PQ_ORDER_DOUBLE;
    case PQ_BYTE_ARRAY:
    case PQ_FIXED_LEN_BYTE_ARRAY:
        return PQ_ORDER_BYTES;
    }
    return PQ_ORDER_BYTES;
}

void pq_stats_init(pq_stats *s, const pq_leaf *leaf)
{
    memset(s, 0, sizeof *s);
    s->order = pq_stats_order(leaf);
    s->width = leaf->physical == PQ_FIXED_LEN_BYTE_ARRAY ? (size_t)leaf->type_length : 0;
}

void pq_stats_reset(pq_stats *s)
{
    pq_stats tmp = {.order = s->order, .width = s->width};
    *s = tmp;
}

static int bytes_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    int c = memcmp(a, b, alen < blen ? alen : blen);
    if (c != 0) return c;
    return alen < blen ? -1 : alen > blen;
}

static void add_bytes(pq_stats *s, const uint8_t *v, size_t len)
{
    if (!s->has_minmax) {
        s->min_bytes = s->max_bytes = v;
        s->min_len = s->max_len = len;
        s->has_minmax = 1;
        return;
    }
    if (bytes_cmp(v, len, s->min_bytes, s->min_len) < 0) {
        s->min_bytes = v;
        s->min_len = len;
    } else if (bytes_cmp(v, len, s->max_bytes, s->max_len) > 0) {
        s->max_bytes = v;
        s->max_len = len;
    }
}

void pq_stats_add_bytes(pq_stats *s, const uint8_t *value, size_t len)
{
    add_bytes(s, value, len);
}

/* One tight loop per numeric order; the running min/max stay in locals so
 * the compiler can keep them in registers (or vectorize). */
#define SCAN_INT(T, field)                                                                         \
    do {                                                                                           \
        T lo, hi;                                                                                  \
        memcpy(&lo, plain, sizeof(T));                                                             \
        hi = lo;                                                                                   \
        for (size_t i = 1; i < count; i++) {                                                       \
            T v;                                                                                   \
            memcpy(&v, plain + i * sizeof(T), sizeof(T));                                          \
            lo = v < lo ? v : lo;                                                                  \
            hi = v > hi ? v : hi;                                                                  \
        }                                                                                          \
        if (!s->has_minmax || lo < (T)s->min.field) s->min.field = lo;                             \
        if (!s->has_minmax || hi > (T)s->max.field) s->max.field = hi;                             \
        s->has_minmax = 1;                                                                         \
    } while (0)

#define SCAN_FLOAT(T)                                                                              \
    do {                                                                                           \
        for (size_t i = 0; i < count; i++) {                                                       \
            T v;                                                                                   \
            memcpy(&v, plain + i * sizeof(T), sizeof(T));                                          \
            if (isnan(v)) {                                                                        \
                s->nan_count++;                                                                    \
                continue;                                                                          \
            }                                                                                      \
            if (!s->has_minmax) {                                                                  \
                s->min.d = s->max.d = v;                                                           \
                s->has_minmax = 1;                                                                 \
            } else if (v < s->min.d) {                                                             \
                s->min.d = v;                                                                      \
            } else if (v > s->max.d) {                                                             \
                s->max.d = v;                                                                      \
            }                                                                                      \
        }                                                                                          \
    } while (0)

void pq_stats_add_plain(pq_stats *s, const uint8_t *plain, size_t count)
{
    if (count == 0) return;
    switch (s->order) {
    case PQ_ORDER_BOOL:
        SCAN_INT(uint8_t, i);
        break;
    case PQ_ORDER_SIGNED32:
        SCAN_INT(int32_t, i);
        break;
    case PQ_ORDER_SIGNED64:
        SCAN_INT(int64_t, i);
        break;
    case PQ_ORDER_UNSIGNED32:
        SCAN_INT(uint32_t, u);
        break;
    case PQ_ORDER_UNSIGNED64:
        SCAN_INT(uint64_t, u);
        break;
    case PQ_ORDER_FLOAT:
        SCAN_FLOAT(float);
        break;
    case PQ_ORDER_DOUBLE:
        SCAN_FLOAT(double);
        break;
    case PQ_ORDER_BYTES:
        if (s->width) {
            for (size_t i = 0; i < count; i++) add_bytes(s, plain + i * s->width, s->width);
        } else {
            const uint8_t *p = plain;
            for (size_t i = 0; i < count; i++) {
                uint32_t n;
                memcpy(&n, p, 4);
                add_bytes(s, p + 4, n);
                p += 4 + (size_t)n;
            }
        }
        break;
    }
}

static int num_less(pq_order order, pq_stat_num a, pq_stat_num b)
{
    switch (order) {
    case PQ_ORDER_UNSIGNED32:
    case PQ_ORDER_UNSIGNED64:
        return a.u < b.u;
    case PQ_ORDER_FLOAT:
    case PQ_ORDER_DOUBLE:
        return a.d < b.d;
    default:
        return a.i < b.i;
    }
}

void pq_stats_merge(pq_stats *dst, const pq_stats *src)
{
    dst->null_count += src->null_count;
    dst->nan_count += src->nan_count;
    if (!src->has_minmax) return;
    if (!dst->has_minmax) {
        dst->min = src->min;
        dst->max = src->max;
        dst->min_bytes = src->min_bytes;
        dst->max_bytes = src->max_bytes;
        dst->min_len = src->min_len;
        dst->max_len = src->max_len;
        dst->has_minmax = 1;
        return;
    }
    if (dst->order == PQ_ORDER_BYTES) {
        if (bytes_cmp(src->min_bytes, src->min_len, dst->min_bytes, dst->min_len) < 0) {
            dst->min_bytes = src->min_bytes;
            dst->min_len = src->min_len;
        }
        if (bytes_cmp(src->max_bytes, src->max_len, dst->max_bytes, dst->max_len) > 0) {
            dst->max_bytes = src->max_bytes;
            dst->max_len = src->max_len;
        }
        return;
    }
    if (num_less(dst->order, src->min, dst->min)) dst->min = src->min;
    if (num_less(dst->order, dst->max, src->max)) dst->max = src->max;
}

/* PLAIN bytes of a numeric bound.  Float zero bounds are widened to -0.0
 * (min) and +0.0 (max), as parquet.thrift asks, because the scan does not
 * distinguish the two zeros. */
static size_t encode_num(pq_order order, pq_stat_num v, int is_max, uint8_t out[8])
{
    switch (order) {
    case PQ_ORDER_BOOL:
        out[0] = (uint8_t)v.i;
        return 1;
    case PQ_ORDER_SIGNED32: {
        int32_t x = (int32_t)v.i;
        memcpy(out, &x, 4);
        return 4;
    }
    case PQ_ORDER_UNSIGNED32: {
        uint32_t x = (uint32_t)v.u;
        memcpy(out, &x, 4);
        return 4;
    }
    case PQ_ORDER_FLOAT: {
        float x = (float)v.d;
        if (x == 0.0f) x = is_max ? 0.0f : -0.0f;
        memcpy(out, &x, 4);
        return 4;
    }
    case PQ_ORDER_DOUBLE: {
        double x = v.d;
        if (x == 0.0) x = is_max ? 0.0 : -0.0;
        memcpy(out, &x, 8);
        return 8;
    }
    default:
        memcpy(out, &v, 8);
        return 8;
    }
}

/* A bound >= max of at most PQ_STATS_MAX_BYTES bytes that stays valid UTF-8
 * when the value is: cut on a character boundary, then increment the last
 * byte of the last character if that keeps it well-formed (an ASCII byte
 * below 0x7F, or a continuation byte below 0xBF), else drop that character
 * and try the one before.  Any such bound is greater than every value with
 * the kept prefix.  Returns 0 when no shorter bound exists. */
static size_t truncate_max(const uint8_t *v, size_t len, uint8_t out[PQ_STATS_MAX_BYTES])
{
    size_t n = utf8_truncate(v, len, PQ_STATS_MAX_BYTES);
    while (n > 0) {
        uint8_t last = v[n - 1];
        if (last < 0x7F || (last >= 0x80 && last < 0xBF)) {
            memcpy(out, v, n);
            out[n - 1]++;
            return n;
        }
        /* drop the last character: back up over continuation bytes */
        n--;
        while (n > 0 && (v[n] & 0xC0) == 0x80) n--;
    }
    return 0;
}

int pq_stats_bounds(const pq_stats *s, pq_bound *lo, pq_bound *hi)
{
    if (!s->has_minmax) return 0;
    lo->exact = hi->exact = 1;
    if (s->order != PQ_ORDER_BYTES) {
        lo->len = encode_num(s->order, s->min, 0, lo->buf);
        hi->len = encode_num(s->order, s->max, 1, hi->buf);
        lo->data = lo->buf;
        hi->data = hi->buf;
        return 1;
    }
    hi->data = s->max_bytes;
    hi->len = s->max_len;
    if (hi->len > PQ_STATS_MAX_BYTES) {
        size_t n = truncate_max(s->max_bytes, s->max_len, hi->buf);
        if (n > 0) {
            hi->data = hi->buf;
            hi->len = n;
            hi->exact = 0;
        }
    }
    lo->data = s->min_bytes;
    lo->len = s->min_len;
    if (lo->len > PQ_STATS_MAX_BYTES) {
        /* a prefix is always <= the value; cut it on a character boundary */
        lo->len = utf8_truncate(s->min_bytes, s->min_len, PQ_STATS_MAX_BYTES);
        lo->exact = 0;
    }
    return 1;
}

int pq_bound_cmp(pq_order order, const uint8_t *a, size_t a_len, const uint8_t *b, size_t b_len)
{
    switch (order) {
    case PQ_ORDER_BOOL:
        return (int)a[0] - (int)b[0];
    case PQ_ORDER_SIGNED32: {
        int32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case PQ_ORDER_UNSIGNED32: {
        uint32_t x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case PQ_ORDER_SIGNED64: {
        int64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case PQ_ORDER_UNSIGNED64: {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case PQ_ORDER_FLOAT: {
        float x, y;
        memcpy(&x, a, 4);
        memcpy(&y, b, 4);
        return (x > y) - (x < y);
    }
    case PQ_ORDER_DOUBLE: {
        double x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        return (x > y) - (x < y);
    }
    case PQ_ORDER_BYTES:
        break;
    }
    size_t n = a_len < b_len ? a_len : b_len;
    int c = n ? memcmp(a, b, n) : 0;
    if (c != 0) return c;
    return (a_len > b_len) - (a_len < b_len);
}

void pq_stats_write(const pq_stats *s, pq_thrift *t, int16_t field_id)
{
    pq_thrift_field_struct(t, field_id);
    pq_bound lo, hi;
    if (pq_stats_bounds(s, &lo, &hi)) {
        if (s->order != PQ_ORDER_BYTES) {
            /* The deprecated fields are defined with signed order; old
             * readers only look there. */
            int legacy = s->order != PQ_ORDER_UNSIGNED32 && s->order != PQ_ORDER_UNSIGNED64;
            if (legacy) {
                pq_thrift_field_binary(t, 1, hi.data, hi.len);
                pq_thrift_field_binary(t, 2, lo.data, lo.len);
            }
        }
        pq_thrift_field_i64(t, 3, (int64_t)s->null_count);
        pq_thrift_field_binary(t, 5, hi.data, hi.len);
        pq_thrift_field_binary(t, 6, lo.data, lo.len);
        pq_thrift_field_bool(t, 7, hi.exact);
        pq_thrift_field_bool(t, 8, lo.exact);
    } else {
        pq_thrift_field_i64(t, 3, (int64_t)s->null_count);
    }
    if (s->order == PQ_ORDER_FLOAT || s->order == PQ_ORDER_DOUBLE)
        pq_thrift_field_i64(t, 9, (int64_t)s->nan_count);
    pq_thrift_struct_end(t);
}
