/*
 * json_fields: the typed field readers of the OTLP/JSON decoders — 64-bit
 * integers as numbers or decimal strings, doubles with the "NaN" and
 * "Infinity" spellings, enums by number or name, ids as hex or base64 — and
 * the path-naming error messages they produce.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/codec_text.h"
#include "core/mem.h"
#include "otlp/json_decode.h"

void jd_path_format(const otlp_json_state *s, const char *field, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    size_t shown = s->path_len < JD_PATH_MAX ? s->path_len : JD_PATH_MAX;
    for (size_t i = 0; i < shown && len < cap; i++) {
        const jd_path_item *it = &s->path[i];
        int n = it->index >= 0
                    ? snprintf(out + len, cap - len, "%s%s[%ld]", i ? "." : "", it->name, it->index)
                    : snprintf(out + len, cap - len, "%s%s", i ? "." : "", it->name);
        if (n < 0) break;
        len += (size_t)n;
    }
    if (shown < s->path_len && len < cap) {
        int n = snprintf(out + len, cap - len, ".(%zu more)", s->path_len - shown);
        if (n > 0) len += (size_t)n;
    }
    if (field && len < cap) snprintf(out + len, cap - len, "%s%s", len ? "." : "", field);
}

int jd_fail(otlp_json_state *s, int code, const char *field, const char *fmt, ...)
{
    if (s->has_msg) return code;
    char path[300];
    jd_path_format(s, field, path, sizeof path);
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o2p_errorf(&s->e, code, "%s%s%s", path, path[0] ? ": " : "", msg);
    s->has_msg = 1;
    return code;
}

/* Quotes a received string for a message, cut to a readable length and
 * with non-printable bytes as '?'. */
static void quote_for_msg(const uint8_t *p, size_t n, char *out, size_t cap)
{
    size_t max = cap - 4, j = 0;
    for (size_t i = 0; i < n && j < max; i++)
        out[j++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
    if (n > max) {
        out[j++] = '.';
        out[j++] = '.';
        out[j++] = '.';
    }
    out[j] = '\0';
}

/* A number, or a string holding one; 1 = got it, 0 = null. */
static int read_numeric(otlp_json_state *s, const char *field, json_number *n, int *from_string,
                        const char *expect)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    *from_string = 0;
    if (t == JSON_NULL) {
        O2P_TRY(json_read_null(&s->r));
        return 0;
    }
    if (t == JSON_NUMBER) {
        O2P_TRY(json_read_number(&s->r, n));
        return 1;
    }
    if (t == JSON_STRING) {
        json_str str;
        O2P_TRY(json_read_string(&s->r, &str, NULL));
        if (json_number_from_text(str.ptr, str.len, n) == 0) {
            *from_string = 1;
            return 1;
        }
        char q[48];
        quote_for_msg(str.ptr, str.len, q, sizeof q);
        return jd_fail(s, O2P_EINVAL, field, "expected %s, got '%s'", expect, q);
    }
    return jd_fail(s, O2P_EINVAL, field, "expected %s", expect);
}

int jd_u64(otlp_json_state *s, const char *field, uint64_t *out)
{
    static const char expect[] = "an unsigned 64-bit integer (number or decimal string)";
    json_number n;
    int fs;
    int rc = read_numeric(s, field, &n, &fs, expect);
    if (rc <= 0) return rc;
    if (json_number_u64(&n, out) < 0) return jd_fail(s, O2P_EINVAL, field, "expected %s", expect);
    return O2P_OK;
}

int jd_i64(otlp_json_state *s, const char *field, int64_t *out)
{
    static const char expect[] = "a signed 64-bit integer (number or decimal string)";
    json_number n;
    int fs;
    int rc = read_numeric(s, field, &n, &fs, expect);
    if (rc <= 0) return rc;
    if (json_number_i64(&n, out) < 0) return jd_fail(s, O2P_EINVAL, field, "expected %s", expect);
    return O2P_OK;
}

