/*
 * Unit tests for pq_bloom: the spec's hash (XXH64, seed 0), filter sizing
 * for a false-positive rate, membership of every added value, the measured
 * false-positive rate, and the BloomFilterHeader bytes (checked against the
 * Thrift compact protocol by hand, not with the encoder).
 */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "parquet/pq_bloom.h"
#include "parquet/pq_schema.h"
#include "unit.h"

TEST(pq_bloom_hash_is_xxh64_seed_0)
{
    /* reference values of XXH64 with seed 0 */
    CHECK(pq_bloom_hash("", 0) == 0xEF46DB3751D8E999ULL);
    CHECK(pq_bloom_hash("abc", 3) == 0x44BC2CF5AD770999ULL);
}

TEST(pq_bloom_size_follows_the_fpp)
{
    CHECK_UINT(pq_bloom_size(0, 0.01), 32);
    /* 1000 values at 1 %: 9,681 bits = 1,211 bytes, rounded up to 38 blocks */
    CHECK_UINT(pq_bloom_size(1000, 0.01), 1216);
    /* a lower rate never gives a smaller filter */
    CHECK(pq_bloom_size(1000, 0.001) >= pq_bloom_size(1000, 0.01));
    CHECK_UINT(pq_bloom_size((size_t)1 << 40, 0.01), PQ_BLOOM_MAX_BYTES);
}

static void put_str(o2p_buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    CHECK_OK(buf_append(b, &n, 4));
    CHECK_OK(buf_append(b, s, n));
}

TEST(pq_bloom_contains_every_value_and_few_others)
{
    pq_leaf leaf = {.path = "id", .physical = PQ_BYTE_ARRAY};
    o2p_buf plain;
    buf_init(&plain, 0);
    char s[32];
    for (int i = 0; i < 2000; i++) { /* 1000 distinct values, each twice */
        snprintf(s, sizeof s, "id-%d", i % 1000);
        put_str(&plain, s);
    }
    pq_bloom b;
    pq_bloom_init(&b);
    CHECK_OK(pq_bloom_add_plain(&b, &leaf, plain.data, 2000));
    CHECK_OK(pq_bloom_build(&b, 0.01));
    CHECK_UINT(b.distinct, 1000);
    CHECK_UINT(b.num_blocks * 32, 1216);
    for (int i = 0; i < 1000; i++) {
        snprintf(s, sizeof s, "id-%d", i);
        CHECK(pq_bloom_may_contain(&b, pq_bloom_hash(s, strlen(s))));
    }
    int fp = 0;
    for (int i = 0; i < 10000; i++) {
        snprintf(s, sizeof s, "absent-%d", i);
        fp += pq_bloom_may_contain(&b, pq_bloom_hash(s, strlen(s)));
    }
    CHECK_MSG(fp < 200, "%d of 10000 absent values pass (want < 2 %%)", fp);

    /* header: numBytes, then the BLOCK / XXHASH / UNCOMPRESSED unions,
     * each an empty struct as member 1; then the bitset, little-endian */
    o2p_buf out;
    buf_init(&out, 0);
    CHECK_OK(pq_bloom_write(&b, &out));
    static const uint8_t header[] = {0x15, 0x80, 0x13, /* field 1 i32: zigzag(1216) */
                                     0x1C, 0x1C, 0x00, 0x00, 0x1C, 0x1C, 0x00,
                                     0x00, 0x1C, 0x1C, 0x00, 0x00, 0x00};
    CHECK_UINT(out.len, sizeof header + 1216);
    CHECK_MEM(out.data, sizeof header, header, sizeof header);
    const uint8_t *bits = out.data + sizeof header;
    for (size_t i = 0; i < 1216 / 4; i++) {
        uint32_t w = (uint32_t)bits[4 * i] | (uint32_t)bits[4 * i + 1] << 8 |
                     (uint32_t)bits[4 * i + 2] << 16 | (uint32_t)bits[4 * i + 3] << 24;
        CHECK(w == b.words[i]);
    }

    /* INT64 values hash their 8 little-endian bytes */
    pq_leaf l64 = {.path = "n", .physical = PQ_INT64};
    int64_t v = 42;
    pq_bloom_reset(&b);
    CHECK_OK(pq_bloom_add_plain(&b, &l64, (const uint8_t *)&v, 1));
    CHECK_OK(pq_bloom_build(&b, 0.01));
    CHECK(pq_bloom_may_contain(&b, pq_bloom_hash(&v, 8)));
    buf_free(&out);
    buf_free(&plain);
    pq_bloom_free(&b);
}
