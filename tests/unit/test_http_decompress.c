/* Tests for http_decompress: content negotiation, every Content-Encoding,
 * the exact limit, zip bombs and corrupt input. */
#include "server/http_decompress.h"

#include <libdeflate.h>
#include <string.h>
#include <zstd.h>

#include "core/mem.h"
#include "unit.h"

/* Compressible but not trivial input. */
static uint8_t *sample(size_t len)
{
    uint8_t *p = mem_alloc(len ? len : 1);
    uint32_t x = 12345;
    for (size_t i = 0; i < len; i++) {
        x = x * 1103515245u + 12345u;
        p[i] = (uint8_t)("abcdefgh"[(x >> 16) & 7]);
    }
    return p;
}

enum { GZ, ZLIB, RAW };

static size_t deflate_with(int kind, const uint8_t *in, size_t len, uint8_t **out)
{
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    size_t cap = libdeflate_gzip_compress_bound(c, len) + 64;
    *out = mem_alloc(cap);
    size_t n = kind == GZ     ? libdeflate_gzip_compress(c, in, len, *out, cap)
               : kind == ZLIB ? libdeflate_zlib_compress(c, in, len, *out, cap)
                              : libdeflate_deflate_compress(c, in, len, *out, cap);
    libdeflate_free_compressor(c);
    CHECK(n > 0);
    return n;
}

static size_t zstd_with(const uint8_t *in, size_t len, int with_size, uint8_t **out)
{
    size_t cap = ZSTD_compressBound(len);
    *out = mem_alloc(cap);
    ZSTD_CCtx *c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_contentSizeFlag, with_size);
    size_t n;
    if (with_size) {
        n = ZSTD_compress2(c, *out, cap, in, len);
    } else {
        /* streaming without a pledged size leaves the size out of the header */
        ZSTD_inBuffer src = {in, len, 0};
        ZSTD_outBuffer dst = {*out, cap, 0};
        CHECK(ZSTD_compressStream2(c, &dst, &src, ZSTD_e_end) == 0);
        n = dst.pos;
    }
    ZSTD_freeCCtx(c);
    CHECK(!ZSTD_isError(n));
    return n;
}

TEST(http_decompress_parse_headers)
{
    http_encoding e;
    CHECK_OK(http_encoding_parse(NULL, &e));
    CHECK_INT(e, HTTP_ENC_IDENTITY);
    CHECK_OK(http_encoding_parse(" Identity ", &e));
    CHECK_INT(e, HTTP_ENC_IDENTITY);
    CHECK_OK(http_encoding_parse("GZIP", &e));
    CHECK_INT(e, HTTP_ENC_GZIP);
    CHECK_OK(http_encoding_parse("deflate", &e));
    CHECK_INT(e, HTTP_ENC_DEFLATE);
    CHECK_OK(http_encoding_parse("zstd", &e));
    CHECK_INT(e, HTTP_ENC_ZSTD);
    CHECK_INT(http_encoding_parse("br", &e), O2P_EUNSUPPORTED);
    CHECK_INT(http_encoding_parse("gzip, zstd", &e), O2P_EUNSUPPORTED);

    otlp_format f;
    CHECK_OK(http_content_type_parse("application/x-protobuf", &f));
    CHECK_INT(f, OTLP_FMT_PROTOBUF);
    CHECK_OK(http_content_type_parse("application/protobuf", &f));
    CHECK_INT(f, OTLP_FMT_PROTOBUF);
    CHECK_OK(http_content_type_parse("Application/JSON; charset=utf-8", &f));
    CHECK_INT(f, OTLP_FMT_JSON);
    CHECK_OK(http_content_type_parse("application/x-ndjson", &f));
    CHECK_INT(f, OTLP_FMT_JSONL);
    CHECK_OK(http_content_type_parse("application/jsonl ;x=y", &f));
    CHECK_INT(f, OTLP_FMT_JSONL);
    CHECK_INT(http_content_type_parse(NULL, &f), O2P_EUNSUPPORTED);
    CHECK_INT(http_content_type_parse("text/plain", &f), O2P_EUNSUPPORTED);
    CHECK_INT(http_content_type_parse("application/jsonx", &f), O2P_EUNSUPPORTED);
}

TEST(http_decompress_roundtrips)
{
    size_t len = 300000;
    uint8_t *plain = sample(len);
    http_decompressor d;
    http_decompressor_init(&d, 1 << 20);
    o2p_error err;
    for (int kind = GZ; kind <= RAW; kind++) {
        uint8_t *z;
        size_t zlen = deflate_with(kind, plain, len, &z);
        CHECK_OK(http_decompress(&d, kind == GZ ? HTTP_ENC_GZIP : HTTP_ENC_DEFLATE, z, zlen, &err));
        CHECK_MEM(d.out.data, d.out.len, plain, len);
        mem_free(z);
    }
    for (int with_size = 0; with_size <= 1; with_size++) {
        uint8_t *z;
        size_t zlen = zstd_with(plain, len, with_size, &z);
        CHECK_OK(http_decompress(&d, HTTP_ENC_ZSTD, z, zlen, &err));
        CHECK_MEM(d.out.data, d.out.len, plain, len);
        mem_free(z);
    }
    http_decompressor_free(&d);
    mem_free(plain);
}

