/*
 * Unit tests for pq_compress: zstd's default level compresses random ids in
 * the 128-256 KiB input range as well as in larger inputs (level 3 would use
 * 4-byte minimum matches there; pq_compress asks for 5); pages of hex ids
 * get their own zstd parameters at levels 1 to 15 (PQ_CONTENT_HEX_IDS),
 * dictionary pages and timestamps level 1 at levels 2 to 9
 * (PQ_CONTENT_DISTINCT, PQ_CONTENT_TIMESTAMPS), entry-number pages level 1
 * with 6-byte matches (PQ_CONTENT_ENTRY_NUMBERS), and
 * which columns count as hex ids.
 */
#include <stdio.h>
#include <string.h>
#include <zstd.h>

#include "core/buf.h"
#include "parquet/pq_compress.h"
#include "unit.h"

/* n PLAIN BYTE_ARRAY values: a 4-byte length 16, then 16 random hex digits
 * (a SpanId column) */
static void hex_ids(o2p_buf *out, size_t n)
{
    uint64_t x = 88172645463325252ull;
    for (size_t i = 0; i < n; i++) {
        uint8_t *p = buf_extend(out, 20);
        CHECK(p != NULL);
        memcpy(p, "\x10\0\0\0", 4);
        for (int k = 0; k < 16; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            p[4 + k] = (uint8_t) "0123456789abcdef"[x & 15];
        }
    }
}

static size_t zstd_bytes(const o2p_buf *src, size_t len)
{
    pq_compressor c;
    o2p_error err;
    CHECK_OK(pq_compressor_init(&c, PQ_CODEC_ZSTD, 0, &err));
    o2p_buf dst;
    buf_init(&dst, 0);
    CHECK_OK(pq_compress(&c, src->data, len, &dst, &err));
    size_t n = dst.len;
    buf_free(&dst);
    pq_compressor_free(&c);
    return n;
}

TEST(pq_compress_zstd_ids_between_128_and_256_kib)
{
    o2p_buf ids;
    buf_init(&ids, 0);
    hex_ids(&ids, 40000); /* 800,000 bytes */
    /* bytes per value at 200,000 input bytes (10,000 ids: a short page or a
     * trace-id dictionary) vs at 400,000 (20,000 ids) */
    double small = (double)zstd_bytes(&ids, 200000) / 10000.0;
    double large = (double)zstd_bytes(&ids, 400000) / 20000.0;
    /* 16 hex digits need 8 bytes; with 4-byte matches zstd 1.5 spends about
     * 10.6 bytes per id here, with 5-byte matches 9.5, like the 400 KB input */
    CHECK(small < large * 1.02);
    CHECK(small < 10.0);
    /* outside the range the level's own parameters apply unchanged */
    double tiny = (double)zstd_bytes(&ids, 100000) / 5000.0;
    CHECK(tiny < 10.0);
    buf_free(&ids);
}

/* compressed size of src[0..len) as `kind` at zstd `level`; checks that it
 * decompresses to src */
static size_t zstd_bytes_as(const o2p_buf *src, size_t len, int level, pq_content kind)
{
    pq_compressor c;
    o2p_error err;
    CHECK_OK(pq_compressor_init(&c, PQ_CODEC_ZSTD, level, &err));
    o2p_buf dst, back;
    buf_init(&dst, 0);
    buf_init(&back, 0);
    CHECK(buf_reserve(&back, len + 1) == 0);
    CHECK_OK(pq_compress_as(&c, kind, src->data, len, &dst, &err));
    size_t got = ZSTD_decompress(back.data, len + 1, dst.data, dst.len);
    CHECK(!ZSTD_isError(got));
    CHECK_INT(got, len);
    CHECK(memcmp(back.data, src->data, len) == 0);
    size_t n = dst.len;
    buf_free(&dst);
    buf_free(&back);
    pq_compressor_free(&c);
    return n;
}

