/*
 * tbl_schema: builds the seven table schemas from compact column lists and
 * verifies that the leaf-index enums of tbl_schema.h match them.
 */
#include "table/tbl_schema.h"

#include <stdio.h>
#include <string.h>

typedef enum {
    COL_TS,  /* INT64 TIMESTAMP(UTC, unit of the schema set) */
    COL_STR, /* BYTE_ARRAY STRING */
    COL_I32,
    COL_I64,
    COL_F64,
    COL_F64_OPT, /* optional DOUBLE */
    COL_BOOL,
    COL_MAP, /* MAP<STRING,STRING> */
    COL_LIST_I64,
    COL_LIST_F64,
    COL_EVENTS,
    COL_LINKS,
    COL_EXEMPLARS,
    COL_QUANTILES
} col_kind;

typedef struct {
    const char *name;
    col_kind kind;
} col_def;

#define END                                                                                        \
    {                                                                                              \
        NULL, COL_STR                                                                              \
    }

static const col_def logs_cols[] = {{"Timestamp", COL_TS},
                                    {"ObservedTimestamp", COL_TS},
                                    {"TraceId", COL_STR},
                                    {"SpanId", COL_STR},
                                    {"TraceFlags", COL_I32},
                                    {"SeverityText", COL_STR},
                                    {"SeverityNumber", COL_I32},
                                    {"ServiceName", COL_STR},
                                    {"Body", COL_STR},
                                    {"ResourceSchemaUrl", COL_STR},
                                    {"ResourceAttributes", COL_MAP},
                                    {"ScopeSchemaUrl", COL_STR},
                                    {"ScopeName", COL_STR},
                                    {"ScopeVersion", COL_STR},
                                    {"ScopeAttributes", COL_MAP},
                                    {"LogAttributes", COL_MAP},
                                    {"EventName", COL_STR},
                                    END};

static const col_def traces_cols[] = {
    {"Timestamp", COL_TS},     {"TraceId", COL_STR},      {"SpanId", COL_STR},
    {"ParentSpanId", COL_STR}, {"TraceState", COL_STR},   {"SpanName", COL_STR},
    {"SpanKind", COL_STR},     {"ServiceName", COL_STR},  {"ResourceAttributes", COL_MAP},
    {"ScopeName", COL_STR},    {"ScopeVersion", COL_STR}, {"SpanAttributes", COL_MAP},
    {"Duration", COL_I64},     {"StatusCode", COL_STR},   {"StatusMessage", COL_STR},
    {"Events", COL_EVENTS},    {"Links", COL_LINKS},      END};

#define METRIC_COMMON                                                                              \
    {"ResourceAttributes", COL_MAP}, {"ResourceSchemaUrl", COL_STR}, {"ScopeName", COL_STR},       \
        {"ScopeVersion", COL_STR}, {"ScopeAttributes", COL_MAP},                                   \
        {"ScopeDroppedAttrCount", COL_I32}, {"ScopeSchemaUrl", COL_STR}, {"ServiceName", COL_STR}, \
        {"MetricName", COL_STR}, {"MetricDescription", COL_STR}, {"MetricUnit", COL_STR},          \
        {"Attributes", COL_MAP}, {"StartTimeUnix", COL_TS},                                        \
    {                                                                                              \
        "TimeUnix", COL_TS                                                                         \
    }

static const col_def gauge_cols[] = {
    METRIC_COMMON, {"Value", COL_F64}, {"Flags", COL_I32}, {"Exemplars", COL_EXEMPLARS}, END};

static const col_def sum_cols[] = {METRIC_COMMON,
                                   {"Value", COL_F64},
                                   {"Flags", COL_I32},
                                   {"Exemplars", COL_EXEMPLARS},
                                   {"AggregationTemporality", COL_I32},
                                   {"IsMonotonic", COL_BOOL},
                                   END};

