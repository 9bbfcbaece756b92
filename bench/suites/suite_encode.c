/*
 * suite_encode: Parquet encoding of one column shape per case, for every
 * codec.  One iteration writes a complete 100,000-row file (open, write one
 * row group, close) into a reused memory buffer, so the numbers include
 * dictionary building, level encoding, page assembly, compression and the
 * footer.  MB/s counts the column's PLAIN input (values plus level bytes);
 * the output size is recorded to show what each codec buys.
 *
 * Shapes (as the otel tables use them):
 *   string  log bodies from templates with varying numbers (dictionary-hostile
 *           enough to exercise the PLAIN fallback decision)
 *   int64   microsecond timestamps, increasing with jitter
 *   map     MAP<STRING,STRING> attributes, 3–6 entries per row, some empty
 *   list    LIST<INT64> histogram bucket counts, 11 per row
 */
#include <stdio.h>
#include <string.h>

#include "../harness/harness.h"
#include "core/mem.h"
#include "parquet/pq_writer.h"

#define ENCODE_ROWS 100000

enum { SHAPE_STRING, SHAPE_INT64, SHAPE_MAP, SHAPE_LIST };

typedef struct encode_state {
    pq_schema *schema;
    pq_colset rows;
    int rows_ok;
    pq_writer_options opts;
    o2p_buf out;
} encode_state;

