/* Unit tests for pb_reader: varints, fixed and length-delimited fields,
 * wire-type errors, unknown-field skipping and located error messages. */
#include <stdio.h>

#include "otlp/pb_reader.h"
#include "unit.h"

static const char *const test_names[] = {[1] = "one", [2] = "two", [3] = "name"};

typedef struct rd {
    pb_ctx ctx;
    pb_frame frames[4];
    o2p_error err;
    pb_reader r;
} rd;

static void rd_init(rd *t, const uint8_t *data, size_t len)
{
    memset(t, 0, sizeof *t);
    t->ctx.base = data;
    t->ctx.frames = t->frames;
    t->ctx.max_depth = 4;
    t->ctx.max_string = 16;
    t->ctx.err = &t->err;
    pb_reader_init(&t->r, data, len, PB_NAMES(test_names));
}

TEST(pb_reader_varint)
{
    static const uint8_t one[] = {0x01};
    static const uint8_t v300[] = {0xac, 0x02};
    static const uint8_t max[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const uint8_t overflow[] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02};
    static const uint8_t eleven[] = {0x80, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t truncated[] = {0x80, 0x80};
    const uint8_t *p;
    uint64_t v;
    p = one;
    CHECK_INT(pb_varint(&p, one + 1, &v), 0);
    CHECK_UINT(v, 1);
    p = v300;
    CHECK_INT(pb_varint(&p, v300 + 2, &v), 0);
    CHECK_UINT(v, 300);
    CHECK(p == v300 + 2);
    p = max;
    CHECK_INT(pb_varint(&p, max + 10, &v), 0);
    CHECK_UINT(v, UINT64_MAX);
    p = overflow;
    CHECK_INT(pb_varint(&p, overflow + 10, &v), -2);
    p = eleven;
    CHECK_INT(pb_varint(&p, eleven + 11, &v), -2);
    p = truncated;
    CHECK_INT(pb_varint(&p, truncated + 2, &v), -1);
    CHECK(p == truncated); /* not advanced on failure */
}

TEST(pb_reader_fields_and_skipping)
{
    /* 1: varint 150; 9 (unknown): fixed64; 2: fixed32; 3: "hi"; 10 (unknown): bytes */
    static const uint8_t msg[] = {0x08, 0x96, 0x01, 0x49, 1,    2,    3,    4,
                                  5,    6,    7,    8,    0x15, 0x78, 0x56, 0x34,
                                  0x12, 0x1a, 0x02, 'h',  'i',  0x52, 0x01, 0x00};
    rd t;
    rd_init(&t, msg, sizeof msg);
    pb_field f;
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    CHECK_UINT(f.num, 1);
    CHECK_UINT(f.value, 150);
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    CHECK_UINT(f.num, 9);
    CHECK_UINT(f.value, 0x0807060504030201ULL);
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    CHECK_UINT(f.num, 2);
    CHECK_UINT(f.wire, PB_FIXED32);
    CHECK_UINT(f.value, 0x12345678);
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    const uint8_t *s;
    size_t n;
    CHECK_OK(pb_string(&t.ctx, &t.r, &f, &s, &n));
    CHECK_MEM(s, n, "hi", 2);
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    CHECK_UINT(f.num, 10);
    CHECK_UINT(f.len, 1);
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 0);
}

static void expect_error(const uint8_t *msg, size_t len, const char *want)
{
    rd t;
    rd_init(&t, msg, len);
    pb_field f;
    int rc;
    while ((rc = pb_next(&t.ctx, &t.r, &f)) > 0) {
    }
    CHECK_INT(rc, O2P_EINVAL);
    CHECK_STR(t.err.msg, want);
}

