/*
 * pq_rle: the RLE/bit-packed hybrid encoding (Parquet Encodings.md), used for
 * definition and repetition levels and for dictionary indices.
 *
 * Policy: a run of at least 8 equal values becomes an RLE run; everything
 * else goes into bit-packed runs of whole 8-value groups.  Before a run is
 * cut out, the pending literal values are topped up to a multiple of 8 with
 * the run's first values (bit-packed runs must hold whole groups), and the
 * run is only used if 8 or more values remain.  The final bit-packed run is
 * padded with zero values; readers stop at the page's value count.
 */
#ifndef O2P_PARQUET_RLE_H
#define O2P_PARQUET_RLE_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

/* Largest encoded size for count values of width bits. */
size_t pq_rle_max_size(size_t count, int width);

/* Appends the hybrid encoding (no length prefix) of count values, each
 * < 2^width (width 0..32), to out.  O2P_OK or O2P_ENOMEM / O2P_ELIMIT. */
int pq_rle_encode_u8(o2p_buf *out, const uint8_t *values, size_t count, int width);
int pq_rle_encode_u32(o2p_buf *out, const uint32_t *values, size_t count, int width);

#endif
