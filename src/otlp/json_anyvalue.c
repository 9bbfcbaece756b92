/*
 * json_anyvalue: OTLP/JSON AnyValue and KeyValue lists into the attribute
 * strings of spec §2.
 *
 * The value is written straight into its destination (an attribute list's
 * text or the log body buffer) while it is read: no intermediate tree.  At
 * top level a string stays as is, bool/int/double/bytes become their text and
 * an empty value becomes ""; inside arrays and kvlists the same values are
 * written as compact JSON (non-finite doubles as the strings "NaN", "+Inf",
 * "-Inf"; an empty value as null).  When an AnyValue object carries more than
 * one value member the last one wins, like a protobuf oneof.  The output must
 * equal the protobuf decoder's byte for byte.
 */
#include <math.h>
#include <string.h>

#include "core/codec_text.h"
#include "core/numfmt.h"
#include "otlp/json_decode.h"

static int out_fail(otlp_json_state *s, int rc)
{
    return jd_fail(s, rc, NULL, "%s", rc == O2P_ELIMIT ? "value too large" : "out of memory");
}

#define OUT(s, expr)                                                                               \
    do {                                                                                           \
        int out_rc_ = (expr);                                                                      \
        if (out_rc_ < 0) return out_fail((s), out_rc_);                                            \
    } while (0)

static int write_double(otlp_json_state *s, o2p_buf *dst, double v, int nested)
{
    char text[NUMFMT_DOUBLE_MAX];
    size_t len = numfmt_double(v, text);
    if (nested && !isfinite(v)) {
        OUT(s, buf_push_byte(dst, '"'));
        OUT(s, buf_append(dst, text, len));
        OUT(s, buf_push_byte(dst, '"'));
        return O2P_OK;
    }
    OUT(s, buf_append(dst, text, len));
    return O2P_OK;
}

static int write_bytes(otlp_json_state *s, o2p_buf *dst, int nested)
{
    json_str str;
    O2P_TRY(json_read_string(&s->r, &str, NULL));
    buf_reset(&s->tmp);
    int rc = base64_decode_lenient(str.ptr, str.len, &s->tmp);
    if (rc == 1) return jd_fail(s, O2P_EINVAL, "bytesValue", "invalid base64");
    if (rc < 0) return out_fail(s, rc);
    if (nested) OUT(s, buf_push_byte(dst, '"'));
    OUT(s, base64_append(dst, s->tmp.data, s->tmp.len));
    if (nested) OUT(s, buf_push_byte(dst, '"'));
    return O2P_OK;
}

static int kv_object(otlp_json_state *s, tbl_attrs *attrs, o2p_buf *dst);

/*
 * The {"values": [...]} object of arrayValue (item = AnyValue, written as
 * JSON) or kvlistValue (item = KeyValue, written as "key":value), between
 * open and close.  null or a missing "values" is an empty container.
 */
static int values_object(otlp_json_state *s, o2p_buf *dst, int kvlist)
{
    const char *path = kvlist ? "kvlistValue.values" : "arrayValue.values";
    OUT(s, buf_push_byte(dst, kvlist ? '{' : '['));
    size_t content = dst->len;
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) {
        O2P_TRY(json_read_null(&s->r));
    } else {
        if (t != JSON_OBJECT)
            return jd_fail(s, O2P_EINVAL, kvlist ? "kvlistValue" : "arrayValue",
                           "expected an object");
        O2P_TRY(json_object_begin(&s->r));
        json_str name;
        int rc;
        while ((rc = json_object_next(&s->r, &name)) > 0) {
            if (!JD_KEY1(name, "values")) {
                O2P_TRY(json_skip(&s->r));
                continue;
            }
            dst->len = content; /* a repeated member: the last one wins */
            t = json_peek(&s->r);
            if (t < 0) return t;
            if (t == JSON_NULL) {
                O2P_TRY(json_read_null(&s->r));
                continue;
            }
            if (t != JSON_ARRAY) return jd_fail(s, O2P_EINVAL, path, "expected an array");
            O2P_TRY(json_array_begin(&s->r));
            jd_push(s, path, 0);
            long i = 0;
            int more;
            while ((more = json_array_next(&s->r)) > 0) {
                jd_set_index(s, i);
                if (i++ > 0) OUT(s, buf_push_byte(dst, ','));
                if (kvlist)
                    O2P_TRY(kv_object(s, NULL, dst));
                else
                    O2P_TRY(jd_anyvalue(s, dst, 1));
            }
            if (more < 0) return more;
            jd_pop(s);
        }
        if (rc < 0) return rc;
    }
    OUT(s, buf_push_byte(dst, kvlist ? '}' : ']'));
    return O2P_OK;
}