TEST(pq_compress_hex_ids_are_smaller_with_their_own_parameters)
{
    o2p_buf ids;
    buf_init(&ids, 0);
    hex_ids(&ids, 20000); /* 400,000 bytes: a page of SpanIds */
    size_t any = zstd_bytes_as(&ids, ids.len, 3, PQ_CONTENT_ANY);
    size_t hex = zstd_bytes_as(&ids, ids.len, 3, PQ_CONTENT_HEX_IDS);
    /* 8 bytes of entropy per id; level 3 spends about 9.5, the fast
     * parameters less (and take about a third of the time, not tested) */
    CHECK(hex < any);
    CHECK(hex < 20000 * 10);
    /* level 1 too; the hex parameters do not depend on the level */
    CHECK_INT(zstd_bytes_as(&ids, ids.len, 1, PQ_CONTENT_HEX_IDS), hex);
    CHECK_INT(zstd_bytes_as(&ids, ids.len, 15, PQ_CONTENT_HEX_IDS), hex);
    /* from level 16 on the level's own parameters apply */
    CHECK_INT(zstd_bytes_as(&ids, 60000, 16, PQ_CONTENT_HEX_IDS),
              zstd_bytes_as(&ids, 60000, 16, PQ_CONTENT_ANY));
    /* other content is compressed as before */
    CHECK_INT(zstd_bytes(&ids, ids.len), any);
    buf_free(&ids);
}

TEST(pq_compress_hex_ids_other_codecs_unchanged)
{
    o2p_buf ids;
    buf_init(&ids, 0);
    hex_ids(&ids, 2000);
    const pq_codec codecs[] = {PQ_CODEC_UNCOMPRESSED, PQ_CODEC_SNAPPY, PQ_CODEC_GZIP,
                               PQ_CODEC_LZ4_RAW};
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        pq_compressor c;
        o2p_error err;
        CHECK_OK(pq_compressor_init(&c, codecs[i], 0, &err));
        o2p_buf a, b;
        buf_init(&a, 0);
        buf_init(&b, 0);
        CHECK_OK(pq_compress(&c, ids.data, ids.len, &a, &err));
        CHECK_OK(pq_compress_as(&c, PQ_CONTENT_HEX_IDS, ids.data, ids.len, &b, &err));
        CHECK_INT(a.len, b.len);
        CHECK(memcmp(a.data, b.data, a.len) == 0);
        buf_free(&a);
        buf_free(&b);
        pq_compressor_free(&c);
    }
    buf_free(&ids);
}

static void put_plain(o2p_buf *out, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    CHECK(buf_append(out, &n, 4) == 0);
    CHECK(buf_append(out, s, n) == 0);
}

TEST(pq_content_of_byte_arrays_recognizes_hex_ids)
{
    o2p_buf v;
    buf_init(&v, 0);
    hex_ids(&v, 15);
    put_plain(&v, "");
    CHECK_INT(pq_content_of_byte_arrays(v.data, 16), PQ_CONTENT_ANY); /* 15 ids: too few */
    hex_ids(&v, 1);
    CHECK_INT(pq_content_of_byte_arrays(v.data, 17), PQ_CONTENT_HEX_IDS); /* empties count not */
    put_plain(&v, "4BF92F3577B34DA6A3CE929D0E0E4736"); /* upper case, 32 digits */
    CHECK_INT(pq_content_of_byte_arrays(v.data, 18), PQ_CONTENT_HEX_IDS);
    buf_reset(&v);
    hex_ids(&v, 20);
    o2p_buf bad;
    const char *not_ids[] = {"0123456789abcdeg", "0123456789abcde", "0123456789abcd", "user-42"};
    for (size_t i = 0; i < sizeof not_ids / sizeof not_ids[0]; i++) {
        buf_init(&bad, 0);
        CHECK(buf_append(&bad, v.data, v.len) == 0);
        put_plain(&bad, not_ids[i]);
        CHECK_INT(pq_content_of_byte_arrays(bad.data, 21), PQ_CONTENT_ANY);
        /* only a sample of the first 64 values is looked at */
        buf_reset(&bad);
        hex_ids(&bad, 64);
        put_plain(&bad, not_ids[i]);
        CHECK_INT(pq_content_of_byte_arrays(bad.data, 65), PQ_CONTENT_HEX_IDS);
        buf_free(&bad);
    }
    buf_free(&v);
}

