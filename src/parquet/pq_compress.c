/* pq_compress: page codecs (see pq_compress.h) and codec names. */
#include "parquet/pq_compress.h"

#include <libdeflate.h>
#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <strings.h>
#include <zstd.h>

#define ZSTD_DEFAULT_LEVEL 3
/* the input sizes for which zstd's level 3 uses 4-byte minimum matches */
#define ZSTD_MM4_MIN (128u << 10)
#define ZSTD_MM4_MAX (256u << 10)
/* zstd parameters for PQ_CONTENT_HEX_IDS pages, and the levels they
 * replace.  On a 590 KB page of 20,000 PLAIN 32-digit ids (a fifth empty)
 * level 3 gives 296,083 bytes at ~120 MB/s, these 284,312 at ~360 MB/s;
 * levels 4 to 15 are no smaller than level 3 there, and only the optimal
 * parsers of levels 16 and up find enough to be worth their time (272,156
 * bytes at 3 MB/s), so a user who asks for those gets them. */
#define ZSTD_IDS_MAX_LEVEL 15
#define ZSTD_IDS_HASH_LOG  12 /* a 16 KiB table stays in L1/L2 */
#define ZSTD_IDS_MIN_MATCH 6  /* a length prefix and a digit or two are no match */
/* PQ_CONTENT_DISTINCT and _TIMESTAMPS pages: the levels that use level 1
 * for them.  On the 599 KB dictionary page of a log-attribute value column
 * (durations, user ids, routes: 50,000 distinct values) level 3 gives
 * 218,112 bytes in 4.1 ms, level 1 219,508 (+0.6 %) in 2.2 ms; on a page of
 * 25,000 sorted nanosecond timestamps level 3 53,755 bytes in 0.93 ms,
 * level 1 the same bytes in 0.63 ms. */
#define ZSTD_DISTINCT_MAX_LEVEL 9
/* PQ_CONTENT_ENTRY_NUMBERS pages (the same levels use level 1 for them):
 * the minimum match.  On the 48 entry-number pages of 8 log files (7.1 MB;
 * most of them the bit-packed entries of LogAttributes values) level 3
 * gives 1,235,636 bytes in 17.4 ms, level 1 1,300,422 in 9.2 ms, level 1
 * with 6-byte matches 1,224,508 in 8.8 ms. */
#define ZSTD_ENTRIES_MIN_MATCH 6
#define GZIP_DEFAULT_LEVEL     6
#define GZIP_MAX_LEVEL         12

static const struct {
    const char *name;
    pq_codec codec;
} codec_names[] = {
    {"zstd", PQ_CODEC_ZSTD},         {"snappy", PQ_CODEC_SNAPPY},
    {"gzip", PQ_CODEC_GZIP},         {"lz4_raw", PQ_CODEC_LZ4_RAW},
    {"lz4", PQ_CODEC_LZ4_RAW},       {"uncompressed", PQ_CODEC_UNCOMPRESSED},
    {"none", PQ_CODEC_UNCOMPRESSED},
};

int pq_codec_parse(const char *name, pq_codec *out)
{
    for (size_t i = 0; i < sizeof codec_names / sizeof codec_names[0]; i++) {
        if (strcasecmp(name, codec_names[i].name) == 0) {
            *out = codec_names[i].codec;
            return O2P_OK;
        }
    }
    return O2P_EUNSUPPORTED;
}

const char *pq_codec_name(pq_codec codec)
{
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
        return "uncompressed";
    case PQ_CODEC_SNAPPY:
        return "snappy";
    case PQ_CODEC_GZIP:
        return "gzip";
    case PQ_CODEC_ZSTD:
        return "zstd";
    case PQ_CODEC_LZ4_RAW:
        return "lz4_raw";
    }
    return "unknown";
}

int pq_compressor_level(pq_codec codec, int level)
{
    if (codec == PQ_CODEC_ZSTD) return level ? level : ZSTD_DEFAULT_LEVEL;
    if (codec == PQ_CODEC_GZIP) return level ? level : GZIP_DEFAULT_LEVEL;
    return 0;
}

int pq_compressor_ready(const pq_compressor *c)
{
    switch (c->codec) {
    case PQ_CODEC_ZSTD:
        return c->zstd != NULL;
    case PQ_CODEC_GZIP:
        return c->gzip != NULL;
    case PQ_CODEC_UNCOMPRESSED:
    case PQ_CODEC_SNAPPY:
    case PQ_CODEC_LZ4_RAW:
        return 1;
    }
    return 0;
}

