/*
 * pb_reader: a zero-copy reader of the protobuf wire format.
 *
 * A pb_reader walks the fields of one message held in memory; field values
 * are slices of the input (nothing is copied or allocated).  Every read is
 * bounds-checked: varints longer than 10 bytes or overflowing 64 bits,
 * truncated fixed/length-delimited values, groups (wire types 3/4) and the
 * undefined wire types 6/7 are errors.
 *
 * Errors name where they happened: a pb_ctx keeps the path of the message
 * being read as a stack of (name, index) frames — pushed on the way down,
 * formatted only when something fails — and each reader knows its message's
 * field names, so a message reads
 *   "resourceLogs[0].scopeLogs[1].logRecords[3].body: truncated
 *    length-delimited field at byte 1234".
 */
#ifndef O2P_OTLP_PB_READER_H
#define O2P_OTLP_PB_READER_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/codec_text.h"
#include "core/error.h"

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2, PB_FIXED32 = 5 };

typedef struct pb_frame {
    const char *name;
    long index; /* element index of a repeated field, or -1 */
} pb_frame;

typedef struct pb_ctx {
    const uint8_t *base; /* start of the request body: byte offsets count from here */
    pb_frame *frames;    /* max_depth entries */
    size_t depth;
    size_t max_depth;
    size_t max_string;
    o2p_error *err;
} pb_ctx;

/* Field names of one message type, indexed by field number (NULL = unknown). */
typedef struct pb_names {
    const char *const *names;
    uint32_t count;
} pb_names;
#define PB_NAMES_INIT(array)                                                                       \
    {                                                                                              \
        (array), (uint32_t)(sizeof(array) / sizeof((array)[0]))                                    \
    }
#define PB_NAMES(array) ((pb_names)PB_NAMES_INIT(array))

typedef struct pb_reader {
    const uint8_t *p;
    const uint8_t *end;
    pb_names names;
} pb_reader;

typedef struct pb_field {
    uint32_t num;
    uint32_t wire;
    uint64_t value;      /* varint, fixed32 or fixed64 value */
    const uint8_t *data; /* PB_LEN: the payload */
    size_t len;
    const uint8_t *at; /* the field's tag, for error offsets */
} pb_field;

static inline void pb_reader_init(pb_reader *r, const uint8_t *data, size_t len, pb_names names)
{
    r->p = data;
    r->end = data + len;
    r->names = names;
}

/* Decodes one varint at *p (advancing it): 0 ok, -1 truncated, -2 longer
 * than 10 bytes or overflowing 64 bits. */
int pb_varint_slow(const uint8_t **p, const uint8_t *end, uint64_t *out);
static inline int pb_varint(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    if (q < end && q[0] < 0x80) {
        *out = q[0];
        *p = q + 1;
        return 0;
    }
    if (end - q >= 2 && q[1] < 0x80) { /* lengths of 128..16383 bytes */
        *out = (uint64_t)(q[0] & 0x7f) | (uint64_t)q[1] << 7;
        *p = q + 2;
        return 0;
    }
    return pb_varint_slow(p, end, out);
}

static inline uint64_t pb_le64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

static inline uint32_t pb_le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Takes one length-delimited field with the one-byte tag `tag` at *p
 * (advancing it): 1 when the next field is exactly that and its payload
 * fits before end, else 0 with *p unchanged.  For fast paths that expect
 * a fixed message layout and leave everything else, malformed input
 * included, to the general reader (which words the errors). */
static inline int pb_take_len(const uint8_t **p, const uint8_t *end, uint8_t tag,
                              const uint8_t **out, size_t *out_len)
{
    const uint8_t *q = *p;
    uint64_t len;
    if (q == end || q[0] != tag) return 0;
    q++;
    if (pb_varint(&q, end, &len) < 0 || len > (uint64_t)(end - q)) return 0;
    *out = q;
    *out_len = (size_t)len;
    *p = q + len;
    return 1;
}

/* The general (and error-reporting) path of pb_next. */
int pb_next_slow(pb_ctx *ctx, pb_reader *r, pb_field *f);

/* Reads the next field: 1 when one was read, 0 at the end of the message,
 * negative (with ctx->err set) on malformed input.  Inline for one-byte
 * tags (field numbers 1..15): it runs for every field of every record;
 * anything unusual or malformed takes pb_next_slow, which also words the
 * error. */
