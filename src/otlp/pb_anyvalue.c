/*
 * pb_anyvalue: an AnyValue message to its spec §2 string form, written
 * straight into the destination buffer (an attribute scratch's text or the
 * log body), with no intermediate tree.
 *
 * Top level: strings as is, bools true/false, ints in decimal, doubles in
 * ECMAScript spelling, bytes as base64, an empty value as "".  Arrays and
 * kvlists become compact JSON in which strings and bytes are quoted,
 * non-finite doubles are the strings "NaN"/"+Inf"/"-Inf" (JSON has no
 * spelling for them) and an empty value is null.  AnyValue is a oneof: when
 * several members are present the last one wins, as protobuf specifies.
 */
#include <math.h>

#include "core/codec_text.h"
#include "core/numfmt.h"
#include "otlp/pb_decode.h"

static const char *const anyvalue_names[] = {
    [1] = "stringValue", [2] = "boolValue",   [3] = "intValue",  [4] = "doubleValue",
    [5] = "arrayValue",  [6] = "kvlistValue", [7] = "bytesValue"};
static const char *const list_names[] = {[1] = "values"};
static const char *const keyvalue_names[] = {[1] = "key", [2] = "value"};

static int write_any(otlp_pb_state *st, const uint8_t *data, size_t len, o2p_buf *out, int in_json);

static int out_failed(otlp_pb_state *st, int rc, const uint8_t *at)
{
    return pb_fail(&st->ctx, NULL, at, rc, "%s",
                   rc == O2P_ELIMIT ? "value exceeds its size limit" : "out of memory");
}

/* ArrayValue: [v, v, ...] */
static int write_array(otlp_pb_state *st, const pb_field *f, o2p_buf *out)
{
    pb_ctx *ctx = &st->ctx;
    O2P_TRY(pb_push(ctx, "arrayValue", -1, f->at));
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(list_names));
    pb_field ef;
    long index = 0;
    int rc;
    if (buf_push_byte(out, '[') < 0) return out_failed(st, O2P_ENOMEM, f->at);
    while ((rc = pb_next(ctx, &r, &ef)) > 0) {
        if (ef.num != 1) continue;
        O2P_TRY(pb_want(ctx, &r, &ef, PB_LEN));
        if (index > 0 && (rc = buf_push_byte(out, ',')) < 0) return out_failed(st, rc, ef.at);
        O2P_TRY(pb_push(ctx, "values", index++, ef.at));
        O2P_TRY(write_any(st, ef.data, ef.len, out, 1));
        pb_pop(ctx);
    }
    if (rc < 0) return rc;
    if ((rc = buf_push_byte(out, ']')) < 0) return out_failed(st, rc, f->at);
    pb_pop(ctx);
    return O2P_OK;
}

/* KeyValueList: {"k":v, ...} with keys in received order. */
static int write_kvlist(otlp_pb_state *st, const pb_field *f, o2p_buf *out)
{
    pb_ctx *ctx = &st->ctx;
    O2P_TRY(pb_push(ctx, "kvlistValue", -1, f->at));
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(list_names));
    pb_field ef;
    long index = 0;
    int rc;
    if (buf_push_byte(out, '{') < 0) return out_failed(st, O2P_ENOMEM, f->at);
    while ((rc = pb_next(ctx, &r, &ef)) > 0) {
        if (ef.num != 1) continue;
        O2P_TRY(pb_want(ctx, &r, &ef, PB_LEN));
        if (index > 0 && (rc = buf_push_byte(out, ',')) < 0) return out_failed(st, rc, ef.at);
        O2P_TRY(pb_push(ctx, "values", index++, ef.at));
        pb_reader kr;
        pb_reader_init(&kr, ef.data, ef.len, PB_NAMES(keyvalue_names));
        pb_field kf, value = {0};
        const uint8_t *key = (const uint8_t *)""; /* a KeyValue without a key has key "" */
        size_t key_len = 0;
        int has_value = 0;
        while ((rc = pb_next(ctx, &kr, &kf)) > 0) {
            if (kf.num == 1) {
                O2P_TRY(pb_string(ctx, &kr, &kf, &key, &key_len));
            } else if (kf.num == 2) {
                O2P_TRY(pb_want(ctx, &kr, &kf, PB_LEN));
                value = kf;
                has_value = 1;
            }
        }
        if (rc < 0) return rc;
        if ((rc = json_append_string(out, (const char *)key, key_len)) < 0 ||
            (rc = buf_push_byte(out, ':')) < 0)
            return out_failed(st, rc, ef.at);
        if (has_value) {
            O2P_TRY(pb_push(ctx, "value", -1, value.at));
            O2P_TRY(write_any(st, value.data, value.len, out, 1));
            pb_pop(ctx);
        } else if ((rc = buf_append(out, "null", 4)) < 0) {
            return out_failed(st, rc, ef.at);
        }
        pb_pop(ctx);
    }
    if (rc < 0) return rc;
    if ((rc = buf_push_byte(out, '}')) < 0) return out_failed(st, rc, f->at);
    pb_pop(ctx);
    return O2P_OK;
}

