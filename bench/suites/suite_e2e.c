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
#include <zstd.h>

#include "../harness/gen.h"
#include "../harness/harness.h"
#include "batch/batch.h"
#include "batch/batch_pool.h"
#include "core/mem.h"
#include "core/opool.h"
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
    /* convert vs zstd case: every request's bytes back to back, and times */
    o2p_buf all, zout;
    double conv_secs, zstd_secs;
    batch_pool *pool; /* convert's encoder threads (one per online CPU) */
    const tbl_group **todo;
    size_t todo_cap;
    int threads;
    otlp_decoder **decs; /* one per thread */
    tbl_batch *slots;    /* threads + 1 decoded requests */
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
    buf_free(&s->all);
    buf_free(&s->zout);
    pq_workspace_destroy(s->ws);
    batch_pool_destroy(s->pool);
    mem_free(s->todo);
    for (int t = 0; s->decs && t < s->threads; t++) otlp_decoder_destroy(s->decs[t]);
    for (int i = 0; s->slots && i <= s->threads; i++) tbl_batch_free(&s->slots[i]);
    mem_free(s->decs);
    mem_free(s->slots);
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

/*
 * e2e.convert_vs_zstd.200k (issue 12, point 5): 200,000 protobuf log
 * records as 20 requests of 10,000 over 10 services, converted as `convert`
 * does with the default batch.flush_threads (one thread per online CPU):
 * requests decoded in parallel into their own batches and joined in order
 * (opool, tbl_batch_append), then the groups encoded in parallel
 * (batch_pool) — and, in the
 * same iteration, the same protobuf bytes compressed by zstd -3 on one
 * thread.  The result reports both wall times and their ratio (target: ≤ 2).
 */
#define CVZ_REQUESTS 20
#define CVZ_RECORDS  10000
#define CVZ_SERVICES 10

static int cvz_file_done(void *ctx, size_t i, const o2p_buf *file, const char *key, o2p_error *err)
{
    e2e_state *s = ctx;
    (void)i;
    (void)key;
    (void)err;
    s->out_bytes += file->len;
    s->groups++;
    return 0;
}

static int cvz_decode(void *ctx, int thread, size_t job, size_t slot, o2p_error *err)
{
    e2e_state *s = ctx;
    otlp_stats st;
    tbl_batch_reset(&s->slots[slot]);
    return otlp_decode(s->decs[thread], OTLP_LOGS, s->format, s->req[job].data, s->req[job].len,
                       GEN_BASE_NS, &s->slots[slot], &st, err);
}

static int cvz_join(void *ctx, size_t job, size_t slot, o2p_error *err)
{
    e2e_state *s = ctx;
    (void)job;
    int rc = tbl_batch_append(&s->batch, &s->slots[slot]);
    return rc < 0 ? o2p_errorf(err, rc, "joining decoded rows: %s", o2p_strerror(rc)) : 0;
}

static int cvz_convert(e2e_state *s, o2p_error *err)
{
    tbl_batch_reset(&s->batch);
    O2P_TRY(opool_run(s->threads, (size_t)s->threads + 1, s->nreq, cvz_decode, cvz_join, s, err));
    size_t n = 0;
    for (size_t g = 0; g < s->batch.cap; g++) {
        const tbl_group *grp = &s->batch.groups[g];
        if (!grp->in_use || grp->rows.num_rows == 0) continue;
        if (mem_reserve_array((void **)&s->todo, &s->todo_cap, n + 1, sizeof *s->todo) < 0)
            return o2p_errorf(err, O2P_ENOMEM, "out of memory");
        s->todo[n++] = grp;
    }
    s->out_bytes = 0;
    s->groups = 0;
    return batch_pool_encode(s->pool, s->todo, n, cvz_file_done, s, err);
}

static int cvz_run(void *p, o2p_error *err)
{
    e2e_state *s = p;
    double t0 = bench_now();
    O2P_TRY(cvz_convert(s, err));
    double t1 = bench_now();
    size_t n = ZSTD_compress(s->zout.data, s->zout.cap, s->all.data, s->all.len, 3);
    double t2 = bench_now();
    if (ZSTD_isError(n)) return o2p_errorf(err, O2P_EIO, "zstd: %s", ZSTD_getErrorName(n));
    s->conv_secs += t1 - t0;
    s->zstd_secs += t2 - t1;
    return 0;
}

static void cvz_begin(void *p)
{
    e2e_state *s = p;
    s->conv_secs = s->zstd_secs = 0;
}

