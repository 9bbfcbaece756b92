/*
 * codec_text: hex, base64, UTF-8 validation and JSON string escaping.
 *
 * These run once per id, bytes attribute or string value on the request
 * path, so each works from a 256-entry table and a single pass, appends
 * into a buffer reserved once, and never allocates on its own.  Decoders
 * accept only the canonical form (see each function) so that a value the
 * server stores always re-encodes to the text it came from.
 */
#include "core/codec_text.h"

#include <stdint.h>
#include <string.h>

static const char HEX_DIGITS[16] = "0123456789abcdef";

/* Hex digit value + 1 (either case); the zero default marks everything
 * else invalid, which keeps the table a plain initialiser. */
static const uint8_t HEX_VALUE[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* The two hex digits of every byte value: one lookup per byte. */
static const char HEX_PAIRS[513] =
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
    "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
    "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
    "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
    "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
    "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff";

void hex_encode(const uint8_t *data, size_t len, char *out)
{
    for (size_t i = 0; i < len; i++) memcpy(out + 2 * i, HEX_PAIRS + 2 * data[i], 2);
}

/* Fails on any length other than exactly 2*out_len so that a trace id of
 * the wrong size is an error rather than a silently padded value. */
int hex_decode(const char *text, size_t text_len, uint8_t *out, size_t out_len)
{
    if (text_len / 2 != out_len || text_len % 2 != 0) return -1;
    const uint8_t *in = (const uint8_t *)text;
    for (size_t i = 0; i < out_len; i++) {
        unsigned hi = HEX_VALUE[in[2 * i]], lo = HEX_VALUE[in[2 * i + 1]];
        if (hi == 0 || lo == 0) return -1;
        out[i] = (uint8_t)(((hi - 1) << 4) | (lo - 1));
    }
    return 0;
}

static const char BASE64_ALPHABET[64] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* Sextet value + 1 of each standard-alphabet character; 0 = not in the
 * alphabet (this includes '=', '-', '_' and whitespace). */
static const uint8_t BASE64_VALUE[256] = {
    ['A'] = 1,  ['B'] = 2,  ['C'] = 3,  ['D'] = 4,  ['E'] = 5,  ['F'] = 6,  ['G'] = 7,  ['H'] = 8,
    ['I'] = 9,  ['J'] = 10, ['K'] = 11, ['L'] = 12, ['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16,
    ['Q'] = 17, ['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
    ['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
    ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40,
    ['o'] = 41, ['p'] = 42, ['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
    ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56,
    ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62, ['+'] = 63, ['/'] = 64,
};

int base64_append(o2p_buf *b, const uint8_t *data, size_t len)
{
    /* base64_encoded_len would wrap for absurd lengths; no buffer can hold
     * that much anyway. */
    if (len > SIZE_MAX / 4 * 3 - 3) return O2P_ELIMIT;
    size_t out_len = base64_encoded_len(len);
    int rc = buf_reserve(b, out_len);
    if (rc < 0) return rc;
    uint8_t *out = b->data + b->len;
    b->len += out_len;
    size_t i = 0;
    for (; i + 3 <= len; i += 3) {
        uint32_t triple = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
        out[0] = (uint8_t)BASE64_ALPHABET[triple >> 18];
        out[1] = (uint8_t)BASE64_ALPHABET[(triple >> 12) & 63];
        out[2] = (uint8_t)BASE64_ALPHABET[(triple >> 6) & 63];
        out[3] = (uint8_t)BASE64_ALPHABET[triple & 63];
        out += 4;
    }
    size_t rest = len - i;
    if (rest > 0) {
        uint32_t triple = (uint32_t)data[i] << 16;
        if (rest == 2) triple |= (uint32_t)data[i + 1] << 8;
        out[0] = (uint8_t)BASE64_ALPHABET[triple >> 18];
        out[1] = (uint8_t)BASE64_ALPHABET[(triple >> 12) & 63];
        out[2] = rest == 2 ? (uint8_t)BASE64_ALPHABET[(triple >> 6) & 63] : '=';
        out[3] = '=';
    }
    return O2P_OK;
}

/* Strict RFC 4648 section 4: length a multiple of 4, only the standard
 * alphabet, '=' only as one or two final characters, and the unused low
 * bits before the padding must be zero (section 3.5 lets decoders reject
 * them; we do, so every accepted text is the one encoding of its bytes). */
int base64_decode(const char *text, size_t text_len, uint8_t *out, size_t out_cap, size_t *out_len)
{
    if (text_len % 4 != 0) return -1;
    if (text_len == 0) {
        *out_len = 0;
        return 0;
    }
    const uint8_t *in = (const uint8_t *)text;
    size_t padding = in[text_len - 1] != '=' ? 0 : in[text_len - 2] != '=' ? 1 : 2;
    size_t decoded_len = text_len / 4 * 3 - padding;
    if (decoded_len > out_cap) return -1;

    /* All groups but the last have no padding. */
    size_t full_groups = text_len / 4 - 1;
    uint8_t *o = out;
    for (size_t g = 0; g < full_groups; g++, in += 4, o += 3) {
        unsigned a = BASE64_VALUE[in[0]], b = BASE64_VALUE[in[1]];
        unsigned c = BASE64_VALUE[in[2]], d = BASE64_VALUE[in[3]];
        if (a == 0 || b == 0 || c == 0 || d == 0) return -1;
        uint32_t triple = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
        o[0] = (uint8_t)(triple >> 16);
        o[1] = (uint8_t)(triple >> 8);
        o[2] = (uint8_t)triple;
    }

    unsigned a = BASE64_VALUE[in[0]], b = BASE64_VALUE[in[1]];
    unsigned c = padding == 2 ? 1 : BASE64_VALUE[in[2]];
    unsigned d = padding >= 1 ? 1 : BASE64_VALUE[in[3]];
    if (a == 0 || b == 0 || c == 0 || d == 0) return -1;
    uint32_t triple = (a - 1) << 18 | (b - 1) << 12 | (c - 1) << 6 | (d - 1);
    if (padding == 2 && (triple & 0xffff) != 0) return -1;
    if (padding == 1 && (triple & 0xff) != 0) return -1;
    o[0] = (uint8_t)(triple >> 16);
    if (padding < 2) o[1] = (uint8_t)(triple >> 8);
    if (padding < 1) o[2] = (uint8_t)triple;

    *out_len = decoded_len;
    return 0;
}

/* Most attribute text is ASCII: test eight bytes at once for a high bit. */
static inline int all_ascii8(const uint8_t *p)
{
    uint64_t word;
    memcpy(&word, p, sizeof word);
    return (word & UINT64_C(0x8080808080808080)) == 0;
}

static inline int is_continuation(uint8_t byte)
{
    return (byte & 0xc0) == 0x80;
}

/* Lenient: every character is checked, but padding is optional and both
 * alphabets are accepted (what protobuf JSON readers take for bytes). */
int base64_decode_lenient(const uint8_t *in, size_t n, o2p_buf *dst)
{
    while (n > 0 && in[n - 1] == '=' && (n % 4 != 1)) n--;
    if (n % 4 == 1) return 1;
    uint8_t *out = buf_extend(dst, n / 4 * 3 + 2);
    if (out == NULL) return O2P_ENOMEM;
    size_t produced = 0;
    uint32_t acc = 0;
    int bits = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        uint32_t v;
        if (c >= 'A' && c <= 'Z')
            v = (uint32_t)(c - 'A');
        else if (c >= 'a' && c <= 'z')
            v = (uint32_t)(c - 'a' + 26);
        else if (c >= '0' && c <= '9')
            v = (uint32_t)(c - '0' + 52);
        else if (c == '+' || c == '-')
            v = 62;
        else if (c == '/' || c == '_')
            v = 63;
        else {
            dst->len -= n / 4 * 3 + 2;
            return 1;
        }
        acc = acc << 6 | v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[produced++] = (uint8_t)(acc >> bits);
        }
    }
    dst->len -= n / 4 * 3 + 2 - produced;
    return 0;
}

/* Follows the Unicode Standard's Table 3-7 (well-formed byte sequences):
 * the second byte's range depends on the lead byte, which is what rules
 * out overlongs (E0, F0), surrogates (ED) and values above U+10FFFF (F4). */
static int utf8_valid_from(const uint8_t *data, size_t len, size_t i)
{
    while (i < len) {
        if (i + 8 <= len && all_ascii8(data + i)) {
            i += 8;
            continue;
        }
        uint8_t lead = data[i];
        if (lead < 0x80) {
            i++;
            continue;
        }
        size_t need;
        uint8_t second_min = 0x80, second_max = 0xbf;
        if (lead >= 0xc2 && lead <= 0xdf) {
            need = 1;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            need = 2;
            if (lead == 0xe0) second_min = 0xa0;
            if (lead == 0xed) second_max = 0x9f;
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            need = 3;
            if (lead == 0xf0) second_min = 0x90;
            if (lead == 0xf4) second_max = 0x8f;
        } else {
            return 0; /* stray continuation, C0/C1 overlong lead, or F5..FF */
        }
        if (len - i - 1 < need) return 0;
        uint8_t second = data[i + 1];
        if (second < second_min || second > second_max) return 0;
        for (size_t j = 2; j <= need; j++)
            if (!is_continuation(data[i + j])) return 0;
        i += need + 1;
    }
    return 1;
}

/* Attribute keys and values are short and nearly always ASCII: whole words
 * are tested for a high bit (the last one overlapping the one before, short
 * strings OR-ed byte by byte) and only a string with one takes the
 * character walk, from the word where it starts. */
int utf8_valid(const uint8_t *data, size_t len)
{
    if (len < 8) {
        uint8_t any = 0;
        for (size_t i = 0; i < len; i++) any |= data[i];
        return any < 0x80 ? 1 : utf8_valid_from(data, len, 0);
    }
    size_t i = 0;
    for (; i + 8 <= len; i += 8)
        if (!all_ascii8(data + i)) return utf8_valid_from(data, len, i);
    return i == len || all_ascii8(data + len - 8) ? 1 : utf8_valid_from(data, len, i);
}

/* Expects valid UTF-8: backs up over at most three continuation bytes to
 * the start of the character that straddles max_len.  On malformed input
 * it still returns a length <= max_len, just not a meaningful boundary. */
size_t utf8_truncate(const uint8_t *data, size_t len, size_t max_len)
{
    if (len <= max_len) return len;
    size_t cut = max_len;
    for (int back = 0; back < 3 && cut > 0 && is_continuation(data[cut]); back++) cut--;
    if (is_continuation(data[cut])) return max_len;
    return cut;
}

/* 0: copy as is; otherwise the letter after the backslash ('u' = \u00XX). */
static const char JSON_ESCAPE[256] = {
    ['\b'] = 'b',  ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r', ['"'] = '"',
    ['\\'] = '\\', [0x00] = 'u', [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u',
    [0x05] = 'u',  [0x06] = 'u', [0x07] = 'u', [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u',
    [0x10] = 'u',  [0x11] = 'u', [0x12] = 'u', [0x13] = 'u', [0x14] = 'u', [0x15] = 'u',
    [0x16] = 'u',  [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u', [0x1b] = 'u',
    [0x1c] = 'u',  [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
};

/* Spelled like JSON.stringify (lowercase \u00XX, short forms where JSON
 * has them) so stored JSON matches what JavaScript consumers produce.
 * Safe runs are copied with one append each. */
int json_append_string(o2p_buf *b, const char *s, size_t len)
{
    const uint8_t *in = (const uint8_t *)s;
    int rc = buf_reserve(b, len + 2);
    if (rc < 0) return rc;
    b->data[b->len++] = '"';
    size_t run_start = 0;
    for (size_t i = 0; i < len; i++) {
        char esc = JSON_ESCAPE[in[i]];
        if (esc == 0) continue;
        rc = buf_append(b, in + run_start, i - run_start);
        if (rc < 0) return rc;
        char seq[6] = {'\\', esc, '0', '0', 0, 0};
        size_t seq_len = 2;
        if (esc == 'u') {
            seq[4] = HEX_DIGITS[in[i] >> 4];
            seq[5] = HEX_DIGITS[in[i] & 0x0f];
            seq_len = 6;
        }
        rc = buf_append(b, seq, seq_len);
        if (rc < 0) return rc;
        run_start = i + 1;
    }
    if (len > run_start) {
        rc = buf_append(b, in + run_start, len - run_start);
        if (rc < 0) return rc;
    }
    return buf_push_byte(b, '"');
}
