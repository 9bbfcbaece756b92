/* json_reader: strict RFC 8259 pull parser (see json_reader.h). */
#include "otlp/json_reader.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mem.h"

/* Byte classes inside a string: 0 = ordinary ASCII, copied as is. */
enum { SC_PLAIN = 0, SC_QUOTE, SC_BACKSLASH, SC_CONTROL, SC_HIGH };

static const uint8_t STRING_CLASS[256] = {
    /* 0x00-0x1f are control characters, which RFC 8259 forbids raw */
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    SC_CONTROL,       SC_CONTROL,
    ['"'] = SC_QUOTE, ['\\'] = SC_BACKSLASH,
#define H4(x)  [x] = SC_HIGH, [x + 1] = SC_HIGH, [x + 2] = SC_HIGH, [x + 3] = SC_HIGH
#define H16(x) H4(x), H4(x + 4), H4(x + 8), H4(x + 12)
    H16(0x80),        H16(0x90),
    H16(0xa0),        H16(0xb0),
    H16(0xc0),        H16(0xd0),
    H16(0xe0),        H16(0xf0),
#undef H16
#undef H4
};

void json_reader_init(json_reader *r, size_t max_depth, size_t max_string)
{
    memset(r, 0, sizeof *r);
    r->max_depth = max_depth ? max_depth : 64;
    r->max_string = max_string ? max_string : SIZE_MAX;
    buf_init(&r->scratch, 0);
}

void json_reader_free(json_reader *r)
{
    buf_free(&r->scratch);
}

void json_reader_start(json_reader *r, const uint8_t *data, size_t len)
{
    r->start = data;
    r->p = data;
    r->end = data + len;
    r->depth = 0;
    r->first = 0;
    r->failed = 0;
    r->msg[0] = '\0';
}

int json_fail(json_reader *r, int code, const char *fmt, ...)
{
    if (r->failed) return r->failed; /* keep the first, most precise message */
    int n = snprintf(r->msg, sizeof r->msg, "byte %zu: ", json_offset(r));
    if (n < 0 || (size_t)n >= sizeof r->msg) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->msg + n, sizeof r->msg - (size_t)n, fmt, ap);
    va_end(ap);
    r->failed = code;
    return code;
}

/* Describes the byte at p for messages: 'x', end of input, or \xNN. */
static int fail_unexpected(json_reader *r, const char *context)
{
    if (r->p >= r->end) return json_fail(r, O2P_EINVAL, "unexpected end of input %s", context);
    uint8_t c = *r->p;
    if (c >= 0x21 && c < 0x7f)
        return json_fail(r, O2P_EINVAL, "unexpected character '%c' %s", c, context);
    return json_fail(r, O2P_EINVAL, "unexpected byte 0x%02x %s", c, context);
}

static inline void skip_ws(json_reader *r)
{
    const uint8_t *p = r->p, *end = r->end;
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t')) p++;
    r->p = p;
}

int json_peek(json_reader *r)
{
    if (r->failed) return r->failed;
    skip_ws(r);
    if (r->p >= r->end) return fail_unexpected(r, "where a value was expected");
    switch (*r->p) {
    case '{':
        return JSON_OBJECT;
    case '[':
        return JSON_ARRAY;
    case '"':
        return JSON_STRING;
    case 't':
        return JSON_TRUE;
    case 'f':
        return JSON_FALSE;
    case 'n':
        return JSON_NULL;
    case '-':
    case '0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
    case '8':
    case '9':
        return JSON_NUMBER;
    default:
        return fail_unexpected(r, "where a value was expected");
    }
}

/* ---- strings ---------------------------------------------------------- */

