/* Unit tests for codec_text: hex, base64 (RFC 4648 vectors), UTF-8
 * validation (Unicode Table 3-7) and JSON escaping (JSON.stringify output). */
#include <stdio.h>
#include <string.h>

#include "core/buf.h"
#include "core/codec_text.h"
#include "core/error.h"
#include "unit.h"

TEST(codec_text_hex_encode)
{
    static const uint8_t bytes[] = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff};
    char out[16];
    hex_encode(bytes, sizeof bytes, out);
    CHECK_MEM(out, sizeof out, "00017f80abcdefff", 16);
    hex_encode(bytes, 0, out); /* nothing written, nothing read */
    /* every byte value, against snprintf */
    uint8_t all[256];
    char hex[512], want[3];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    hex_encode(all, sizeof all, hex);
    for (int i = 0; i < 256; i++) {
        snprintf(want, sizeof want, "%02x", i);
        CHECK_MEM(hex + 2 * i, 2, want, 2);
    }
}

TEST(codec_text_hex_decode)
{
    uint8_t out[8];
    CHECK_OK(hex_decode("00017f80ABcdEFff", 16, out, 8));
    CHECK_BYTES(out, 8, 0x00, 0x01, 0x7f, 0x80, 0xab, 0xcd, 0xef, 0xff);
    CHECK_OK(hex_decode("", 0, out, 0));

    CHECK_INT(hex_decode("0001", 4, out, 3), -1);   /* too short */
    CHECK_INT(hex_decode("000102", 6, out, 2), -1); /* too long */
    CHECK_INT(hex_decode("000", 3, out, 1), -1);    /* odd */
    CHECK_INT(hex_decode("0g", 2, out, 1), -1);
    CHECK_INT(hex_decode("g0", 2, out, 1), -1);
    CHECK_INT(hex_decode(" 0", 2, out, 1), -1);
    CHECK_INT(hex_decode("0x", 2, out, 1), -1);
    static const char nul_inside[2] = {'0', '\0'};
    CHECK_INT(hex_decode(nul_inside, 2, out, 1), -1);
    /* Every byte value survives encode then decode. */
    uint8_t all[256], back[256];
    char text[512];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)i;
    hex_encode(all, 256, text);
    CHECK_OK(hex_decode(text, 512, back, 256));
    CHECK_MEM(back, 256, all, 256);
}

static const struct {
    const char *plain;
    const char *encoded;
} RFC4648_VECTORS[] = {
    {"", ""},
    {"f", "Zg=="},
    {"fo", "Zm8="},
    {"foo", "Zm9v"},
    {"foob", "Zm9vYg=="},
    {"fooba", "Zm9vYmE="},
    {"foobar", "Zm9vYmFy"},
};

TEST(codec_text_base64_rfc4648_vectors)
{
    for (size_t i = 0; i < sizeof RFC4648_VECTORS / sizeof RFC4648_VECTORS[0]; i++) {
        const char *plain = RFC4648_VECTORS[i].plain, *enc = RFC4648_VECTORS[i].encoded;
        size_t plain_len = strlen(plain), enc_len = strlen(enc);
        CHECK_INT(base64_encoded_len(plain_len), enc_len);

        o2p_buf b;
        buf_init(&b, 0);
        CHECK_OK(buf_append(&b, "x", 1)); /* appends after existing content */
        CHECK_OK(base64_append(&b, (const uint8_t *)plain, plain_len));
        CHECK_INT(b.len, 1 + enc_len);
        CHECK_MEM(b.data + 1, b.len - 1, enc, enc_len);
        buf_free(&b);

        uint8_t out[8];
        size_t out_len = 99;
        CHECK_OK(base64_decode(enc, enc_len, out, sizeof out, &out_len));
        CHECK_MEM(out, out_len, plain, plain_len);
    }
}

TEST(codec_text_base64_alphabet_edges)
{
    /* Checked with node: Buffer.from(...).toString("base64"). */
    static const uint8_t high[] = {0xfb, 0xff};
    static const uint8_t letters[] = {0x00, 0x10, 0x83, 0x10, 0x51, 0x87,
                                      0x20, 0x92, 0x8b, 0x30, 0xd3, 0x8f};
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(base64_append(&b, high, sizeof high));
    CHECK_MEM(b.data, b.len, "+/8=", 4);
    buf_reset(&b);
    CHECK_OK(base64_append(&b, letters, sizeof letters));
    CHECK_MEM(b.data, b.len, "ABCDEFGHIJKLMNOP", 16);

    /* All byte values, every length 0..256: decode(encode(x)) == x. */
    uint8_t all[256], back[256];
    for (int i = 0; i < 256; i++) all[i] = (uint8_t)(255 - i);
    for (size_t n = 0; n <= 256; n++) {
        buf_reset(&b);
        CHECK_OK(base64_append(&b, all, n));
        CHECK_INT(b.len, base64_encoded_len(n));
        size_t back_len = 0;
        CHECK_OK(base64_decode((const char *)b.data, b.len, back, n, &back_len));
        CHECK_MEM(back, back_len, all, n);
    }
    buf_free(&b);
}