int jd_u32(otlp_json_state *s, const char *field, uint32_t *out)
{
    uint64_t v = 0;
    int set = 0;
    json_number n;
    int fs;
    int rc = read_numeric(s, field, &n, &fs, "an unsigned 32-bit integer");
    if (rc <= 0) return rc;
    if (json_number_u64(&n, &v) == 0 && v <= UINT32_MAX) set = 1;
    if (!set) return jd_fail(s, O2P_EINVAL, field, "expected an unsigned 32-bit integer");
    *out = (uint32_t)v;
    return O2P_OK;
}

int jd_i32(otlp_json_state *s, const char *field, int32_t *out)
{
    int64_t v = 0;
    json_number n;
    int fs;
    int rc = read_numeric(s, field, &n, &fs, "a signed 32-bit integer");
    if (rc <= 0) return rc;
    if (json_number_i64(&n, &v) < 0 || v < INT32_MIN || v > INT32_MAX)
        return jd_fail(s, O2P_EINVAL, field, "expected a signed 32-bit integer");
    *out = (int32_t)v;
    return O2P_OK;
}

int jd_double(otlp_json_state *s, const char *field, double *out, int *present)
{
    static const char expect[] = "a number (or \"NaN\", \"Infinity\", \"-Infinity\")";
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t == JSON_NUMBER) {
        json_number n;
        O2P_TRY(json_read_number(&s->r, &n));
        if (json_number_double(&n, out) < 0) return jd_fail(s, O2P_ENOMEM, field, "out of memory");
        *present = 1;
        return O2P_OK;
    }
    if (t != JSON_STRING) return jd_fail(s, O2P_EINVAL, field, "expected %s", expect);
    json_str str;
    O2P_TRY(json_read_string(&s->r, &str, NULL));
    json_number n;
    if (json_str_eq(str, "NaN", 3)) {
        *out = NAN;
    } else if (json_str_eq(str, "Infinity", 8)) {
        *out = INFINITY;
    } else if (json_str_eq(str, "-Infinity", 9)) {
        *out = -INFINITY;
    } else if (json_number_from_text(str.ptr, str.len, &n) == 0) {
        if (json_number_double(&n, out) < 0) return jd_fail(s, O2P_ENOMEM, field, "out of memory");
    } else {
        char q[48];
        quote_for_msg(str.ptr, str.len, q, sizeof q);
        return jd_fail(s, O2P_EINVAL, field, "expected %s, got '%s'", expect, q);
    }
    *present = 1;
    return O2P_OK;
}

int jd_bool(otlp_json_state *s, const char *field, int *out)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t != JSON_TRUE && t != JSON_FALSE)
        return jd_fail(s, O2P_EINVAL, field, "expected true or false");
    return json_read_bool(&s->r, out);
}

int jd_string(otlp_json_state *s, const char *field, otlp_bytes *out, o2p_arena *arena)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t != JSON_STRING) return jd_fail(s, O2P_EINVAL, field, "expected a string");
    json_str str;
    O2P_TRY(json_read_string(&s->r, &str, arena));
    out->ptr = str.ptr;
    out->len = str.len;
    return O2P_OK;
}

/* An id: exactly 2*width hex digits, or standard base64 of exactly width
 * bytes (the two cannot be confused: their lengths differ); "" or null is
 * absent. */