/* Length of the well-formed UTF-8 sequence at p (Unicode Table 3-7), or 0. */
static size_t utf8_seq_len(const uint8_t *p, const uint8_t *end)
{
    uint8_t b0 = p[0];
    size_t avail = (size_t)(end - p);
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        return avail >= 2 && (p[1] & 0xc0) == 0x80 ? 2 : 0;
    }
    if (b0 >= 0xe0 && b0 <= 0xef) {
        if (avail < 3 || (p[2] & 0xc0) != 0x80) return 0;
        uint8_t lo = 0x80, hi = 0xbf;
        if (b0 == 0xe0) lo = 0xa0; /* overlong */
        if (b0 == 0xed) hi = 0x9f; /* surrogates */
        return p[1] >= lo && p[1] <= hi ? 3 : 0;
    }
    if (b0 >= 0xf0 && b0 <= 0xf4) {
        if (avail < 4 || (p[2] & 0xc0) != 0x80 || (p[3] & 0xc0) != 0x80) return 0;
        uint8_t lo = 0x80, hi = 0xbf;
        if (b0 == 0xf0) lo = 0x90; /* overlong */
        if (b0 == 0xf4) hi = 0x8f; /* above U+10FFFF */
        return p[1] >= lo && p[1] <= hi ? 4 : 0;
    }
    return 0;
}

/* Skips bytes that need no attention, 8 at a time where possible: a word
 * is ordinary when it has no '"', no '\\', no byte < 0x20 and no high bit. */
static inline const uint8_t *skip_plain(const uint8_t *p, const uint8_t *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    while (end - p >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
        uint64_t special = ((q - ones) & ~q) | ((b - ones) & ~b) | (w - ones * 0x20) | w;
        if (special & highs) break;
        p += 8;
    }
    while (p < end && STRING_CLASS[*p] == SC_PLAIN) p++;
    return p;
}

static int hex4(const uint8_t *p, uint32_t *out)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t c = p[i];
        uint32_t d;
        if (c >= '0' && c <= '9')
            d = (uint32_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            d = (uint32_t)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            d = (uint32_t)(c - 'A' + 10);
        else
            return -1;
        v = v << 4 | d;
    }
    *out = v;
    return 0;
}

static int put_utf8(o2p_buf *dst, uint32_t cp)
{
    uint8_t b[4];
    size_t n;
    if (cp < 0x80) {
        b[0] = (uint8_t)cp;
        n = 1;
    } else if (cp < 0x800) {
        b[0] = (uint8_t)(0xc0 | cp >> 6);
        b[1] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 2;
    } else if (cp < 0x10000) {
        b[0] = (uint8_t)(0xe0 | cp >> 12);
        b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[2] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 3;
    } else {
        b[0] = (uint8_t)(0xf0 | cp >> 18);
        b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
        b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
        b[3] = (uint8_t)(0x80 | (cp & 0x3f));
        n = 4;
    }
    return dst ? buf_append(dst, b, n) : O2P_OK;
}

static int append_or_fail(json_reader *r, o2p_buf *dst, const void *src, size_t n)
{
    int rc = buf_append(dst, src, n);
    if (rc < 0) return json_fail(r, rc, "string does not fit its buffer");
    return O2P_OK;
}

/* Decodes the escape at r->p (a backslash) into dst (NULL: validate only). */
static int read_escape(json_reader *r, o2p_buf *dst)
{
    const uint8_t *p = r->p;
    if (r->end - p < 2) return json_fail(r, O2P_EINVAL, "unterminated string");
    uint8_t c = p[1], out;
    switch (c) {
    case '"':
        out = '"';
        break;
    case '\\':
        out = '\\';
        break;
    case '/':
        out = '/';
        break;
    case 'b':
        out = '\b';
        break;
    case 'f':
        out = '\f';
        break;
    case 'n':
        out = '\n';
        break;
    case 'r':
        out = '\r';
        break;
    case 't':
        out = '\t';
        break;
    case 'u': {
        uint32_t cp;
        if (r->end - p < 6 || hex4(p + 2, &cp) < 0)
            return json_fail(r, O2P_EINVAL, "\\u must be followed by 4 hex digits");
        size_t used = 6;
        if (cp >= 0xdc00 && cp <= 0xdfff)
            return json_fail(r, O2P_EINVAL, "unpaired low surrogate \\u%04x", cp);
        if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t lo;
            if (r->end - p < 12 || p[6] != '\\' || p[7] != 'u' || hex4(p + 8, &lo) < 0 ||
                lo < 0xdc00 || lo > 0xdfff)
                return json_fail(r, O2P_EINVAL, "unpaired high surrogate \\u%04x", cp);
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            used = 12;
        }
        int rc = put_utf8(dst, cp);
        if (rc < 0) return json_fail(r, rc, "string does not fit its buffer");
        r->p = p + used;
        return O2P_OK;
    }
    default:
        return json_fail(r, O2P_EINVAL, "invalid escape sequence");
    }
    if (dst) O2P_TRY(append_or_fail(r, dst, &out, 1));
    r->p = p + 2;
    return O2P_OK;
}

