/* Unit tests for otlp_rows: the spec §2 value rules and the levels of every
 * nested column, read back from the column buffers. */
#include <math.h>

#include "col_peek.h"
#include "otlp/otlp_rows.h"
#include "table/tbl_write.h"
#include "unit.h"

#define T0      1700000000123456789ULL /* 2023-11-14T22:13:20.123456789Z */
#define HOUR_NS 3600000000000ULL

typedef struct fixture {
    tbl_schemas schemas;
    tbl_batch batch;
    tbl_attrs res_attrs, scope_attrs, attrs, a1, a2;
    otlp_resource res;
    otlp_scope scope;
} fixture;

static otlp_bytes B(const char *s)
{
    return (otlp_bytes){(const uint8_t *)s, strlen(s)};
}

static void fixture_init(fixture *f, tbl_ts_unit unit)
{
    memset(f, 0, sizeof *f);
    o2p_error err;
    CHECK_OK(tbl_schemas_init(&f->schemas, unit, &err));
    tbl_batch_init(&f->batch, &f->schemas);
    tbl_attrs *all[] = {&f->res_attrs, &f->scope_attrs, &f->attrs, &f->a1, &f->a2};
    for (size_t i = 0; i < 5; i++) tbl_attrs_init(all[i], 0);
    tbl_attrs_add(&f->res_attrs, "host.name", 9, "h1", 2);
    tbl_attrs_add(&f->res_attrs, "service.name", 12, "svc", 3);
    for (size_t i = 0; i < 5; i++) tbl_attrs_finish(all[i]);
    f->res = (otlp_resource){.attrs = &f->res_attrs, .schema_url = B("rs")};
    otlp_resource_finish(&f->res);
    f->scope = (otlp_scope){.name = B("lib"),
                            .version = B("1.0"),
                            .schema_url = B("ss"),
                            .attrs = &f->scope_attrs,
                            .dropped_attributes_count = 3};
}

static void fixture_free(fixture *f)
{
    tbl_batch_free(&f->batch);
    tbl_schemas_free(&f->schemas);
    tbl_attrs *all[] = {&f->res_attrs, &f->scope_attrs, &f->attrs, &f->a1, &f->a2};
    for (size_t i = 0; i < 5; i++) tbl_attrs_free(all[i]);
}

static void check_groups(const tbl_batch *b)
{
    for (size_t i = 0; i < b->cap; i++) {
        if (!b->groups[i].in_use) continue;
        o2p_error err = {0};
        int rc = pq_colset_check(&b->groups[i].rows, &err);
        CHECK_MSG(rc == 0, "pq_colset_check: %s", err.msg);
    }
}

static tbl_group *only_group(tbl_batch *b, tbl_id table)
{
    CHECK_UINT(b->num_groups, 1);
    for (size_t i = 0; i < b->cap; i++)
        if (b->groups[i].in_use) {
            CHECK_INT(b->groups[i].table, table);
            return &b->groups[i];
        }
    return NULL;
}

TEST(otlp_rows_resource_service)
{
    fixture f;
    fixture_init(&f, TBL_TS_MICROS);
    CHECK_MEM(f.res.service.ptr, f.res.service.len, "svc", 3);
    tbl_attrs none;
    tbl_attrs_init(&none, 0);
    tbl_attrs_finish(&none);
    otlp_resource r = {.attrs = &none};
    otlp_resource_finish(&r);
    CHECK_UINT(r.service.len, 0);
    tbl_attrs_free(&none);
    fixture_free(&f);
}

