/* Unit tests for the protobuf decoders: hand-built requests for each signal
 * (fields deliberately out of order, packed and unpacked repeats, every
 * AnyValue form), error paths, and the reference .pb files when present. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "col_peek.h"
#include "core/mem.h"
#include "otlp/otlp.h"
#include "otlp/otlp_pb.h"
#include "pb_build.h"
#include "unit.h"

#define T0       1700000000123456789ULL
#define UPSTREAM "../shared/upstream-testdata/"

typedef struct dec {
    tbl_schemas schemas;
    tbl_batch batch;
    otlp_decoder *d;
    otlp_stats stats;
    o2p_error err;
    o2p_buf req;
} dec;

static void dec_init(dec *t)
{
    memset(t, 0, sizeof *t);
    CHECK_OK(tbl_schemas_init(&t->schemas, TBL_TS_NANOS, &t->err));
    tbl_batch_init(&t->batch, &t->schemas);
    otlp_options o;
    otlp_options_default(&o);
    CHECK_OK(otlp_decoder_create(&t->d, &o, &t->err));
    buf_init(&t->req, 0);
}

static void dec_free(dec *t)
{
    otlp_decoder_destroy(t->d);
    tbl_batch_free(&t->batch);
    tbl_schemas_free(&t->schemas);
    buf_free(&t->req);
}

static int dec_run(dec *t, otlp_signal sig, const uint8_t *body, size_t len)
{
    tbl_batch_reset(&t->batch);
    memset(&t->stats, 0, sizeof t->stats);
    o2p_error_clear(&t->err);
    return otlp_decode(t->d, sig, OTLP_FMT_PROTOBUF, body, len, 99, &t->batch, &t->stats, &t->err);
}

static void check_groups(const tbl_batch *b)
{
    for (size_t i = 0; i < b->cap; i++) {
        if (!b->groups[i].in_use) continue;
        o2p_error err = {0};
        CHECK_MSG(pq_colset_check(&b->groups[i].rows, &err) == 0, "colset: %s", err.msg);
    }
}

static tbl_group *group_of(tbl_batch *b, tbl_id table)
{
    for (size_t i = 0; i < b->cap; i++)
        if (b->groups[i].in_use && b->groups[i].table == table) return &b->groups[i];
    CHECK_MSG(0, "no group for table %d", (int)table);
    return NULL;
}

/* AnyValue helpers writing field `num` */
static void av_begin_kv(o2p_buf *b, const char *key, size_t *kv, size_t *av)
{
    *kv = pbw_begin(b, 6);
    pbw_str(b, 1, key);
    *av = pbw_begin(b, 2);
}

/* A LogRecord exercising every AnyValue form and out-of-order fields. */
static void build_rich_record(o2p_buf *b)
{
    size_t rec = pbw_begin(b, 2);
    size_t kv, av;
    av_begin_kv(b, "b", &kv, &av);
    pbw_uint(b, 2, 1);
    pbw_end(b, av);
    pbw_end(b, kv);
    pbw_kv_int(b, 6, "i", -5);
    av_begin_kv(b, "d", &kv, &av);
    pbw_double(b, 4, 0.1);
    pbw_end(b, av);
    pbw_end(b, kv);
    av_begin_kv(b, "big", &kv, &av);
    pbw_double(b, 4, 1e21);
    pbw_end(b, av);
    pbw_end(b, kv);
    av_begin_kv(b, "nan", &kv, &av);
    pbw_double(b, 4, NAN);
    pbw_end(b, av);
    pbw_end(b, kv);
    av_begin_kv(b, "bytes", &kv, &av);
    pbw_bytes(b, 7, "\x01\x02\x03\xff", 4);
    pbw_end(b, av);
    pbw_end(b, kv);
    av_begin_kv(b, "empty", &kv, &av);
    pbw_end(b, av);
    pbw_end(b, kv);
    /* a oneof given twice: the last member wins */
    av_begin_kv(b, "twice", &kv, &av);
    pbw_str(b, 1, "first");
    pbw_uint(b, 3, 7);
    pbw_end(b, av);
    pbw_end(b, kv);
    pbw_kv_str(b, 6, "i", "dup"); /* duplicate key: last wins */
    /* body: kvlist {"s":"x\"y","arr":[1,true,-Inf,null,"AQ==",{"k":2.5}],"none":null} */
    size_t body = pbw_begin(b, 5);
    size_t kvl = pbw_begin(b, 6);
    pbw_kv_str(b, 1, "s", "x\"y");
    size_t e = pbw_begin(b, 1);
    pbw_str(b, 1, "arr");
    size_t arr_av = pbw_begin(b, 2);
    size_t arr = pbw_begin(b, 5);
    size_t v = pbw_begin(b, 1);
    pbw_uint(b, 3, 1);
    pbw_end(b, v);
    v = pbw_begin(b, 1);
    pbw_uint(b, 2, 1);
    pbw_end(b, v);
    v = pbw_begin(b, 1);
    pbw_double(b, 4, -INFINITY);
    pbw_end(b, v);
    v = pbw_begin(b, 1);
    pbw_end(b, v);
    v = pbw_begin(b, 1);
    pbw_bytes(b, 7, "\x01", 1);
    pbw_end(b, v);
    v = pbw_begin(b, 1);
    size_t inner = pbw_begin(b, 6);
    size_t ikv = pbw_begin(b, 1);
    pbw_str(b, 1, "k");
    size_t iav = pbw_begin(b, 2);
    pbw_double(b, 4, 2.5);
    pbw_end(b, iav);
    pbw_end(b, ikv);
    pbw_end(b, inner);
    pbw_end(b, v);
    pbw_end(b, arr);
    pbw_end(b, arr_av);
    pbw_end(b, e);
    e = pbw_begin(b, 1);
    pbw_str(b, 1, "none");
    pbw_end(b, e);
    pbw_end(b, kvl);
    pbw_end(b, body);
    uint8_t tid[16], sid[8];
    for (int i = 0; i < 16; i++) tid[i] = (uint8_t)i;
    for (int i = 0; i < 8; i++) sid[i] = (uint8_t)(0xf0 + i);
    pbw_bytes(b, 9, tid, 16);
    pbw_bytes(b, 10, sid, 8);
    pbw_fixed32(b, 8, 1);
    pbw_uint(b, 2, 17);
    pbw_str(b, 3, "ERROR");
    pbw_str(b, 12, "my.event");
    pbw_fixed64(b, 11, T0 + 1);
    pbw_fixed64(b, 1, T0);
    pbw_uint(b, 99, 5); /* unknown field */
    pbw_end(b, rec);
}

