/*
 * json_reader: a strict RFC 8259 pull parser over one in-memory document.
 *
 * The caller walks the document with begin/next calls instead of building a
 * tree, so OTLP/JSON decodes straight into rows.  Strictness is total: no
 * comments, trailing commas, NaN/Infinity literals, leading zeros, raw
 * control characters in strings, unpaired surrogate escapes or malformed
 * UTF-8, and nothing but whitespace after the top-level value.  Nesting is
 * bounded by max_depth and strings by max_string bytes.
 *
 * Strings without escapes come back as slices of the input (zero copy);
 * escaped strings are decoded into the reader's scratch (valid until the next
 * string read) or into a caller-chosen arena/buffer when they must live
 * longer.  Errors set a message with the byte offset ("byte 123: expected ','
 * or '}'"); the reader is then unusable until json_reader_start.
 */
#ifndef O2P_OTLP_JSON_READER_H
#define O2P_OTLP_JSON_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/arena.h"
#include "core/buf.h"
#include "core/error.h"

typedef enum json_type {
    JSON_NULL = 1,
    JSON_FALSE,
    JSON_TRUE,
    JSON_NUMBER,
    JSON_STRING,
    JSON_OBJECT,
    JSON_ARRAY
} json_type;

typedef struct json_str {
    const uint8_t *ptr;
    size_t len;
} json_str;

/* A number as written.  is_int: no fraction and no exponent.  The value
 * helpers below convert it exactly or fail. */
typedef struct json_number {
    const uint8_t *text;
    size_t len;
    int is_int;
    int negative;
} json_number;

typedef struct json_reader {
    const uint8_t *start;
    const uint8_t *p;
    const uint8_t *end;
    size_t depth;
    size_t max_depth;
    size_t max_string;
    o2p_buf scratch; /* decoded escaped strings (valid until the next read) */
    int first;       /* no member/element read yet in the innermost container */
    int failed;      /* sticky status of the first error */
    char msg[200];   /* that error's message */
} json_reader;

/* A position to come back to (json_rewind) inside the same document. */
typedef struct json_mark {
    const uint8_t *p;
    size_t depth;
    int first;
} json_mark;

void json_reader_init(json_reader *r, size_t max_depth, size_t max_string);
void json_reader_free(json_reader *r);
/* Points the reader at a new document (the bytes must outlive the reads). */
void json_reader_start(json_reader *r, const uint8_t *data, size_t len);

/* Byte offset of the current position. */
static inline size_t json_offset(const json_reader *r)
{
    return (size_t)(r->p - r->start);
}

/* Type of the next value (after whitespace), or a negative status. */
int json_peek(json_reader *r);

/* Objects: json_object_begin consumes '{'; each json_object_next returns 1
 * with the member's name (valid until the next string read) and leaves the
 * reader at the member's value, 0 after the closing '}', or < 0. */
int json_object_begin(json_reader *r);
int json_object_next(json_reader *r, json_str *name);
/* Arrays: 1 when another element follows (the reader is at it), 0 after ']'. */
int json_array_begin(json_reader *r);
int json_array_next(json_reader *r);

/* Reads a string value.  arena == NULL: escaped strings are decoded into
 * the scratch (valid until the next string read); otherwise into the arena. */
int json_read_string(json_reader *r, json_str *out, o2p_arena *arena);
/* Reads a string value and appends its decoded bytes to dst. */
int json_read_string_append(json_reader *r, o2p_buf *dst);
int json_read_number(json_reader *r, json_number *out);
/* true/false; *out = 1/0. */
int json_read_bool(json_reader *r, int *out);
/* Consumes a null literal. */
int json_read_null(json_reader *r);
/* Skips one value of any type, validating it fully. */
int json_skip(json_reader *r);
/* Skips one value whose bytes were already validated (or will be): only
 * finds its end, much faster than json_skip.  Used to look ahead. */
int json_skip_fast(json_reader *r);
/* Succeeds when only whitespace remains. */
int json_finish(json_reader *r);

static inline json_mark json_get_mark(const json_reader *r)
{
    json_mark m = {r->p, r->depth, r->first};
    return m;
}
static inline void json_rewind(json_reader *r, json_mark m)
{
    r->p = m.p;
    r->depth = m.depth;
    r->first = m.first;
}

/* Records an error at the current position ("byte N: ..."); returns code. */
int json_fail(json_reader *r, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/*
 * Number conversions (0 or -1; no message).  Integers must be exact:
 * "12", "-3", also "1e3" or "2.0" when the value is integral and in range.
 * json_number_from_text parses a number's text found inside a string
 * ("123" for a 64-bit integer field).
 */
int json_number_from_text(const uint8_t *text, size_t len, json_number *out);
int json_number_u64(const json_number *n, uint64_t *out);
int json_number_i64(const json_number *n, int64_t *out);
int json_number_double(const json_number *n, double *out);

/* 1 when name equals the NUL-terminated literal. */
static inline int json_str_eq(json_str s, const char *lit, size_t lit_len)
{
    return s.len == lit_len && memcmp(s.ptr, lit, lit_len) == 0;
}

#endif
