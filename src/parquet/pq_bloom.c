/* pq_bloom: split-block bloom filters (see pq_bloom.h). */
#include "parquet/pq_bloom.h"

#include <math.h>
#include <string.h>
#include <xxhash.h>

#include "core/error.h"
#include "core/mem.h"
#include "parquet/pq_radix.h"
#include "parquet/pq_thrift.h"

static const uint32_t SALT[8] = {0x47b6137bU, 0x44974d91U, 0x8824ad5bU, 0xa2b7289dU,
                                 0x705495c7U, 0x2df1424bU, 0x9efc4947U, 0x5c6bfb31U};

void pq_bloom_init(pq_bloom *b)
{
    memset(b, 0, sizeof *b);
}

void pq_bloom_free(pq_bloom *b)
{
    mem_free(b->hashes);
    mem_free(b->words);
    mem_free(b->scratch);
    memset(b, 0, sizeof *b);
}

void pq_bloom_reset(pq_bloom *b)
{
    b->num_hashes = 0;
    b->num_blocks = 0;
    b->distinct = 0;
}

uint64_t pq_bloom_hash(const void *data, size_t len)
{
    return (uint64_t)XXH64(data, len, 0);
}

int pq_bloom_add_plain(pq_bloom *b, const pq_leaf *leaf, const uint8_t *plain, size_t count)
{
    if (b->num_hashes + count > b->hashes_cap) {
        size_t cap = b->hashes_cap ? b->hashes_cap : 1024;
        while (cap < b->num_hashes + count) cap += cap / 2;
        uint64_t *h = mem_realloc(b->hashes, cap * sizeof *h);
        if (h == NULL) return O2P_ENOMEM;
        b->hashes = h;
        b->hashes_cap = cap;
    }
    size_t width = 0;
    switch (leaf->physical) {
    case PQ_BOOLEAN:
        width = 1;
        break;
    case PQ_INT32:
    case PQ_FLOAT:
        width = 4;
        break;
    case PQ_INT64:
    case PQ_DOUBLE:
        width = 8;
        break;
    case PQ_FIXED_LEN_BYTE_ARRAY:
        width = (size_t)leaf->type_length;
        break;
    case PQ_BYTE_ARRAY:
        break;
    }
    for (size_t i = 0; i < count; i++) {
        size_t len = width;
        if (width == 0) {
            uint32_t n;
            memcpy(&n, plain, 4);
            plain += 4;
            len = n;
        }
        b->hashes[b->num_hashes++] = pq_bloom_hash(plain, len);
        plain += len;
    }
    return O2P_OK;
}

size_t pq_bloom_size(size_t distinct, double fpp)
{
    if (!(fpp > 0.0 && fpp < 1.0)) fpp = 0.01;
    /* m = -8 n / ln(1 - p^(1/8)) bits (the spec's formula for 8 hash bits per value) */
    double bits = -8.0 * (double)distinct / log(1.0 - pow(fpp, 1.0 / 8.0));
    double bytes = ceil(bits / 8.0);
    /* whole blocks; the spec's block index works for any block count, so
     * no rounding to a power of two (which costs up to 2x the bytes) */
    if (bytes >= (double)PQ_BLOOM_MAX_BYTES) return PQ_BLOOM_MAX_BYTES;
    size_t n = ((size_t)bytes + 31) / 32 * 32;
    return n < 32 ? 32 : n;
}

static void insert(pq_bloom *b, uint64_t hash)
{
    size_t block = (size_t)(((hash >> 32) * (uint64_t)b->num_blocks) >> 32);
    uint32_t key = (uint32_t)hash;
    uint32_t *w = b->words + 8 * block;
    for (int i = 0; i < 8; i++) w[i] |= 1U << ((key * SALT[i]) >> 27);
}

int pq_bloom_may_contain(const pq_bloom *b, uint64_t hash)
{
    if (b->num_blocks == 0) return 0;
    size_t block = (size_t)(((hash >> 32) * (uint64_t)b->num_blocks) >> 32);
    uint32_t key = (uint32_t)hash;
    const uint32_t *w = b->words + 8 * block;
    for (int i = 0; i < 8; i++)
        if (!(w[i] & (1U << ((key * SALT[i]) >> 27)))) return 0;
    return 1;
}

int pq_bloom_build(pq_bloom *b, double fpp)
{
    /* sorted, to count the distinct hashes (the filter's size) */
    if (b->num_hashes > b->scratch_cap) {
        uint64_t *t = mem_realloc(b->scratch, b->num_hashes * sizeof *t);
        if (t == NULL) return O2P_ENOMEM;
        b->scratch = t;
        b->scratch_cap = b->num_hashes;
    }
    pq_radix_sort_u64(b->hashes, NULL, b->scratch, NULL, b->num_hashes);
    size_t distinct = 0;
    for (size_t i = 0; i < b->num_hashes; i++)
        if (i == 0 || b->hashes[i] != b->hashes[i - 1]) b->hashes[distinct++] = b->hashes[i];
    b->distinct = distinct;
    size_t bytes = pq_bloom_size(distinct, fpp);
    size_t words = bytes / 4;
    if (words > b->words_cap) {
        uint32_t *w = mem_realloc(b->words, words * sizeof *w);
        if (w == NULL) return O2P_ENOMEM;
        b->words = w;
        b->words_cap = words;
    }
    memset(b->words, 0, words * sizeof *b->words);
    b->num_blocks = bytes / 32;
    for (size_t i = 0; i < distinct; i++) insert(b, b->hashes[i]);
    return O2P_OK;
}

int pq_bloom_write(const pq_bloom *b, o2p_buf *out)
{
    size_t bytes = b->num_blocks * 32;
    pq_thrift t;
    pq_thrift_init(&t, out);
    /* BloomFilterHeader{1: numBytes, 2: algorithm BLOCK, 3: hash XXHASH, 4: UNCOMPRESSED};
     * the three unions each hold an empty struct as member 1 */
    pq_thrift_struct_begin(&t);
    pq_thrift_field_i32(&t, 1, (int32_t)bytes);
    for (int16_t id = 2; id <= 4; id++) {
        pq_thrift_field_struct(&t, id);
        pq_thrift_field_struct(&t, 1);
        pq_thrift_struct_end(&t);
        pq_thrift_struct_end(&t);
    }
    pq_thrift_struct_end(&t);
    int rc = pq_thrift_status(&t);
    if (rc < 0) return rc;
    uint8_t *dst = buf_extend(out, bytes);
    if (dst == NULL) return O2P_ENOMEM;
    for (size_t i = 0; i < b->num_blocks * 8; i++) {
        uint32_t v = b->words[i];
        dst[4 * i] = (uint8_t)v;
        dst[4 * i + 1] = (uint8_t)(v >> 8);
        dst[4 * i + 2] = (uint8_t)(v >> 16);
        dst[4 * i + 3] = (uint8_t)(v >> 24);
    }
    return O2P_OK;
}