static void build_logs_request(o2p_buf *b)
{
    size_t rl = pbw_begin(b, 1);
    /* scope_logs before resource and schema_url: order must not matter */
    size_t sl = pbw_begin(b, 2);
    build_rich_record(b);
    size_t rec = pbw_begin(b, 2); /* a minimal record: everything absent */
    pbw_end(b, rec);
    size_t sc = pbw_begin(b, 1);
    pbw_str(b, 1, "scope-lib");
    pbw_str(b, 2, "2.0");
    pbw_kv_str(b, 3, "sk", "sv");
    pbw_uint(b, 4, 7);
    pbw_end(b, sc);
    pbw_str(b, 3, "scope-url");
    pbw_end(b, sl);
    size_t res = pbw_begin(b, 1);
    pbw_kv_str(b, 1, "service.name", "checkout");
    pbw_kv_int(b, 1, "pid", 42);
    pbw_end(b, res);
    pbw_str(b, 3, "res-url");
    pbw_end(b, rl);
}

static const char *attr_value(const pq_column *key, size_t first, size_t count, const char *k,
                              char *out, size_t cap)
{
    char tmp[64];
    for (size_t i = first; i < first + count; i++)
        if (strcmp(peek_str(key, i, tmp, sizeof tmp), k) == 0)
            return peek_str(key + 1, i, out, cap);
    return "(absent)";
}

TEST(pb_decode_logs_rich_record)
{
    dec t;
    dec_init(&t);
    build_logs_request(&t.req);
    int rc = dec_run(&t, OTLP_LOGS, t.req.data, t.req.len);
    CHECK_MSG(rc == 0, "decode: %s", t.err.msg);
    CHECK_UINT(t.stats.rows[TBL_LOGS], 2);
    check_groups(&t.batch);
    tbl_group *g = group_of(&t.batch, TBL_LOGS);
    CHECK_STR(g->service, "checkout");
    /* the minimal record falls back to the receive time: another hour group */
    CHECK_UINT(t.batch.num_groups, 2);
    pq_column *c = g->rows.cols;
    char s[256];
    CHECK_INT(peek_i64(&c[LOG_TIMESTAMP], 0), (int64_t)T0);
    CHECK_INT(peek_i64(&c[LOG_OBSERVED_TIMESTAMP], 0), (int64_t)T0 + 1);
    CHECK_STR(peek_str(&c[LOG_TRACE_ID], 0, s, sizeof s), "000102030405060708090a0b0c0d0e0f");
    CHECK_STR(peek_str(&c[LOG_SPAN_ID], 0, s, sizeof s), "f0f1f2f3f4f5f6f7");
    CHECK_INT(peek_i32(&c[LOG_TRACE_FLAGS], 0), 1);
    CHECK_INT(peek_i32(&c[LOG_SEVERITY_NUMBER], 0), 17);
    CHECK_STR(peek_str(&c[LOG_SEVERITY_TEXT], 0, s, sizeof s), "ERROR");
    CHECK_STR(peek_str(&c[LOG_EVENT_NAME], 0, s, sizeof s), "my.event");
    CHECK_STR(
        peek_str(&c[LOG_BODY], 0, s, sizeof s),
        "{\"s\":\"x\\\"y\",\"arr\":[1,true,\"-Inf\",null,\"AQ==\",{\"k\":2.5}],\"none\":null}");
    CHECK_STR(peek_str(&c[LOG_RESOURCE_SCHEMA_URL], 0, s, sizeof s), "res-url");
    CHECK_STR(peek_str(&c[LOG_SCOPE_SCHEMA_URL], 0, s, sizeof s), "scope-url");
    CHECK_STR(peek_str(&c[LOG_SCOPE_NAME], 0, s, sizeof s), "scope-lib");
    CHECK_STR(peek_str(&c[LOG_SCOPE_VERSION], 0, s, sizeof s), "2.0");
    CHECK_STR(attr_value(&c[LOG_RESOURCE_ATTRS], 0, 2, "pid", s, sizeof s), "42");
    CHECK_STR(attr_value(&c[LOG_SCOPE_ATTRS], 0, 1, "sk", s, sizeof s), "sv");
    const pq_column *la = &c[LOG_ATTRS];
    CHECK_UINT(la->num_values, 8); /* 9 items, "i" given twice */
    CHECK_STR(attr_value(la, 0, 8, "b", s, sizeof s), "true");
    CHECK_STR(attr_value(la, 0, 8, "i", s, sizeof s), "dup");
    CHECK_STR(attr_value(la, 0, 8, "d", s, sizeof s), "0.1");
    CHECK_STR(attr_value(la, 0, 8, "big", s, sizeof s), "1e+21");
    CHECK_STR(attr_value(la, 0, 8, "nan", s, sizeof s), "NaN");
    CHECK_STR(attr_value(la, 0, 8, "bytes", s, sizeof s), "AQID/w==");
    CHECK_STR(attr_value(la, 0, 8, "empty", s, sizeof s), "");
    CHECK_STR(attr_value(la, 0, 8, "twice", s, sizeof s), "7");
    /* the minimal record */
    tbl_group *g2 = NULL;
    for (size_t i = 0; i < t.batch.cap; i++)
        if (t.batch.groups[i].in_use && &t.batch.groups[i] != g) g2 = &t.batch.groups[i];
    CHECK(g2 != NULL);
    c = g2->rows.cols;
    CHECK_INT(peek_i64(&c[LOG_TIMESTAMP], 0), 99);
    CHECK_STR(peek_str(&c[LOG_BODY], 0, s, sizeof s), "");
    CHECK_STR(peek_str(&c[LOG_TRACE_ID], 0, s, sizeof s), "");
    CHECK_STR(peek_str(&c[LOG_SCOPE_NAME], 0, s, sizeof s), "scope-lib");
    dec_free(&t);
}

