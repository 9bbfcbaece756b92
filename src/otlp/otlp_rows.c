/*
 * otlp_rows: applies the spec §2 value rules and appends one row per call
 * (see otlp_rows.h).  Every emit function writes each leaf of its table
 * exactly once per row-level entry, so a table's columns always hold the
 * same number of rows (pq_colset_check).
 */
#include "otlp/otlp_rows.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "core/codec_text.h"
#include "table/tbl_write.h"

#define SERVICE_NAME_KEY "service.name"

/* Identities of resource and scope values, unique in the process (so that
 * no two decoders' values are ever mistaken for each other). */
static atomic_uint_fast64_t ident_counter;

static uint64_t next_ident(void)
{
    return (uint64_t)atomic_fetch_add_explicit(&ident_counter, 1, memory_order_relaxed) + 1;
}

void otlp_resource_finish(otlp_resource *r)
{
    const uint8_t *val = NULL;
    size_t len = 0;
    if (r->attrs == NULL ||
        !tbl_attrs_find(r->attrs, SERVICE_NAME_KEY, sizeof SERVICE_NAME_KEY - 1, &val, &len)) {
        val = (const uint8_t *)"";
        len = 0;
    }
    r->service.ptr = val;
    r->service.len = len;
    r->ident = next_ident();
}

void otlp_scope_finish(otlp_scope *s)
{
    s->ident = next_ident();
}

void otlp_stats_reject(otlp_stats *stats, const char *fmt, ...)
{
    stats->rejected++;
    if (stats->rejected_reason[0] != '\0') return; /* the first reason speaks for all */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(stats->rejected_reason, sizeof stats->rejected_reason, fmt, ap);
    va_end(ap);
}

/* The OTLP "invalid id" (absent or all zero bytes) is written as "". */
static size_t id_hex(const uint8_t *bytes, size_t len, char *out)
{
    uint8_t any = 0;
    for (size_t i = 0; i < len; i++) any |= bytes[i];
    if (any == 0) return 0;
    hex_encode(bytes, len, out);
    return 2 * len;
}

static void put_trace_id(pq_column *c, const otlp_trace_id *id)
{
    char hex[32];
    tbl_put_str(c, hex, id_hex(id->bytes, id->len, hex));
}

static void put_span_id(pq_column *c, const otlp_span_id *id)
{
    char hex[16];
    tbl_put_str(c, hex, id_hex(id->bytes, id->len, hex));
}

static void put_bytes(pq_column *c, otlp_bytes s)
{
    tbl_put_str(c, s.ptr, s.len);
}

/* Resource- and scope-level columns: stored once per run of rows that
 * share the values (see pq_col_run_row). */
static void shared_bytes(pq_column *c, uint64_t ident, otlp_bytes s)
{
    if (pq_col_run_row(c, ident)) put_bytes(c, s);
}

static void shared_i32(pq_column *c, uint64_t ident, int32_t v)
{
    if (pq_col_run_row(c, ident)) tbl_put_i32(c, v);
}

/* A MAP's key and value leaves start at c. */
static void shared_attrs(tbl_attrs *a, pq_column *c, uint64_t ident)
{
    int key = pq_col_run_row(c, ident);
    int value = pq_col_run_row(c + 1, ident);
    if (key && value) tbl_attrs_emit_repeated(a, c);
}

static void elem_trace_id(pq_column *c, size_t index, const otlp_trace_id *id)
{
    char hex[32];
    tbl_elem_str(c, index, hex, id_hex(id->bytes, id->len, hex));
}

static void elem_span_id(pq_column *c, size_t index, const otlp_span_id *id)
{
    char hex[16];
    tbl_elem_str(c, index, hex, id_hex(id->bytes, id->len, hex));
}

/* A map scratch that ran out of memory or past its cap must not become a
 * silently truncated map. */
static int attrs_status(const tbl_attrs *a)
{
    return a->failed;
}

static int common_status(const otlp_resource *r, const otlp_scope *s)
{
    if (attrs_status(r->attrs) < 0) return attrs_status(r->attrs);
    return attrs_status(s->attrs);
}

