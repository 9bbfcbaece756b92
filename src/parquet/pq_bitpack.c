/* pq_bitpack: LSB-first bit packing (see pq_bitpack.h). */
#include "parquet/pq_bitpack.h"

#include <string.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the parquet writer stores words with memcpy and needs a little-endian host"
#endif

/* A 64-bit accumulator collects values and spills 32 bits at a time: with
 * width <= 32 fewer than 32 bits are pending before each value is added, so
 * the shifted value always fits. */
static inline __attribute__((always_inline)) void pack(const void *values, size_t count, int width,
                                                       uint8_t *out, int elem_size)
{
    if (width == 0) return;
    uint64_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < count; i++) {
        uint64_t v = elem_size == 1 ? ((const uint8_t *)values)[i] : ((const uint32_t *)values)[i];
        acc |= v << bits;
        bits += width;
        if (bits >= 32) {
            uint32_t word = (uint32_t)acc;
            memcpy(out, &word, 4);
            out += 4;
            acc >>= 32;
            bits -= 32;
        }
    }
    while (bits > 0) {
        *out++ = (uint8_t)acc;
        acc >>= 8;
        bits -= 8;
    }
}

void pq_bitpack_u32(const uint32_t *values, size_t count, int width, uint8_t *out)
{
    pack(values, count, width, out, 4);
}

void pq_bitpack_u8(const uint8_t *values, size_t count, int width, uint8_t *out)
{
    pack(values, count, width, out, 1);
}

void pq_bitpack_bools(const uint8_t *values, size_t count, uint8_t *out)
{
    size_t i = 0;
    for (; i + 8 <= count; i += 8) {
        const uint8_t *v = values + i;
        *out++ = (uint8_t)(v[0] | v[1] << 1 | v[2] << 2 | v[3] << 3 | v[4] << 4 | v[5] << 5 |
                           v[6] << 6 | v[7] << 7);
    }
    if (i < count) {
        uint8_t last = 0;
        for (int k = 0; i < count; i++, k++) last |= (uint8_t)(values[i] << k);
        *out = last;
    }
}