static void cvz_extra(void *p, o2p_buf *json)
{
    e2e_state *s = p;
    e2e_extra(p, json);
    buf_append_str(json, ",\"convert_secs_total\":");
    json_num(json, s->conv_secs);
    buf_append_str(json, ",\"zstd_secs_total\":");
    json_num(json, s->zstd_secs);
    buf_append_str(json, ",\"convert_over_zstd\":");
    json_num(json, s->zstd_secs > 0 ? s->conv_secs / s->zstd_secs : -1);
}

static void cvz_text(void *p, char *line, size_t cap)
{
    e2e_state *s = p;
    snprintf(line, cap, "convert / zstd -3 -T1 wall time: %.2f (target <= 2)",
             s->zstd_secs > 0 ? s->conv_secs / s->zstd_secs : -1.0);
}

static int cvz_setup(const bench_case *c, void **out, bench_info *info, o2p_error *err)
{
    (void)c;
    e2e_state *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    *out = s;
    s->format = OTLP_FMT_PROTOBUF;
    s->nreq = CVZ_REQUESTS;
    s->req = mem_calloc(s->nreq, sizeof *s->req);
    if (s->req == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    buf_init(&s->file, 0);
    buf_init(&s->all, 0);
    buf_init(&s->zout, 0);
    O2P_TRY(tbl_schemas_init(&s->schemas, TBL_TS_MICROS, err));
    s->schemas_ok = 1;
    tbl_batch_init(&s->batch, &s->schemas);
    otlp_options o;
    otlp_options_default(&o);
    O2P_TRY(otlp_decoder_create(&s->dec, &o, err));
    pq_writer_options_default(&s->popts);
    O2P_TRY(pq_workspace_create(&s->ws, err));
    s->popts.workspace = s->ws;
    for (size_t i = 0; i < s->nreq; i++) {
        buf_init(&s->req[i], 0);
        /* A protobuf export request is the concatenation of its
         * resource_logs: 10 services of 1,000 records each. */
        uint64_t base = GEN_BASE_NS + (uint64_t)i * 1000000ull;
        for (unsigned svc = 0; svc < CVZ_SERVICES; svc++) {
            long rc =
                gen_request(&s->req[i], OTLP_LOGS, OTLP_FMT_PROTOBUF, CVZ_RECORDS / CVZ_SERVICES,
                            900 + i * CVZ_SERVICES + svc, base, svc);
            if (rc < 0) return o2p_errorf(err, (int)rc, "generating request %zu failed", i);
        }
        O2P_TRY(buf_append(&s->all, s->req[i].data, s->req[i].len));
    }
    O2P_TRY(buf_reserve(&s->zout, ZSTD_compressBound(s->all.len)));
    O2P_TRY(batch_pool_create(&s->pool, 0, &s->popts, err));
    s->threads = batch_pool_threads(s->pool);
    s->decs = mem_calloc((size_t)s->threads, sizeof *s->decs);
    s->slots = mem_calloc((size_t)s->threads + 1, sizeof *s->slots);
    if (s->decs == NULL || s->slots == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    for (int i = 0; i <= s->threads; i++) tbl_batch_init(&s->slots[i], &s->schemas);
    for (int t = 0; t < s->threads; t++) O2P_TRY(otlp_decoder_create(&s->decs[t], &o, err));
    O2P_TRY(cvz_run(s, err));
    size_t rows = tbl_batch_rows(&s->batch, TBL_LOGS);
    if (rows != (size_t)CVZ_REQUESTS * CVZ_RECORDS)
        return o2p_errorf(err, O2P_EINVAL, "pipeline produced %zu rows for %d records", rows,
                          CVZ_REQUESTS * CVZ_RECORDS);
    info->rows_per_iter = (double)rows;
    info->bytes_per_iter = (double)s->all.len;
    info->out_bytes_per_iter = (double)s->out_bytes;
    snprintf(info->params, sizeof info->params,
             "%d requests of %d protobuf records over %d services (%.1f MB): convert path "
             "(%d encoder threads) and zstd -3 single-threaded over the same bytes, each iteration",
             CVZ_REQUESTS, CVZ_RECORDS, CVZ_SERVICES, (double)s->all.len / 1e6,
             batch_pool_threads(s->pool));
    return 0;
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
    {.name = "e2e.convert_vs_zstd.200k",
     .suite = "e2e",
     .description = "200,000 protobuf log records (20 x 10,000, 10 services): convert path vs "
                    "zstd -3 -T1 over the same bytes",
     .setup = cvz_setup,
     .run = cvz_run,
     .begin_samples = cvz_begin,
     .extra_json = cvz_extra,
     .extra_text = cvz_text,
     .teardown = e2e_teardown},
};

const bench_case *suite_e2e_cases(size_t *count)
{
    *count = sizeof e2e_cases / sizeof e2e_cases[0];
    return e2e_cases;
}