static const col_def histogram_cols[] = {METRIC_COMMON,
                                         {"Count", COL_I64},
                                         {"Sum", COL_F64_OPT},
                                         {"BucketCounts", COL_LIST_I64},
                                         {"ExplicitBounds", COL_LIST_F64},
                                         {"Exemplars", COL_EXEMPLARS},
                                         {"Flags", COL_I32},
                                         {"Min", COL_F64_OPT},
                                         {"Max", COL_F64_OPT},
                                         {"AggregationTemporality", COL_I32},
                                         END};

static const col_def exp_histogram_cols[] = {METRIC_COMMON,
                                             {"Count", COL_I64},
                                             {"Sum", COL_F64_OPT},
                                             {"Scale", COL_I32},
                                             {"ZeroCount", COL_I64},
                                             {"PositiveOffset", COL_I32},
                                             {"PositiveBucketCounts", COL_LIST_I64},
                                             {"NegativeOffset", COL_I32},
                                             {"NegativeBucketCounts", COL_LIST_I64},
                                             {"Exemplars", COL_EXEMPLARS},
                                             {"Flags", COL_I32},
                                             {"Min", COL_F64_OPT},
                                             {"Max", COL_F64_OPT},
                                             {"AggregationTemporality", COL_I32},
                                             END};

static const col_def summary_cols[] = {METRIC_COMMON,      {"Count", COL_I64},
                                       {"Sum", COL_F64},   {"ValueAtQuantiles", COL_QUANTILES},
                                       {"Flags", COL_I32}, END};

static const struct {
    const char *name;
    const char *dataset;
    const col_def *cols;
    int num_leaves;
} tbl_defs[TBL_COUNT] = {
    [TBL_LOGS] = {"otel_logs", "logs", logs_cols, LOG_NUM_LEAVES},
    [TBL_TRACES] = {"otel_traces", "traces", traces_cols, TR_NUM_LEAVES},
    [TBL_GAUGE] = {"otel_metrics_gauge", "metrics/gauge", gauge_cols, GAUGE_NUM_LEAVES},
    [TBL_SUM] = {"otel_metrics_sum", "metrics/sum", sum_cols, SUM_NUM_LEAVES},
    [TBL_HISTOGRAM] = {"otel_metrics_histogram", "metrics/histogram", histogram_cols,
                       HIST_NUM_LEAVES},
    [TBL_EXP_HISTOGRAM] = {"otel_metrics_exponential_histogram", "metrics/exponential_histogram",
                           exp_histogram_cols, EXP_NUM_LEAVES},
    [TBL_SUMMARY] = {"otel_metrics_summary", "metrics/summary", summary_cols, SUMMARY_NUM_LEAVES},
};

const char *tbl_name(tbl_id id)
{
    return id < TBL_COUNT ? tbl_defs[id].name : "unknown";
}

int tbl_sort_leaf(tbl_id id)
{
    switch (id) {
    case TBL_LOGS:
        return LOG_TIMESTAMP;
    case TBL_TRACES:
        return TR_TIMESTAMP;
    case TBL_COUNT:
        return -1;
    default:
        return MET_TIME_UNIX;
    }
}

const char *tbl_bloom_columns(tbl_id id)
{
    /* Logs get no SpanId filter: a log record is looked up by its trace, and
     * SpanId is unique per record, so its filter would be the largest part
     * of the filter bytes (docs/schema.md) */
    return id == TBL_TRACES ? "TraceId,SpanId" : id == TBL_LOGS ? "TraceId" : NULL;
}

const char *tbl_plain_columns(tbl_id id)
{
    /* Random ids: a trace's ids repeat a few times close together, which
     * zstd finds in PLAIN pages for a couple of bytes.  After sorting by
     * Timestamp the traces interleave, so a dictionary's entry numbers barely
     * compress and the chunk ends up larger (docs/schema.md). */
    return id == TBL_TRACES ? "TraceId,SpanId,ParentSpanId"
           : id == TBL_LOGS ? "TraceId,SpanId"
                            : NULL;
}

const char *tbl_dataset(tbl_id id)
{
    return id < TBL_COUNT ? tbl_defs[id].dataset : "unknown";
}