/*
 * Scans the string at r->p (which must be '"').  Without escapes *slice is
 * the raw content and *escaped = 0.  With escapes the content is decoded
 * into dst (NULL: only validated) and *escaped = 1.  dst is appended to.
 */
static int scan_string(json_reader *r, o2p_buf *dst, json_str *slice, int *escaped)
{
    const uint8_t *begin = ++r->p, *run = begin, *end = r->end;
    *escaped = 0;
    for (;;) {
        const uint8_t *p = skip_plain(r->p, end);
        r->p = p;
        if (p >= end) return json_fail(r, O2P_EINVAL, "unterminated string");
        switch (STRING_CLASS[*p]) {
        case SC_QUOTE:
            if ((size_t)(p - begin) > r->max_string) {
                r->p = begin - 1; /* report where the string starts */
                return json_fail(r, O2P_ELIMIT, "string longer than %zu bytes", r->max_string);
            }
            if (*escaped) {
                if (dst) O2P_TRY(append_or_fail(r, dst, run, (size_t)(p - run)));
            } else {
                slice->ptr = begin;
                slice->len = (size_t)(p - begin);
            }
            r->p = p + 1;
            return O2P_OK;
        case SC_BACKSLASH:
            if (dst) O2P_TRY(append_or_fail(r, dst, run, (size_t)(p - run)));
            *escaped = 1;
            O2P_TRY(read_escape(r, dst));
            run = r->p;
            break;
        case SC_CONTROL:
            return json_fail(r, O2P_EINVAL, "unescaped control character 0x%02x in string", *p);
        default: { /* SC_HIGH */
            size_t n = utf8_seq_len(p, end);
            if (n == 0) return json_fail(r, O2P_EINVAL, "invalid UTF-8 in string");
            r->p = p + n;
            break;
        }
        }
    }
}

static int expect_string(json_reader *r)
{
    if (r->failed) return r->failed;
    skip_ws(r);
    if (r->p >= r->end || *r->p != '"') return fail_unexpected(r, "where a string was expected");
    return O2P_OK;
}

int json_read_string(json_reader *r, json_str *out, o2p_arena *arena)
{
    O2P_TRY(expect_string(r));
    int escaped;
    buf_reset(&r->scratch);
    O2P_TRY(scan_string(r, &r->scratch, out, &escaped));
    if (!escaped) return O2P_OK;
    if (arena == NULL) {
        out->ptr = r->scratch.data;
        out->len = r->scratch.len;
        return O2P_OK;
    }
    uint8_t *copy = arena_alloc(arena, r->scratch.len ? r->scratch.len : 1);
    if (copy == NULL) return json_fail(r, O2P_ENOMEM, "out of memory for strings");
    if (r->scratch.len) memcpy(copy, r->scratch.data, r->scratch.len);
    out->ptr = copy;
    out->len = r->scratch.len;
    return O2P_OK;
}

int json_read_string_append(json_reader *r, o2p_buf *dst)
{
    O2P_TRY(expect_string(r));
    size_t mark = dst->len;
    json_str s;
    int escaped;
    int rc = scan_string(r, dst, &s, &escaped);
    if (rc < 0) {
        dst->len = mark;
        return rc;
    }
    if (!escaped) return append_or_fail(r, dst, s.ptr, s.len);
    return O2P_OK;
}

/* ---- literals and numbers -------------------------------------------- */

static int read_literal(json_reader *r, const char *lit, size_t n)
{
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, lit, n) != 0)
        return fail_unexpected(r, "in a literal");
    r->p += n;
    return O2P_OK;
}