TEST(otlp_rows_log_values)
{
    fixture f;
    fixture_init(&f, TBL_TS_MICROS);
    tbl_attrs_reset(&f.attrs);
    tbl_attrs_add(&f.attrs, "k", 1, "v1", 2);
    tbl_attrs_add(&f.attrs, "k", 1, "v2", 2); /* duplicate: last wins */
    tbl_attrs_finish(&f.attrs);
    otlp_log log = {.time_ns = T0,
                    .observed_ns = T0 + 5,
                    .flags = 1,
                    .severity_number = 9,
                    .severity_text = B("INFO"),
                    .body = B("hello"),
                    .event_name = B("ev"),
                    .attrs = &f.attrs};
    log.trace_id.len = 16;
    for (int i = 0; i < 16; i++) log.trace_id.bytes[i] = (uint8_t)(0xa0 + i);
    log.span_id.len = 8; /* all zero: the invalid id */
    CHECK_OK(otlp_emit_log(&f.batch, &f.res, &f.scope, &log, 42));
    tbl_group *g = only_group(&f.batch, TBL_LOGS);
    CHECK_STR(g->service, "svc");
    CHECK_INT(g->hour, (int64_t)(T0 / HOUR_NS));
    pq_column *c = g->rows.cols;
    char s[128];
    CHECK_INT(peek_i64(&c[LOG_TIMESTAMP], 0), (int64_t)(T0 / 1000));
    CHECK_INT(peek_i64(&c[LOG_OBSERVED_TIMESTAMP], 0), (int64_t)((T0 + 5) / 1000));
    CHECK_STR(peek_str(&c[LOG_TRACE_ID], 0, s, sizeof s), "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    CHECK_STR(peek_str(&c[LOG_SPAN_ID], 0, s, sizeof s), "");
    CHECK_INT(peek_i32(&c[LOG_TRACE_FLAGS], 0), 1);
    CHECK_STR(peek_str(&c[LOG_SEVERITY_TEXT], 0, s, sizeof s), "INFO");
    CHECK_INT(peek_i32(&c[LOG_SEVERITY_NUMBER], 0), 9);
    CHECK_STR(peek_str(&c[LOG_SERVICE_NAME], 0, s, sizeof s), "svc");
    CHECK_STR(peek_str(&c[LOG_BODY], 0, s, sizeof s), "hello");
    CHECK_STR(peek_str(&c[LOG_RESOURCE_SCHEMA_URL], 0, s, sizeof s), "rs");
    CHECK_UINT(c[LOG_RESOURCE_ATTRS].num_entries, 2);
    CHECK_STR(peek_str(&c[LOG_RESOURCE_ATTRS], 1, s, sizeof s), "service.name");
    CHECK_STR(peek_str(&c[LOG_RESOURCE_ATTRS + 1], 1, s, sizeof s), "svc");
    CHECK_INT(peek_rep(&c[LOG_RESOURCE_ATTRS], 0), 0);
    CHECK_INT(peek_rep(&c[LOG_RESOURCE_ATTRS], 1), 1);
    CHECK_STR(peek_str(&c[LOG_SCOPE_SCHEMA_URL], 0, s, sizeof s), "ss");
    CHECK_STR(peek_str(&c[LOG_SCOPE_NAME], 0, s, sizeof s), "lib");
    CHECK_STR(peek_str(&c[LOG_SCOPE_VERSION], 0, s, sizeof s), "1.0");
    /* empty scope attributes: one (def 0, rep 0) entry, no value */
    CHECK_UINT(c[LOG_SCOPE_ATTRS].num_entries, 1);
    CHECK_UINT(c[LOG_SCOPE_ATTRS].num_values, 0);
    CHECK_INT(peek_def(&c[LOG_SCOPE_ATTRS], 0), 0);
    CHECK_UINT(c[LOG_ATTRS].num_values, 1);
    CHECK_STR(peek_str(&c[LOG_ATTRS + 1], 0, s, sizeof s), "v2");
    CHECK_STR(peek_str(&c[LOG_EVENT_NAME], 0, s, sizeof s), "ev");
    check_groups(&f.batch);
    fixture_free(&f);
}

/* Referenced attributes (as the protobuf decoder adds them) are written
 * like copied ones, also as the pre-encoded run of a repeated map. */
TEST(otlp_rows_log_referenced_attrs)
{
    fixture f;
    fixture_init(&f, TBL_TS_MICROS);
    tbl_attrs_reset(&f.res_attrs);
    tbl_attrs_add_ref(&f.res_attrs, "service.name", 12, "refsvc", 6);
    tbl_attrs_add(&f.res_attrs, "host", 4, "h", 1);
    tbl_attrs_finish(&f.res_attrs);
    otlp_resource_finish(&f.res);
    tbl_attrs_reset(&f.attrs);
    tbl_attrs_add_ref(&f.attrs, "k", 1, "v", 1);
    tbl_attrs_finish(&f.attrs);
    otlp_log log = {.time_ns = T0, .attrs = &f.attrs};
    for (int i = 0; i < 3; i++) CHECK_OK(otlp_emit_log(&f.batch, &f.res, &f.scope, &log, 42));
    tbl_group *g = only_group(&f.batch, TBL_LOGS);
    CHECK_STR(g->service, "refsvc");
    pq_column *c = g->rows.cols;
    char s[64];
    CHECK_STR(peek_str(&c[LOG_RESOURCE_ATTRS], 0, s, sizeof s), "service.name");
    CHECK_STR(peek_str(&c[LOG_RESOURCE_ATTRS + 1], 0, s, sizeof s), "refsvc");
    CHECK_UINT(c[LOG_ATTRS].num_values, 3);
    CHECK_STR(peek_str(&c[LOG_ATTRS], 2, s, sizeof s), "k");
    CHECK_STR(peek_str(&c[LOG_ATTRS + 1], 2, s, sizeof s), "v");
    check_groups(&f.batch);
    fixture_free(&f);
}

TEST(otlp_rows_log_timestamp_fallbacks)
{
    fixture f;
    fixture_init(&f, TBL_TS_NANOS);
    otlp_log log = {.observed_ns = T0, .attrs = &f.attrs};
    CHECK_OK(otlp_emit_log(&f.batch, &f.res, &f.scope, &log, 7 * HOUR_NS));
    log.observed_ns = 0;
    CHECK_OK(otlp_emit_log(&f.batch, &f.res, &f.scope, &log, 7 * HOUR_NS + 1));
    /* two hours → two groups */
    CHECK_UINT(f.batch.num_groups, 2);
    for (size_t i = 0; i < f.batch.cap; i++) {
        tbl_group *g = &f.batch.groups[i];
        if (!g->in_use) continue;
        pq_column *c = g->rows.cols;
        if (g->hour == 7) {
            CHECK_INT(peek_i64(&c[LOG_TIMESTAMP], 0), (int64_t)(7 * HOUR_NS + 1));
            CHECK_INT(peek_i64(&c[LOG_OBSERVED_TIMESTAMP], 0), 0);
        } else {
            CHECK_INT(g->hour, (int64_t)(T0 / HOUR_NS));
            CHECK_INT(peek_i64(&c[LOG_TIMESTAMP], 0), (int64_t)T0);
            CHECK_INT(peek_i64(&c[LOG_OBSERVED_TIMESTAMP], 0), (int64_t)T0);
        }
    }
    check_groups(&f.batch);
    fixture_free(&f);
}

TEST(otlp_rows_span_nested_levels)
{
    fixture f;
    fixture_init(&f, TBL_TS_MICROS);
    tbl_attrs_reset(&f.a1);
    tbl_attrs_add(&f.a1, "e1", 2, "x", 1);
    tbl_attrs_add(&f.a1, "e2", 2, "y", 1);
    tbl_attrs_finish(&f.a1);
    otlp_span_event events[2] = {{.time_ns = T0 + 1000, .name = B("ev0"), .attrs = &f.a1},
                                 {.time_ns = T0 + 2000, .name = B("ev1"), .attrs = &f.a2}};
    otlp_span span = {.name = B("op"),
                      .kind = 2,
                      .start_ns = T0,
                      .end_ns = T0 + 1500,
                      .attrs = &f.attrs,
                      .status_code = 2,
                      .status_message = B("bad"),
                      .events = events,
                      .num_events = 2};
    span.span_id.len = 8;
    span.span_id.bytes[7] = 1;
    CHECK_OK(otlp_emit_span(&f.batch, &f.res, &f.scope, &span));
    /* negative duration and unknown enums */
    otlp_span span2 = {.name = B("op2"),
                       .kind = 99,
                       .start_ns = T0,
                       .end_ns = T0 - 5,
                       .attrs = &f.attrs,
                       .status_code = -1};
    otlp_span_link link = {.trace_state = B("ts"), .attrs = &f.a1};
    link.trace_id.len = 16;
    link.trace_id.bytes[0] = 0xff;
    span2.links = &link;
    span2.num_links = 1;
    CHECK_OK(otlp_emit_span(&f.batch, &f.res, &f.scope, &span2));
    tbl_group *g = only_group(&f.batch, TBL_TRACES);
    pq_column *c = g->rows.cols;
    char s[128];
    CHECK_UINT(g->rows.num_rows, 2);
    CHECK_STR(peek_str(&c[TR_SPAN_ID], 0, s, sizeof s), "0000000000000001");
    CHECK_STR(peek_str(&c[TR_PARENT_SPAN_ID], 0, s, sizeof s), "");
    CHECK_STR(peek_str(&c[TR_SPAN_KIND], 0, s, sizeof s), "SPAN_KIND_SERVER");
    CHECK_STR(peek_str(&c[TR_SPAN_KIND], 1, s, sizeof s), "SPAN_KIND_UNSPECIFIED");
    CHECK_STR(peek_str(&c[TR_STATUS_CODE], 0, s, sizeof s), "STATUS_CODE_ERROR");
    CHECK_STR(peek_str(&c[TR_STATUS_CODE], 1, s, sizeof s), "STATUS_CODE_UNSET");
    CHECK_INT(peek_i64(&c[TR_DURATION], 0), 1500);
    CHECK_INT(peek_i64(&c[TR_DURATION], 1), 0);
    /* Events: row 0 has two elements, row 1 an empty list */
    pq_column *ts = &c[TR_EVENTS_TIMESTAMP];
    CHECK_UINT(ts->num_entries, 3);
    CHECK_INT(peek_def(ts, 0), 1);
    CHECK_INT(peek_rep(ts, 0), 0);
    CHECK_INT(peek_def(ts, 1), 1);
    CHECK_INT(peek_rep(ts, 1), 1);
    CHECK_INT(peek_def(ts, 2), 0);
    CHECK_INT(peek_rep(ts, 2), 0);
    CHECK_INT(peek_i64(ts, 1), (int64_t)((T0 + 2000) / 1000));
    CHECK_STR(peek_str(&c[TR_EVENTS_NAME], 1, s, sizeof s), "ev1");
    /* map inside element: e1 (2,0) e2 (2,2) | empty map of element 1 (1,1) | empty list (0,0) */
    pq_column *key = &c[TR_EVENTS_ATTRS];
    CHECK_UINT(key->num_entries, 4);
    int want_def[] = {2, 2, 1, 0}, want_rep[] = {0, 2, 1, 0};
    for (int i = 0; i < 4; i++) {
        CHECK_INT(peek_def(key, i), want_def[i]);
        CHECK_INT(peek_rep(key, i), want_rep[i]);
    }
    CHECK_STR(peek_str(key, 1, s, sizeof s), "e2");
    /* Links: row 0 empty, row 1 one element with two attributes */
    CHECK_UINT(c[TR_LINKS_TRACE_ID].num_entries, 2);
    CHECK_STR(peek_str(&c[TR_LINKS_TRACE_ID], 0, s, sizeof s), "ff000000000000000000000000000000");
    CHECK_STR(peek_str(&c[TR_LINKS_SPAN_ID], 0, s, sizeof s), "");
    CHECK_STR(peek_str(&c[TR_LINKS_TRACE_STATE], 0, s, sizeof s), "ts");
    CHECK_INT(peek_def(&c[TR_LINKS_ATTRS], 2), 2);
    CHECK_INT(peek_rep(&c[TR_LINKS_ATTRS], 2), 2);
    check_groups(&f.batch);
    fixture_free(&f);
}

TEST(otlp_rows_points_all_kinds)
{
    fixture f;
    fixture_init(&f, TBL_TS_MICROS);
    tbl_attrs_reset(&f.a1);
    tbl_attrs_add(&f.a1, "fa", 2, "1", 1);
    tbl_attrs_finish(&f.a1);
    otlp_exemplar ex[2] = {{.filtered_attrs = &f.a1, .time_ns = T0, .value = 2.5},
                           {.filtered_attrs = &f.a2, .time_ns = T0, .value = -1}};
    uint64_t counts[] = {1, 2, 3};
    double bounds[] = {0.5, 1.5};
    double q[] = {0.5, 0.99}, qv[] = {10, 20};
    otlp_point p = {.attrs = &f.attrs,
                    .start_ns = T0 - 1000,
                    .time_ns = T0,
                    .flags = 1,
                    .exemplars = ex,
                    .num_exemplars = 2,
                    .has_value = 1,
                    .value = 4.25,
                    .count = 6,
                    .has_sum = 1,
                    .sum = 9.5,
                    .has_max = 1,
                    .max = 3,
                    .bucket_counts = counts,
                    .num_bucket_counts = 3,
                    .explicit_bounds = bounds,
                    .num_explicit_bounds = 2,
                    .scale = -2,
                    .zero_count = 1,
                    .positive_offset = 5,
                    .positive_counts = counts,
                    .num_positive_counts = 2,
                    .negative_offset = -1,
                    .quantiles = q,
                    .quantile_values = qv,
                    .num_quantiles = 2};
    for (tbl_id t = TBL_GAUGE; t <= TBL_SUMMARY; t++) {
        otlp_metric m = {.table = t,
                         .name = B("m"),
                         .description = B("d"),
                         .unit = B("u"),
                         .temporality = 2,
                         .is_monotonic = 1};
        CHECK_OK(otlp_emit_point(&f.batch, &f.res, &f.scope, &m, &p));
    }
    otlp_metric gauge = {.table = TBL_GAUGE};
    otlp_point novalue = {.attrs = &f.attrs};
    CHECK_INT(otlp_emit_point(&f.batch, &f.res, &f.scope, &gauge, &novalue), O2P_ESTATE);
    CHECK_UINT(f.batch.num_groups, 5);
    check_groups(&f.batch);
    char s[64];
    for (size_t i = 0; i < f.batch.cap; i++) {
        tbl_group *g = &f.batch.groups[i];
        if (!g->in_use) continue;
        pq_column *c = g->rows.cols;
        CHECK_UINT(g->rows.num_rows, 1);
        CHECK_INT(peek_i32(&c[MET_SCOPE_DROPPED_ATTR_COUNT], 0), 3);
        CHECK_STR(peek_str(&c[MET_SERVICE_NAME], 0, s, sizeof s), "svc");
        CHECK_INT(peek_i64(&c[MET_TIME_UNIX], 0), (int64_t)(T0 / 1000));
        CHECK_INT(peek_i64(&c[MET_START_TIME_UNIX], 0), (int64_t)((T0 - 1000) / 1000));
        switch (g->table) {
        case TBL_GAUGE:
            CHECK(peek_f64(&c[GAUGE_VALUE], 0) == 4.25);
            CHECK_UINT(c[GAUGE_EXEMPLARS + EXEMPLAR_VALUE].num_values, 2);
            CHECK(peek_f64(&c[GAUGE_EXEMPLARS + EXEMPLAR_VALUE], 1) == -1);
            CHECK_INT(peek_rep(&c[GAUGE_EXEMPLARS + EXEMPLAR_VALUE], 1), 1);
            /* second exemplar's empty map: (1, 1) */
            CHECK_INT(peek_def(&c[GAUGE_EXEMPLARS + EXEMPLAR_ATTRS], 1), 1);
            CHECK_INT(peek_rep(&c[GAUGE_EXEMPLARS + EXEMPLAR_ATTRS], 1), 1);
            break;
        case TBL_SUM:
            CHECK_INT(peek_i32(&c[SUM_AGG_TEMPORALITY], 0), 2);
            CHECK_INT(c[SUM_IS_MONOTONIC].values.data[0], 1);
            break;
        case TBL_HISTOGRAM:
            CHECK_INT(peek_i64(&c[HIST_COUNT], 0), 6);
            CHECK_INT(peek_def(&c[HIST_SUM], 0), 1);
            CHECK_INT(peek_def(&c[HIST_MIN], 0), 0);
            CHECK_UINT(c[HIST_MIN].num_values, 0);
            CHECK(peek_f64(&c[HIST_MAX], 0) == 3);
            CHECK_UINT(c[HIST_BUCKET_COUNTS].num_entries, 3);
            CHECK_INT(peek_i64(&c[HIST_BUCKET_COUNTS], 2), 3);
            CHECK_INT(peek_rep(&c[HIST_BUCKET_COUNTS], 2), 1);
            CHECK(peek_f64(&c[HIST_EXPLICIT_BOUNDS], 1) == 1.5);
            break;
        case TBL_EXP_HISTOGRAM:
            CHECK_INT(peek_i32(&c[EXP_SCALE], 0), -2);
            CHECK_INT(peek_i32(&c[EXP_NEGATIVE_OFFSET], 0), -1);
            CHECK_UINT(c[EXP_POSITIVE_BUCKET_COUNTS].num_values, 2);
            CHECK_UINT(c[EXP_NEGATIVE_BUCKET_COUNTS].num_entries, 1);
            CHECK_INT(peek_def(&c[EXP_NEGATIVE_BUCKET_COUNTS], 0), 0);
            break;
        case TBL_SUMMARY:
            CHECK(peek_f64(&c[SUMMARY_SUM], 0) == 9.5);
            CHECK(peek_f64(&c[SUMMARY_QUANTILE], 1) == 0.99);
            CHECK(peek_f64(&c[SUMMARY_QUANTILE_VALUE], 1) == 20);
            CHECK_INT(peek_rep(&c[SUMMARY_QUANTILE_VALUE], 1), 1);
            break;
        default:
            CHECK(0);
        }
    }
    fixture_free(&f);
}

TEST(otlp_rows_stats_reject_keeps_first_reason)
{
    otlp_stats st;
    memset(&st, 0, sizeof st);
    otlp_stats_reject(&st, "first %d", 1);
    otlp_stats_reject(&st, "second");
    CHECK_UINT(st.rejected, 2);
    CHECK_STR(st.rejected_reason, "first 1");
}