TEST(pb_reader_errors)
{
    static const uint8_t group[] = {0x08, 0x01, 0x0b};
    expect_error(group, sizeof group,
                 "one: groups (wire types 3 and 4) are not supported by OTLP at byte 2");
    static const uint8_t wire6[] = {0x0e};
    expect_error(wire6, sizeof wire6, "one: invalid wire type 6 at byte 0");
    static const uint8_t wire7[] = {0x17};
    expect_error(wire7, sizeof wire7, "two: invalid wire type 7 at byte 0");
    static const uint8_t field0[] = {0x00, 0x00};
    expect_error(field0, sizeof field0, "invalid field number 0 at byte 0");
    static const uint8_t short_len[] = {0x1a, 0x05, 'a', 'b'};
    expect_error(short_len, sizeof short_len, "name: truncated length-delimited field at byte 0");
    static const uint8_t short_fixed64[] = {0x09, 1, 2, 3};
    expect_error(short_fixed64, sizeof short_fixed64, "one: truncated fixed64 field at byte 0");
    static const uint8_t short_fixed32[] = {0x08, 0x00, 0x15, 1};
    expect_error(short_fixed32, sizeof short_fixed32, "two: truncated fixed32 field at byte 2");
    static const uint8_t short_varint[] = {0x08, 0x80};
    expect_error(short_varint, sizeof short_varint, "one: truncated varint at byte 0");
    static const uint8_t long_varint[] = {0x08, 0xff, 0xff, 0xff, 0xff, 0xff,
                                          0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    expect_error(long_varint, sizeof long_varint, "one: varint longer than 10 bytes at byte 0");
    static const uint8_t short_tag[] = {0x80};
    expect_error(short_tag, sizeof short_tag, "truncated field tag at byte 0");
}

TEST(pb_reader_typed_values)
{
    /* 3: invalid UTF-8; 3: 17 bytes (> max_string 16); 1: id of 3 bytes; 2: wrong wire */
    static const uint8_t msg[] = {0x1a, 0x02, 0xc3, 0x28, 0x1a, 0x11, 'a', 'a', 'a',  'a',
                                  'a',  'a',  'a',  'a',  'a',  'a',  'a', 'a', 'a',  'a',
                                  'a',  'a',  'a',  0x0a, 0x03, 1,    2,   3,   0x10, 0x01};
    rd t;
    rd_init(&t, msg, sizeof msg);
    CHECK_OK(pb_push(&t.ctx, "outer", 2, msg));
    pb_field f;
    const uint8_t *s;
    size_t n;
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    CHECK_INT(pb_string(&t.ctx, &t.r, &f, &s, &n), O2P_EINVAL);
    CHECK_STR(t.err.msg, "outer[2].name: invalid UTF-8 at byte 0");
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    CHECK_INT(pb_string(&t.ctx, &t.r, &f, &s, &n), O2P_ELIMIT);
    CHECK_STR(t.err.msg, "outer[2].name: 17 bytes exceed the limit of 16 at byte 4");
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    uint8_t id[16];
    CHECK_INT(pb_id(&t.ctx, &t.r, &f, id, 16, &n), O2P_EINVAL);
    CHECK_STR(t.err.msg, "outer[2].one: expected 16 bytes, got 3 at byte 23");
    CHECK_INT(pb_next(&t.ctx, &t.r, &f), 1);
    uint64_t v;
    CHECK_INT(pb_scalar(&t.ctx, &t.r, &f, PB_FIXED64, &v), O2P_EINVAL);
    CHECK_STR(t.err.msg, "outer[2].two: expected wire type fixed64, got varint at byte 28");
    CHECK_OK(pb_scalar(&t.ctx, &t.r, &f, PB_VARINT, &v));
    CHECK_UINT(v, 1);
}

TEST(pb_reader_depth_limit)
{
    static const uint8_t msg[] = {0};
    rd t;
    rd_init(&t, msg, 1);
    for (int i = 0; i < 4; i++) CHECK_OK(pb_push(&t.ctx, "a", i, msg));
    CHECK_INT(pb_push(&t.ctx, "deep", -1, msg), O2P_ELIMIT);
    CHECK_STR(t.err.msg, "a[0].a[1].a[2].a[3].deep: nesting deeper than 4 levels at byte 0");
    pb_pop(&t.ctx);
    CHECK_OK(pb_push(&t.ctx, "ok", -1, msg));
}

TEST(pb_reader_zigzag_and_fixed)
{
    CHECK_INT(pb_zigzag32(0), 0);
    CHECK_INT(pb_zigzag32(1), -1);
    CHECK_INT(pb_zigzag32(2), 1);
    CHECK_INT(pb_zigzag32(4294967295u), INT32_MIN);
    static const uint8_t b[] = {0xef, 0xcd, 0xab, 0x89, 0x67, 0x45, 0x23, 0x01};
    CHECK_UINT(pb_le64(b), 0x0123456789abcdefULL);
    CHECK_UINT(pb_le32(b), 0x89abcdefu);
}

TEST(pb_reader_take_len)
{
    /* tag 0x0a, a two-byte length (130) and its payload */
    uint8_t two[2 + 1 + 130];
    two[0] = 0x0a;
    two[1] = 0x82;
    two[2] = 0x01;
    memset(two + 3, 'x', 130);
    const uint8_t *p = two, *out;
    size_t n;
    CHECK_INT(pb_take_len(&p, two + sizeof two, 0x0a, &out, &n), 1);
    CHECK_UINT(n, 130);
    CHECK(out == two + 3 && p == two + sizeof two);
    /* the payload one byte short, another tag, nothing left: untouched */
    p = two;
    CHECK_INT(pb_take_len(&p, two + sizeof two - 1, 0x0a, &out, &n), 0);
    CHECK(p == two);
    CHECK_INT(pb_take_len(&p, two + sizeof two, 0x12, &out, &n), 0);
    CHECK_INT(pb_take_len(&p, two, 0x0a, &out, &n), 0);
    CHECK(p == two);
    /* a truncated length varint, an 11-byte one, an overlong (but valid) one */
    static const uint8_t truncated[] = {0x0a, 0x80};
    static const uint8_t eleven[] = {0x0a, 0x80, 0x80, 0x80, 0x80, 0x80,
                                     0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
    static const uint8_t overlong[] = {0x0a, 0x81, 0x80, 0x80, 0x00, 'y'};
    p = truncated;
    CHECK_INT(pb_take_len(&p, truncated + sizeof truncated, 0x0a, &out, &n), 0);
    p = eleven;
    CHECK_INT(pb_take_len(&p, eleven + sizeof eleven, 0x0a, &out, &n), 0);
    CHECK(p == eleven);
    p = overlong;
    CHECK_INT(pb_take_len(&p, overlong + sizeof overlong, 0x0a, &out, &n), 1);
    CHECK_UINT(n, 1);
    CHECK(out[0] == 'y' && p == overlong + sizeof overlong);
    /* a length near 2^64 does not wrap the bounds check */
    static const uint8_t huge[] = {0x0a, 0xff, 0xff, 0xff, 0xff, 0xff,
                                   0xff, 0xff, 0xff, 0xff, 0x01};
    p = huge;
    CHECK_INT(pb_take_len(&p, huge + sizeof huge, 0x0a, &out, &n), 0);
}
