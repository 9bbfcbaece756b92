/*
 * copy: copies of a few bytes to a few hundred, inlined.
 *
 * The column appends and the writer's gather of sorted rows copy one value
 * (or one row's levels) at a time, millions of times per file, most of them
 * under 100 bytes.  A call to the C library's memcpy per value costs its
 * call, its size dispatch and its return; copy_short moves such a value with
 * at most eight fixed-size 4-, 8- or 16-byte moves the compiler turns into loads and
 * stores, the last one overlapping the one before it.  It reads exactly
 * [src, src + n) and writes exactly [dst, dst + n); the two ranges must not
 * overlap.  Larger copies go to memcpy.
 */
#ifndef O2P_CORE_COPY_H
#define O2P_CORE_COPY_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* Copies above this many bytes call memcpy. */
#define COPY_SHORT_MAX 128

/* copy_ends_W: the first and the last W bytes of n, W <= n <= 2 * W. */
static inline void copy_ends_16(uint8_t *restrict dst, const uint8_t *restrict src, size_t n)
{
    memcpy(dst, src, 16);
    memcpy(dst + n - 16, src + n - 16, 16);
}

static inline void copy_ends_32(uint8_t *restrict dst, const uint8_t *restrict src, size_t n)
{
    copy_ends_16(dst, src, 32);
    copy_ends_16(dst + n - 32, src + n - 32, 32);
}

static inline void copy_ends_64(uint8_t *restrict dst, const uint8_t *restrict src, size_t n)
{
    copy_ends_32(dst, src, 64);
    copy_ends_32(dst + n - 64, src + n - 64, 64);
}

static inline void copy_short(uint8_t *restrict dst, const uint8_t *restrict src, size_t n)
{
    if (n >= 16) {
        if (n <= 32)
            copy_ends_16(dst, src, n);
        else if (n <= 64)
            copy_ends_32(dst, src, n);
        else if (n <= COPY_SHORT_MAX)
            copy_ends_64(dst, src, n);
        else
            memcpy(dst, src, n);
    } else if (n >= 8) {
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        memcpy(dst, &a, 8);
        memcpy(dst + n - 8, &b, 8);
    } else if (n >= 4) {
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        memcpy(dst, &a, 4);
        memcpy(dst + n - 4, &b, 4);
    } else if (n > 0) {
        dst[0] = src[0];
        dst[n / 2] = src[n / 2];
        dst[n - 1] = src[n - 1];
    }
}

#endif