static int read_id(otlp_json_state *s, const char *field, uint8_t *out, size_t width, size_t *len)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    json_str str = {NULL, 0};
    if (t == JSON_STRING) {
        O2P_TRY(json_read_string(&s->r, &str, NULL));
        if (str.len == 0) {
            *len = 0;
            return O2P_OK;
        }
        if (str.len == 2 * width && hex_decode((const char *)str.ptr, str.len, out, width) == 0) {
            *len = width;
            return O2P_OK;
        }
        uint8_t tmp[18];
        size_t got = 0;
        if (str.len == base64_encoded_len(width) &&
            base64_decode((const char *)str.ptr, str.len, tmp, sizeof tmp, &got) == 0 &&
            got == width) {
            memcpy(out, tmp, width);
            *len = width;
            return O2P_OK;
        }
        char q[48];
        quote_for_msg(str.ptr, str.len, q, sizeof q);
        return jd_fail(s, O2P_EINVAL, field,
                       "expected %zu hex digits or base64 of %zu bytes, got '%s'", 2 * width, width,
                       q);
    }
    return jd_fail(s, O2P_EINVAL, field, "expected %zu hex digits or base64 of %zu bytes",
                   2 * width, width);
}

int jd_trace_id(otlp_json_state *s, const char *field, otlp_trace_id *out)
{
    return read_id(s, field, out->bytes, sizeof out->bytes, &out->len);
}

int jd_span_id(otlp_json_state *s, const char *field, otlp_span_id *out)
{
    return read_id(s, field, out->bytes, sizeof out->bytes, &out->len);
}

/* ---- enums ------------------------------------------------------------ */

typedef struct enum_name {
    const char *suffix;
    int32_t value;
} enum_name;

static const enum_name SEVERITY_NAMES[] = {
    {"UNSPECIFIED", 0}, {"TRACE", 1},  {"TRACE2", 2},  {"TRACE3", 3},  {"TRACE4", 4},
    {"DEBUG", 5},       {"DEBUG2", 6}, {"DEBUG3", 7},  {"DEBUG4", 8},  {"INFO", 9},
    {"INFO2", 10},      {"INFO3", 11}, {"INFO4", 12},  {"WARN", 13},   {"WARN2", 14},
    {"WARN3", 15},      {"WARN4", 16}, {"ERROR", 17},  {"ERROR2", 18}, {"ERROR3", 19},
    {"ERROR4", 20},     {"FATAL", 21}, {"FATAL2", 22}, {"FATAL3", 23}, {"FATAL4", 24},
};
static const enum_name SPAN_KIND_NAMES[] = {
    {"UNSPECIFIED", 0}, {"INTERNAL", 1}, {"SERVER", 2},
    {"CLIENT", 3},      {"PRODUCER", 4}, {"CONSUMER", 5},
};
static const enum_name STATUS_CODE_NAMES[] = {{"UNSET", 0}, {"OK", 1}, {"ERROR", 2}};
static const enum_name TEMPORALITY_NAMES[] = {{"UNSPECIFIED", 0}, {"DELTA", 1}, {"CUMULATIVE", 2}};

static const struct {
    const char *prefix;
    const enum_name *names;
    size_t count;
} ENUMS[] = {
    [JD_ENUM_SEVERITY] = {"SEVERITY_NUMBER_", SEVERITY_NAMES,
                          sizeof SEVERITY_NAMES / sizeof SEVERITY_NAMES[0]},
    [JD_ENUM_SPAN_KIND] = {"SPAN_KIND_", SPAN_KIND_NAMES,
                           sizeof SPAN_KIND_NAMES / sizeof SPAN_KIND_NAMES[0]},
    [JD_ENUM_STATUS_CODE] = {"STATUS_CODE_", STATUS_CODE_NAMES,
                             sizeof STATUS_CODE_NAMES / sizeof STATUS_CODE_NAMES[0]},
    [JD_ENUM_TEMPORALITY] = {"AGGREGATION_TEMPORALITY_", TEMPORALITY_NAMES,
                             sizeof TEMPORALITY_NAMES / sizeof TEMPORALITY_NAMES[0]},
};