static uint64_t enc_rng(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static const char *ATTR_KEYS[] = {"http.route", "http.method", "user.id",
                                  "region",     "tenant",      "feature_flag"};

static void fill(encode_state *s, int shape)
{
    uint64_t r = 0x9E3779B97F4A7C15ull;
    char tmp[160];
    pq_column *c0 = &s->rows.cols[0];
    int64_t ts = 1700000000000000LL;
    for (size_t i = 0; i < ENCODE_ROWS; i++) {
        uint64_t v = enc_rng(&r);
        switch (shape) {
        case SHAPE_STRING: {
            int n =
                snprintf(tmp, sizeof tmp, "GET /api/v1/users/%u completed with status %d in %u ms",
                         (unsigned)(v % 5000), (int)(200 + (v >> 20) % 4 * 100),
                         (unsigned)((v >> 32) % 900));
            pq_col_put_bytes(c0, tmp, (size_t)n, 0, 0);
            break;
        }
        case SHAPE_INT64:
            ts += 50 + (int64_t)(v % 200);
            pq_col_put_i64(c0, ts, 0, 0);
            break;
        case SHAPE_MAP: {
            pq_column *val = &s->rows.cols[1];
            unsigned entries = (v % 10 == 0) ? 0 : 3 + (unsigned)(v % 4);
            if (entries == 0) {
                pq_col_put_null(c0, 0, 0);
                pq_col_put_null(val, 0, 0);
            }
            for (unsigned e = 0; e < entries; e++) {
                const char *k = ATTR_KEYS[e];
                pq_col_put_bytes(c0, k, strlen(k), 1, e ? 1 : 0);
                int n = snprintf(tmp, sizeof tmp, "%s-%u", k, (unsigned)((v >> (8 * e)) % 97));
                pq_col_put_bytes(val, tmp, (size_t)n, 1, e ? 1 : 0);
            }
            break;
        }
        case SHAPE_LIST:
            for (int k = 0; k < 11; k++)
                pq_col_put_i64(c0, (int64_t)(enc_rng(&r) % 300), 1, k ? 1 : 0);
            break;
        }
    }
    s->rows.num_rows = ENCODE_ROWS;
}

static void encode_teardown(void *p)
{
    encode_state *s = p;
    if (s == NULL) return;
    if (s->rows_ok) pq_colset_free(&s->rows);
    pq_schema_destroy(s->schema);
    buf_free(&s->out);
    mem_free(s);
}

static int encode_once(encode_state *s, o2p_error *err)
{
    pq_writer *w = NULL;
    buf_reset(&s->out);
    int rc = pq_writer_open(&w, s->schema, &s->opts, pq_sink_buf(&s->out), err);
    if (rc == 0) rc = pq_writer_write(w, &s->rows, err);
    if (rc == 0) rc = pq_writer_close(w, err);
    pq_writer_destroy(w);
    return rc;
}

static int encode_setup(const bench_case *c, void **out, bench_info *info, o2p_error *err)
{
    encode_state *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    *out = s;
    buf_init(&s->out, 0);
    O2P_TRY(pq_schema_create(&s->schema, "schema", err));
    int shape = c->param_a, node = -1;
    switch (shape) {
    case SHAPE_STRING:
        node = pq_schema_add_leaf(s->schema, PQ_SCHEMA_ROOT, "Body", PQ_REQUIRED, PQ_BYTE_ARRAY,
                                  PQ_LOGICAL_STRING, 0);
        break;
    case SHAPE_INT64:
        node = pq_schema_add_leaf(s->schema, PQ_SCHEMA_ROOT, "Timestamp", PQ_REQUIRED, PQ_INT64,
                                  PQ_LOGICAL_TIMESTAMP_MICROS, 0);
        break;
    case SHAPE_MAP:
        node = pq_schema_add_map(s->schema, PQ_SCHEMA_ROOT, "LogAttributes", PQ_REQUIRED,
                                 PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING,
                                 PQ_REQUIRED);
        break;
    default:
        node = pq_schema_add_list_leaf(s->schema, PQ_SCHEMA_ROOT, "BucketCounts", PQ_REQUIRED,
                                       PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE);
        break;
    }
    if (node < 0) return o2p_errorf(err, node, "building the %s schema failed", c->name);
    O2P_TRY(pq_schema_finish(s->schema, err));
    O2P_TRY(pq_colset_init(&s->rows, s->schema));
    s->rows_ok = 1;
    fill(s, shape);
    O2P_TRY(pq_colset_check(&s->rows, err));
    pq_writer_options_default(&s->opts);
    s->opts.codec = (pq_codec)c->param_b;
    O2P_TRY(encode_once(s, err));
    double input = 0;
    for (size_t i = 0; i < s->rows.num_cols; i++) {
        const pq_column *col = &s->rows.cols[i];
        input += (double)(col->values.len + col->def.len + col->rep.len);
    }
    info->rows_per_iter = ENCODE_ROWS;
    info->bytes_per_iter = input;
    info->out_bytes_per_iter = (double)s->out.len;
    snprintf(info->params, sizeof info->params,
             "%d rows, codec %s, %.2f MB PLAIN input -> %.2f MB file (ratio %.2f)", ENCODE_ROWS,
             pq_codec_name(s->opts.codec), input / 1e6, (double)s->out.len / 1e6,
             s->out.len ? input / (double)s->out.len : 0);
    return 0;
}

static int encode_run(void *p, o2p_error *err)
{
    return encode_once(p, err);
}

static void encode_extra(void *p, o2p_buf *json)
{
    encode_state *s = p;
    buf_printf(json, ",\"output_bytes\":%zu", s->out.len);
}

#define ENC(case_name, shape, codec)                                                               \
    {                                                                                              \
        .name = case_name, .suite = "encode",                                                      \
        .description = "encode a 100,000-row Parquet file of one column", .setup = encode_setup,   \
        .run = encode_run, .extra_json = encode_extra, .teardown = encode_teardown,                \
        .param_a = shape, .param_b = codec                                                         \
    }
#define ENC_SHAPE(prefix, shape)                                                                   \
    ENC(prefix ".zstd", shape, PQ_CODEC_ZSTD), ENC(prefix ".snappy", shape, PQ_CODEC_SNAPPY),      \
        ENC(prefix ".gzip", shape, PQ_CODEC_GZIP),                                                 \
        ENC(prefix ".lz4_raw", shape, PQ_CODEC_LZ4_RAW),                                           \
        ENC(prefix ".uncompressed", shape, PQ_CODEC_UNCOMPRESSED)

static const bench_case encode_cases[] = {
    ENC_SHAPE("encode.string", SHAPE_STRING),
    ENC_SHAPE("encode.int64", SHAPE_INT64),
    ENC_SHAPE("encode.map", SHAPE_MAP),
    ENC_SHAPE("encode.list", SHAPE_LIST),
};

const bench_case *suite_encode_cases(size_t *count)
{
    *count = sizeof encode_cases / sizeof encode_cases[0];
    return encode_cases;
}
