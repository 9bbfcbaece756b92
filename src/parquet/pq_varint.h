/*
 * pq_varint: ULEB128 varints and zigzag, the integer forms of the Thrift
 * compact protocol and of the RLE/bit-packed hybrid run headers.
 */
#ifndef O2P_PARQUET_VARINT_H
#define O2P_PARQUET_VARINT_H

#include <stddef.h>
#include <stdint.h>

/* A 64-bit varint never needs more than 10 bytes. */
#define PQ_VARINT_MAX 10

/* Writes v as a ULEB128 varint into out; returns the byte count (1..10). */
static inline size_t pq_varint_put(uint8_t *out, uint64_t v)
{
    size_t n = 0;
    while (v >= 0x80) {
        out[n++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    out[n++] = (uint8_t)v;
    return n;
}

/* Zigzag maps small magnitudes of either sign to small unsigned numbers.
 * The shifts are done on unsigned types so negative inputs are well defined. */
static inline uint32_t pq_zigzag32(int32_t v)
{
    return ((uint32_t)v << 1) ^ (uint32_t) - (int32_t)((uint32_t)v >> 31);
}

static inline uint64_t pq_zigzag64(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t) - (int64_t)((uint64_t)v >> 63);
}

#endif
