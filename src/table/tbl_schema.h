/*
 * tbl_schema: the seven output tables of spec §2 (the OpenTelemetry
 * ClickHouse-exporter column set in native Parquet types) and the leaf-column
 * index of every column, so decoders can fill pq_colsets directly.
 *
 * Leaf indices follow the schema's depth-first leaf order; a MAP column has
 * two leaves (key at the listed index, value at index + 1); LIST<STRUCT>
 * columns list one index per struct leaf.  tbl_schemas_init checks every
 * index against the built schema's dotted paths, so the enums cannot drift.
 */
#ifndef O2P_TABLE_SCHEMA_H
#define O2P_TABLE_SCHEMA_H

#include "core/error.h"
#include "parquet/pq_schema.h"

typedef enum tbl_id {
    TBL_LOGS = 0,
    TBL_TRACES,
    TBL_GAUGE,
    TBL_SUM,
    TBL_HISTOGRAM,
    TBL_EXP_HISTOGRAM,
    TBL_SUMMARY,
    TBL_COUNT
} tbl_id;

typedef enum tbl_ts_unit { TBL_TS_MICROS = 0, TBL_TS_NANOS = 1 } tbl_ts_unit;

/* "otel_logs", "otel_traces", "otel_metrics_gauge", ... */
const char *tbl_name(tbl_id id);
/* Storage sub-path of spec §4: "logs", "traces", "metrics/gauge", ... */
const char *tbl_dataset(tbl_id id);

#define TBL_SCHEMA_VERSION "1"

enum { /* otel_logs */
       LOG_TIMESTAMP = 0,
       LOG_OBSERVED_TIMESTAMP,
       LOG_TRACE_ID,
       LOG_SPAN_ID,
       LOG_TRACE_FLAGS,
       LOG_SEVERITY_TEXT,
       LOG_SEVERITY_NUMBER,
       LOG_SERVICE_NAME,
       LOG_BODY,
       LOG_RESOURCE_SCHEMA_URL,
       LOG_RESOURCE_ATTRS, /* map: key, value */
       LOG_SCOPE_SCHEMA_URL = LOG_RESOURCE_ATTRS + 2,
       LOG_SCOPE_NAME,
       LOG_SCOPE_VERSION,
       LOG_SCOPE_ATTRS,                 /* map */
       LOG_ATTRS = LOG_SCOPE_ATTRS + 2, /* map */
       LOG_EVENT_NAME = LOG_ATTRS + 2,
       LOG_NUM_LEAVES
};

enum { /* otel_traces */
       TR_TIMESTAMP = 0,
       TR_TRACE_ID,
       TR_SPAN_ID,
       TR_PARENT_SPAN_ID,
       TR_TRACE_STATE,
       TR_SPAN_NAME,
       TR_SPAN_KIND,
       TR_SERVICE_NAME,
       TR_RESOURCE_ATTRS, /* map */
       TR_SCOPE_NAME = TR_RESOURCE_ATTRS + 2,
       TR_SCOPE_VERSION,
       TR_SPAN_ATTRS, /* map */
       TR_DURATION = TR_SPAN_ATTRS + 2,
       TR_STATUS_CODE,
       TR_STATUS_MESSAGE,
       TR_EVENTS_TIMESTAMP, /* Events LIST<STRUCT<Timestamp, Name, Attributes MAP>> */
       TR_EVENTS_NAME,
       TR_EVENTS_ATTRS, /* map inside the list element */
       TR_LINKS_TRACE_ID = TR_EVENTS_ATTRS +
                           2, /* Links LIST<STRUCT<TraceId, SpanId, TraceState, Attributes MAP>> */
       TR_LINKS_SPAN_ID,
       TR_LINKS_TRACE_STATE,
       TR_LINKS_ATTRS, /* map inside the list element */
       TR_NUM_LEAVES = TR_LINKS_ATTRS + 2
};

enum {                         /* leading columns of every metrics table */
       MET_RESOURCE_ATTRS = 0, /* map */
       MET_RESOURCE_SCHEMA_URL = 2,
       MET_SCOPE_NAME,
       MET_SCOPE_VERSION,
       MET_SCOPE_ATTRS, /* map */
       MET_SCOPE_DROPPED_ATTR_COUNT = MET_SCOPE_ATTRS + 2,
       MET_SCOPE_SCHEMA_URL,
       MET_SERVICE_NAME,
       MET_METRIC_NAME,
       MET_METRIC_DESCRIPTION,
       MET_METRIC_UNIT,
       MET_ATTRS, /* map */
       MET_START_TIME_UNIX = MET_ATTRS + 2,
       MET_TIME_UNIX,
       MET_NUM_COMMON
};