static int add_map(pq_schema *s, int parent, const char *name)
{
    return pq_schema_add_map(s, parent, name, PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING,
                             PQ_BYTE_ARRAY, PQ_LOGICAL_STRING, PQ_REQUIRED);
}

static int add_leaf(pq_schema *s, int parent, const char *name, col_kind kind, pq_logical ts)
{
    switch (kind) {
    case COL_TS:
        return pq_schema_add_leaf(s, parent, name, PQ_REQUIRED, PQ_INT64, ts, 0);
    case COL_STR:
        return pq_schema_add_leaf(s, parent, name, PQ_REQUIRED, PQ_BYTE_ARRAY, PQ_LOGICAL_STRING,
                                  0);
    case COL_I32:
        return pq_schema_add_leaf(s, parent, name, PQ_REQUIRED, PQ_INT32, PQ_LOGICAL_NONE, 0);
    case COL_I64:
        return pq_schema_add_leaf(s, parent, name, PQ_REQUIRED, PQ_INT64, PQ_LOGICAL_NONE, 0);
    case COL_F64:
        return pq_schema_add_leaf(s, parent, name, PQ_REQUIRED, PQ_DOUBLE, PQ_LOGICAL_NONE, 0);
    case COL_F64_OPT:
        return pq_schema_add_leaf(s, parent, name, PQ_OPTIONAL, PQ_DOUBLE, PQ_LOGICAL_NONE, 0);
    case COL_BOOL:
        return pq_schema_add_leaf(s, parent, name, PQ_REQUIRED, PQ_BOOLEAN, PQ_LOGICAL_NONE, 0);
    case COL_MAP:
        return add_map(s, parent, name);
    case COL_LIST_I64:
        return pq_schema_add_list_leaf(s, parent, name, PQ_REQUIRED, PQ_REQUIRED, PQ_INT64,
                                       PQ_LOGICAL_NONE);
    case COL_LIST_F64:
        return pq_schema_add_list_leaf(s, parent, name, PQ_REQUIRED, PQ_REQUIRED, PQ_DOUBLE,
                                       PQ_LOGICAL_NONE);
    case COL_EVENTS:
    case COL_LINKS:
    case COL_EXEMPLARS:
    case COL_QUANTILES:
        break;
    }
    int el = pq_schema_add_list_group(s, parent, name, PQ_REQUIRED, PQ_REQUIRED);
    if (el < 0) return el;
    static const col_def events[] = {
        {"Timestamp", COL_TS}, {"Name", COL_STR}, {"Attributes", COL_MAP}, END};
    static const col_def links[] = {{"TraceId", COL_STR},
                                    {"SpanId", COL_STR},
                                    {"TraceState", COL_STR},
                                    {"Attributes", COL_MAP},
                                    END};
    static const col_def exemplars[] = {{"FilteredAttributes", COL_MAP},
                                        {"TimeUnix", COL_TS},
                                        {"Value", COL_F64},
                                        {"SpanId", COL_STR},
                                        {"TraceId", COL_STR},
                                        END};
    static const col_def quantiles[] = {{"Quantile", COL_F64}, {"Value", COL_F64}, END};
    const col_def *fields = kind == COL_EVENTS      ? events
                            : kind == COL_LINKS     ? links
                            : kind == COL_EXEMPLARS ? exemplars
                                                    : quantiles;
    for (const col_def *f = fields; f->name; f++) {
        int rc = add_leaf(s, el, f->name, f->kind, ts);
        if (rc < 0) return rc;
    }
    return el;
}

