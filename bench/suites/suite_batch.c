/*
 * suite_batch: what buffering costs — the request path's decode + append
 * into a buffered group, and the memory a buffered row holds.
 *
 * The input is the multi-service shape of real traffic: requests of 1,000
 * log records over 10 services (100 each, a dozen resource attributes per
 * service).  Setup appends 200 requests (200,000 rows, as one flush group per
 * service holds) to a batcher that never flushes and records the buffer it
 * then accounts per row, and that figure over the protobuf bytes per row
 * (issue "sustained ingest": <= 1.5x).  One iteration decodes one request
 * and appends its groups to per-service colsets, which are emptied (their
 * capacity kept) every 200 requests, as a steady-state server reuses them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../harness/gen.h"
#include "../harness/harness.h"
#include "batch/batch.h"
#include "core/mem.h"
#include "otlp/otlp.h"
#include "storage/store.h"

#define BATCH_SERVICES    10
#define BATCH_PER_SERVICE 100
#define BATCH_BODIES      8
#define BATCH_COST_REQS   200

typedef struct batch_state {
    o2p_buf body[BATCH_BODIES];
    size_t next;
    tbl_schemas schemas;
    otlp_decoder *dec;
    tbl_batch rows;
    int rows_ok;
    pq_colset groups[BATCH_SERVICES];
    int groups_ok;
    size_t appended;
    double buffer_per_row, pb_per_row;
} batch_state;

static void batch_teardown(void *p)
{
    batch_state *s = p;
    if (s == NULL) return;
    for (int i = 0; i < BATCH_BODIES; i++) buf_free(&s->body[i]);
    if (s->rows_ok) tbl_batch_free(&s->rows);
    for (int i = 0; i < s->groups_ok; i++) pq_colset_free(&s->groups[i]);
    otlp_decoder_destroy(s->dec);
    mem_free(s);
}

static int decode_body(batch_state *s, const o2p_buf *body, o2p_error *err)
{
    otlp_stats st;
    memset(&st, 0, sizeof st);
    tbl_batch_reset(&s->rows);
    return otlp_decode(s->dec, OTLP_LOGS, OTLP_FMT_PROTOBUF, body->data, body->len, GEN_BASE_NS,
                       &s->rows, &st, err);
}

/* The buffer a batcher accounts for BATCH_COST_REQS requests, per row. */
static int measure_cost(batch_state *s, o2p_error *err)
{
    char dir[] = "/tmp/o2p-bench-batch-XXXXXX";
    if (mkdtemp(dir) == NULL) return o2p_errorf(err, O2P_EIO, "mkdtemp failed");
    store *st = NULL;
    batch *b = NULL;
    int rc = store_open_fs(&st, dir, err);
    batch_config bc;
    batch_config_default(&bc);
    bc.max_age_secs = 3600;
    bc.max_rows = UINT64_MAX;
    bc.max_bytes = UINT64_MAX;
    bc.max_buffered_bytes = UINT64_MAX;
    if (rc == 0) rc = batch_create(&b, &bc, &s->schemas, st, err);
    uint64_t pb = 0;
    for (int r = 0; r < BATCH_COST_REQS && rc == 0; r++) {
        const o2p_buf *body = &s->body[r % BATCH_BODIES];
        rc = decode_body(s, body, err);
        if (rc == 0) rc = batch_submit(b, &s->rows, body->len, err);
        pb += body->len;
    }
    if (rc == 0) {
        batch_stats bs;
        batch_get_stats(b, &bs);
        s->buffer_per_row = (double)bs.buffered_bytes / (double)bs.buffered_rows;
        s->pb_per_row = (double)pb / (double)bs.buffered_rows;
    }
    batch_destroy(b); /* nothing was flushed: the temporary directory stays empty */
    store_destroy(st);
    rmdir(dir);
    return rc;
}

static int batch_setup(const bench_case *c, void **out, bench_info *info, o2p_error *err)
{
    (void)c;
    batch_state *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    *out = s;
    O2P_TRY(tbl_schemas_init(&s->schemas, TBL_TS_MICROS, err));
    otlp_options oo;
    otlp_options_default(&oo);
    O2P_TRY(otlp_decoder_create(&s->dec, &oo, err));
    tbl_batch_init(&s->rows, &s->schemas);
    s->rows_ok = 1;
    double bytes = 0;
    for (int i = 0; i < BATCH_BODIES; i++) {
        buf_init(&s->body[i], 0);
        for (unsigned svc = 0; svc < BATCH_SERVICES; svc++) {
            /* concatenated requests are one request with all their resources */
            long n = gen_request(&s->body[i], OTLP_LOGS, OTLP_FMT_PROTOBUF, BATCH_PER_SERVICE,
                                 (uint64_t)(i * BATCH_SERVICES + svc + 1), GEN_BASE_NS, svc);
            if (n < 0) return o2p_errorf(err, (int)n, "generating a request failed");
        }
        bytes += (double)s->body[i].len;
    }
    for (int i = 0; i < BATCH_SERVICES; i++) {
        O2P_TRY(pq_colset_init(&s->groups[i], s->schemas.schema[TBL_LOGS]));
        s->groups_ok = i + 1;
    }
    O2P_TRY(measure_cost(s, err));
    info->rows_per_iter = BATCH_SERVICES * BATCH_PER_SERVICE;
    info->bytes_per_iter = bytes / BATCH_BODIES;
    snprintf(info->params, sizeof info->params,
             "1,000 records over %d services per request; buffer %.0f B/row for %.0f B/row of "
             "protobuf (%.2fx)",
             BATCH_SERVICES, s->buffer_per_row, s->pb_per_row, s->buffer_per_row / s->pb_per_row);
    return 0;
}

static int batch_run(void *p, o2p_error *err)
{
    batch_state *s = p;
    O2P_TRY(decode_body(s, &s->body[s->next], err));
    s->next = (s->next + 1) % BATCH_BODIES;
    if (s->appended++ % BATCH_COST_REQS == 0)
        for (int i = 0; i < BATCH_SERVICES; i++) pq_colset_reset(&s->groups[i]);
    size_t k = 0;
    for (size_t i = 0; i < s->rows.cap && k < BATCH_SERVICES; i++) {
        const tbl_group *g = &s->rows.groups[i];
        if (!g->in_use || g->rows.num_rows == 0) continue;
        int rc = pq_colset_append(&s->groups[k++], &g->rows);
        if (rc < 0) return o2p_errorf(err, rc, "append failed");
    }
    return 0;
}

static void batch_extra(void *p, o2p_buf *json)
{
    batch_state *s = p;
    buf_printf(json, ",\"buffer_bytes_per_row\":%.1f,\"protobuf_bytes_per_row\":%.1f",
               s->buffer_per_row, s->pb_per_row);
}

static void batch_text(void *p, char *line, size_t cap)
{
    batch_state *s = p;
    snprintf(line, cap, "buffer %.0f B/row = %.2fx the protobuf bytes", s->buffer_per_row,
             s->buffer_per_row / s->pb_per_row);
}

static const bench_case batch_cases[] = {
    {.name = "batch.append.logs.mixed10",
     .suite = "batch",
     .description = "decode a 1,000-record, 10-service protobuf request and append it to the "
                    "buffered groups; reports the buffer a buffered row holds",
     .setup = batch_setup,
     .run = batch_run,
     .extra_json = batch_extra,
     .extra_text = batch_text,
     .teardown = batch_teardown},
};

const bench_case *suite_batch_cases(size_t *count)
{
    *count = sizeof batch_cases / sizeof batch_cases[0];
    return batch_cases;
}
