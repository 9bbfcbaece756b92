/*
 * pq_bloom: split-block bloom filters (Parquet format spec, BloomFilter):
 * 32-byte blocks of eight 32-bit words; a value's 64-bit xxHash (XXH64,
 * seed 0) of its PLAIN encoding (a byte array's bytes without the length
 * prefix) picks a block with its upper 32 bits and sets one bit in each
 * word from its lower 32 bits times the spec's eight salts.
 *
 * A filter is sized from the chunk's distinct values (counted exactly from
 * their hashes) for the requested false-positive rate, rounded up to whole
 * 32-byte blocks, between 32 bytes and PQ_BLOOM_MAX_BYTES (the block index
 * formula works for any block count; DuckDB, arrow-rs and hyparquet read
 * such filters).  The writer puts header and bitset right after the column
 * chunk's pages and points ColumnMetaData fields 14 and 15 at them.
 */
#ifndef O2P_PARQUET_BLOOM_H
#define O2P_PARQUET_BLOOM_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "parquet/pq_schema.h"

#define PQ_BLOOM_MAX_BYTES (128u << 20)

typedef struct pq_bloom {
    uint64_t *hashes; /* the chunk's value hashes */
    size_t num_hashes, hashes_cap;
    uint32_t *words; /* 8 per block */
    size_t num_blocks, words_cap;
    size_t distinct;   /* distinct hashes of the last build */
    uint64_t *scratch; /* radix sort scratch, hashes_cap of them */
    size_t scratch_cap;
} pq_bloom;

void pq_bloom_init(pq_bloom *b);
void pq_bloom_free(pq_bloom *b);
/* Forgets the hashes (a new chunk). */
void pq_bloom_reset(pq_bloom *b);

uint64_t pq_bloom_hash(const void *data, size_t len);
/* Adds count values in the PLAIN form a pq_column stores them in. */
int pq_bloom_add_plain(pq_bloom *b, const pq_leaf *leaf, const uint8_t *plain, size_t count);
/* Bytes of a filter for `distinct` values at false-positive rate fpp. */
size_t pq_bloom_size(size_t distinct, double fpp);
/* Builds the filter from the hashes added since the last reset. */
int pq_bloom_build(pq_bloom *b, double fpp);
/* Appends BloomFilterHeader + bitset of the built filter. */
int pq_bloom_write(const pq_bloom *b, o2p_buf *out);
/* 1 when the built filter may contain the value with this hash. */
int pq_bloom_may_contain(const pq_bloom *b, uint64_t hash);

#endif
