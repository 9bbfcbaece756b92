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

/* Groups of 8 values of a constant width <= 8: one 64-bit word holds a
 * group, which is exactly `width` bytes, so no state carries from one group
 * to the next and the loop unrolls.  Returns the values packed. */
static inline __attribute__((always_inline)) size_t
pack_groups(const void *values, size_t count, int width, uint8_t *out, int elem_size)
{
    size_t groups = count / 8;
    for (size_t g = 0; g < groups; g++) {
        uint64_t acc = 0;
        for (int k = 0; k < 8; k++) {
            size_t i = 8 * g + (size_t)k;
            uint64_t v =
                elem_size == 1 ? ((const uint8_t *)values)[i] : ((const uint32_t *)values)[i];
            acc |= v << (k * width);
        }
        memcpy(out + g * (size_t)width, &acc, (size_t)width);
    }
    return groups * 8;
}

/* pack, with the groups of 8 of widths 1 to 8 first (levels, small
 * dictionaries): the same bytes. */
static inline __attribute__((always_inline)) void pack_any(const void *values, size_t count,
                                                           int width, uint8_t *out, int elem_size)
{
    size_t done = 0;
    switch (width) {
    case 1:
        done = pack_groups(values, count, 1, out, elem_size);
        break;
    case 2:
        done = pack_groups(values, count, 2, out, elem_size);
        break;
    case 3:
        done = pack_groups(values, count, 3, out, elem_size);
        break;
    case 4:
        done = pack_groups(values, count, 4, out, elem_size);
        break;
    case 5:
        done = pack_groups(values, count, 5, out, elem_size);
        break;
    case 6:
        done = pack_groups(values, count, 6, out, elem_size);
        break;
    case 7:
        done = pack_groups(values, count, 7, out, elem_size);
        break;
    case 8:
        done = pack_groups(values, count, 8, out, elem_size);
        break;
    default:
        break;
    }
    const uint8_t *rest = (const uint8_t *)values + done * (size_t)elem_size;
    pack(rest, count - done, width, out + done / 8 * (size_t)width, elem_size);
}

void pq_bitpack_u32(const uint32_t *values, size_t count, int width, uint8_t *out)
{
    pack_any(values, count, width, out, 4);
}

void pq_bitpack_u8(const uint8_t *values, size_t count, int width, uint8_t *out)
{
    pack_any(values, count, width, out, 1);
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
