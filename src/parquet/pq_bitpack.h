/*
 * pq_bitpack: little-endian bit packing as Parquet uses it (the bit-packed
 * runs of the RLE/bit-packed hybrid and PLAIN booleans): values are packed
 * starting at the least significant bit of the first byte.
 */
#ifndef O2P_PARQUET_BITPACK_H
#define O2P_PARQUET_BITPACK_H

#include <stddef.h>
#include <stdint.h>

/* Bits needed to represent max_value (0 for 0). */
static inline int pq_bit_width(uint64_t max_value)
{
    return max_value == 0 ? 0 : 64 - __builtin_clzll(max_value);
}

/* Bytes that `count` values of `width` bits occupy. */
static inline size_t pq_bitpack_bytes(size_t count, int width)
{
    return (count * (size_t)width + 7) / 8;
}

/* Packs count values (each < 2^width, width 0..32) into pq_bitpack_bytes(count,
 * width) bytes at out; unused high bits of the last byte are zero. */
void pq_bitpack_u32(const uint32_t *values, size_t count, int width, uint8_t *out);
void pq_bitpack_u8(const uint8_t *values, size_t count, int width, uint8_t *out);
/* Packs booleans stored one byte (0 or 1) each, one bit per value. */
void pq_bitpack_bools(const uint8_t *values, size_t count, uint8_t *out);

#endif
