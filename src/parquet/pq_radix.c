/* pq_radix: stable LSB radix sort of u64 keys (see pq_radix.h). */
#include "parquet/pq_radix.h"

#include <string.h>

void pq_radix_sort_u64(uint64_t *keys, uint32_t *vals, uint64_t *tmp_keys, uint32_t *tmp_vals,
                       size_t n)
{
    if (n < 2) return;
    static const size_t zero[256];
    size_t count[8][256];
    for (int d = 0; d < 8; d++) memcpy(count[d], zero, sizeof zero);
    for (size_t i = 0; i < n; i++) {
        uint64_t k = keys[i];
        for (int d = 0; d < 8; d++) count[d][(k >> (8 * d)) & 0xff]++;
    }
    uint64_t *src = keys, *dst = tmp_keys;
    uint32_t *vsrc = vals, *vdst = tmp_vals;
    for (int d = 0; d < 8; d++) {
        size_t *c = count[d];
        if (c[(keys[0] >> (8 * d)) & 0xff] == n) continue; /* every key has this byte */
        size_t at = 0;
        for (int v = 0; v < 256; v++) {
            size_t m = c[v];
            c[v] = at;
            at += m;
        }
        int shift = 8 * d;
        if (vals) {
            for (size_t i = 0; i < n; i++) {
                size_t to = c[(src[i] >> shift) & 0xff]++;
                dst[to] = src[i];
                vdst[to] = vsrc[i];
            }
            uint32_t *vt = vsrc;
            vsrc = vdst;
            vdst = vt;
        } else {
            for (size_t i = 0; i < n; i++) dst[c[(src[i] >> shift) & 0xff]++] = src[i];
        }
        uint64_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != keys) {
        memcpy(keys, src, n * sizeof *keys);
        if (vals) memcpy(vals, vsrc, n * sizeof *vals);
    }
}