TEST(codec_text_base64_append_respects_limit)
{
    o2p_buf b;
    buf_init(&b, 7);
    CHECK_OK(base64_append(&b, (const uint8_t *)"f", 1));
    CHECK_INT(base64_append(&b, (const uint8_t *)"f", 1), O2P_ELIMIT);
    CHECK_MEM(b.data, b.len, "Zg==", 4); /* unchanged by the failure */
    buf_free(&b);
}

TEST(codec_text_base64_decode_rejects)
{
    static const char *bad[] = {
        "Zg",       /* missing padding */
        "Zg=",      /* short padding */
        "Zg===",    /* extra padding */
        "Zm9v====", /* a whole group of padding */
        "Z===",     /* three pad characters */
        "====",     /* only padding */
        "=Zm8",     /* padding first */
        "Zm=v",     /* padding inside a group */
        "Zg==Zm9v", /* padding before the end */
        "Zm 9v",    /* whitespace */
        "Zm9v\n",   /* trailing newline */
        " Zm9v",    /* leading space */
        "-_8=",     /* url-safe alphabet */
        "Zm9_",     /* url-safe in last group */
        "Zh==",     /* non-zero unused bits (would be "f" with junk) */
        "Zm9=",     /* non-zero unused bits, one pad */
        "Zm8",      /* length not a multiple of 4 */
        "Zm9vY",    /* ditto */
        "Zm9\x80",  /* non-ASCII */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        uint8_t out[16];
        size_t out_len = 0;
        CHECK_MSG(base64_decode(bad[i], strlen(bad[i]), out, sizeof out, &out_len) == -1,
                  "accepted \"%s\"", bad[i]);
    }
    static const char nul_inside[4] = {'Z', 'm', '\0', 'v'};
    uint8_t out[16];
    size_t out_len = 0;
    CHECK_INT(base64_decode(nul_inside, 4, out, sizeof out, &out_len), -1);
}

TEST(codec_text_base64_decode_capacity)
{
    uint8_t out[6];
    size_t out_len = 0;
    CHECK_INT(base64_decode("Zm9v", 4, out, 2, &out_len), -1);
    CHECK_OK(base64_decode("Zm9v", 4, out, 3, &out_len));
    CHECK_INT(out_len, 3);
    CHECK_INT(base64_decode("Zm9vYg==", 8, out, 3, &out_len), -1);
    CHECK_OK(base64_decode("Zm9vYg==", 8, out, 4, &out_len));
    CHECK_MEM(out, out_len, "foob", 4);
    CHECK_OK(base64_decode("", 0, NULL, 0, &out_len));
    CHECK_INT(out_len, 0);
}

typedef struct utf8_case {
    const char *bytes;
    int valid;
} utf8_case;

/* Boundaries of each row of the Unicode Standard's Table 3-7, and the
 * sequences just outside them. */