int json_read_bool(json_reader *r, int *out)
{
    int t = json_peek(r);
    if (t < 0) return t;
    if (t == JSON_TRUE) {
        *out = 1;
        return read_literal(r, "true", 4);
    }
    if (t == JSON_FALSE) {
        *out = 0;
        return read_literal(r, "false", 5);
    }
    return fail_unexpected(r, "where true or false was expected");
}

int json_read_null(json_reader *r)
{
    int t = json_peek(r);
    if (t < 0) return t;
    if (t != JSON_NULL) return fail_unexpected(r, "where null was expected");
    return read_literal(r, "null", 4);
}

static inline int is_digit(uint8_t c)
{
    return c >= '0' && c <= '9';
}

/* Matches the RFC 8259 number grammar at [p, end); returns the length, or
 * 0 with *why set. */
static size_t scan_number(const uint8_t *p, const uint8_t *end, json_number *out, const char **why)
{
    const uint8_t *s = p;
    out->negative = 0;
    out->is_int = 1;
    if (p < end && *p == '-') {
        out->negative = 1;
        p++;
    }
    if (p >= end || !is_digit(*p)) {
        *why = "a digit must follow '-'";
        return 0;
    }
    if (*p == '0') {
        p++;
        if (p < end && is_digit(*p)) {
            *why = "leading zeros are not allowed";
            return 0;
        }
    } else {
        while (p < end && is_digit(*p)) p++;
    }
    if (p < end && *p == '.') {
        out->is_int = 0;
        p++;
        if (p >= end || !is_digit(*p)) {
            *why = "a digit must follow '.'";
            return 0;
        }
        while (p < end && is_digit(*p)) p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        out->is_int = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-')) p++;
        if (p >= end || !is_digit(*p)) {
            *why = "a digit must follow the exponent";
            return 0;
        }
        while (p < end && is_digit(*p)) p++;
    }
    out->text = s;
    out->len = (size_t)(p - s);
    return out->len;
}

int json_read_number(json_reader *r, json_number *out)
{
    int t = json_peek(r);
    if (t < 0) return t;
    if (t != JSON_NUMBER) return fail_unexpected(r, "where a number was expected");
    const char *why = "";
    size_t n = scan_number(r->p, r->end, out, &why);
    if (n == 0) return json_fail(r, O2P_EINVAL, "invalid number: %s", why);
    r->p += n;
    return O2P_OK;
}

int json_number_from_text(const uint8_t *text, size_t len, json_number *out)
{
    const char *why;
    return len > 0 && scan_number(text, text + len, out, &why) == len ? 0 : -1;
}

/* Exact powers of ten representable in a double (10^22 is the largest). */
static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int json_number_double(const json_number *n, double *out)
{
    /* Fast path (Clinger): up to 15 significant digits and a small decimal
     * exponent are one correctly rounded IEEE multiplication or division. */
    const uint8_t *p = n->text, *end = n->text + n->len;
    if (*p == '-') p++;
    uint64_t mant = 0;
    int digits = 0, frac = 0;
    long exp10 = 0;
    while (p < end && is_digit(*p)) {
        if (mant || *p != '0') digits++;
        mant = mant * 10 + (uint64_t)(*p - '0');
        if (digits > 15) goto slow;
        p++;
    }
    if (p < end && *p == '.') {
        p++;
        while (p < end && is_digit(*p)) {
            if (mant || *p != '0') digits++;
            mant = mant * 10 + (uint64_t)(*p - '0');
            frac++;
            if (digits > 15) goto slow;
            p++;
        }
    }
    if (p < end) { /* exponent */
        p++;
        int eneg = 0;
        if (*p == '+' || *p == '-') eneg = *p++ == '-';
        while (p < end) {
            exp10 = exp10 * 10 + (*p++ - '0');
            if (exp10 > 400) goto slow;
        }
        if (eneg) exp10 = -exp10;
    }
    exp10 -= frac;
    {
        double v = (double)mant;
        if (exp10 < -22 || exp10 > 22) {
            if (mant != 0) goto slow;
        } else if (exp10 < 0) {
            v /= POW10[-exp10];
        } else {
            v *= POW10[exp10];
        }
        *out = n->negative ? -v : v;
        return 0;
    }
slow : {
    /* strtod needs a terminated copy; numbers this long are rare. */
    char local[128];
    char *copy = local;
    if (n->len >= sizeof local) {
        copy = mem_alloc(n->len + 1);
        if (copy == NULL) return -1;
    }
    memcpy(copy, n->text, n->len);
    copy[n->len] = '\0';
    *out = strtod(copy, NULL);
    if (copy != local) mem_free(copy);
    return 0;
}
}