int otlp_emit_log(tbl_batch *b, const otlp_resource *r, const otlp_scope *s, const otlp_log *log,
                  uint64_t receive_ns)
{
    O2P_TRY(common_status(r, s));
    O2P_TRY(attrs_status(log->attrs));
    uint64_t ts = log->time_ns ? log->time_ns : log->observed_ns ? log->observed_ns : receive_ns;
    tbl_group *g = tbl_batch_group(b, TBL_LOGS, r->service.ptr, r->service.len, ts);
    if (g == NULL) return O2P_ENOMEM;
    pq_column *c = g->rows.cols;
    tbl_put_i64(&c[LOG_TIMESTAMP], tbl_ts(b, ts));
    tbl_put_i64(&c[LOG_OBSERVED_TIMESTAMP], tbl_ts(b, log->observed_ns));
    put_trace_id(&c[LOG_TRACE_ID], &log->trace_id);
    put_span_id(&c[LOG_SPAN_ID], &log->span_id);
    tbl_put_i32(&c[LOG_TRACE_FLAGS], (int32_t)log->flags);
    put_bytes(&c[LOG_SEVERITY_TEXT], log->severity_text);
    tbl_put_i32(&c[LOG_SEVERITY_NUMBER], log->severity_number);
    shared_bytes(&c[LOG_SERVICE_NAME], r->ident, r->service);
    put_bytes(&c[LOG_BODY], log->body);
    shared_bytes(&c[LOG_RESOURCE_SCHEMA_URL], r->ident, r->schema_url);
    shared_attrs(r->attrs, &c[LOG_RESOURCE_ATTRS], r->ident);
    shared_bytes(&c[LOG_SCOPE_SCHEMA_URL], s->ident, s->schema_url);
    shared_bytes(&c[LOG_SCOPE_NAME], s->ident, s->name);
    shared_bytes(&c[LOG_SCOPE_VERSION], s->ident, s->version);
    shared_attrs(s->attrs, &c[LOG_SCOPE_ATTRS], s->ident);
    tbl_attrs_emit_top(log->attrs, &c[LOG_ATTRS]);
    put_bytes(&c[LOG_EVENT_NAME], log->event_name);
    tbl_group_row_done(g, ts);
    return O2P_OK;
}

static const char *span_kind_name(int32_t kind)
{
    static const char *const names[] = {"SPAN_KIND_UNSPECIFIED", "SPAN_KIND_INTERNAL",
                                        "SPAN_KIND_SERVER",      "SPAN_KIND_CLIENT",
                                        "SPAN_KIND_PRODUCER",    "SPAN_KIND_CONSUMER"};
    return kind >= 0 && kind < 6 ? names[kind] : names[0];
}

static const char *status_code_name(int32_t code)
{
    static const char *const names[] = {"STATUS_CODE_UNSET", "STATUS_CODE_OK", "STATUS_CODE_ERROR"};
    return code >= 0 && code < 3 ? names[code] : names[0];
}

static void put_cstr(pq_column *c, const char *s)
{
    tbl_put_str(c, s, strlen(s));
}

enum {
    EVENT_LEAVES = TR_LINKS_TRACE_ID - TR_EVENTS_TIMESTAMP,
    LINK_LEAVES = TR_NUM_LEAVES - TR_LINKS_TRACE_ID
};

int otlp_emit_span(tbl_batch *b, const otlp_resource *r, const otlp_scope *s, const otlp_span *span)
{
    O2P_TRY(common_status(r, s));
    O2P_TRY(attrs_status(span->attrs));
    for (size_t i = 0; i < span->num_events; i++) O2P_TRY(attrs_status(span->events[i].attrs));
    for (size_t i = 0; i < span->num_links; i++) O2P_TRY(attrs_status(span->links[i].attrs));
    uint64_t ts = span->start_ns;
    tbl_group *g = tbl_batch_group(b, TBL_TRACES, r->service.ptr, r->service.len, ts);
    if (g == NULL) return O2P_ENOMEM;
    pq_column *c = g->rows.cols;
    uint64_t duration = span->end_ns > span->start_ns ? span->end_ns - span->start_ns : 0;
    if (duration > INT64_MAX) duration = INT64_MAX;
    tbl_put_i64(&c[TR_TIMESTAMP], tbl_ts(b, ts));
    put_trace_id(&c[TR_TRACE_ID], &span->trace_id);
    put_span_id(&c[TR_SPAN_ID], &span->span_id);
    put_span_id(&c[TR_PARENT_SPAN_ID], &span->parent_span_id);
    put_bytes(&c[TR_TRACE_STATE], span->trace_state);
    put_bytes(&c[TR_SPAN_NAME], span->name);
    put_cstr(&c[TR_SPAN_KIND], span_kind_name(span->kind));
    shared_bytes(&c[TR_SERVICE_NAME], r->ident, r->service);
    shared_attrs(r->attrs, &c[TR_RESOURCE_ATTRS], r->ident);
    shared_bytes(&c[TR_SCOPE_NAME], s->ident, s->name);
    shared_bytes(&c[TR_SCOPE_VERSION], s->ident, s->version);
    tbl_attrs_emit_top(span->attrs, &c[TR_SPAN_ATTRS]);
    tbl_put_i64(&c[TR_DURATION], (int64_t)duration);
    put_cstr(&c[TR_STATUS_CODE], status_code_name(span->status_code));
    put_bytes(&c[TR_STATUS_MESSAGE], span->status_message);
    if (span->num_events == 0) tbl_list_empty(&c[TR_EVENTS_TIMESTAMP], EVENT_LEAVES);
    for (size_t i = 0; i < span->num_events; i++) {
        const otlp_span_event *ev = &span->events[i];
        tbl_elem_i64(&c[TR_EVENTS_TIMESTAMP], i, tbl_ts(b, ev->time_ns));
        tbl_elem_str(&c[TR_EVENTS_NAME], i, ev->name.ptr, ev->name.len);
        tbl_attrs_emit(ev->attrs, &c[TR_EVENTS_ATTRS], 2, tbl_elem_rep(i));
    }
    if (span->num_links == 0) tbl_list_empty(&c[TR_LINKS_TRACE_ID], LINK_LEAVES);
    for (size_t i = 0; i < span->num_links; i++) {
        const otlp_span_link *ln = &span->links[i];
        elem_trace_id(&c[TR_LINKS_TRACE_ID], i, &ln->trace_id);
        elem_span_id(&c[TR_LINKS_SPAN_ID], i, &ln->span_id);
        tbl_elem_str(&c[TR_LINKS_TRACE_STATE], i, ln->trace_state.ptr, ln->trace_state.len);
        tbl_attrs_emit(ln->attrs, &c[TR_LINKS_ATTRS], 2, tbl_elem_rep(i));
    }
    tbl_group_row_done(g, ts);
    return O2P_OK;
}