int jd_enum(otlp_json_state *s, const char *field, jd_enum_kind kind, int32_t *out)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_STRING) return jd_i32(s, field, out); /* the number, or null */
    json_str str;
    O2P_TRY(json_read_string(&s->r, &str, NULL));
    const char *prefix = ENUMS[kind].prefix;
    size_t plen = strlen(prefix);
    if (str.len > plen && memcmp(str.ptr, prefix, plen) == 0) {
        json_str suffix = {str.ptr + plen, str.len - plen};
        for (size_t i = 0; i < ENUMS[kind].count; i++) {
            const enum_name *e = &ENUMS[kind].names[i];
            if (json_str_eq(suffix, e->suffix, strlen(e->suffix))) {
                *out = e->value;
                return O2P_OK;
            }
        }
    }
    char q[64];
    quote_for_msg(str.ptr, str.len, q, sizeof q);
    return jd_fail(s, O2P_EINVAL, field, "unknown enum name '%s'", q);
}

/* ---- arrays and scratch ----------------------------------------------- */

int jd_reserve(otlp_json_state *s, void **arr, size_t *cap, size_t need, size_t size)
{
    if (mem_reserve_array(arr, cap, need, size) < 0)
        return jd_fail(s, O2P_ENOMEM, NULL, "out of memory");
    return O2P_OK;
}

static int read_u64_element(otlp_json_state *s, void *slot)
{
    *(uint64_t *)slot = 0;
    return jd_u64(s, NULL, slot);
}

static int read_double_element(otlp_json_state *s, void *slot)
{
    int present = 0;
    *(double *)slot = 0;
    return jd_double(s, NULL, slot, &present);
}

/* A JSON array (or null) of numbers into a reused scratch array; each
 * element is read by `one`, with "field[i]" in the error path. */
static int number_array(otlp_json_state *s, const char *field, void **arr, size_t *cap, size_t elem,
                        int (*one)(otlp_json_state *s, void *slot), size_t *count)
{
    *count = 0;
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t != JSON_ARRAY) return jd_fail(s, O2P_EINVAL, field, "expected an array");
    O2P_TRY(json_array_begin(&s->r));
    jd_push(s, field, 0);
    int rc;
    size_t n = 0;
    while ((rc = json_array_next(&s->r)) > 0) {
        jd_set_index(s, (long)n);
        O2P_TRY(jd_reserve(s, arr, cap, n + 1, elem));
        O2P_TRY(one(s, (uint8_t *)*arr + n * elem));
        n++;
    }
    if (rc < 0) return rc;
    jd_pop(s);
    *count = n;
    return O2P_OK;
}

int jd_u64_array(otlp_json_state *s, const char *field, int which, size_t *count)
{
    return number_array(s, field, (void **)&s->counts[which], &s->counts_cap[which],
                        sizeof(uint64_t), read_u64_element, count);
}

int jd_double_array(otlp_json_state *s, const char *field, int which, size_t *count)
{
    return number_array(s, field, (void **)&s->doubles[which], &s->doubles_cap[which],
                        sizeof(double), read_double_element, count);
}

tbl_attrs *jd_pool_attrs(otlp_json_state *s)
{
    if (s->pool_used == s->pool_cap) {
        size_t cap = s->pool_cap ? s->pool_cap * 2 : 16;
        tbl_attrs **pool = mem_realloc(s->pool, cap * sizeof *pool);
        if (pool == NULL) return NULL;
        for (size_t i = s->pool_cap; i < cap; i++) pool[i] = NULL;
        s->pool = pool;
        s->pool_cap = cap;
    }
    tbl_attrs **slot = &s->pool[s->pool_used];
    if (*slot == NULL) {
        *slot = mem_alloc(sizeof **slot);
        if (*slot == NULL) return NULL;
        tbl_attrs_init(*slot, 0);
    }
    s->pool_used++;
    tbl_attrs_reset(*slot);
    return *slot;
}

int jd_attrs_done(otlp_json_state *s, tbl_attrs *a, const char *field)
{
    tbl_attrs_finish(a);
    if (a->failed)
        return jd_fail(s, a->failed, field, "%s",
                       a->failed == O2P_ELIMIT ? "attributes too large" : "out of memory");
    return O2P_OK;
}
