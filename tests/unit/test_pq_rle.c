/* Unit tests for bit packing and the RLE/bit-packed hybrid; expected bytes
 * are worked out by hand from Parquet's Encodings.md. */
#include <string.h>

#include "core/buf.h"
#include "parquet/pq_bitpack.h"
#include "parquet/pq_rle.h"
#include "unit.h"

TEST(pq_rle_bit_width)
{
    CHECK_INT(pq_bit_width(0), 0);
    CHECK_INT(pq_bit_width(1), 1);
    CHECK_INT(pq_bit_width(2), 2);
    CHECK_INT(pq_bit_width(3), 2);
    CHECK_INT(pq_bit_width(4), 3);
    CHECK_INT(pq_bit_width(255), 8);
    CHECK_INT(pq_bit_width(256), 9);
    CHECK_INT(pq_bit_width(UINT32_MAX), 32);
}

TEST(pq_rle_bitpack_spec_example)
{
    /* Encodings.md: 0..7 with bit width 3 -> 10001000 11000110 11111010 */
    const uint32_t v32[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    const uint8_t v8[8] = {0, 1, 2, 3, 4, 5, 6, 7};
    uint8_t out[8] = {0};
    pq_bitpack_u32(v32, 8, 3, out);
    CHECK_BYTES(out, 3, 0x88, 0xC6, 0xFA);
    uint8_t out8[8] = {0};
    pq_bitpack_u8(v8, 8, 3, out8);
    CHECK_BYTES(out8, 3, 0x88, 0xC6, 0xFA);
    CHECK_INT(pq_bitpack_bytes(8, 3), 3);
    CHECK_INT(pq_bitpack_bytes(3, 17), 7);
}

TEST(pq_rle_bitpack_wide_values)
{
    /* 17 bits: v0 fills bits 0-16, v1 (0) bits 17-33, v2 = 0x10001 sets bits 34 and 50. */
    const uint32_t v[3] = {0x1FFFF, 0, 0x10001};
    uint8_t out[8] = {0};
    pq_bitpack_u32(v, 3, 17, out);
    CHECK_BYTES(out, 8, 0xFF, 0xFF, 0x01, 0x00, 0x04, 0x00, 0x04, 0x00);
    const uint32_t w[2] = {0xDEADBEEF, 1};
    pq_bitpack_u32(w, 2, 32, out);
    CHECK_BYTES(out, 8, 0xEF, 0xBE, 0xAD, 0xDE, 0x01, 0x00, 0x00, 0x00);
}

/* Bit i of the packed stream, LSB first, the way Encodings.md defines it. */
static void put_bits_by_hand(uint8_t *out, size_t *bit, uint32_t v, int width)
{
    for (int k = 0; k < width; k++, (*bit)++)
        if (v >> k & 1) out[*bit / 8] |= (uint8_t)(1u << (*bit % 8));
}

TEST(pq_rle_bitpack_groups_match_bit_by_bit_packing)
{
    /* every width, counts around the groups of 8, bytes past the end untouched */
    uint32_t v32[43];
    uint8_t v8[43];
    for (size_t i = 0; i < 43; i++) v32[i] = (uint32_t)(i * 2654435761u);
    for (int width = 0; width <= 32; width++) {
        uint32_t mask = width == 32 ? UINT32_MAX : (1u << width) - 1;
        for (size_t count = 0; count <= 43; count++) {
            uint8_t want[200] = {0}, got[200], got8[200];
            memset(got, 0xEE, sizeof got);
            memset(got8, 0xEE, sizeof got8);
            size_t bit = 0;
            for (size_t i = 0; i < count; i++) {
                v8[i] = (uint8_t)(v32[i] & mask);
                put_bits_by_hand(want, &bit, v32[i] & mask, width);
            }
            uint32_t masked[43];
            for (size_t i = 0; i < count; i++) masked[i] = v32[i] & mask;
            size_t n = pq_bitpack_bytes(count, width);
            memset(want + n, 0xEE, sizeof want - n);
            pq_bitpack_u32(masked, count, width, got);
            CHECK_MEM(got, sizeof got, want, sizeof want);
            if (width <= 8) {
                pq_bitpack_u8(v8, count, width, got8);
                CHECK_MEM(got8, sizeof got8, want, sizeof want);
            }
        }
    }
}

TEST(pq_rle_bitpack_bools)
{
    const uint8_t v[9] = {1, 0, 1, 1, 0, 0, 0, 1, 1};
    uint8_t out[2] = {0xAA, 0xAA};
    pq_bitpack_bools(v, 9, out);
    CHECK_BYTES(out, 2, 0x8D, 0x01);
}

TEST(pq_rle_run)
{
    o2p_buf b;
    buf_init(&b, 0);
    uint8_t v[10];
    memset(v, 3, sizeof v);
    CHECK_OK(pq_rle_encode_u8(&b, v, 10, 2)); /* header 10<<1, value in 1 byte */
    CHECK_BYTES(b.data, b.len, 0x14, 0x03);
    buf_reset(&b);
    uint32_t big[8];
    for (int i = 0; i < 8; i++) big[i] = 300;
    CHECK_OK(pq_rle_encode_u32(&b, big, 8, 9)); /* value in 2 bytes, little-endian */
    CHECK_BYTES(b.data, b.len, 0x10, 0x2C, 0x01);
    buf_reset(&b);
    uint32_t zeros[20] = {0};
    CHECK_OK(pq_rle_encode_u32(&b, zeros, 20, 0)); /* width 0: no value bytes */
    CHECK_BYTES(b.data, b.len, 0x28);
    buf_free(&b);
}

TEST(pq_rle_literal_padded)
{
    o2p_buf b;
    buf_init(&b, 0);
    const uint8_t v[5] = {1, 0, 1, 0, 1};
    CHECK_OK(pq_rle_encode_u8(&b, v, 5, 1)); /* one group: header (1<<1)|1, bits 10101 */
    CHECK_BYTES(b.data, b.len, 0x03, 0x15);
    buf_free(&b);
}

TEST(pq_rle_short_run_stays_literal)
{
    /* [1,2,3] + 12 x 5 + [6]: topping the literal up to 8 leaves 7 fives, too
     * few for a run, so all 16 values are two bit-packed groups. */
    uint32_t v[16] = {1, 2, 3};
    for (int i = 3; i < 15; i++) v[i] = 5;
    v[15] = 6;
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(pq_rle_encode_u32(&b, v, 16, 3));
    CHECK_BYTES(b.data, b.len, 0x05, 0xD1, 0xDA, 0xB6, 0x6D, 0xDB, 0xD6);
    buf_free(&b);
}

TEST(pq_rle_literal_run_literal)
{
    /* [1,2,3] + 13 x 5 + [6]: literal 1,2,3,5,5,5,5,5; run of 8 fives; literal [6]. */
    uint8_t v[17] = {1, 2, 3};
    for (int i = 3; i < 16; i++) v[i] = 5;
    v[16] = 6;
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(pq_rle_encode_u8(&b, v, 17, 3));
    CHECK_BYTES(b.data, b.len, 0x03, 0xD1, 0xDA, 0xB6, 0x10, 0x05, 0x03, 0x06, 0x00, 0x00);
    buf_free(&b);
}

TEST(pq_rle_run_first_then_literal)
{
    /* 9 x 1 then [0,1]: run of 9, then one padded group. */
    const uint8_t v[11] = {1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1};
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(pq_rle_encode_u8(&b, v, 11, 1));
    CHECK_BYTES(b.data, b.len, 0x12, 0x01, 0x03, 0x02);
    CHECK(b.len <= pq_rle_max_size(11, 1));
    buf_free(&b);
}

TEST(pq_rle_limit_error)
{
    o2p_buf b;
    buf_init(&b, 4);
    uint8_t v[64] = {0};
    CHECK_INT(pq_rle_encode_u8(&b, v, 64, 1), O2P_ELIMIT);
    buf_free(&b);
}

TEST(pq_rle_levels_encode_as_the_same_values_as_u32)
{
    /* runs of every length around the 8-byte steps the u8 encoder skips
     * with, between short literals: its bytes equal the u32 encoder's */
    uint8_t v8[4000];
    uint32_t v32[4000];
    size_t n = 0;
    for (size_t len = 1; len <= 40 && n < 3900; len++) {
        for (size_t k = 0; k < len; k++, n++) v8[n] = (uint8_t)(len % 3);
        v8[n++] = 3; /* a different value between runs */
    }
    for (size_t i = 0; i < n; i++) v32[i] = v8[i];
    for (size_t start = 0; start < 9; start++) {
        o2p_buf a, b;
        buf_init(&a, 0);
        buf_init(&b, 0);
        CHECK_OK(pq_rle_encode_u8(&a, v8 + start, n - start, 2));
        CHECK_OK(pq_rle_encode_u32(&b, v32 + start, n - start, 2));
        CHECK_MEM(a.data, a.len, b.data, b.len);
        buf_free(&a);
        buf_free(&b);
    }
}
