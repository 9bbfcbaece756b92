/*
 * suite_decode: OTLP request → rows, per signal and format.
 *
 * One iteration decodes one 1,000-record request (the batch size SDKs and the
 * HTTP suite use) into a reused tbl_batch, as a server thread does.  Eight
 * distinct requests are cycled so branch predictors and caches do not learn
 * a single body.  Setup checks that the decoder produced exactly the rows
 * generated, so a decoder that silently drops data cannot look fast.
 */
#include <stdio.h>
#include <string.h>

#include "../harness/gen.h"
#include "../harness/harness.h"
#include "core/mem.h"
#include "otlp/otlp.h"

#define DECODE_REQUESTS 8
#define DECODE_RECORDS  1000

typedef struct decode_state {
    otlp_signal signal;
    otlp_format format;
    o2p_buf req[DECODE_REQUESTS];
    size_t next;
    tbl_schemas schemas;
    int schemas_ok;
    tbl_batch batch;
    otlp_decoder *dec;
} decode_state;

static void decode_teardown(void *p)
{
    decode_state *s = p;
    if (s == NULL) return;
    for (int i = 0; i < DECODE_REQUESTS; i++) buf_free(&s->req[i]);
    if (s->schemas_ok) {
        tbl_batch_free(&s->batch);
        tbl_schemas_free(&s->schemas);
    }
    otlp_decoder_destroy(s->dec);
    mem_free(s);
}

static int decode_one(decode_state *s, const o2p_buf *req, otlp_stats *stats, o2p_error *err)
{
    tbl_batch_reset(&s->batch);
    memset(stats, 0, sizeof *stats);
    return otlp_decode(s->dec, s->signal, s->format, req->data, req->len, GEN_BASE_NS, &s->batch,
                       stats, err);
}

static int decode_setup(const bench_case *c, void **out, bench_info *info, o2p_error *err)
{
    decode_state *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    *out = s;
    s->signal = (otlp_signal)c->param_a;
    s->format = (otlp_format)c->param_b;
    O2P_TRY(tbl_schemas_init(&s->schemas, TBL_TS_MICROS, err));
    s->schemas_ok = 1;
    tbl_batch_init(&s->batch, &s->schemas);
    otlp_options o;
    otlp_options_default(&o);
    O2P_TRY(otlp_decoder_create(&s->dec, &o, err));
    double bytes = 0;
    for (int i = 0; i < DECODE_REQUESTS; i++) {
        buf_init(&s->req[i], 0);
        long rows = gen_request(&s->req[i], s->signal, s->format, DECODE_RECORDS,
                                (uint64_t)(1000 + i), GEN_BASE_NS, (unsigned)i);
        if (rows < 0) return o2p_errorf(err, (int)rows, "generating request %d failed", i);
        otlp_stats st;
        O2P_TRY(decode_one(s, &s->req[i], &st, err));
        uint64_t got = 0;
        for (int t = 0; t < TBL_COUNT; t++) got += st.rows[t];
        if (got != (uint64_t)rows)
            return o2p_errorf(err, O2P_EINVAL, "decoder produced %llu rows for %ld generated",
                              (unsigned long long)got, rows);
        bytes += (double)s->req[i].len;
    }
    info->rows_per_iter = DECODE_RECORDS;
    info->bytes_per_iter = bytes / DECODE_REQUESTS;
    snprintf(info->params, sizeof info->params,
             "%d records/request, %d distinct requests cycled, mean %.0f bytes/request",
             DECODE_RECORDS, DECODE_REQUESTS, info->bytes_per_iter);
    return 0;
}

static int decode_run(void *p, o2p_error *err)
{
    decode_state *s = p;
    otlp_stats st;
    const o2p_buf *req = &s->req[s->next];
    s->next = (s->next + 1) % DECODE_REQUESTS;
    return decode_one(s, req, &st, err);
}

#define DECODE_CASE(case_name, sig, fmt, what)                                                     \
    {                                                                                              \
        .name = case_name, .suite = "decode",                                                      \
        .description = "decode one 1,000-" what " request into rows", .setup = decode_setup,       \
        .run = decode_run, .teardown = decode_teardown, .param_a = sig, .param_b = fmt             \
    }

static const bench_case decode_cases[] = {
    DECODE_CASE("decode.logs.protobuf", OTLP_LOGS, OTLP_FMT_PROTOBUF, "log-record protobuf"),
    DECODE_CASE("decode.logs.json", OTLP_LOGS, OTLP_FMT_JSON, "log-record OTLP/JSON"),
    DECODE_CASE("decode.traces.protobuf", OTLP_TRACES, OTLP_FMT_PROTOBUF, "span protobuf"),
    DECODE_CASE("decode.traces.json", OTLP_TRACES, OTLP_FMT_JSON, "span OTLP/JSON"),
    DECODE_CASE("decode.metrics.protobuf", OTLP_METRICS, OTLP_FMT_PROTOBUF, "data-point protobuf"),
    DECODE_CASE("decode.metrics.json", OTLP_METRICS, OTLP_FMT_JSON, "data-point OTLP/JSON"),
};

const bench_case *suite_decode_cases(size_t *count)
{
    *count = sizeof decode_cases / sizeof decode_cases[0];
    return decode_cases;
}