TEST(http_decompress_gzip_multi_member)
{
    uint8_t *a = sample(1000), *z1, *z2;
    size_t n1 = deflate_with(GZ, a, 600, &z1), n2 = deflate_with(GZ, a + 600, 400, &z2);
    uint8_t *both = mem_alloc(n1 + n2);
    memcpy(both, z1, n1);
    memcpy(both + n1, z2, n2);
    http_decompressor d;
    http_decompressor_init(&d, 4096);
    o2p_error err;
    CHECK_OK(http_decompress(&d, HTTP_ENC_GZIP, both, n1 + n2, &err));
    CHECK_MEM(d.out.data, d.out.len, a, 1000);
    http_decompressor_free(&d);
    mem_free(a);
    mem_free(z1);
    mem_free(z2);
    mem_free(both);
}

/* Exactly the limit passes; one byte more is 413, for every codec. */
TEST(http_decompress_exact_limit)
{
    size_t limit = 100000;
    uint8_t *plain = sample(limit + 1);
    http_decompressor d;
    http_decompressor_init(&d, limit);
    o2p_error err;
    for (size_t len = limit; len <= limit + 1; len++) {
        int want = len == limit ? O2P_OK : O2P_ELIMIT;
        uint8_t *z;
        size_t zlen = deflate_with(GZ, plain, len, &z);
        CHECK_INT(http_decompress(&d, HTTP_ENC_GZIP, z, zlen, &err), want);
        mem_free(z);
        zlen = deflate_with(ZLIB, plain, len, &z);
        CHECK_INT(http_decompress(&d, HTTP_ENC_DEFLATE, z, zlen, &err), want);
        mem_free(z);
        for (int with_size = 0; with_size <= 1; with_size++) {
            zlen = zstd_with(plain, len, with_size, &z);
            CHECK_INT(http_decompress(&d, HTTP_ENC_ZSTD, z, zlen, &err), want);
            mem_free(z);
        }
    }
    CHECK_STR(err.msg, "decompressed body exceeds 100000 bytes");
    http_decompressor_free(&d);
    mem_free(plain);
}

/* 64 MiB of zeros squeezed into a few KiB must stop at the limit without
 * allocating more than limit + 1 bytes, even when the gzip trailer lies
 * about the size. */
TEST(http_decompress_bombs)
{
    size_t big = (size_t)64 << 20, limit = (size_t)1 << 20;
    uint8_t *zeros = mem_calloc(1, big);
    http_decompressor d;
    http_decompressor_init(&d, limit);
    o2p_error err;
    uint8_t *z;
    size_t zlen = deflate_with(GZ, zeros, big, &z);
    CHECK(zlen < 200000);
    CHECK_INT(http_decompress(&d, HTTP_ENC_GZIP, z, zlen, &err), O2P_ELIMIT);
    memset(z + zlen - 4, 0, 4); /* forged ISIZE = 0 */
    CHECK_INT(http_decompress(&d, HTTP_ENC_GZIP, z, zlen, &err), O2P_ELIMIT);
    CHECK_STR(err.msg, "decompressed body exceeds 1048576 bytes");
    mem_free(z);
    zlen = deflate_with(RAW, zeros, big, &z);
    CHECK_INT(http_decompress(&d, HTTP_ENC_DEFLATE, z, zlen, &err), O2P_ELIMIT);
    mem_free(z);
    for (int with_size = 0; with_size <= 1; with_size++) {
        zlen = zstd_with(zeros, big, with_size, &z);
        CHECK_INT(http_decompress(&d, HTTP_ENC_ZSTD, z, zlen, &err), O2P_ELIMIT);
        mem_free(z);
    }
    CHECK(d.out.cap <= limit + 1);
    http_decompressor_free(&d);
    mem_free(zeros);
}

TEST(http_decompress_corrupt)
{
    uint8_t *plain = sample(5000), *z;
    http_decompressor d;
    http_decompressor_init(&d, 1 << 20);
    o2p_error err;
    size_t zlen = deflate_with(GZ, plain, 5000, &z);
    z[zlen / 2] ^= 0x55;
    CHECK_INT(http_decompress(&d, HTTP_ENC_GZIP, z, zlen, &err), O2P_EINVAL);
    CHECK_STR(err.msg, "corrupt gzip data in request body");
    CHECK_INT(http_decompress(&d, HTTP_ENC_GZIP, z, 10, &err), O2P_EINVAL);
    CHECK_INT(http_decompress(&d, HTTP_ENC_GZIP, (const uint8_t *)"", 0, &err), O2P_EINVAL);
    CHECK_INT(http_decompress(&d, HTTP_ENC_DEFLATE, (const uint8_t *)"\xff\xff\xff", 3, &err),
              O2P_EINVAL);
    CHECK_STR(err.msg, "corrupt deflate data in request body");
    mem_free(z);
    zlen = zstd_with(plain, 5000, 1, &z);
    CHECK_INT(http_decompress(&d, HTTP_ENC_ZSTD, z, zlen - 3, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "corrupt zstd data") != NULL);
    CHECK_INT(http_decompress(&d, HTTP_ENC_ZSTD, (const uint8_t *)"nope", 4, &err), O2P_EINVAL);
    mem_free(z);
    http_decompressor_free(&d);
    mem_free(plain);
}