/* Spot checks that the enums name the leaves they claim to. */
static int tbl_check_indices(const tbl_schemas *s, o2p_error *err)
{
    static const struct {
        tbl_id table;
        int leaf;
        const char *path;
    } checks[] = {
        {TBL_LOGS, LOG_RESOURCE_ATTRS, "ResourceAttributes.key_value.key"},
        {TBL_LOGS, LOG_SCOPE_ATTRS + 1, "ScopeAttributes.key_value.value"},
        {TBL_LOGS, LOG_ATTRS, "LogAttributes.key_value.key"},
        {TBL_LOGS, LOG_EVENT_NAME, "EventName"},
        {TBL_TRACES, TR_DURATION, "Duration"},
        {TBL_TRACES, TR_EVENTS_TIMESTAMP, "Events.list.element.Timestamp"},
        {TBL_TRACES, TR_EVENTS_ATTRS + 1, "Events.list.element.Attributes.key_value.value"},
        {TBL_TRACES, TR_LINKS_TRACE_ID, "Links.list.element.TraceId"},
        {TBL_TRACES, TR_LINKS_ATTRS + 1, "Links.list.element.Attributes.key_value.value"},
        {TBL_GAUGE, MET_TIME_UNIX, "TimeUnix"},
        {TBL_GAUGE, GAUGE_EXEMPLARS + EXEMPLAR_TRACE_ID, "Exemplars.list.element.TraceId"},
        {TBL_SUM, SUM_IS_MONOTONIC, "IsMonotonic"},
        {TBL_HISTOGRAM, HIST_EXPLICIT_BOUNDS, "ExplicitBounds.list.element"},
        {TBL_HISTOGRAM, HIST_AGG_TEMPORALITY, "AggregationTemporality"},
        {TBL_EXP_HISTOGRAM, EXP_NEGATIVE_BUCKET_COUNTS, "NegativeBucketCounts.list.element"},
        {TBL_EXP_HISTOGRAM, EXP_AGG_TEMPORALITY, "AggregationTemporality"},
        {TBL_SUMMARY, SUMMARY_QUANTILE_VALUE, "ValueAtQuantiles.list.element.Value"},
        {TBL_SUMMARY, SUMMARY_FLAGS, "Flags"},
    };
    for (size_t i = 0; i < sizeof checks / sizeof checks[0]; i++) {
        const pq_leaf *leaf = pq_schema_leaf(s->schema[checks[i].table], (size_t)checks[i].leaf);
        if (leaf == NULL || strcmp(leaf->path, checks[i].path) != 0)
            return o2p_errorf(err, O2P_ESTATE, "%s: leaf %d is %s, expected %s",
                              tbl_name(checks[i].table), checks[i].leaf,
                              leaf ? leaf->path : "(none)", checks[i].path);
    }
    return O2P_OK;
}

int tbl_schemas_init(tbl_schemas *s, tbl_ts_unit unit, o2p_error *err)
{
    memset(s, 0, sizeof *s);
    s->unit = unit;
    pq_logical ts = unit == TBL_TS_NANOS ? PQ_LOGICAL_TIMESTAMP_NANOS : PQ_LOGICAL_TIMESTAMP_MICROS;
    for (int t = 0; t < TBL_COUNT; t++) {
        int rc = pq_schema_create(&s->schema[t], tbl_defs[t].name, err);
        if (rc < 0) goto fail;
        for (const col_def *c = tbl_defs[t].cols; c->name; c++) {
            rc = add_leaf(s->schema[t], PQ_SCHEMA_ROOT, c->name, c->kind, ts);
            if (rc < 0) {
                o2p_errorf(err, rc, "%s: cannot add column %s", tbl_defs[t].name, c->name);
                goto fail;
            }
        }
        rc = pq_schema_finish(s->schema[t], err);
        if (rc < 0) goto fail;
        if (pq_schema_num_leaves(s->schema[t]) != (size_t)tbl_defs[t].num_leaves) {
            rc = o2p_errorf(err, O2P_ESTATE, "%s: %zu leaves, expected %d", tbl_defs[t].name,
                            pq_schema_num_leaves(s->schema[t]), tbl_defs[t].num_leaves);
            goto fail;
        }
        continue;
    fail:
        tbl_schemas_free(s);
        return rc;
    }
    int rc = tbl_check_indices(s, err);
    if (rc < 0) tbl_schemas_free(s);
    return rc;
}

void tbl_schemas_free(tbl_schemas *s)
{
    for (int t = 0; t < TBL_COUNT; t++) {
        pq_schema_destroy(s->schema[t]);
        s->schema[t] = NULL;
    }
}
