/*
 * pq_compress: page compression with the codecs Parquet names —
 * UNCOMPRESSED, SNAPPY (raw snappy), GZIP (RFC 1952 via libdeflate),
 * ZSTD (frame format, with level) and LZ4_RAW (a bare LZ4 block).
 *
 * A compressor keeps its codec contexts (zstd CCtx, libdeflate compressor)
 * for the life of a writer, so compressing a page allocates nothing once the
 * output buffer has grown.  Those contexts are allocated by the codec
 * libraries themselves, outside mem_alloc's accounting.
 */
#ifndef O2P_PARQUET_COMPRESS_H
#define O2P_PARQUET_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"
#include "parquet/pq_writer.h"

typedef struct pq_compressor {
    pq_codec codec;
    int level;
    void *zstd;      /* ZSTD_CCtx */
    void *zstd_ids;  /* ZSTD_CCtx for PQ_CONTENT_HEX_IDS, created on first use */
    void *zstd_fast; /* ZSTD_CCtx at level 1 (DISTINCT, TIMESTAMPS), likewise */
    void *gzip;      /* struct libdeflate_compressor */
} pq_compressor;

/* What a page holds, as far as the codec's parameters care. */
typedef enum pq_content {
    PQ_CONTENT_ANY = 0,
    /* hex strings of random bytes (TraceId, SpanId): no repeats for a match
     * finder to find, only literals at 4 bits per digit.  zstd levels 1 to
     * 15 compress them with fast-strategy parameters instead of the level's
     * (pq_compress.c); other codecs and levels are unaffected. */
    PQ_CONTENT_HEX_IDS,
    /* a dictionary page of byte arrays: every value differs from every
     * other, so a match is at most a shared prefix or suffix, which zstd's
     * level 1 finds nearly as well as levels 2 to 9 do; at those levels
     * such pages are compressed at level 1. */
    PQ_CONTENT_DISTINCT,
    /* PLAIN 64-bit timestamps: the high bytes repeat from one value to the
     * next (a match at offset 8 that every level finds), the low ones are
     * noise; compressed at level 1 at levels 2 to 9 like DISTINCT. */
    PQ_CONTENT_TIMESTAMPS,
    /* a dictionary-encoded data page: levels and bit-packed entry numbers,
     * whose repeats are mostly whole runs; 4- and 5-byte matches across
     * unaligned bit fields are mostly chance.  At levels 2 to 9 compressed
     * at level 1 with 6-byte minimum matches: on the entry-number pages of
     * a log table 0.9 % smaller than level 3, in half the time. */
    PQ_CONTENT_ENTRY_NUMBERS
} pq_content;

/* level 0 picks the codec's default (zstd 3, gzip 6); levels are checked
 * for ZSTD and GZIP and ignored by codecs that have none. */
int pq_compressor_init(pq_compressor *c, pq_codec codec, int level, o2p_error *err);
void pq_compressor_free(pq_compressor *c);
/* The level pq_compressor_init uses for `level` (0 = the codec's default;
 * 0 for codecs without levels). */
int pq_compressor_level(pq_codec codec, int level);
/* 1 when c was initialised successfully (its codec context exists). */
int pq_compressor_ready(const pq_compressor *c);

/* Values pq_content_of_byte_arrays looks at (the first ones of count). */
#define PQ_CONTENT_SNIFF_VALUES 64
/* The content of a BYTE_ARRAY column from a sample of its first PLAIN
 * values (4-byte little-endian length, then the bytes): PQ_CONTENT_HEX_IDS
 * when at least 16 of them are non-empty and every non-empty one is an
 * even number (16 or more) of hex digits; PQ_CONTENT_ANY otherwise. */
pq_content pq_content_of_byte_arrays(const uint8_t *plain, size_t count);

/* Replaces dst's contents with the compressed form of src[0..len). */
int pq_compress(pq_compressor *c, const uint8_t *src, size_t len, o2p_buf *dst, o2p_error *err);
/* The same for a page whose content is known to be `kind`. */
int pq_compress_as(pq_compressor *c, pq_content kind, const uint8_t *src, size_t len, o2p_buf *dst,
                   o2p_error *err);

#endif