static const utf8_case UTF8_CASES[] = {
    {"", 1},
    {"plain ascii text", 1},
    {"\x7f", 1},
    {"\xc2\x80", 1},         /* U+0080 */
    {"\xdf\xbf", 1},         /* U+07FF */
    {"\xe0\xa0\x80", 1},     /* U+0800 */
    {"\xe1\x80\x80", 1},     /* U+1000 */
    {"\xec\xbf\xbf", 1},     /* U+CFFF */
    {"\xed\x80\x80", 1},     /* U+D000 */
    {"\xed\x9f\xbf", 1},     /* U+D7FF */
    {"\xee\x80\x80", 1},     /* U+E000 */
    {"\xef\xbf\xbf", 1},     /* U+FFFF */
    {"\xf0\x90\x80\x80", 1}, /* U+10000 */
    {"\xf0\xbf\xbf\xbf", 1}, /* U+3FFFF */
    {"\xf1\x80\x80\x80", 1}, /* U+40000 */
    {"\xf3\xbf\xbf\xbf", 1}, /* U+FFFFF */
    {"\xf4\x80\x80\x80", 1}, /* U+100000 */
    {"\xf4\x8f\xbf\xbf", 1}, /* U+10FFFF */
    {"a\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80z", 1},
    {"\x80", 0}, /* lone continuation */
    {"\xbf", 0},
    {"a\x80"
     "b",
     0},
    {"\xc0\x80", 0},                 /* overlong NUL */
    {"\xc1\xbf", 0},                 /* overlong U+007F */
    {"\xe0\x80\x80", 0},             /* overlong */
    {"\xe0\x9f\xbf", 0},             /* overlong U+07FF */
    {"\xed\xa0\x80", 0},             /* U+D800 */
    {"\xed\xbf\xbf", 0},             /* U+DFFF */
    {"\xed\xa0\x80\xed\xb0\x80", 0}, /* surrogate pair in CESU-8 form */
    {"\xf0\x80\x80\x80", 0},         /* overlong */
    {"\xf0\x8f\xbf\xbf", 0},         /* overlong U+FFFF */
    {"\xf4\x90\x80\x80", 0},         /* U+110000 */
    {"\xf5\x80\x80\x80", 0},
    {"\xf8\x88\x80\x80\x80", 0}, /* old 5-byte form */
    {"\xfe", 0},
    {"\xff", 0},
    {"\xc2", 0}, /* truncated */
    {"\xe0\xa0", 0},
    {"\xf0\x90\x80", 0},
    {"abc\xe2\x82", 0},
    {"\xc2"
     "a",
     0}, /* continuation missing */
    {"\xe2\x28\xa1", 0},
    {"\xf0\x90\x28\xbc", 0},
    {"\xf0\x90\x80\x28", 0},
    {"\xc2\x80\x80", 0}, /* one continuation too many */
};

TEST(codec_text_utf8_valid_table)
{
    for (size_t i = 0; i < sizeof UTF8_CASES / sizeof UTF8_CASES[0]; i++) {
        const char *s = UTF8_CASES[i].bytes;
        CHECK_MSG(utf8_valid((const uint8_t *)s, strlen(s)) == UTF8_CASES[i].valid,
                  "case %zu: expected %d", i, UTF8_CASES[i].valid);
    }
    static const uint8_t nul[3] = {'a', 0, 'b'};
    CHECK_INT(utf8_valid(nul, 3), 1); /* U+0000 is a character */
    CHECK_INT(utf8_valid(NULL, 0), 1);
}

/* A scalar reference written from the definition (decode, then require the
 * shortest form, no surrogate, at most U+10FFFF) for exhaustive checks of
 * every one-, two- and three-byte sequence. */
static int reference_utf8_valid(const uint8_t *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        uint8_t lead = s[i];
        size_t n = lead < 0x80       ? 1
                   : lead >> 5 == 6  ? 2
                   : lead >> 4 == 14 ? 3
                   : lead >> 3 == 30 ? 4
                                     : 0;
        if (n == 0 || i + n > len) return 0;
        uint32_t cp = n == 1 ? lead : (uint32_t)(lead & (0x7f >> n));
        for (size_t j = 1; j < n; j++) {
            if ((s[i + j] & 0xc0) != 0x80) return 0;
            cp = cp << 6 | (s[i + j] & 0x3f);
        }
        static const uint32_t min_for_len[5] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < min_for_len[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return 0;
        i += n;
    }
    return 1;
}

TEST(codec_text_utf8_valid_exhaustive_short)
{
    uint8_t s[3];
    for (unsigned a = 0; a < 256; a++) {
        s[0] = (uint8_t)a;
        CHECK_INT(utf8_valid(s, 1), reference_utf8_valid(s, 1));
        for (unsigned b = 0; b < 256; b++) {
            s[1] = (uint8_t)b;
            CHECK_INT(utf8_valid(s, 2), reference_utf8_valid(s, 2));
            if (a < 0xc0)
                continue; /* 3-byte inputs starting with ASCII or a
                             continuation reduce to shorter ones */
            for (unsigned c = 0; c < 256; c++) {
                s[2] = (uint8_t)c;
                CHECK_MSG(utf8_valid(s, 3) == reference_utf8_valid(s, 3), "%02x %02x %02x", a, b,
                          c);
            }
        }
    }
}

TEST(codec_text_utf8_valid_four_byte_leads)
{
    uint8_t s[4] = {0, 0, 0x80, 0xbf};
    for (unsigned a = 0xf0; a < 0x100; a++)
        for (unsigned b = 0; b < 256; b++) {
            s[0] = (uint8_t)a;
            s[1] = (uint8_t)b;
            CHECK_INT(utf8_valid(s, 4), reference_utf8_valid(s, 4));
        }
}

/* The eight-bytes-at-a-time ASCII path must not skip a bad byte or split a
 * character at any alignment. */