/* Integral value of a non-integer form ("1e3", "2.0"): only where a double
 * holds it exactly (|v| <= 2^53). */
static int integral_double(const json_number *n, double *out)
{
    double v;
    if (json_number_double(n, &v) < 0) return -1;
    if (!(fabs(v) <= 9007199254740992.0) || v != floor(v)) return -1;
    *out = v;
    return 0;
}

int json_number_u64(const json_number *n, uint64_t *out)
{
    if (!n->is_int) {
        double v;
        if (integral_double(n, &v) < 0 || v < 0) return -1;
        *out = (uint64_t)v;
        return 0;
    }
    if (n->negative) {
        if (n->len == 2 && n->text[1] == '0') { /* "-0" */
            *out = 0;
            return 0;
        }
        return -1;
    }
    uint64_t v = 0;
    for (size_t i = 0; i < n->len; i++) {
        uint64_t d = (uint64_t)(n->text[i] - '0');
        if (v > (UINT64_MAX - d) / 10) return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

int json_number_i64(const json_number *n, int64_t *out)
{
    if (!n->is_int) {
        double v;
        if (integral_double(n, &v) < 0) return -1;
        *out = (int64_t)v;
        return 0;
    }
    uint64_t mag = 0;
    for (size_t i = n->negative; i < n->len; i++) {
        uint64_t d = (uint64_t)(n->text[i] - '0');
        if (mag > (UINT64_MAX - d) / 10) return -1;
        mag = mag * 10 + d;
    }
    if (n->negative) {
        if (mag > (uint64_t)INT64_MAX + 1) return -1;
        *out = mag == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)mag;
    } else {
        if (mag > (uint64_t)INT64_MAX) return -1;
        *out = (int64_t)mag;
    }
    return 0;
}

/* ---- containers ------------------------------------------------------- */

static int open_container(json_reader *r, uint8_t open, const char *what)
{
    if (r->failed) return r->failed;
    skip_ws(r);
    if (r->p >= r->end || *r->p != open) return fail_unexpected(r, what);
    if (r->depth >= r->max_depth)
        return json_fail(r, O2P_ELIMIT, "nesting deeper than %zu levels", r->max_depth);
    r->depth++;
    r->p++;
    r->first = 1;
    return O2P_OK;
}

int json_object_begin(json_reader *r)
{
    return open_container(r, '{', "where an object was expected");
}

int json_array_begin(json_reader *r)
{
    return open_container(r, '[', "where an array was expected");
}

/* Handles what comes before the next member/element: the closing bracket
 * (returns 0) or, after the first one, a comma (returns 1). */
static int next_item(json_reader *r, uint8_t close, const char *context)
{
    if (r->failed) return r->failed;
    skip_ws(r);
    if (r->p >= r->end) return fail_unexpected(r, context);
    uint8_t c = *r->p;
    if (c == close) {
        r->p++;
        r->depth--;
        r->first = 0;
        return 0;
    }
    if (!r->first) {
        if (c != ',') return fail_unexpected(r, context);
        r->p++;
        skip_ws(r);
        if (r->p < r->end && *r->p == close) return json_fail(r, O2P_EINVAL, "trailing comma");
    }
    r->first = 0;
    return 1;
}

int json_object_next(json_reader *r, json_str *name)
{
    int rc = next_item(r, '}', "in an object (expected ',' or '}')");
    if (rc <= 0) return rc;
    if (r->p >= r->end || *r->p != '"')
        return fail_unexpected(r, "where a member name was expected");
    int escaped;
    buf_reset(&r->scratch);
    O2P_TRY(scan_string(r, &r->scratch, name, &escaped));
    if (escaped) {
        name->ptr = r->scratch.data;
        name->len = r->scratch.len;
    }
    skip_ws(r);
    if (r->p >= r->end || *r->p != ':')
        return fail_unexpected(r, "after a member name (expected ':')");
    r->p++;
    return 1;
}

int json_array_next(json_reader *r)
{
    return next_item(r, ']', "in an array (expected ',' or ']')");
}

/* ---- skipping --------------------------------------------------------- */

int json_skip(json_reader *r)
{
    int t = json_peek(r);
    if (t < 0) return t;
    switch (t) {
    case JSON_NULL:
        return read_literal(r, "null", 4);
    case JSON_TRUE:
        return read_literal(r, "true", 4);
    case JSON_FALSE:
        return read_literal(r, "false", 5);
    case JSON_NUMBER: {
        json_number n;
        return json_read_number(r, &n);
    }
    case JSON_STRING: {
        json_str s;
        int escaped;
        return scan_string(r, NULL, &s, &escaped);
    }
    case JSON_OBJECT: {
        O2P_TRY(json_object_begin(r));
        json_str name;
        int rc;
        while ((rc = json_object_next(r, &name)) > 0) O2P_TRY(json_skip(r));
        return rc;
    }
    default: { /* JSON_ARRAY */
        O2P_TRY(json_array_begin(r));
        int rc;
        while ((rc = json_array_next(r)) > 0) O2P_TRY(json_skip(r));
        return rc;
    }
    }
}

/* Lookahead classes: what the fast skip must notice. */
enum { LA_NONE = 0, LA_QUOTE, LA_BACKSLASH, LA_OPEN, LA_CLOSE };

static const uint8_t LOOKAHEAD_CLASS[256] = {
    ['"'] = LA_QUOTE, ['\\'] = LA_BACKSLASH, ['{'] = LA_OPEN,
    ['['] = LA_OPEN,  ['}'] = LA_CLOSE,      [']'] = LA_CLOSE,
};

/* End of the string whose content starts at p (the byte after its closing
 * quote), or NULL.  Strings here are mostly short keys and values, so an
 * inline word-at-a-time scan beats a memchr call per string. */
static inline const uint8_t *fast_string_end(const uint8_t *p, const uint8_t *end)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    for (;;) {
        while (end - p >= 8) {
            uint64_t w;
            memcpy(&w, p, 8);
            uint64_t q = w ^ (ones * '"'), b = w ^ (ones * '\\');
            if ((((q - ones) & ~q) | ((b - ones) & ~b)) & highs) break;
            p += 8;
        }
        while (p < end && *p != '"' && *p != '\\') p++;
        if (p >= end) return NULL;
        if (*p == '"') return p + 1;
        p += 2; /* a backslash and the byte it escapes */
        if (p > end) return NULL;
    }
}

