/* Tests for snappy_frame: streams built here chunk by chunk (libsnappy
 * compresses the blocks), decoded whole, and every refusal by name. */
#include <snappy-c.h>
#include <string.h>

#include "server/http_decompress.h"
#include "server/snappy_frame.h"
#include "unit.h"

static void put_chunk(o2p_buf *s, uint8_t type, const uint8_t *data, size_t len)
{
    uint8_t hdr[4] = {type, (uint8_t)len, (uint8_t)(len >> 8), (uint8_t)(len >> 16)};
    CHECK_OK(buf_append(s, hdr, 4));
    CHECK_OK(buf_append(s, data, len));
}

static void put_ident(o2p_buf *s)
{
    put_chunk(s, 0xff, (const uint8_t *)"sNaPpY", 6);
}

/* A data chunk: masked CRC-32C of `data`, then the block (compressed with
 * libsnappy for type 0) or the bytes. */
static void put_data(o2p_buf *s, uint8_t type, const uint8_t *data, size_t len, int bad_crc)
{
    static uint8_t tmp[4 + 90000];
    uint32_t crc = snappy_frame_mask(snappy_frame_crc32c(data, len)) ^ (bad_crc ? 1u : 0u);
    tmp[0] = (uint8_t)crc;
    tmp[1] = (uint8_t)(crc >> 8);
    tmp[2] = (uint8_t)(crc >> 16);
    tmp[3] = (uint8_t)(crc >> 24);
    size_t n = len;
    if (type == 0) {
        n = sizeof tmp - 4;
        CHECK(snappy_compress((const char *)data, len, (char *)tmp + 4, &n) == SNAPPY_OK);
    } else {
        memcpy(tmp + 4, data, len);
    }
    put_chunk(s, type, tmp, n + 4);
}

TEST(snappy_frame_crc32c_known_value)
{
    /* the CRC-32C check value, and the masked form of the empty string's 0 */
    CHECK_UINT(snappy_frame_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u);
    CHECK_UINT(snappy_frame_mask(0), 0xa282ead8u);
}

TEST(snappy_frame_decodes_compressed_uncompressed_and_skippable_chunks)
{
    static uint8_t text[100000];
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (uint8_t)("otlp2parquet "[i % 13] + i / 5000);
    o2p_buf s, out;
    buf_init(&s, 0);
    buf_init(&out, 0);
    put_ident(&s);
    put_data(&s, 0, text, 65536, 0);
    put_chunk(&s, 0xfe, (const uint8_t *)"\0\0\0", 3); /* padding */
    put_ident(&s);                                     /* may repeat */
    put_data(&s, 1, text + 65536, 30000, 0);
    put_chunk(&s, 0x99, (const uint8_t *)"skip", 4);
    put_data(&s, 0, text + 95536, sizeof text - 95536, 0);
    o2p_error err;
    CHECK_OK(snappy_frame_decode(s.data, s.len, sizeof text, &out, &err));
    CHECK_MEM(out.data, out.len, text, sizeof text);

    /* one byte short of the limit: refused as too large */
    buf_reset(&out);
    CHECK_INT(snappy_frame_decode(s.data, s.len, sizeof text - 1, &out, &err), O2P_ELIMIT);
    CHECK(strstr(err.msg, "exceeds 99999 bytes") != NULL);

    /* the same through the decompressor gRPC uses */
    http_decompressor d;
    http_decompressor_init(&d, sizeof text);
    CHECK_OK(http_decompress(&d, HTTP_ENC_SNAPPY, s.data, s.len, &err));
    CHECK_MEM(d.out.data, d.out.len, text, sizeof text);
    http_decompressor_free(&d);
    buf_free(&s);
    buf_free(&out);
}

TEST(snappy_frame_refuses_bad_streams)
{
    static const uint8_t msg[] = "hello hello hello hello";
    o2p_buf s, out;
    buf_init(&s, 0);
    buf_init(&out, 0);
    o2p_error err;
    struct {
        const char *want;
        int rc;
    } cases[] = {
        {"empty stream", O2P_EINVAL},
        {"does not start with", O2P_EINVAL},
        {"checksum mismatch in the chunk at byte 10", O2P_EINVAL},
        {"reserved chunk type 0x05", O2P_EINVAL},
        {"chunk header truncated", O2P_EINVAL},
        {"declares 100 bytes, 2 left", O2P_EINVAL},
        {"bad stream identifier", O2P_EINVAL},
        {"has no checksum", O2P_EINVAL},
        {"bad compressed block", O2P_EINVAL},
        {"holds 70000 bytes", O2P_EINVAL},
    };
    static uint8_t big[70000];
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        buf_reset(&s);
        buf_reset(&out);
        switch (k) {
        case 0:
            break;
        case 1:
            put_data(&s, 0, msg, sizeof msg, 0); /* block data without the identifier */
            break;
        case 2:
            put_ident(&s);
            put_data(&s, 0, msg, sizeof msg, 1);
            break;
        case 3:
            put_ident(&s);
            put_chunk(&s, 0x05, msg, 4);
            break;
        case 4: {
            static const uint8_t cut[] = {0x00, 0x01};
            put_ident(&s);
            CHECK_OK(buf_append(&s, cut, sizeof cut));
            break;
        }
        case 5: {
            static const uint8_t past[] = {0x01, 0x64, 0x00, 0x00, 'a', 'b'};
            put_ident(&s);
            CHECK_OK(buf_append(&s, past, sizeof past));
            break;
        }
        case 6:
            put_chunk(&s, 0xff, (const uint8_t *)"snappy", 6);
            break;
        case 7:
            put_ident(&s);
            put_chunk(&s, 0x00, msg, 3);
            break;
        case 8: {
            put_ident(&s);
            uint8_t junk[12] = {0, 0, 0, 0, 0x05, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
            put_chunk(&s, 0x00, junk, sizeof junk);
            break;
        }
        case 9:
            put_ident(&s);
            put_data(&s, 1, big, sizeof big, 0);
            break;
        }
        int rc = snappy_frame_decode(s.data, s.len, 1 << 20, &out, &err);
        CHECK_MSG(rc == cases[k].rc, "case %zu: rc %d (%s)", k, rc, err.msg);
        CHECK_MSG(strstr(err.msg, cases[k].want) != NULL, "case %zu: '%s' lacks '%s'", k, err.msg,
                  cases[k].want);
    }
    buf_free(&s);
    buf_free(&out);
}