int jd_anyvalue(otlp_json_state *s, o2p_buf *dst, int nested)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) {
        O2P_TRY(json_read_null(&s->r));
        if (nested) OUT(s, buf_append(dst, "null", 4));
        return O2P_OK;
    }
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected an AnyValue object");
    O2P_TRY(json_object_begin(&s->r));
    size_t start = dst->len;
    int set = 0;
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        /* every value member starts over at `start`: the last one wins */
        if (name.len < 8 || name.len > 12) { /* no value member is this short or long */
            O2P_TRY(json_skip(&s->r));
            continue;
        }
        t = json_peek(&s->r);
        if (t < 0) return t;
        if (t == JSON_NULL) { /* an unset member */
            O2P_TRY(json_read_null(&s->r));
            continue;
        }
        if (JD_KEY(name, "stringValue", "string_value")) {
            dst->len = start;
            if (!nested) {
                O2P_TRY(json_read_string_append(&s->r, dst));
            } else {
                json_str str;
                O2P_TRY(json_read_string(&s->r, &str, NULL));
                OUT(s, json_append_string(dst, (const char *)str.ptr, str.len));
            }
        } else if (JD_KEY(name, "boolValue", "bool_value")) {
            int b = 0;
            O2P_TRY(jd_bool(s, "boolValue", &b));
            dst->len = start;
            OUT(s, b ? buf_append(dst, "true", 4) : buf_append(dst, "false", 5));
        } else if (JD_KEY(name, "intValue", "int_value")) {
            int64_t v = 0;
            O2P_TRY(jd_i64(s, "intValue", &v));
            char text[NUMFMT_INT_MAX];
            size_t len = numfmt_i64(v, text);
            dst->len = start;
            OUT(s, buf_append(dst, text, len));
        } else if (JD_KEY(name, "doubleValue", "double_value")) {
            double v = 0;
            int present = 0;
            O2P_TRY(jd_double(s, "doubleValue", &v, &present));
            dst->len = start;
            O2P_TRY(write_double(s, dst, v, nested));
        } else if (JD_KEY(name, "bytesValue", "bytes_value")) {
            if (json_peek(&s->r) != JSON_STRING)
                return jd_fail(s, O2P_EINVAL, "bytesValue", "expected a base64 string");
            dst->len = start;
            O2P_TRY(write_bytes(s, dst, nested));
        } else if (JD_KEY(name, "arrayValue", "array_value")) {
            dst->len = start;
            O2P_TRY(values_object(s, dst, 0));
        } else if (JD_KEY(name, "kvlistValue", "kvlist_value")) {
            dst->len = start;
            O2P_TRY(values_object(s, dst, 1));
        } else {
            O2P_TRY(json_skip(&s->r));
            continue;
        }
        set = 1;
    }
    if (rc < 0) return rc;
    if (!set && nested) OUT(s, buf_append(dst, "null", 4));
    return O2P_OK;
}

/* Starts an item with this key: in an attribute list, or as "key": in a
 * kvlist's JSON. */