int json_skip_fast(json_reader *r)
{
    if (r->failed) return r->failed;
    skip_ws(r);
    const uint8_t *p = r->p, *end = r->end;
    if (p >= end) return fail_unexpected(r, "where a value was expected");
    if (*p == '"') {
        p = fast_string_end(p + 1, end);
        if (p == NULL) return json_fail(r, O2P_EINVAL, "unterminated string");
        r->p = p;
        return O2P_OK;
    }
    if (*p != '{' && *p != '[') { /* scalar: up to the next delimiter */
        while (p < end && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n' &&
               *p != '\r' && *p != '\t')
            p++;
        r->p = p;
        return O2P_OK;
    }
    size_t level = 0;
    while (p < end) {
        switch (LOOKAHEAD_CLASS[*p++]) {
        case LA_NONE:
        case LA_BACKSLASH: /* only meaningful inside strings */
            break;
        case LA_QUOTE:
            p = fast_string_end(p, end);
            if (p == NULL) p = end;
            break;
        case LA_OPEN:
            level++;
            break;
        default: /* LA_CLOSE */
            if (--level == 0) {
                r->p = p;
                return O2P_OK;
            }
        }
    }
    r->p = end;
    return json_fail(r, O2P_EINVAL, "unexpected end of input inside a value");
}

int json_finish(json_reader *r)
{
    if (r->failed) return r->failed;
    skip_ws(r);
    if (r->p != r->end) return fail_unexpected(r, "after the JSON value");
    return O2P_OK;
}
