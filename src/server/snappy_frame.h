/*
 * snappy_frame: decoder for the Snappy framing format ("sNaPpY" stream,
 * https://github.com/google/snappy/blob/main/framing_format.txt), which is
 * what gRPC clients mean by grpc-encoding "snappy" (the Collector's Go
 * client writes it with snappy.NewBufferedWriter).
 *
 * The stream is a sequence of chunks, each a type byte and a 24-bit
 * little-endian length: the stream identifier (0xff, "sNaPpY") first,
 * compressed (0x00) and uncompressed (0x01) data chunks carrying a masked
 * CRC-32C of their uncompressed bytes, skippable chunks (0x80..0xfe,
 * padding included) and reserved unskippable ones (0x02..0x7f, refused).
 * Pure: no I/O, unit-tested and fuzzed on its own.
 */
#ifndef O2P_SERVER_SNAPPY_FRAME_H
#define O2P_SERVER_SNAPPY_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "core/error.h"

/* Appends the decoded bytes of `in` to out.  O2P_ELIMIT when they would
 * make out longer than `limit` ("decompressed body exceeds N bytes");
 * O2P_EINVAL naming the problem (missing stream identifier, truncated
 * chunk, bad checksum, corrupt block, reserved chunk type); O2P_ENOMEM. */
int snappy_frame_decode(const uint8_t *in, size_t len, size_t limit, o2p_buf *out, o2p_error *err);

/* CRC-32C (Castagnoli) of data, and the masked form the framing stores. */
uint32_t snappy_frame_crc32c(const uint8_t *data, size_t len);
uint32_t snappy_frame_mask(uint32_t crc);

#endif