int pq_compressor_init(pq_compressor *c, pq_codec codec, int level, o2p_error *err)
{
    memset(c, 0, sizeof *c);
    c->codec = codec;
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
    case PQ_CODEC_SNAPPY:
    case PQ_CODEC_LZ4_RAW:
        return O2P_OK;
    case PQ_CODEC_ZSTD:
        c->level = level ? level : ZSTD_DEFAULT_LEVEL;
        if (c->level < ZSTD_minCLevel() || c->level > ZSTD_maxCLevel())
            return o2p_errorf(err, O2P_EINVAL, "zstd compression level %d out of range %d..%d",
                              level, ZSTD_minCLevel(), ZSTD_maxCLevel());
        c->zstd = ZSTD_createCCtx();
        if (c->zstd == NULL) return o2p_errorf(err, O2P_ENOMEM, "zstd: cannot create context");
        if (ZSTD_isError(ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_compressionLevel, c->level))) {
            pq_compressor_free(c);
            return o2p_errorf(err, O2P_EINVAL, "zstd: cannot set level %d", c->level);
        }
        return O2P_OK;
    case PQ_CODEC_GZIP:
        c->level = level ? level : GZIP_DEFAULT_LEVEL;
        if (c->level < 1 || c->level > GZIP_MAX_LEVEL)
            return o2p_errorf(err, O2P_EINVAL, "gzip compression level %d out of range 1..%d",
                              level, GZIP_MAX_LEVEL);
        c->gzip = libdeflate_alloc_compressor(c->level);
        if (c->gzip == NULL) return o2p_errorf(err, O2P_ENOMEM, "gzip: cannot create compressor");
        return O2P_OK;
    }
    return o2p_errorf(err, O2P_EUNSUPPORTED, "unsupported compression codec %d", (int)codec);
}

void pq_compressor_free(pq_compressor *c)
{
    if (c->zstd) ZSTD_freeCCtx(c->zstd);
    if (c->zstd_ids) ZSTD_freeCCtx(c->zstd_ids);
    if (c->zstd_fast) ZSTD_freeCCtx(c->zstd_fast);
    if (c->gzip) libdeflate_free_compressor(c->gzip);
    c->zstd = NULL;
    c->zstd_ids = NULL;
    c->zstd_fast = NULL;
    c->gzip = NULL;
}

/* A zstd context at level 1, with the hex-id parameters when `ids`. */
static int create_context(ZSTD_CCtx **out, int ids, o2p_error *err)
{
    ZSTD_CCtx *z = ZSTD_createCCtx();
    if (z == NULL) return o2p_errorf(err, O2P_ENOMEM, "zstd: cannot create context");
    if (ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_compressionLevel, 1)) ||
        (ids && (ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_strategy, ZSTD_fast)) ||
                 ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_hashLog, ZSTD_IDS_HASH_LOG)) ||
                 ZSTD_isError(ZSTD_CCtx_setParameter(z, ZSTD_c_minMatch, ZSTD_IDS_MIN_MATCH))))) {
        ZSTD_freeCCtx(z);
        return o2p_errorf(err, O2P_EINVAL, "zstd: cannot set the parameters for %s",
                          ids ? "hex ids" : "dictionary pages");
    }
    *out = z;
    return O2P_OK;
}

/* The zstd context for a page of `kind`: the level's own, or one of the
 * cheaper ones (created on first use, kept with the compressor). */
static int zstd_context(pq_compressor *c, pq_content kind, ZSTD_CCtx **out, o2p_error *err)
{
    *out = c->zstd;
    void **alt = NULL;
    if (kind == PQ_CONTENT_HEX_IDS && c->level >= 1 && c->level <= ZSTD_IDS_MAX_LEVEL)
        alt = &c->zstd_ids;
    else if ((kind == PQ_CONTENT_DISTINCT || kind == PQ_CONTENT_TIMESTAMPS ||
              kind == PQ_CONTENT_ENTRY_NUMBERS) &&
             c->level >= 2 && c->level <= ZSTD_DISTINCT_MAX_LEVEL)
        alt = &c->zstd_fast;
    if (alt == NULL) return O2P_OK;
    if (*alt == NULL) {
        ZSTD_CCtx *z = NULL;
        int rc = create_context(&z, alt == &c->zstd_ids, err);
        if (rc < 0) return rc;
        *alt = z;
    }
    *out = *alt;
    return O2P_OK;
}

#define SNIFF_MIN_IDS 16
#define ID_MIN_DIGITS 16

static int is_hex_digit(uint8_t ch)
{
    return (ch >= '0' && ch <= '9') || ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f');
}