TEST(pq_compress_distinct_values_and_timestamps_at_level_1_for_levels_2_to_9)
{
    o2p_buf v;
    buf_init(&v, 0);
    char s[32];
    for (int i = 0; i < 20000; i++) { /* a dictionary page: all values distinct */
        uint32_t n = (uint32_t)snprintf(s, sizeof s, "u-%08x", (unsigned)(i * 2654435761u));
        CHECK(buf_append(&v, &n, 4) == 0);
        CHECK(buf_append(&v, s, n) == 0);
    }
    size_t l1 = zstd_bytes_as(&v, v.len, 1, PQ_CONTENT_ANY);
    CHECK_INT(zstd_bytes_as(&v, v.len, 2, PQ_CONTENT_DISTINCT), l1);
    CHECK_INT(zstd_bytes_as(&v, v.len, 3, PQ_CONTENT_DISTINCT), l1);
    CHECK_INT(zstd_bytes_as(&v, v.len, 9, PQ_CONTENT_DISTINCT), l1);
    CHECK_INT(zstd_bytes_as(&v, v.len, 3, PQ_CONTENT_TIMESTAMPS), l1); /* the same rule */
    CHECK_INT(zstd_bytes_as(&v, v.len, 10, PQ_CONTENT_TIMESTAMPS),
              zstd_bytes_as(&v, v.len, 10, PQ_CONTENT_ANY));
    /* level 1 is level 1, and from level 10 on the level applies */
    CHECK_INT(zstd_bytes_as(&v, v.len, 1, PQ_CONTENT_DISTINCT), l1);
    CHECK_INT(zstd_bytes_as(&v, v.len, 10, PQ_CONTENT_DISTINCT),
              zstd_bytes_as(&v, v.len, 10, PQ_CONTENT_ANY));
    CHECK(zstd_bytes_as(&v, v.len, 3, PQ_CONTENT_ANY) != l1);
    buf_free(&v);
}

/* entry-number pages: level 1 with 6-byte matches at levels 2 to 9, and
 * the shared level-1 context keeps its own minimum match for the others */
TEST(pq_compress_entry_numbers_at_level_1_with_6_byte_matches_for_levels_2_to_9)
{
    o2p_buf v;
    buf_init(&v, 0);
    uint64_t x = 88172645463325252ull;
    for (int i = 0; i < 60000; i++) { /* 17-bit entry numbers, some repeated */
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        uint8_t b = (uint8_t)(x % 4 == 0 ? i & 7 : x >> 8);
        CHECK(buf_append(&v, &b, 1) == 0);
    }
    ZSTD_CCtx *z = ZSTD_createCCtx();
    CHECK(z != NULL);
    CHECK(!ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 1)));
    CHECK(!ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_minMatch, 6)));
    o2p_buf want;
    buf_init(&want, 0);
    CHECK(buf_reserve(&want, ZSTD_compressBound(v.len)) == 0);
    size_t m6 = ZSTD_compress2(z, want.data, want.cap, v.data, v.len);
    CHECK(!ZSTD_isError(m6));
    ZSTD_freeCCtx(z);
    CHECK_INT(zstd_bytes_as(&v, v.len, 2, PQ_CONTENT_ENTRY_NUMBERS), m6);
    CHECK_INT(zstd_bytes_as(&v, v.len, 3, PQ_CONTENT_ENTRY_NUMBERS), m6);
    CHECK_INT(zstd_bytes_as(&v, v.len, 9, PQ_CONTENT_ENTRY_NUMBERS), m6);
    CHECK_INT(zstd_bytes_as(&v, v.len, 1, PQ_CONTENT_ENTRY_NUMBERS),
              zstd_bytes_as(&v, v.len, 1, PQ_CONTENT_ANY));
    CHECK_INT(zstd_bytes_as(&v, v.len, 10, PQ_CONTENT_ENTRY_NUMBERS),
              zstd_bytes_as(&v, v.len, 10, PQ_CONTENT_ANY));
    /* one compressor, entry numbers then a dictionary page: level 1's own
     * minimum match for the latter */
    pq_compressor c;
    o2p_error err;
    CHECK_OK(pq_compressor_init(&c, PQ_CODEC_ZSTD, 3, &err));
    o2p_buf dst;
    buf_init(&dst, 0);
    CHECK_OK(pq_compress_as(&c, PQ_CONTENT_ENTRY_NUMBERS, v.data, v.len, &dst, &err));
    CHECK_INT(dst.len, m6);
    CHECK_OK(pq_compress_as(&c, PQ_CONTENT_DISTINCT, v.data, v.len, &dst, &err));
    CHECK_INT(dst.len, zstd_bytes_as(&v, v.len, 1, PQ_CONTENT_ANY));
    pq_compressor_free(&c);
    buf_free(&dst);
    buf_free(&want);
    buf_free(&v);
}