static int kv_key(otlp_json_state *s, tbl_attrs *attrs, o2p_buf *dst, json_str key)
{
    if (attrs) {
        tbl_attrs_key(attrs, key.ptr, key.len);
        if (attrs->failed) return out_fail(s, attrs->failed);
        return O2P_OK;
    }
    OUT(s, json_append_string(dst, (const char *)key.ptr, key.len));
    OUT(s, buf_push_byte(dst, ':'));
    return O2P_OK;
}

/* Reads a "key" member's string (the reader is at its value). */
static int kv_read_key(otlp_json_state *s, json_str *key)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) {
        key->ptr = (const uint8_t *)"";
        key->len = 0;
        return json_read_null(&s->r);
    }
    if (t != JSON_STRING) return jd_fail(s, O2P_EINVAL, "key", "expected a string");
    return json_read_string(&s->r, key, NULL);
}

/*
 * One KeyValue object.  The key must be known before the value is written,
 * so the common order (key first) is read in one pass; otherwise the key is
 * found first and the object read again for the value.
 */
static int kv_object(otlp_json_state *s, tbl_attrs *attrs, o2p_buf *dst)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected a KeyValue object");
    O2P_TRY(json_object_begin(&s->r));
    json_mark mark = json_get_mark(&s->r);
    json_str name, key = {(const uint8_t *)"", 0};
    int rc = json_object_next(&s->r, &name);
    if (rc < 0) return rc;
    int key_first = rc > 0 && JD_KEY1(name, "key");
    if (key_first) {
        O2P_TRY(kv_read_key(s, &key));
    } else {
        /* slow path: find the key (validating the other members), keep a
         * copy (the reader's scratch is reused), then start over */
        json_rewind(&s->r, mark);
        int seen = 0;
        while ((rc = json_object_next(&s->r, &name)) > 0) {
            if (!JD_KEY1(name, "key")) {
                O2P_TRY(json_skip(&s->r));
                continue;
            }
            if (seen++) return jd_fail(s, O2P_EINVAL, "key", "duplicate member");
            json_str k;
            O2P_TRY(kv_read_key(s, &k));
            buf_reset(&s->tmp);
            OUT(s, buf_append(&s->tmp, k.ptr, k.len));
        }
        if (rc < 0) return rc;
        if (seen) {
            key.ptr = s->tmp.data;
            key.len = s->tmp.len;
        }
        json_rewind(&s->r, mark);
    }
    O2P_TRY(kv_key(s, attrs, dst, key));
    o2p_buf *out = attrs ? &attrs->text : dst;
    size_t value_start = out->len;
    int have_value = 0;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY1(name, "value")) {
            out->len = value_start;
            jd_push(s, "value", -1);
            O2P_TRY(jd_anyvalue(s, out, attrs == NULL));
            jd_pop(s);
            have_value = 1;
        } else if (JD_KEY1(name, "key")) {
            if (key_first) return jd_fail(s, O2P_EINVAL, "key", "duplicate member");
            O2P_TRY(json_skip_fast(&s->r)); /* read in the first pass */
        } else if (key_first) {
            O2P_TRY(json_skip(&s->r));
        } else {
            O2P_TRY(json_skip_fast(&s->r)); /* validated in the first pass */
        }
    }
    if (rc < 0) return rc;
    if (!have_value && !attrs) OUT(s, buf_append(dst, "null", 4));
    if (attrs) {
        tbl_attrs_value_end(attrs);
        if (attrs->failed) return out_fail(s, attrs->failed);
    }
    return O2P_OK;
}

int jd_attributes(otlp_json_state *s, const char *field, tbl_attrs *a)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t != JSON_ARRAY) return jd_fail(s, O2P_EINVAL, field, "expected an array of KeyValue");
    O2P_TRY(json_array_begin(&s->r));
    jd_push(s, field, 0);
    long i = 0;
    int rc;
    while ((rc = json_array_next(&s->r)) > 0) {
        jd_set_index(s, i++);
        O2P_TRY(kv_object(s, a, NULL));
    }
    if (rc < 0) return rc;
    jd_pop(s);
    return O2P_OK;
}
