/*
 * suite_e2e: the whole in-process pipeline for logs, bytes in → Parquet
 * bytes out, on one core (spec §9: ≥ 1M records/s protobuf, ≥ 300k JSON).
 *
 * The input is N log records as 1,000-record export requests from four
 * services (so four (table, service, hour) groups, as a real fleet gives).
 * One iteration decodes every request into one tbl_batch — the `convert`
 * path; the server differs only by a memcpy append into the batcher — and
 * then encodes each group with batch_encode_group (ZSTD level 3, the
 * default) into a reused buffer.  Throughput counts records and request
 * bytes; the Parquet bytes produced are recorded too.
 */
#include <stdio.h>
#include <string.h>

#include "../harness/gen.h"
#include "../harness/harness.h"
#include "batch/batch.h"
#include "core/mem.h"
#include "otlp/otlp.h"

#define E2E_REQUEST_RECORDS 1000
#define E2E_SERVICES        4

typedef struct e2e_state {
    otlp_format format;
    o2p_buf *req;
    size_t nreq;
    tbl_schemas schemas;
    int schemas_ok;
    tbl_batch batch;
    otlp_decoder *dec;
    pq_writer_options popts;
    pq_workspace *ws; /* as a flusher thread keeps one */
    o2p_buf file;
    uint64_t out_bytes;
    size_t groups;
} e2e_state;

static void e2e_teardown(void *p)
{
    e2e_state *s = p;
    if (s == NULL) return;
    for (size_t i = 0; i < s->nreq; i++) buf_free(&s->req[i]);
    mem_free(s->req);
    if (s->schemas_ok) {
        tbl_batch_free(&s->batch);
        tbl_schemas_free(&s->schemas);
    }
    otlp_decoder_destroy(s->dec);
    buf_free(&s->file);
    pq_workspace_destroy(s->ws);
    mem_free(s);
}

static int e2e_run(void *p, o2p_error *err)
{
    e2e_state *s = p;
    tbl_batch_reset(&s->batch);
    otlp_stats st;
    for (size_t i = 0; i < s->nreq; i++) {
        O2P_TRY(otlp_decode(s->dec, OTLP_LOGS, s->format, s->req[i].data, s->req[i].len,
                            GEN_BASE_NS, &s->batch, &st, err));
    }
    char key[1024];
    s->out_bytes = 0;
    s->groups = 0;
    for (size_t g = 0; g < s->batch.cap; g++) {
        const tbl_group *grp = &s->batch.groups[g];
        if (!grp->in_use || grp->rows.num_rows == 0) continue;
        key[0] = '\0';
        O2P_TRY(batch_encode_group(grp, &s->popts, &s->file, key, sizeof key, err));
        s->out_bytes += s->file.len;
        s->groups++;
    }
    return 0;
}

static int e2e_setup(const bench_case *c, void **out, bench_info *info, o2p_error *err)
{
    e2e_state *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    *out = s;
    s->format = (otlp_format)c->param_a;
    long records = c->param_c;
    s->nreq = (size_t)(records + E2E_REQUEST_RECORDS - 1) / E2E_REQUEST_RECORDS;
    s->req = mem_calloc(s->nreq, sizeof *s->req);
    if (s->req == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    buf_init(&s->file, 0);
    O2P_TRY(tbl_schemas_init(&s->schemas, TBL_TS_MICROS, err));
    s->schemas_ok = 1;
    tbl_batch_init(&s->batch, &s->schemas);
    otlp_options o;
    otlp_options_default(&o);
    O2P_TRY(otlp_decoder_create(&s->dec, &o, err));
    pq_writer_options_default(&s->popts);
    O2P_TRY(pq_workspace_create(&s->ws, err));
    s->popts.workspace = s->ws;
    double bytes = 0;
    long left = records;
    for (size_t i = 0; i < s->nreq; i++) {
        size_t n = left < E2E_REQUEST_RECORDS ? (size_t)left : E2E_REQUEST_RECORDS;
        left -= (long)n;
        buf_init(&s->req[i], 0);
        /* Requests of one service are consecutive in time, like an SDK's. */
        unsigned svc = (unsigned)(i % E2E_SERVICES);
        uint64_t base = GEN_BASE_NS + (uint64_t)(i / E2E_SERVICES) * 1000000ull;
        long rc = gen_request(&s->req[i], OTLP_LOGS, s->format, n, 77 + i, base, svc);
        if (rc < 0) return o2p_errorf(err, (int)rc, "generating request %zu failed", i);
        bytes += (double)s->req[i].len;
    }
    O2P_TRY(e2e_run(s, err));
    size_t rows = tbl_batch_rows(&s->batch, TBL_LOGS);
    if (rows != (size_t)records)
        return o2p_errorf(err, O2P_EINVAL, "pipeline produced %zu rows for %ld records", rows,
                          records);
    info->rows_per_iter = (double)records;
    info->bytes_per_iter = bytes;
    info->out_bytes_per_iter = (double)s->out_bytes;
    snprintf(info->params, sizeof info->params,
             "%ld records in %zu requests of %d, %d services -> %zu files, %.1f MB in -> %.2f MB "
             "Parquet (zstd)",
             records, s->nreq, E2E_REQUEST_RECORDS, E2E_SERVICES, s->groups, bytes / 1e6,
             (double)s->out_bytes / 1e6);
    return 0;
}

static void e2e_extra(void *p, o2p_buf *json)
{
    e2e_state *s = p;
    buf_printf(json, ",\"parquet_bytes\":%llu,\"files\":%zu", (unsigned long long)s->out_bytes,
               s->groups);
}

#define E2E(case_name, fmt, records, what)                                                         \
    {                                                                                              \
        .name = case_name, .suite = "e2e",                                                         \
        .description = what " log records: decode + batch_encode_group (zstd), in process",        \
        .setup = e2e_setup, .run = e2e_run, .extra_json = e2e_extra, .teardown = e2e_teardown,     \
        .param_a = fmt, .param_c = records                                                         \
    }

static const bench_case e2e_cases[] = {
    E2E("e2e.logs.protobuf.10k", OTLP_FMT_PROTOBUF, 10000, "10,000 protobuf"),
    E2E("e2e.logs.json.10k", OTLP_FMT_JSON, 10000, "10,000 OTLP/JSON"),
    E2E("e2e.logs.protobuf.100k", OTLP_FMT_PROTOBUF, 100000, "100,000 protobuf"),
    E2E("e2e.logs.protobuf.1m", OTLP_FMT_PROTOBUF, 1000000, "1,000,000 protobuf"),
    E2E("e2e.logs.json.1m", OTLP_FMT_JSON, 1000000, "1,000,000 OTLP/JSON"),
};

const bench_case *suite_e2e_cases(size_t *count)
{
    *count = sizeof e2e_cases / sizeof e2e_cases[0];
    return e2e_cases;
}
