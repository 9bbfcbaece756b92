/* pq_rle: RLE/bit-packed hybrid encoder (see pq_rle.h). */
#include "parquet/pq_rle.h"

#include <string.h>

#include "core/error.h"
#include "parquet/pq_bitpack.h"
#include "parquet/pq_varint.h"

size_t pq_rle_max_size(size_t count, int width)
{
    /* Packed data of every value, plus per 8 values at most one run (header
     * and value) and one literal header. */
    return (count + 7) / 8 * (size_t)width + (count / 8 + 2) * (2 * PQ_VARINT_MAX + 4);
}

static inline uint64_t load64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

typedef struct rle_out {
    uint8_t *p;
    int width;
} rle_out;

static inline __attribute__((always_inline)) uint32_t at(const void *values, size_t i,
                                                         int elem_size)
{
    return elem_size == 1 ? ((const uint8_t *)values)[i] : ((const uint32_t *)values)[i];
}

static void emit_run(rle_out *o, uint32_t value, size_t count)
{
    o->p += pq_varint_put(o->p, (uint64_t)count << 1);
    for (int b = 0; b < (o->width + 7) / 8; b++) *o->p++ = (uint8_t)(value >> (8 * b));
}

static void emit_literal(rle_out *o, const void *values, size_t count, int elem_size)
{
    size_t groups = (count + 7) / 8;
    o->p += pq_varint_put(o->p, ((uint64_t)groups << 1) | 1);
    size_t packed = pq_bitpack_bytes(count, o->width);
    if (elem_size == 1)
        pq_bitpack_u8(values, count, o->width, o->p);
    else
        pq_bitpack_u32(values, count, o->width, o->p);
    size_t full = groups * (size_t)o->width;
    memset(o->p + packed, 0, full - packed);
    o->p += full;
}

static inline __attribute__((always_inline)) int encode(o2p_buf *out, const void *values, size_t n,
                                                        int width, int elem_size)
{
    int rc = buf_reserve(out, pq_rle_max_size(n, width));
    if (rc < 0) return rc;
    rle_out o = {out->data + out->len, width};
    const uint8_t *base = values;
    size_t lit = 0, i = 0;
    while (i < n) {
        uint32_t x = at(values, i, elem_size);
        size_t j = i + 1;
        if (elem_size == 1) {
            /* levels: long runs (all present, one entry per row) 8 at a time */
            uint64_t pattern = x * 0x0101010101010101ull;
            while (n - j >= 8 && load64(base + j) == pattern) j += 8;
        }
        while (j < n && at(values, j, elem_size) == x) j++;
        size_t run = j - i;
        if (run >= 8) {
            size_t pending = i - lit;
            size_t pad = (8 - pending % 8) % 8;
            if (run - pad >= 8) {
                if (pending + pad > 0)
                    emit_literal(&o, base + lit * (size_t)elem_size, pending + pad, elem_size);
                emit_run(&o, x, run - pad);
                lit = j;
            }
        }
        i = j;
    }
    if (n > lit) emit_literal(&o, base + lit * (size_t)elem_size, n - lit, elem_size);
    out->len = (size_t)(o.p - out->data);
    return O2P_OK;
}

int pq_rle_encode_u8(o2p_buf *out, const uint8_t *values, size_t count, int width)
{
    return encode(out, values, count, width, 1);
}

int pq_rle_encode_u32(o2p_buf *out, const uint32_t *values, size_t count, int width)
{
    return encode(out, values, count, width, 4);
}
