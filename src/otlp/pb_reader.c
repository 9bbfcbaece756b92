/* pb_reader: bounds-checked protobuf wire reading with located errors (see pb_reader.h). */
#include "otlp/pb_reader.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int pb_varint_slow(const uint8_t **p, const uint8_t *end, uint64_t *out)
{
    const uint8_t *q = *p;
    uint64_t v = 0;
    for (int i = 0; i < 10; i++) {
        if (q == end) return -1;
        uint8_t byte = *q++;
        /* The 10th byte holds only bit 63: anything more overflows. */
        if (i == 9 && byte > 1) return -2;
        v |= (uint64_t)(byte & 0x7f) << (7 * i);
        if (byte < 0x80) {
            *out = v;
            *p = q;
            return 0;
        }
    }
    return -2;
}

void pb_path(const pb_ctx *ctx, char *out, size_t cap)
{
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ctx->depth && len + 1 < cap; i++) {
        const pb_frame *fr = &ctx->frames[i];
        int n = fr->index >= 0
                    ? snprintf(out + len, cap - len, "%s%s[%ld]", i ? "." : "", fr->name, fr->index)
                    : snprintf(out + len, cap - len, "%s%s", i ? "." : "", fr->name);
        if (n < 0) break;
        len += (size_t)n;
    }
}

int pb_fail(pb_ctx *ctx, const char *field, const uint8_t *at, int code, const char *fmt, ...)
{
    char path[320], what[200];
    pb_path(ctx, path, sizeof path);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *sep = path[0] && field ? "." : "";
    const char *colon = path[0] || field ? ": " : "";
    return o2p_errorf(ctx->err, code, "%s%s%s%s%s at byte %zu", path, sep, field ? field : "",
                      colon, what, (size_t)(at - ctx->base));
}

const char *pb_field_name(const pb_reader *r, const pb_field *f, char buf[24])
{
    if (f->num < r->names.count && r->names.names[f->num]) return r->names.names[f->num];
    snprintf(buf, 24, "field %u", f->num);
    return buf;
}

int pb_push_slow(pb_ctx *ctx, const char *name, const uint8_t *at)
{
    return pb_fail(ctx, name, at, O2P_ELIMIT, "nesting deeper than %zu levels", ctx->max_depth);
}

static int fail_field(pb_ctx *ctx, const pb_reader *r, const pb_field *f, int code,
                      const char *what)
{
    char buf[24];
    return pb_fail(ctx, pb_field_name(r, f, buf), f->at, code, "%s", what);
}

int pb_next_slow(pb_ctx *ctx, pb_reader *r, pb_field *f)
{
    f->at = r->p;
    uint64_t tag;
    int rc = pb_varint(&r->p, r->end, &tag);
    if (rc < 0)
        return pb_fail(ctx, NULL, f->at, O2P_EINVAL,
                       rc == -1 ? "truncated field tag" : "field tag varint too long");
    f->num = (uint32_t)(tag >> 3);
    f->wire = (uint32_t)(tag & 7);
    if (tag >> 3 == 0 || tag >> 3 > 536870911u)
        return pb_fail(ctx, NULL, f->at, O2P_EINVAL, "invalid field number %llu",
                       (unsigned long long)(tag >> 3));
    switch (f->wire) {
    case PB_VARINT:
        rc = pb_varint(&r->p, r->end, &f->value);
        if (rc < 0)
            return fail_field(ctx, r, f, O2P_EINVAL,
                              rc == -1 ? "truncated varint" : "varint longer than 10 bytes");
        return 1;
    case PB_FIXED64:
        if (r->end - r->p < 8) return fail_field(ctx, r, f, O2P_EINVAL, "truncated fixed64 field");
        f->value = pb_le64(r->p);
        r->p += 8;
        return 1;
    case PB_FIXED32:
        if (r->end - r->p < 4) return fail_field(ctx, r, f, O2P_EINVAL, "truncated fixed32 field");
        f->value = pb_le32(r->p);
        r->p += 4;
        return 1;
    case PB_LEN: {
        uint64_t len;
        rc = pb_varint(&r->p, r->end, &len);
        if (rc < 0)
            return fail_field(ctx, r, f, O2P_EINVAL,
                              rc == -1 ? "truncated length-delimited field"
                                       : "length varint longer than 10 bytes");
        if (len > (uint64_t)(r->end - r->p))
            return fail_field(ctx, r, f, O2P_EINVAL, "truncated length-delimited field");
        f->data = r->p;
        f->len = (size_t)len;
        r->p += len;
        return 1;
    }
    case 3:
    case 4:
        return fail_field(ctx, r, f, O2P_EINVAL,
                          "groups (wire types 3 and 4) are not supported by OTLP");
    default:
        return fail_field(ctx, r, f, O2P_EINVAL,
                          f->wire == 6 ? "invalid wire type 6" : "invalid wire type 7");
    }
}

static const char *wire_name(uint32_t wire)
{
    switch (wire) {
    case PB_VARINT:
        return "varint";
    case PB_FIXED64:
        return "fixed64";
    case PB_LEN:
        return "length-delimited";
    default:
        return "fixed32";
    }
}

int pb_wire_mismatch(pb_ctx *ctx, const pb_reader *r, const pb_field *f, uint32_t wire)
{
    char buf[24];
    return pb_fail(ctx, pb_field_name(r, f, buf), f->at, O2P_EINVAL,
                   "expected wire type %s, got %s", wire_name(wire), wire_name(f->wire));
}

int pb_bytes_fail(pb_ctx *ctx, const pb_reader *r, const pb_field *f)
{
    O2P_TRY(pb_want(ctx, r, f, PB_LEN));
    char buf[24];
    return pb_fail(ctx, pb_field_name(r, f, buf), f->at, O2P_ELIMIT,
                   "%zu bytes exceed the limit of %zu", f->len, ctx->max_string);
}

int pb_utf8_fail(pb_ctx *ctx, const pb_reader *r, const pb_field *f)
{
    return fail_field(ctx, r, f, O2P_EINVAL, "invalid UTF-8");
}

int pb_id(pb_ctx *ctx, const pb_reader *r, const pb_field *f, uint8_t *out, size_t width,
          size_t *out_len)
{
    O2P_TRY(pb_want(ctx, r, f, PB_LEN));
    if (f->len != 0 && f->len != width) {
        char buf[24];
        return pb_fail(ctx, pb_field_name(r, f, buf), f->at, O2P_EINVAL,
                       "expected %zu bytes, got %zu", width, f->len);
    }
    memcpy(out, f->data, f->len);
    *out_len = f->len;
    return O2P_OK;
}