/* Exemplars LIST<STRUCT<...>> starting at leaf `first`. */
static void put_exemplars(const tbl_batch *b, pq_column *first, const otlp_point *p)
{
    if (p->num_exemplars == 0) {
        tbl_list_empty(first, EXEMPLAR_NUM_LEAVES);
        return;
    }
    for (size_t i = 0; i < p->num_exemplars; i++) {
        const otlp_exemplar *ex = &p->exemplars[i];
        tbl_attrs_emit(ex->filtered_attrs, &first[EXEMPLAR_ATTRS], 2, tbl_elem_rep(i));
        tbl_elem_i64(&first[EXEMPLAR_TIME_UNIX], i, tbl_ts(b, ex->time_ns));
        tbl_elem_f64(&first[EXEMPLAR_VALUE], i, ex->value);
        elem_span_id(&first[EXEMPLAR_SPAN_ID], i, &ex->span_id);
        elem_trace_id(&first[EXEMPLAR_TRACE_ID], i, &ex->trace_id);
    }
}

static void put_list_u64(pq_column *c, const uint64_t *v, size_t n)
{
    if (n == 0) tbl_list_empty(c, 1);
    for (size_t i = 0; i < n; i++) tbl_list_i64(c, i, (int64_t)v[i]);
}

static void put_list_f64(pq_column *c, const double *v, size_t n)
{
    if (n == 0) tbl_list_empty(c, 1);
    for (size_t i = 0; i < n; i++) tbl_list_f64(c, i, v[i]);
}

static void put_metric_common(const tbl_batch *b, pq_column *c, const otlp_resource *r,
                              const otlp_scope *s, const otlp_metric *m, const otlp_point *p)
{
    shared_attrs(r->attrs, &c[MET_RESOURCE_ATTRS], r->ident);
    shared_bytes(&c[MET_RESOURCE_SCHEMA_URL], r->ident, r->schema_url);
    shared_bytes(&c[MET_SCOPE_NAME], s->ident, s->name);
    shared_bytes(&c[MET_SCOPE_VERSION], s->ident, s->version);
    shared_attrs(s->attrs, &c[MET_SCOPE_ATTRS], s->ident);
    shared_i32(&c[MET_SCOPE_DROPPED_ATTR_COUNT], s->ident, (int32_t)s->dropped_attributes_count);
    shared_bytes(&c[MET_SCOPE_SCHEMA_URL], s->ident, s->schema_url);
    shared_bytes(&c[MET_SERVICE_NAME], r->ident, r->service);
    put_bytes(&c[MET_METRIC_NAME], m->name);
    put_bytes(&c[MET_METRIC_DESCRIPTION], m->description);
    put_bytes(&c[MET_METRIC_UNIT], m->unit);
    tbl_attrs_emit_top(p->attrs, &c[MET_ATTRS]);
    tbl_put_i64(&c[MET_START_TIME_UNIX], tbl_ts(b, p->start_ns));
    tbl_put_i64(&c[MET_TIME_UNIX], tbl_ts(b, p->time_ns));
}