/* Offsets inside an Exemplars LIST<STRUCT<FilteredAttributes MAP, TimeUnix,
 * Value, SpanId, TraceId>> block, relative to its first leaf. */
enum {
    EXEMPLAR_ATTRS = 0, /* map */
    EXEMPLAR_TIME_UNIX = 2,
    EXEMPLAR_VALUE,
    EXEMPLAR_SPAN_ID,
    EXEMPLAR_TRACE_ID,
    EXEMPLAR_NUM_LEAVES
};

enum { /* otel_metrics_gauge */
       GAUGE_VALUE = MET_NUM_COMMON,
       GAUGE_FLAGS,
       GAUGE_EXEMPLARS,
       GAUGE_NUM_LEAVES = GAUGE_EXEMPLARS + EXEMPLAR_NUM_LEAVES
};

enum { /* otel_metrics_sum */
       SUM_VALUE = MET_NUM_COMMON,
       SUM_FLAGS,
       SUM_EXEMPLARS,
       SUM_AGG_TEMPORALITY = SUM_EXEMPLARS + EXEMPLAR_NUM_LEAVES,
       SUM_IS_MONOTONIC,
       SUM_NUM_LEAVES
};

enum { /* otel_metrics_histogram */
       HIST_COUNT = MET_NUM_COMMON,
       HIST_SUM, /* optional */
       HIST_BUCKET_COUNTS,
       HIST_EXPLICIT_BOUNDS,
       HIST_EXEMPLARS,
       HIST_FLAGS = HIST_EXEMPLARS + EXEMPLAR_NUM_LEAVES,
       HIST_MIN, /* optional */
       HIST_MAX, /* optional */
       HIST_AGG_TEMPORALITY,
       HIST_NUM_LEAVES
};

enum { /* otel_metrics_exponential_histogram */
       EXP_COUNT = MET_NUM_COMMON,
       EXP_SUM, /* optional */
       EXP_SCALE,
       EXP_ZERO_COUNT,
       EXP_POSITIVE_OFFSET,
       EXP_POSITIVE_BUCKET_COUNTS,
       EXP_NEGATIVE_OFFSET,
       EXP_NEGATIVE_BUCKET_COUNTS,
       EXP_EXEMPLARS,
       EXP_FLAGS = EXP_EXEMPLARS + EXEMPLAR_NUM_LEAVES,
       EXP_MIN, /* optional */
       EXP_MAX, /* optional */
       EXP_AGG_TEMPORALITY,
       EXP_NUM_LEAVES
};

enum { /* otel_metrics_summary */
       SUMMARY_COUNT = MET_NUM_COMMON,
       SUMMARY_SUM,
       SUMMARY_QUANTILE, /* ValueAtQuantiles LIST<STRUCT<Quantile, Value>> */
       SUMMARY_QUANTILE_VALUE,
       SUMMARY_FLAGS,
       SUMMARY_NUM_LEAVES
};

/* The schemas of all tables for one timestamp unit; built once, read-only
 * afterwards (safe to share between threads). */
typedef struct tbl_schemas {
    pq_schema *schema[TBL_COUNT];
    tbl_ts_unit unit;
} tbl_schemas;

int tbl_schemas_init(tbl_schemas *s, tbl_ts_unit unit, o2p_error *err);

/* The leaf the table's files are sorted by (pq_writer_options.sort_leaf):
 * Timestamp for logs and traces, TimeUnix for the metrics tables. */
int tbl_sort_leaf(tbl_id id);

/* The columns that get bloom filters by default (pq_writer_options.
 * bloom_table_columns): "TraceId,SpanId" for traces, "TraceId" for logs,
 * NULL for the metrics tables. */
const char *tbl_bloom_columns(tbl_id id);

/* The columns always written PLAIN, without a dictionary (pq_writer_options.
 * plain_table_columns): the ids of logs and traces. */
const char *tbl_plain_columns(tbl_id id);
void tbl_schemas_free(tbl_schemas *s);

#endif