/* One ResourceLogs/ScopeLogs around the record bytes built by `fill`. */
static void wrap_log_record(o2p_buf *b, void (*fill)(o2p_buf *))
{
    size_t rl = pbw_begin(b, 1);
    size_t sl = pbw_begin(b, 2);
    size_t ok = pbw_begin(b, 2);
    pbw_fixed64(b, 1, T0);
    pbw_end(b, ok);
    size_t rec = pbw_begin(b, 2);
    fill(b);
    pbw_end(b, rec);
    pbw_end(b, sl);
    pbw_end(b, rl);
}

static void fill_bad_trace_id(o2p_buf *b)
{
    pbw_bytes(b, 9, "abc", 3);
}
static void fill_bad_utf8(o2p_buf *b)
{
    pbw_kv_str(b, 6, "k", "\xc3\x28");
}
static void fill_truncated_body(o2p_buf *b)
{
    size_t body = pbw_begin(b, 5);
    pbw_tag(b, 1, 2);
    pbw_varint(b, 50); /* claims 50 bytes, has 1 */
    buf_push_byte(b, 'x');
    pbw_end(b, body);
}
static void fill_wrong_wire(o2p_buf *b)
{
    pbw_uint(b, 1, 5);
}

TEST(pb_decode_logs_errors_name_the_field)
{
    static const struct {
        void (*fill)(o2p_buf *);
        const char *want;
    } cases[] = {
        {fill_bad_trace_id,
         "resourceLogs[0].scopeLogs[0].logRecords[1].traceId: expected 16 bytes, got 3 at byte 17"},
        {fill_bad_utf8, "resourceLogs[0].scopeLogs[0].logRecords[1].attributes[0].value."
                        "stringValue: invalid UTF-8 at byte 24"},
        {fill_truncated_body, "resourceLogs[0].scopeLogs[0].logRecords[1].body.stringValue: "
                              "truncated length-delimited field at byte 19"},
        {fill_wrong_wire, "resourceLogs[0].scopeLogs[0].logRecords[1].timeUnixNano: expected "
                          "wire type fixed64, got varint at byte 17"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        dec t;
        dec_init(&t);
        wrap_log_record(&t.req, cases[i].fill);
        CHECK(dec_run(&t, OTLP_LOGS, t.req.data, t.req.len) < 0);
        CHECK_STR(t.err.msg, cases[i].want);
        dec_free(&t);
    }
}

/* Bodies and attribute values that are one stringValue are read by a fast
 * path; every other layout takes the general one.  Both give the same rows
 * and the same limits and errors. */
static void fill_string_layouts(o2p_buf *b)
{
    size_t kv, av;
    pbw_fixed64(b, 1, T0); /* the same hour group as the first record */
    pbw_kv_str(b, 6, "plain", "v1");
    /* value before key; an unknown field in the KeyValue and in the AnyValue */
    kv = pbw_begin(b, 6);
    av = pbw_begin(b, 2);
    pbw_str(b, 1, "v2");
    pbw_end(b, av);
    pbw_str(b, 1, "swapped");
    pbw_end(b, kv);
    kv = pbw_begin(b, 6);
    pbw_str(b, 1, "extra");
    av = pbw_begin(b, 2);
    pbw_str(b, 1, "v3");
    pbw_uint(b, 9, 1);
    pbw_end(b, av);
    pbw_end(b, kv);
    kv = pbw_begin(b, 6); /* a key without a value */
    pbw_str(b, 1, "novalue");
    pbw_end(b, kv);
    pbw_kv_str(b, 6, "exact", "12345678"); /* max_string bytes */
    /* a string body, then a repeated int body: the int wins */
    av = pbw_begin(b, 5);
    pbw_str(b, 1, "body1");
    pbw_end(b, av);
    av = pbw_begin(b, 5);
    pbw_uint(b, 3, 7);
    pbw_end(b, av);
}

static void fill_int_then_string_body(o2p_buf *b)
{
    pbw_fixed64(b, 1, T0);
    size_t av = pbw_begin(b, 5);
    pbw_uint(b, 3, 7);
    pbw_end(b, av);
    av = pbw_begin(b, 5);
    pbw_str(b, 1, "last");
    pbw_end(b, av);
}

static void fill_long_attr(o2p_buf *b)
{
    pbw_kv_str(b, 6, "k", "123456789");
}
static void fill_long_key(o2p_buf *b)
{
    pbw_kv_str(b, 6, "123456789", "v");
}
static void fill_long_body(o2p_buf *b)
{
    size_t av = pbw_begin(b, 5);
    pbw_str(b, 1, "123456789");
    pbw_end(b, av);
}
static void fill_bad_utf8_body(o2p_buf *b)
{
    size_t av = pbw_begin(b, 5);
    pbw_str(b, 1, "\xed\xa0\x80"); /* a surrogate */
    pbw_end(b, av);
}

static void small_strings_init(dec *t)
{
    dec_init(t);
    otlp_decoder_destroy(t->d);
    otlp_options o;
    otlp_options_default(&o);
    o.max_string_bytes = 8;
    CHECK_OK(otlp_decoder_create(&t->d, &o, &t->err));
}

TEST(pb_decode_string_fast_paths)
{
    dec t;
    small_strings_init(&t);
    wrap_log_record(&t.req, fill_string_layouts);
    int rc = dec_run(&t, OTLP_LOGS, t.req.data, t.req.len);
    CHECK_MSG(rc == 0, "decode: %s", t.err.msg);
    pq_column *c = group_of(&t.batch, TBL_LOGS)->rows.cols;
    char s[64];
    CHECK_STR(peek_str(&c[LOG_BODY], 0, s, sizeof s), "");
    CHECK_STR(peek_str(&c[LOG_BODY], 1, s, sizeof s), "7");
    const pq_column *la = &c[LOG_ATTRS];
    CHECK_UINT(la->num_values, 5); /* the first record's map is empty */
    CHECK_STR(attr_value(la, 0, 5, "plain", s, sizeof s), "v1");
    CHECK_STR(attr_value(la, 0, 5, "swapped", s, sizeof s), "v2");
    CHECK_STR(attr_value(la, 0, 5, "extra", s, sizeof s), "v3");
    CHECK_STR(attr_value(la, 0, 5, "novalue", s, sizeof s), "");
    CHECK_STR(attr_value(la, 0, 5, "exact", s, sizeof s), "12345678");
    dec_free(&t);

    small_strings_init(&t);
    wrap_log_record(&t.req, fill_int_then_string_body);
    CHECK_OK(dec_run(&t, OTLP_LOGS, t.req.data, t.req.len));
    c = group_of(&t.batch, TBL_LOGS)->rows.cols;
    CHECK_STR(peek_str(&c[LOG_BODY], 1, s, sizeof s), "last");
    dec_free(&t);

    static const struct {
        void (*fill)(o2p_buf *);
        const char *want;
    } cases[] = {
        {fill_long_attr, "resourceLogs[0].scopeLogs[0].logRecords[1].attributes[0].value."
                         "stringValue: 9 bytes exceed the limit of 8 at byte 24"},
        {fill_long_key, "resourceLogs[0].scopeLogs[0].logRecords[1].attributes[0].key: 9 bytes "
                        "exceed the limit of 8 at byte 19"},
        {fill_long_body, "resourceLogs[0].scopeLogs[0].logRecords[1].body.stringValue: 9 bytes "
                         "exceed the limit of 8 at byte 19"},
        {fill_bad_utf8_body, "resourceLogs[0].scopeLogs[0].logRecords[1].body.stringValue: "
                             "invalid UTF-8 at byte 19"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        small_strings_init(&t);
        wrap_log_record(&t.req, cases[i].fill);
        CHECK(dec_run(&t, OTLP_LOGS, t.req.data, t.req.len) < 0);
        CHECK_STR(t.err.msg, cases[i].want);
        dec_free(&t);
    }
}

TEST(pb_decode_depth_limit)
{
    dec t;
    dec_init(&t);
    /* a body of arrays nested 200 deep */
    o2p_buf inner;
    buf_init(&inner, 0);
    for (int i = 0; i < 200; i++) {
        o2p_buf next;
        buf_init(&next, 0);
        size_t arr = pbw_begin(&next, 5);
        pbw_bytes(&next, 1, inner.data, inner.len);
        pbw_end(&next, arr);
        buf_free(&inner);
        inner = next;
    }
    size_t rl = pbw_begin(&t.req, 1);
    size_t sl = pbw_begin(&t.req, 2);
    size_t rec = pbw_begin(&t.req, 2);
    pbw_bytes(&t.req, 5, inner.data, inner.len);
    pbw_end(&t.req, rec);
    pbw_end(&t.req, sl);
    pbw_end(&t.req, rl);
    buf_free(&inner);
    CHECK_INT(dec_run(&t, OTLP_LOGS, t.req.data, t.req.len), O2P_ELIMIT);
    CHECK(strstr(t.err.msg, "nesting deeper than 64 levels") != NULL);
    dec_free(&t);
}

TEST(pb_decode_empty_and_garbage)
{
    dec t;
    dec_init(&t);
    CHECK_OK(dec_run(&t, OTLP_TRACES, (const uint8_t *)"", 0));
    CHECK_UINT(tbl_batch_rows(&t.batch, TBL_COUNT), 0);
    static const uint8_t garbage[] = {0x0a, 0x03, 0x12, 0x05, 0x0a};
    CHECK_INT(dec_run(&t, OTLP_METRICS, garbage, sizeof garbage), O2P_EINVAL);
    CHECK_STR(t.err.msg,
              "resourceMetrics[0].scopeMetrics: truncated length-delimited field at byte 2");
    dec_free(&t);
}

TEST(pb_decode_traces_span)
{
    dec t;
    dec_init(&t);
    o2p_buf *b = &t.req;
    size_t rs = pbw_begin(b, 1);
    size_t res = pbw_begin(b, 1);
    pbw_kv_str(b, 1, "service.name", "api");
    pbw_end(b, res);
    size_t ss = pbw_begin(b, 2);
    size_t span = pbw_begin(b, 2);
    uint8_t tid[16] = {0}, sid[8] = {1, 2, 3, 4, 5, 6, 7, 8}, psid[8] = {0};
    tid[15] = 0xab;
    pbw_bytes(b, 1, tid, 16);
    pbw_bytes(b, 2, sid, 8);
    pbw_bytes(b, 4, psid, 8); /* all-zero parent: "" */
    pbw_str(b, 3, "k=v");
    pbw_str(b, 5, "GET /");
    pbw_uint(b, 6, 3);
    pbw_fixed64(b, 7, T0);
    pbw_fixed64(b, 8, T0 + 2500);
    pbw_kv_str(b, 9, "http.method", "GET");
    size_t ev = pbw_begin(b, 11);
    pbw_fixed64(b, 1, T0 + 10);
    pbw_str(b, 2, "exception");
    pbw_kv_str(b, 3, "exception.type", "E");
    pbw_end(b, ev);
    ev = pbw_begin(b, 11);
    pbw_str(b, 2, "second");
    pbw_end(b, ev);
    size_t ln = pbw_begin(b, 13);
    pbw_bytes(b, 1, tid, 16);
    pbw_bytes(b, 2, sid, 8);
    pbw_str(b, 3, "ls");
    pbw_kv_str(b, 4, "lk", "lv");
    pbw_fixed32(b, 6, 1);
    pbw_end(b, ln);
    size_t st = pbw_begin(b, 15);
    pbw_str(b, 2, "boom");
    pbw_uint(b, 3, 2);
    pbw_end(b, st);
    pbw_fixed32(b, 16, 0x100);
    pbw_end(b, span);
    span = pbw_begin(b, 2); /* second span: no events, no links */
    pbw_fixed64(b, 7, T0);
    pbw_uint(b, 6, 0xffffffffffffffffULL); /* kind -1: unknown */
    pbw_end(b, span);
    size_t sc = pbw_begin(b, 1);
    pbw_str(b, 1, "tracer");
    pbw_end(b, sc);
    pbw_end(b, ss);
    pbw_end(b, rs);
    int rc = dec_run(&t, OTLP_TRACES, b->data, b->len);
    CHECK_MSG(rc == 0, "decode: %s", t.err.msg);
    CHECK_UINT(t.stats.rows[TBL_TRACES], 2);
    check_groups(&t.batch);
    tbl_group *g = group_of(&t.batch, TBL_TRACES);
    pq_column *c = g->rows.cols;
    char s[128];
    CHECK_STR(g->service, "api");
    CHECK_STR(peek_str(&c[TR_TRACE_ID], 0, s, sizeof s), "000000000000000000000000000000ab");
    CHECK_STR(peek_str(&c[TR_SPAN_ID], 0, s, sizeof s), "0102030405060708");
    CHECK_STR(peek_str(&c[TR_PARENT_SPAN_ID], 0, s, sizeof s), "");
    CHECK_STR(peek_str(&c[TR_TRACE_STATE], 0, s, sizeof s), "k=v");
    CHECK_STR(peek_str(&c[TR_SPAN_NAME], 0, s, sizeof s), "GET /");
    CHECK_STR(peek_str(&c[TR_SPAN_KIND], 0, s, sizeof s), "SPAN_KIND_CLIENT");
    CHECK_STR(peek_str(&c[TR_SPAN_KIND], 1, s, sizeof s), "SPAN_KIND_UNSPECIFIED");
    CHECK_STR(peek_str(&c[TR_SCOPE_NAME], 1, s, sizeof s), "tracer");
    CHECK_INT(peek_i64(&c[TR_DURATION], 0), 2500);
    CHECK_STR(peek_str(&c[TR_STATUS_CODE], 0, s, sizeof s), "STATUS_CODE_ERROR");
    CHECK_STR(peek_str(&c[TR_STATUS_MESSAGE], 0, s, sizeof s), "boom");
    CHECK_UINT(c[TR_EVENTS_NAME].num_values, 2);
    CHECK_STR(peek_str(&c[TR_EVENTS_NAME], 1, s, sizeof s), "second");
    CHECK_INT(peek_i64(&c[TR_EVENTS_TIMESTAMP], 0), (int64_t)T0 + 10);
    CHECK_STR(peek_str(&c[TR_EVENTS_ATTRS + 1], 0, s, sizeof s), "E");
    CHECK_UINT(c[TR_EVENTS_ATTRS].num_entries, 3); /* E | empty map | empty list */
    CHECK_STR(peek_str(&c[TR_LINKS_SPAN_ID], 0, s, sizeof s), "0102030405060708");
    CHECK_STR(peek_str(&c[TR_LINKS_TRACE_STATE], 0, s, sizeof s), "ls");
    CHECK_STR(peek_str(&c[TR_LINKS_ATTRS + 1], 0, s, sizeof s), "lv");
    dec_free(&t);
}

/* Metric `name` whose data message (field data_field) is filled by `fill`. */
static void put_metric(o2p_buf *b, const char *name, uint32_t data_field, void (*fill)(o2p_buf *))
{
    size_t m = pbw_begin(b, 2);
    size_t d = pbw_begin(b, data_field);
    fill(b);
    pbw_end(b, d);
    pbw_str(b, 1, name); /* after the data on purpose */
    pbw_str(b, 3, "ms");
    pbw_end(b, m);
}

static void fill_gauge(o2p_buf *b)
{
    size_t p = pbw_begin(b, 1);
    pbw_fixed64(b, 3, T0);
    pbw_tag(b, 6, 1);
    pbw_le(b, (uint64_t)-3, 8); /* as_int -3 */
    size_t ex = pbw_begin(b, 5);
    pbw_fixed64(b, 2, T0);
    pbw_tag(b, 6, 1);
    pbw_le(b, 9, 8);
    pbw_kv_str(b, 7, "fk", "fv");
    uint8_t sid[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    pbw_bytes(b, 4, sid, 8);
    pbw_end(b, ex);
    pbw_kv_str(b, 7, "host", "a");
    pbw_end(b, p);
    p = pbw_begin(b, 1); /* no value: rejected */
    pbw_fixed64(b, 3, T0);
    pbw_end(b, p);
}

static void fill_sum(o2p_buf *b)
{
    size_t p = pbw_begin(b, 1);
    pbw_fixed64(b, 3, T0);
    pbw_double(b, 4, 12.5);
    pbw_uint(b, 8, 1);
    pbw_end(b, p);
    pbw_uint(b, 2, 2); /* temporality and monotonic after the points */
    pbw_uint(b, 3, 1);
}

static void fill_histogram(o2p_buf *b)
{
    size_t p = pbw_begin(b, 1); /* packed */
    pbw_fixed64(b, 3, T0);
    pbw_fixed64(b, 4, 6);
    pbw_double(b, 5, 7.5);
    pbw_tag(b, 6, 2);
    pbw_varint(b, 24);
    pbw_le(b, 1, 8);
    pbw_le(b, 2, 8);
    pbw_le(b, 3, 8);
    pbw_tag(b, 7, 2);
    pbw_varint(b, 16);
    double bounds[2] = {1, 2};
    buf_append(b, bounds, 16);
    pbw_double(b, 11, -1);
    pbw_end(b, p);
    p = pbw_begin(b, 1); /* unpacked, no sum */
    pbw_fixed64(b, 3, T0);
    pbw_fixed64(b, 6, 4);
    pbw_fixed64(b, 6, 5);
    pbw_double(b, 7, 0.5);
    pbw_end(b, p);
    pbw_uint(b, 2, 1);
}

static void fill_exp_histogram(o2p_buf *b)
{
    size_t p = pbw_begin(b, 1);
    pbw_fixed64(b, 3, T0);
    pbw_fixed64(b, 4, 10);
    pbw_sint32(b, 6, -3);
    pbw_fixed64(b, 7, 2);
    size_t pos = pbw_begin(b, 8);
    pbw_sint32(b, 1, -2);
    pbw_tag(b, 2, 2); /* packed varints: 3, 1, 300 */
    pbw_varint(b, 4);
    pbw_varint(b, 3);
    pbw_varint(b, 1);
    pbw_varint(b, 300);
    pbw_end(b, pos);
    size_t neg = pbw_begin(b, 9);
    pbw_sint32(b, 1, 4);
    pbw_uint(b, 2, 5); /* unpacked */
    pbw_end(b, neg);
    pbw_double(b, 13, 99);
    pbw_end(b, p);
    pbw_uint(b, 2, 2);
}

static void fill_summary(o2p_buf *b)
{
    size_t p = pbw_begin(b, 1);
    pbw_fixed64(b, 3, T0);
    pbw_fixed64(b, 4, 3);
    pbw_double(b, 5, 6);
    size_t q = pbw_begin(b, 6);
    pbw_double(b, 1, 0.5);
    pbw_double(b, 2, 2);
    pbw_end(b, q);
    q = pbw_begin(b, 6);
    pbw_double(b, 2, 3);
    pbw_double(b, 1, 0.9);
    pbw_end(b, q);
    pbw_end(b, p);
}

TEST(pb_decode_metrics_all_kinds)
{
    dec t;
    dec_init(&t);
    o2p_buf *b = &t.req;
    size_t rm = pbw_begin(b, 1);
    size_t sm = pbw_begin(b, 2);
    put_metric(b, "g", 5, fill_gauge);
    put_metric(b, "s", 7, fill_sum);
    put_metric(b, "h", 9, fill_histogram);
    put_metric(b, "e", 10, fill_exp_histogram);
    put_metric(b, "q", 11, fill_summary);
    size_t sc = pbw_begin(b, 1);
    pbw_str(b, 1, "meter");
    pbw_uint(b, 4, 2);
    pbw_end(b, sc);
    pbw_end(b, sm);
    pbw_end(b, rm);
    int rc = dec_run(&t, OTLP_METRICS, b->data, b->len);
    CHECK_MSG(rc == 0, "decode: %s", t.err.msg);
    check_groups(&t.batch);
    CHECK_UINT(t.stats.rows[TBL_GAUGE], 1);
    CHECK_UINT(t.stats.rows[TBL_SUM], 1);
    CHECK_UINT(t.stats.rows[TBL_HISTOGRAM], 2);
    CHECK_UINT(t.stats.rows[TBL_EXP_HISTOGRAM], 1);
    CHECK_UINT(t.stats.rows[TBL_SUMMARY], 1);
    CHECK_UINT(t.stats.rejected, 1);
    CHECK_STR(t.stats.rejected_reason, "resourceMetrics[0].scopeMetrics[0].metrics[0].gauge."
                                       "dataPoints[1]: number data point without a value "
                                       "(asDouble or asInt)");
    char s[64];
    pq_column *c = group_of(&t.batch, TBL_GAUGE)->rows.cols;
    CHECK(peek_f64(&c[GAUGE_VALUE], 0) == -3);
    CHECK_STR(peek_str(&c[MET_METRIC_NAME], 0, s, sizeof s), "g");
    CHECK_STR(peek_str(&c[MET_METRIC_UNIT], 0, s, sizeof s), "ms");
    CHECK_STR(peek_str(&c[MET_SCOPE_NAME], 0, s, sizeof s), "meter");
    CHECK_INT(peek_i32(&c[MET_SCOPE_DROPPED_ATTR_COUNT], 0), 2);
    CHECK_STR(peek_str(&c[MET_ATTRS + 1], 0, s, sizeof s), "a");
    CHECK(peek_f64(&c[GAUGE_EXEMPLARS + EXEMPLAR_VALUE], 0) == 9);
    CHECK_STR(peek_str(&c[GAUGE_EXEMPLARS + EXEMPLAR_SPAN_ID], 0, s, sizeof s), "0909090909090909");
    CHECK_STR(peek_str(&c[GAUGE_EXEMPLARS + EXEMPLAR_TRACE_ID], 0, s, sizeof s), "");
    CHECK_STR(peek_str(&c[GAUGE_EXEMPLARS + EXEMPLAR_ATTRS + 1], 0, s, sizeof s), "fv");
    c = group_of(&t.batch, TBL_SUM)->rows.cols;
    CHECK(peek_f64(&c[SUM_VALUE], 0) == 12.5);
    CHECK_INT(peek_i32(&c[SUM_FLAGS], 0), 1);
    CHECK_INT(peek_i32(&c[SUM_AGG_TEMPORALITY], 0), 2);
    CHECK_INT(c[SUM_IS_MONOTONIC].values.data[0], 1);
    c = group_of(&t.batch, TBL_HISTOGRAM)->rows.cols;
    CHECK_UINT(c[HIST_BUCKET_COUNTS].num_values, 5);
    CHECK_INT(peek_i64(&c[HIST_BUCKET_COUNTS], 2), 3);
    CHECK_INT(peek_i64(&c[HIST_BUCKET_COUNTS], 4), 5);
    CHECK_INT(peek_rep(&c[HIST_BUCKET_COUNTS], 3), 0);
    CHECK_UINT(c[HIST_EXPLICIT_BOUNDS].num_values, 3);
    CHECK(peek_f64(&c[HIST_EXPLICIT_BOUNDS], 2) == 0.5);
    CHECK_UINT(c[HIST_SUM].num_values, 1);
    CHECK_INT(peek_def(&c[HIST_SUM], 1), 0);
    CHECK(peek_f64(&c[HIST_MIN], 0) == -1);
    CHECK_INT(peek_i32(&c[HIST_AGG_TEMPORALITY], 1), 1);
    c = group_of(&t.batch, TBL_EXP_HISTOGRAM)->rows.cols;
    CHECK_INT(peek_i32(&c[EXP_SCALE], 0), -3);
    CHECK_INT(peek_i64(&c[EXP_ZERO_COUNT], 0), 2);
    CHECK_INT(peek_i32(&c[EXP_POSITIVE_OFFSET], 0), -2);
    CHECK_INT(peek_i64(&c[EXP_POSITIVE_BUCKET_COUNTS], 2), 300);
    CHECK_INT(peek_i32(&c[EXP_NEGATIVE_OFFSET], 0), 4);
    CHECK_INT(peek_i64(&c[EXP_NEGATIVE_BUCKET_COUNTS], 0), 5);
    CHECK_UINT(c[EXP_MIN].num_values, 0);
    CHECK(peek_f64(&c[EXP_MAX], 0) == 99);
    c = group_of(&t.batch, TBL_SUMMARY)->rows.cols;
    CHECK_INT(peek_i64(&c[SUMMARY_COUNT], 0), 3);
    CHECK(peek_f64(&c[SUMMARY_QUANTILE], 1) == 0.9);
    CHECK(peek_f64(&c[SUMMARY_QUANTILE_VALUE], 1) == 3);
    dec_free(&t);
}

TEST(pb_decode_reuses_memory)
{
    dec t;
    dec_init(&t);
    build_logs_request(&t.req);
    CHECK_OK(dec_run(&t, OTLP_LOGS, t.req.data, t.req.len));
    CHECK_OK(dec_run(&t, OTLP_LOGS, t.req.data, t.req.len));
    mem_stats before, after;
    mem_get_stats(&before);
    for (int i = 0; i < 10; i++) CHECK_OK(dec_run(&t, OTLP_LOGS, t.req.data, t.req.len));
    mem_get_stats(&after);
    CHECK_UINT(after.allocations, before.allocations);
    dec_free(&t);
}

/* ---- reference files ---- */

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[256];
    snprintf(path, sizeof path, UPSTREAM "%s", name);
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *data = mem_alloc((size_t)n + 1);
    CHECK(data != NULL);
    CHECK_UINT(fread(data, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return data;
}

static int decode_file(dec *t, otlp_signal sig, const char *name)
{
    size_t len;
    uint8_t *data = slurp(name, &len);
    if (data == NULL) {
        printf("SKIP: %s not found (run from the repository root next to ../shared)\n", name);
        return 0;
    }
    int rc = dec_run(t, sig, data, len);
    CHECK_MSG(rc == 0, "%s: %s", name, t->err.msg);
    check_groups(&t->batch);
    mem_free(data);
    return 1;
}

TEST(pb_decode_upstream_logs)
{
    dec t;
    dec_init(&t);
    if (decode_file(&t, OTLP_LOGS, "logs.pb")) {
        CHECK_UINT(tbl_batch_rows(&t.batch, TBL_LOGS), 81);
        CHECK_UINT(t.stats.rows[TBL_LOGS], 81);
        CHECK_UINT(t.batch.num_groups, 6); /* six services, one hour */
        tbl_group *g = group_of(&t.batch, TBL_LOGS);
        char s[256];
        CHECK_STR(g->service, "product-catalog");
        pq_column *c = g->rows.cols;
        CHECK_STR(peek_str(&c[LOG_BODY], 0, s, sizeof s), "Product Found");
        CHECK_STR(peek_str(&c[LOG_TRACE_ID], 0, s, sizeof s), "a71f3d1a6d2d3cadb3669cbd50e165e4");
        CHECK_STR(peek_str(&c[LOG_SPAN_ID], 0, s, sizeof s), "34249d8b829f4116");
        CHECK_INT(peek_i32(&c[LOG_SEVERITY_NUMBER], 0), 9);
        CHECK_INT(peek_i64(&c[LOG_TIMESTAMP], 0), 1760741572254301000LL);
    }
    dec_free(&t);
}

TEST(pb_decode_upstream_traces)
{
    dec t;
    dec_init(&t);
    if (decode_file(&t, OTLP_TRACES, "traces.pb")) {
        CHECK_UINT(tbl_batch_rows(&t.batch, TBL_TRACES), 19);
        char s[64];
        pq_column *c = group_of(&t.batch, TBL_TRACES)->rows.cols;
        CHECK_UINT(strlen(peek_str(&c[TR_TRACE_ID], 0, s, sizeof s)), 32);
        CHECK_UINT(strlen(peek_str(&c[TR_SPAN_ID], 0, s, sizeof s)), 16);
        CHECK(strncmp(peek_str(&c[TR_SPAN_KIND], 0, s, sizeof s), "SPAN_KIND_", 10) == 0);
    }
    if (decode_file(&t, OTLP_TRACES, "trace.pb")) {
        /* values as trace.json spells them (ids there in base64) */
        tbl_group *g = group_of(&t.batch, TBL_TRACES);
        CHECK_STR(g->service, "frontend-proxy");
        pq_column *c = g->rows.cols;
        char s[64];
        CHECK_STR(peek_str(&c[TR_TRACE_ID], 0, s, sizeof s), "9d79b1a37f31801cd11a6706fb40d6bd");
        CHECK_STR(peek_str(&c[TR_SPAN_ID], 0, s, sizeof s), "de562439e9c1b823");
        CHECK_STR(peek_str(&c[TR_PARENT_SPAN_ID], 0, s, sizeof s), "57526846903bb13e");
        CHECK_STR(peek_str(&c[TR_SPAN_NAME], 0, s, sizeof s), "router frontend egress");
        CHECK_STR(peek_str(&c[TR_SPAN_KIND], 0, s, sizeof s), "SPAN_KIND_CLIENT");
        CHECK_INT(peek_i64(&c[TR_TIMESTAMP], 0), 1760738064624462000LL);
        CHECK_INT(peek_i64(&c[TR_DURATION], 0), 4021000);
    }
    dec_free(&t);
}

TEST(pb_decode_upstream_metrics)
{
    static const struct {
        const char *file;
        tbl_id table;
        size_t rows;
    } cases[] = {
        {"metrics_gauge.pb", TBL_GAUGE, 3},
        {"metrics_sum.pb", TBL_SUM, 4},
        {"metrics_histogram.pb", TBL_HISTOGRAM, 3},
        {"metrics_exponential_histogram.pb", TBL_EXP_HISTOGRAM, 2},
        {"metrics_summary.pb", TBL_SUMMARY, 2},
    };
    dec t;
    dec_init(&t);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (!decode_file(&t, OTLP_METRICS, cases[i].file)) continue;
        CHECK_MSG(tbl_batch_rows(&t.batch, cases[i].table) == cases[i].rows, "%s: %zu rows",
                  cases[i].file, tbl_batch_rows(&t.batch, cases[i].table));
        CHECK_UINT(tbl_batch_rows(&t.batch, TBL_COUNT), cases[i].rows);
        CHECK_UINT(t.stats.rejected, 0);
        pq_column *c = group_of(&t.batch, cases[i].table)->rows.cols;
        CHECK_INT(peek_i64(&c[MET_TIME_UNIX], 0), 1705327800000000000LL);
        char s[64];
        if (cases[i].table == TBL_GAUGE) {
            CHECK(peek_f64(&c[GAUGE_VALUE], 0) == 67.95700988434129);
            CHECK_STR(peek_str(&c[MET_METRIC_NAME], 0, s, sizeof s), "cpu.usage");
            CHECK_STR(peek_str(&c[MET_ATTRS + 1], 1, s, sizeof s), "0"); /* cpu: intValue 0 */
        } else if (cases[i].table == TBL_HISTOGRAM) {
            CHECK_INT(peek_i64(&c[HIST_COUNT], 0), 1543);
            CHECK(peek_f64(&c[HIST_SUM], 0) == 45120.5);
            CHECK_INT(peek_i64(&c[HIST_BUCKET_COUNTS], 1), 342);
            CHECK(peek_f64(&c[HIST_EXPLICIT_BOUNDS], 4) == 250.0);
        } else if (cases[i].table == TBL_EXP_HISTOGRAM) {
            CHECK_INT(peek_i32(&c[EXP_SCALE], 0), 3);
            CHECK_INT(peek_i64(&c[EXP_ZERO_COUNT], 0), 5);
            CHECK_INT(peek_i32(&c[EXP_POSITIVE_OFFSET], 0), 2);
            CHECK_INT(peek_i64(&c[EXP_POSITIVE_BUCKET_COUNTS], 1), 567);
        }
    }
    if (decode_file(&t, OTLP_METRICS, "metrics_mixed.pb")) {
        CHECK(tbl_batch_rows(&t.batch, TBL_GAUGE) > 0);
        CHECK(tbl_batch_rows(&t.batch, TBL_SUM) > 0);
        CHECK(tbl_batch_rows(&t.batch, TBL_HISTOGRAM) > 0);
    }
    dec_free(&t);
}

TEST(pb_decode_signal_and_format_names)
{
    otlp_signal sig;
    otlp_format fmt;
    CHECK_OK(otlp_signal_parse("traces", &sig));
    CHECK_INT(sig, OTLP_TRACES);
    CHECK_STR(otlp_signal_name(OTLP_METRICS), "metrics");
    CHECK_INT(otlp_signal_parse("spans", &sig), O2P_EINVAL);
    CHECK_OK(otlp_format_parse("pb", &fmt));
    CHECK_INT(fmt, OTLP_FMT_PROTOBUF);
    CHECK_OK(otlp_format_parse("protobuf", &fmt));
    CHECK_OK(otlp_format_parse("jsonl", &fmt));
    CHECK_INT(fmt, OTLP_FMT_JSONL);
    CHECK_INT(otlp_format_parse("xml", &fmt), O2P_EINVAL);
}