static void put_kind_columns(const tbl_batch *b, pq_column *c, const otlp_metric *m,
                             const otlp_point *p)
{
    int32_t flags = (int32_t)p->flags;
    switch (m->table) {
    case TBL_GAUGE:
        tbl_put_f64(&c[GAUGE_VALUE], p->value);
        tbl_put_i32(&c[GAUGE_FLAGS], flags);
        put_exemplars(b, &c[GAUGE_EXEMPLARS], p);
        break;
    case TBL_SUM:
        tbl_put_f64(&c[SUM_VALUE], p->value);
        tbl_put_i32(&c[SUM_FLAGS], flags);
        put_exemplars(b, &c[SUM_EXEMPLARS], p);
        tbl_put_i32(&c[SUM_AGG_TEMPORALITY], m->temporality);
        tbl_put_bool(&c[SUM_IS_MONOTONIC], m->is_monotonic);
        break;
    case TBL_HISTOGRAM:
        tbl_put_i64(&c[HIST_COUNT], (int64_t)p->count);
        tbl_put_opt_f64(&c[HIST_SUM], p->has_sum, p->sum);
        put_list_u64(&c[HIST_BUCKET_COUNTS], p->bucket_counts, p->num_bucket_counts);
        put_list_f64(&c[HIST_EXPLICIT_BOUNDS], p->explicit_bounds, p->num_explicit_bounds);
        put_exemplars(b, &c[HIST_EXEMPLARS], p);
        tbl_put_i32(&c[HIST_FLAGS], flags);
        tbl_put_opt_f64(&c[HIST_MIN], p->has_min, p->min);
        tbl_put_opt_f64(&c[HIST_MAX], p->has_max, p->max);
        tbl_put_i32(&c[HIST_AGG_TEMPORALITY], m->temporality);
        break;
    case TBL_EXP_HISTOGRAM:
        tbl_put_i64(&c[EXP_COUNT], (int64_t)p->count);
        tbl_put_opt_f64(&c[EXP_SUM], p->has_sum, p->sum);
        tbl_put_i32(&c[EXP_SCALE], p->scale);
        tbl_put_i64(&c[EXP_ZERO_COUNT], (int64_t)p->zero_count);
        tbl_put_i32(&c[EXP_POSITIVE_OFFSET], p->positive_offset);
        put_list_u64(&c[EXP_POSITIVE_BUCKET_COUNTS], p->positive_counts, p->num_positive_counts);
        tbl_put_i32(&c[EXP_NEGATIVE_OFFSET], p->negative_offset);
        put_list_u64(&c[EXP_NEGATIVE_BUCKET_COUNTS], p->negative_counts, p->num_negative_counts);
        put_exemplars(b, &c[EXP_EXEMPLARS], p);
        tbl_put_i32(&c[EXP_FLAGS], flags);
        tbl_put_opt_f64(&c[EXP_MIN], p->has_min, p->min);
        tbl_put_opt_f64(&c[EXP_MAX], p->has_max, p->max);
        tbl_put_i32(&c[EXP_AGG_TEMPORALITY], m->temporality);
        break;
    case TBL_SUMMARY:
        tbl_put_i64(&c[SUMMARY_COUNT], (int64_t)p->count);
        tbl_put_f64(&c[SUMMARY_SUM], p->sum);
        if (p->num_quantiles == 0) tbl_list_empty(&c[SUMMARY_QUANTILE], 2);
        for (size_t i = 0; i < p->num_quantiles; i++) {
            tbl_elem_f64(&c[SUMMARY_QUANTILE], i, p->quantiles[i]);
            tbl_elem_f64(&c[SUMMARY_QUANTILE_VALUE], i, p->quantile_values[i]);
        }
        tbl_put_i32(&c[SUMMARY_FLAGS], flags);
        break;
    case TBL_LOGS:
    case TBL_TRACES:
    case TBL_COUNT:
        break;
    }
}

int otlp_emit_point(tbl_batch *b, const otlp_resource *r, const otlp_scope *s, const otlp_metric *m,
                    const otlp_point *p)
{
    if (m->table < TBL_GAUGE || m->table > TBL_SUMMARY) return O2P_ESTATE;
    /* Valueless number points are the caller's to reject (otlp_stats_reject). */
    if ((m->table == TBL_GAUGE || m->table == TBL_SUM) && !p->has_value) return O2P_ESTATE;
    O2P_TRY(common_status(r, s));
    O2P_TRY(attrs_status(p->attrs));
    for (size_t i = 0; i < p->num_exemplars; i++)
        O2P_TRY(attrs_status(p->exemplars[i].filtered_attrs));
    tbl_group *g = tbl_batch_group(b, m->table, r->service.ptr, r->service.len, p->time_ns);
    if (g == NULL) return O2P_ENOMEM;
    put_metric_common(b, g->rows.cols, r, s, m, p);
    put_kind_columns(b, g->rows.cols, m, p);
    tbl_group_row_done(g, p->time_ns);
    return O2P_OK;
}
