/*
 * pq_radix: a stable least-significant-byte radix sort of 64-bit keys,
 * each optionally carrying a 32-bit payload (a row number).  Used where the
 * writer sorted with qsort: row order by timestamp (pq_sort) and the
 * distinct hashes of a bloom filter (pq_bloom).  One counting pass fills
 * all eight byte histograms; a byte that every key shares (the high bytes
 * of nearby timestamps) costs no pass.
 */
#ifndef O2P_PARQUET_RADIX_H
#define O2P_PARQUET_RADIX_H

#include <stddef.h>
#include <stdint.h>

/* Sorts keys[0..n) ascending, equal keys keeping their order, moving
 * vals[i] (when vals is not NULL) with keys[i].  tmp_keys (and tmp_vals when
 * vals is given) are scratch arrays of n elements.  The result is in keys
 * and vals. */
void pq_radix_sort_u64(uint64_t *keys, uint32_t *vals, uint64_t *tmp_keys, uint32_t *tmp_vals,
                       size_t n);

#endif