pq_content pq_content_of_byte_arrays(const uint8_t *plain, size_t count)
{
    size_t ids = 0;
    if (count > PQ_CONTENT_SNIFF_VALUES) count = PQ_CONTENT_SNIFF_VALUES;
    for (size_t i = 0; i < count; i++) {
        uint32_t n;
        memcpy(&n, plain, 4);
        plain += 4;
        if (n == 0) continue;
        if (n < ID_MIN_DIGITS || n % 2 != 0) return PQ_CONTENT_ANY;
        for (uint32_t k = 0; k < n; k++)
            if (!is_hex_digit(plain[k])) return PQ_CONTENT_ANY;
        plain += n;
        ids++;
    }
    return ids >= SNIFF_MIN_IDS ? PQ_CONTENT_HEX_IDS : PQ_CONTENT_ANY;
}

static size_t bound(const pq_compressor *c, size_t len)
{
    switch (c->codec) {
    case PQ_CODEC_SNAPPY:
        return snappy_max_compressed_length(len);
    case PQ_CODEC_GZIP:
        return libdeflate_gzip_compress_bound(c->gzip, len);
    case PQ_CODEC_ZSTD:
        return ZSTD_compressBound(len);
    case PQ_CODEC_LZ4_RAW:
        return (size_t)LZ4_compressBound((int)len);
    case PQ_CODEC_UNCOMPRESSED:
        break;
    }
    return len;
}

int pq_compress(pq_compressor *c, const uint8_t *src, size_t len, o2p_buf *dst, o2p_error *err)
{
    return pq_compress_as(c, PQ_CONTENT_ANY, src, len, dst, err);
}

int pq_compress_as(pq_compressor *c, pq_content kind, const uint8_t *src, size_t len, o2p_buf *dst,
                   o2p_error *err)
{
    if (c->codec == PQ_CODEC_LZ4_RAW && len > LZ4_MAX_INPUT_SIZE)
        return o2p_errorf(err, O2P_ELIMIT, "lz4: page of %zu bytes is too large", len);
    buf_reset(dst);
    size_t cap = bound(c, len);
    if (buf_reserve(dst, cap) < 0)
        return o2p_errorf(err, O2P_ENOMEM, "out of memory for a %zu-byte compressed page", cap);
    size_t n = 0;
    switch (c->codec) {
    case PQ_CODEC_UNCOMPRESSED:
        if (len) memcpy(dst->data, src, len);
        n = len;
        break;
    case PQ_CODEC_SNAPPY:
        n = cap;
        if (snappy_compress((const char *)src, len, (char *)dst->data, &n) != SNAPPY_OK)
            return o2p_errorf(err, O2P_EIO, "snappy compression failed");
        break;
    case PQ_CODEC_GZIP:
        n = libdeflate_gzip_compress(c->gzip, src, len, dst->data, cap);
        if (n == 0) return o2p_errorf(err, O2P_EIO, "gzip compression failed");
        break;
    case PQ_CODEC_ZSTD: {
        ZSTD_CCtx *z;
        int rc = zstd_context(c, kind, &z, err);
        if (rc < 0) return rc;
        if (z != c->zstd) {
            /* 0: the level's own minimum match */
            if (z == c->zstd_fast)
                ZSTD_CCtx_setParameter(z, ZSTD_c_minMatch,
                                       kind == PQ_CONTENT_ENTRY_NUMBERS ? ZSTD_ENTRIES_MIN_MATCH
                                                                        : 0);
            n = ZSTD_compress2(z, dst->data, cap, src, len);
            if (ZSTD_isError(n))
                return o2p_errorf(err, O2P_EIO, "zstd compression failed: %s",
                                  ZSTD_getErrorName(n));
            break;
        }
        /* Level 3 picks its parameters by input size, and for inputs of 128
         * to 256 KiB only it looks for 4-byte matches instead of 5.  On ids
         * (hex TraceId/SpanId pages, their dictionaries) those short matches
         * cost about 12 % over literals, and a page of 20,000 ids or a
         * dictionary of 5,000 trace ids falls right in that range
         * (docs/performance.md, "Query speed").  Use 5 there too. */
        if (c->level == 3)
            ZSTD_CCtx_setParameter(c->zstd, ZSTD_c_minMatch,
                                   len > ZSTD_MM4_MIN && len <= ZSTD_MM4_MAX ? 5 : 0);
        n = ZSTD_compress2(c->zstd, dst->data, cap, src, len);
        if (ZSTD_isError(n))
            return o2p_errorf(err, O2P_EIO, "zstd compression failed: %s", ZSTD_getErrorName(n));
        break;
    }
    case PQ_CODEC_LZ4_RAW: {
        int r = LZ4_compress_default((const char *)src, (char *)dst->data, (int)len, (int)cap);
        if (r <= 0 && len > 0) return o2p_errorf(err, O2P_EIO, "lz4 compression failed");
        n = r > 0 ? (size_t)r : 0;
        break;
    }
    }
    dst->len = n;
    return O2P_OK;
}