static int write_double(o2p_buf *out, double v, int in_json)
{
    char text[NUMFMT_DOUBLE_MAX];
    size_t n = numfmt_double(v, text);
    if (in_json && !isfinite(v)) return json_append_string(out, text, n);
    return buf_append(out, text, n);
}

static int write_any(otlp_pb_state *st, const uint8_t *data, size_t len, o2p_buf *out, int in_json)
{
    pb_ctx *ctx = &st->ctx;
    pb_reader r;
    pb_reader_init(&r, data, len, PB_NAMES(anyvalue_names));
    /* Two slots, so keeping the last member is a pointer swap, not a copy. */
    pb_field slots[2], *last = NULL;
    int slot = 0, rc;
    while ((rc = pb_next(ctx, &r, &slots[slot])) > 0) {
        if (slots[slot].num >= 1 && slots[slot].num <= 7) {
            last = &slots[slot];
            slot ^= 1;
        }
    }
    if (rc < 0) return rc;
    if (last == NULL) { /* an empty AnyValue */
        if (in_json && (rc = buf_append(out, "null", 4)) < 0) return out_failed(st, rc, data);
        return O2P_OK;
    }

    const uint8_t *s;
    size_t n;
    uint64_t v;
    double d;
    char text[NUMFMT_INT_MAX];
    switch (last->num) {
    case 1:
        O2P_TRY(pb_string(ctx, &r, last, &s, &n));
        rc = in_json ? json_append_string(out, (const char *)s, n) : buf_append(out, s, n);
        break;
    case 2:
        O2P_TRY(pb_scalar(ctx, &r, last, PB_VARINT, &v));
        rc = v ? buf_append(out, "true", 4) : buf_append(out, "false", 5);
        break;
    case 3:
        O2P_TRY(pb_scalar(ctx, &r, last, PB_VARINT, &v));
        n = numfmt_i64((int64_t)v, text);
        rc = buf_append(out, text, n);
        break;
    case 4:
        O2P_TRY(pb_double(ctx, &r, last, &d));
        rc = write_double(out, d, in_json);
        break;
    case 5:
        O2P_TRY(pb_want(ctx, &r, last, PB_LEN));
        return write_array(st, last, out);
    case 6:
        O2P_TRY(pb_want(ctx, &r, last, PB_LEN));
        return write_kvlist(st, last, out);
    default: /* 7: bytes */
        O2P_TRY(pb_bytes(ctx, &r, last, &s, &n));
        if (in_json && (rc = buf_push_byte(out, '"')) < 0) break;
        if ((rc = base64_append(out, s, n)) < 0) break;
        if (in_json) rc = buf_push_byte(out, '"');
        break;
    }
    if (rc < 0) return out_failed(st, rc, last->at);
    return O2P_OK;
}

int pb_anyvalue_string(otlp_pb_state *st, const uint8_t *data, size_t len, const uint8_t *at,
                       const char *frame_name, o2p_buf *out)
{
    O2P_TRY(pb_push(&st->ctx, frame_name, -1, at));
    O2P_TRY(write_any(st, data, len, out, 0));
    pb_pop(&st->ctx);
    return O2P_OK;
}
