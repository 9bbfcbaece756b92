/*
 * snappy_frame: Snappy framing format decoding (see snappy_frame.h).  The
 * blocks inside compressed chunks are decoded by libsnappy's C API.
 */
#include "server/snappy_frame.h"

#include <pthread.h>
#include <snappy-c.h>
#include <string.h>

#define SNAPPY_FRAME_MAX_CHUNK_DATA 65536 /* uncompressed bytes per data chunk */

static uint32_t snappy_crc_table[256];
static pthread_once_t snappy_crc_once = PTHREAD_ONCE_INIT;

static void snappy_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = c & 1 ? (c >> 1) ^ 0x82f63b78u : c >> 1;
        snappy_crc_table[i] = c;
    }
}

uint32_t snappy_frame_crc32c(const uint8_t *data, size_t len)
{
    pthread_once(&snappy_crc_once, snappy_crc_init);
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < len; i++) c = snappy_crc_table[(c ^ data[i]) & 0xff] ^ (c >> 8);
    return c ^ 0xffffffffu;
}

uint32_t snappy_frame_mask(uint32_t crc)
{
    return ((crc >> 15) | (crc << 17)) + 0xa282ead8u;
}

static uint32_t snappy_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Checks the chunk's stored checksum against the bytes just appended. */
static int snappy_check_crc(const uint8_t *stored, const uint8_t *data, size_t len, size_t at,
                            o2p_error *err)
{
    if (snappy_frame_mask(snappy_frame_crc32c(data, len)) != snappy_le32(stored))
        return o2p_errorf(err, O2P_EINVAL,
                          "corrupt snappy data: checksum mismatch in the chunk at byte %zu", at);
    return O2P_OK;
}

int snappy_frame_decode(const uint8_t *in, size_t len, size_t limit, o2p_buf *out, o2p_error *err)
{
    static const uint8_t ident[6] = {'s', 'N', 'a', 'P', 'p', 'Y'};
    size_t pos = 0;
    int seen_ident = 0;
    if (len == 0) return o2p_errorf(err, O2P_EINVAL, "corrupt snappy data: empty stream");
    while (pos < len) {
        if (len - pos < 4)
            return o2p_errorf(err, O2P_EINVAL,
                              "corrupt snappy data: chunk header truncated at byte %zu", pos);
        unsigned type = in[pos];
        size_t clen = (size_t)in[pos + 1] | (size_t)in[pos + 2] << 8 | (size_t)in[pos + 3] << 16;
        size_t at = pos;
        pos += 4;
        if (clen > len - pos)
            return o2p_errorf(err, O2P_EINVAL,
                              "corrupt snappy data: chunk at byte %zu declares %zu bytes, %zu left",
                              at, clen, len - pos);
        const uint8_t *c = in + pos;
        pos += clen;
        if (type == 0xff) {
            if (clen != sizeof ident || memcmp(c, ident, sizeof ident) != 0)
                return o2p_errorf(err, O2P_EINVAL,
                                  "corrupt snappy data: bad stream identifier at byte %zu", at);
            seen_ident = 1;
            continue;
        }
        if (!seen_ident)
            return o2p_errorf(err, O2P_EINVAL,
                              "corrupt snappy data: the stream does not start with the "
                              "\"sNaPpY\" identifier (block-format snappy is not accepted)");
        if (type >= 0x80) continue; /* skippable, padding included */
        if (type > 0x01)
            return o2p_errorf(err, O2P_EINVAL,
                              "corrupt snappy data: reserved chunk type 0x%02x at byte %zu", type,
                              at);
        if (clen < 4)
            return o2p_errorf(err, O2P_EINVAL,
                              "corrupt snappy data: chunk at byte %zu has no checksum", at);
        const uint8_t *data = c + 4;
        size_t dlen = clen - 4;
        size_t n = dlen;
        if (type == 0x00 && snappy_uncompressed_length((const char *)data, dlen, &n) != SNAPPY_OK)
            return o2p_errorf(err, O2P_EINVAL,
                              "corrupt snappy data: bad block header in the chunk at byte %zu", at);
        if (n > SNAPPY_FRAME_MAX_CHUNK_DATA)
            return o2p_errorf(err, O2P_EINVAL,
                              "corrupt snappy data: chunk at byte %zu holds %zu bytes (at most "
                              "65536)",
                              at, n);
        if (out->len > limit || n > limit - out->len)
            return o2p_errorf(err, O2P_ELIMIT, "decompressed body exceeds %zu bytes", limit);
        if (buf_reserve(out, n) < 0)
            return o2p_errorf(err, O2P_ENOMEM, "out of memory decompressing snappy data");
        uint8_t *dst = out->data + out->len;
        if (type == 0x00) {
            size_t got = n;
            if (snappy_uncompress((const char *)data, dlen, (char *)dst, &got) != SNAPPY_OK ||
                got != n)
                return o2p_errorf(err, O2P_EINVAL,
                                  "corrupt snappy data: bad compressed block in the chunk at byte "
                                  "%zu",
                                  at);
        } else {
            memcpy(dst, data, n);
        }
        O2P_TRY(snappy_check_crc(c, dst, n, at, err));
        out->len += n;
    }
    if (!seen_ident)
        return o2p_errorf(err, O2P_EINVAL,
                          "corrupt snappy data: the stream does not start with the \"sNaPpY\" "
                          "identifier");
    return O2P_OK;
}