static inline int pb_next(pb_ctx *ctx, pb_reader *r, pb_field *f)
{
    const uint8_t *p = r->p, *end = r->end;
    if (p == end) return 0;
    uint32_t tag = p[0];
    if (tag >= 0x80 || tag < 0x08) return pb_next_slow(ctx, r, f);
    f->at = p++;
    f->num = tag >> 3;
    f->wire = tag & 7;
    switch (f->wire) {
    case PB_LEN: {
        uint64_t len;
        if (pb_varint(&p, end, &len) < 0 || len > (uint64_t)(end - p)) break;
        f->data = p;
        f->len = (size_t)len;
        r->p = p + len;
        return 1;
    }
    case PB_VARINT:
        if (pb_varint(&p, end, &f->value) < 0) break;
        r->p = p;
        return 1;
    case PB_FIXED64:
        if (end - p < 8) break;
        f->value = pb_le64(p);
        r->p = p + 8;
        return 1;
    case PB_FIXED32:
        if (end - p < 4) break;
        f->value = pb_le32(p);
        r->p = p + 4;
        return 1;
    default:
        break;
    }
    return pb_next_slow(ctx, r, f);
}

/* Enters a sub-message (for error paths and the depth bound) / leaves it. */
int pb_push_slow(pb_ctx *ctx, const char *name, const uint8_t *at);
static inline int pb_push(pb_ctx *ctx, const char *name, long index, const uint8_t *at)
{
    if (ctx->depth >= ctx->max_depth) return pb_push_slow(ctx, name, at);
    ctx->frames[ctx->depth].name = name;
    ctx->frames[ctx->depth].index = index;
    ctx->depth++;
    return 0;
}
static inline void pb_pop(pb_ctx *ctx)
{
    ctx->depth--;
}

/* The name of field f in r's message ("field N" when unknown; the result
 * may point into buf). */
const char *pb_field_name(const pb_reader *r, const pb_field *f, char buf[24]);

/* Writes the current path as "a[0].b.c[2]" to out (always NUL-terminated). */
void pb_path(const pb_ctx *ctx, char *out, size_t cap);

/* Fails with "<path>.<field>: <message> at byte N" (field may be NULL) and
 * returns code. */
int pb_fail(pb_ctx *ctx, const char *field, const uint8_t *at, int code, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Fails because f does not have wire type `wire`. */
int pb_wire_mismatch(pb_ctx *ctx, const pb_reader *r, const pb_field *f, uint32_t wire);

/* Checks that f has wire type `wire`, else fails naming the field. */
static inline int pb_want(pb_ctx *ctx, const pb_reader *r, const pb_field *f, uint32_t wire)
{
    return f->wire == wire ? 0 : pb_wire_mismatch(ctx, r, f, wire);
}

/* The failures of pb_bytes / pb_string, worded. */
int pb_bytes_fail(pb_ctx *ctx, const pb_reader *r, const pb_field *f);
int pb_utf8_fail(pb_ctx *ctx, const pb_reader *r, const pb_field *f);

/* A bytes field: wire type PB_LEN, at most max_string bytes. */
static inline int pb_bytes(pb_ctx *ctx, const pb_reader *r, const pb_field *f, const uint8_t **out,
                           size_t *out_len)
{
    *out = f->data;
    *out_len = f->len;
    return f->wire == PB_LEN && f->len <= ctx->max_string ? 0 : pb_bytes_fail(ctx, r, f);
}

/* A string field: wire type PB_LEN, at most max_string bytes, valid UTF-8. */
static inline int pb_string(pb_ctx *ctx, const pb_reader *r, const pb_field *f, const uint8_t **out,
                            size_t *out_len)
{
    *out = f->data;
    *out_len = f->len;
    if (f->wire != PB_LEN || f->len > ctx->max_string) return pb_bytes_fail(ctx, r, f);
    return utf8_valid(f->data, f->len) ? 0 : pb_utf8_fail(ctx, r, f);
}

/* A bytes field that must be empty or exactly `width` bytes (trace/span ids). */
int pb_id(pb_ctx *ctx, const pb_reader *r, const pb_field *f, uint8_t *out, size_t width,
          size_t *out_len);

/* A scalar of the given wire type (enum, int32, uint32, bool, fixed, double). */
static inline int pb_scalar(pb_ctx *ctx, const pb_reader *r, const pb_field *f, uint32_t wire,
                            uint64_t *out)
{
    *out = f->value;
    return f->wire == wire ? 0 : pb_wire_mismatch(ctx, r, f, wire);
}

/* A double field (wire type PB_FIXED64). */
static inline int pb_double(pb_ctx *ctx, const pb_reader *r, const pb_field *f, double *out)
{
    memcpy(out, &f->value, sizeof *out);
    return f->wire == PB_FIXED64 ? 0 : pb_wire_mismatch(ctx, r, f, PB_FIXED64);
}

static inline int32_t pb_zigzag32(uint64_t v)
{
    uint32_t u = (uint32_t)v;
    return (int32_t)((u >> 1) ^ (0u - (u & 1)));
}

#endif