TEST(codec_text_utf8_valid_every_position)
{
    uint8_t s[64];
    for (size_t pos = 0; pos < sizeof s; pos++) {
        memset(s, 'a', sizeof s);
        s[pos] = 0x80;
        CHECK_INT(utf8_valid(s, sizeof s), 0);
        CHECK_INT(utf8_valid(s, pos), 1);
        s[pos] = 0xff;
        CHECK_INT(utf8_valid(s, sizeof s), 0);
        if (pos + 4 <= sizeof s) {
            memcpy(s + pos, "\xf0\x9f\x98\x80", 4);
            CHECK_INT(utf8_valid(s, sizeof s), 1);
            CHECK_INT(utf8_valid(s, pos + 3), 0); /* cut inside the emoji */
        }
    }
}

/* Short strings (OR-ed bytewise), the overlapping last word, and a
 * character that straddles a word boundary, at every length up to 40. */
TEST(codec_text_utf8_valid_every_length)
{
    uint8_t s[40];
    for (size_t len = 1; len <= sizeof s; len++)
        for (size_t pos = 0; pos < len; pos++) {
            memset(s, 'a', sizeof s);
            s[pos] = 0x80; /* a stray continuation */
            CHECK_MSG(utf8_valid(s, len) == 0, "len %zu pos %zu", len, pos);
            s[pos] = 0xc3; /* a lead: valid with a continuation after it */
            CHECK_INT(utf8_valid(s, len), 0);
            if (pos + 1 < len) {
                s[pos + 1] = 0xa9;
                CHECK_MSG(utf8_valid(s, len) == 1, "len %zu pos %zu", len, pos);
                s[pos + 1] = 0xc0; /* not a continuation */
                CHECK_INT(utf8_valid(s, len), 0);
            }
        }
}

TEST(codec_text_utf8_truncate)
{
    /* 'a' (1 byte), U+00E9 (2), U+20AC (3), U+1F600 (4): boundaries 0 1 3 6 10 */
    static const uint8_t s[] = {'a', 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80};
    static const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10, 10, 10};
    for (size_t max = 0; max < sizeof want / sizeof want[0]; max++)
        CHECK_MSG(utf8_truncate(s, sizeof s, max) == want[max], "max %zu -> %zu, expected %zu", max,
                  utf8_truncate(s, sizeof s, max), want[max]);
    CHECK_INT(utf8_truncate((const uint8_t *)"abc", 3, 2), 2);
    CHECK_INT(utf8_truncate((const uint8_t *)"abc", 3, 3), 3);
    CHECK_INT(utf8_truncate(NULL, 0, 0), 0);
    /* Malformed input: still within max_len. */
    static const uint8_t junk[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80};
    CHECK(utf8_truncate(junk, sizeof junk, 5) <= 5);
}

static void check_json(const char *in, size_t in_len, const char *want)
{
    o2p_buf b;
    buf_init(&b, 0);
    CHECK_OK(json_append_string(&b, in, in_len));
    CHECK_MEM(b.data, b.len, want, strlen(want));
    buf_free(&b);
}

TEST(codec_text_json_append_string)
{
    check_json("", 0, "\"\"");
    check_json("hello", 5, "\"hello\"");
    /* Expected strings are JSON.stringify's output for the same input. */
    static const char controls[32] = {0,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                      11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                      22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
    check_json(controls, 32,
               "\"\\u0000\\u0001\\u0002\\u0003\\u0004\\u0005\\u0006\\u0007\\b\\t\\n\\u000b\\f"
               "\\r\\u000e\\u000f\\u0010\\u0011\\u0012\\u0013\\u0014\\u0015\\u0016\\u0017"
               "\\u0018\\u0019\\u001a\\u001b\\u001c\\u001d\\u001e\\u001f\"");
    const char *mixed = "a\"b\\c\x7f\xc3\xa9/\xe2\x82\xac\xf0\x9f\x98\x80";
    check_json(mixed, strlen(mixed), "\"a\\\"b\\\\c\x7f\xc3\xa9/\xe2\x82\xac\xf0\x9f\x98\x80\"");
    check_json("\"", 1, "\"\\\"\"");
    check_json("\\\\", 2, "\"\\\\\\\\\"");
    check_json("end\n", 4, "\"end\\n\"");
}

TEST(codec_text_json_append_respects_limit)
{
    o2p_buf b;
    buf_init(&b, 8);
    CHECK_OK(json_append_string(&b, "abcdef", 6)); /* exactly 8 bytes */
    buf_reset(&b);
    CHECK_INT(json_append_string(&b, "abcdefg", 7), O2P_ELIMIT);
    buf_reset(&b);
    CHECK_INT(json_append_string(&b, "abc\nde", 6), O2P_ELIMIT); /* escaped, 9 bytes */
    buf_free(&b);
}
