/*
 * otlp_rows: the one place that turns a decoded OTLP item into a table row.
 *
 * The protobuf and JSON decoders differ only in how they read the wire; both
 * fill the small flat structs below (slices point into the request body or
 * the decoder's scratch; attributes are finished tbl_attrs) and call the
 * emit functions, which apply the spec §2 rules (id hex and all-zero ids,
 * timestamp fallbacks, enum spellings, duration clamping, unit conversion,
 * hour partition) and append the row to the right tbl_batch group.
 */
#ifndef O2P_OTLP_ROWS_H
#define O2P_OTLP_ROWS_H

#include <stddef.h>
#include <stdint.h>

#include "otlp/otlp.h"
#include "table/tbl_attrs.h"
#include "table/tbl_batch.h"

typedef struct otlp_bytes {
    const uint8_t *ptr;
    size_t len;
} otlp_bytes;

/* An id as received: len is 0 (absent) or the full width (16 for trace ids,
 * 8 for span ids).  All-zero ids are written as "". */
typedef struct otlp_trace_id {
    uint8_t bytes[16];
    size_t len;
} otlp_trace_id;
typedef struct otlp_span_id {
    uint8_t bytes[8];
    size_t len;
} otlp_span_id;

typedef struct otlp_resource {
    tbl_attrs *attrs; /* finished (tbl_attrs_finish) */
    otlp_bytes schema_url;
    otlp_bytes service; /* set by otlp_resource_finish: stringified service.name or "" */
    uint64_t ident;     /* set by otlp_resource_finish: identity of these values */
} otlp_resource;

/* Looks up service.name in the (finished) attributes and gives the
 * resource a fresh identity: its rows share the resource-level column
 * values (pq_col_run_row). */
void otlp_resource_finish(otlp_resource *r);

typedef struct otlp_scope {
    otlp_bytes name;
    otlp_bytes version;
    otlp_bytes schema_url;
    tbl_attrs *attrs; /* finished */
    uint32_t dropped_attributes_count;
    uint64_t ident; /* set by otlp_scope_finish (0: rows do not share scope values) */
} otlp_scope;

/* Called once a scope's fields are read: a fresh identity for its values. */
void otlp_scope_finish(otlp_scope *s);

typedef struct otlp_log {
    uint64_t time_ns;
    uint64_t observed_ns;
    otlp_trace_id trace_id;
    otlp_span_id span_id;
    uint32_t flags;
    int32_t severity_number;
    otlp_bytes severity_text;
    otlp_bytes body; /* already stringified per spec §2 ("" when absent) */
    otlp_bytes event_name;
    tbl_attrs *attrs; /* finished */
} otlp_log;

/* Timestamp = time, else observed time, else receive_ns (ObservedTimestamp stays as given). */
int otlp_emit_log(tbl_batch *b, const otlp_resource *r, const otlp_scope *s, const otlp_log *log,
                  uint64_t receive_ns);

typedef struct otlp_span_event {
    uint64_t time_ns;
    otlp_bytes name;
    tbl_attrs *attrs; /* finished */
} otlp_span_event;

typedef struct otlp_span_link {
    otlp_trace_id trace_id;
    otlp_span_id span_id;
    otlp_bytes trace_state;
    tbl_attrs *attrs; /* finished */
} otlp_span_link;

typedef struct otlp_span {
    otlp_trace_id trace_id;
    otlp_span_id span_id;
    otlp_span_id parent_span_id;
    otlp_bytes trace_state;
    otlp_bytes name;
    int32_t kind; /* OTLP enum number; unknown -> SPAN_KIND_UNSPECIFIED */
    uint64_t start_ns;
    uint64_t end_ns;
    tbl_attrs *attrs;    /* finished */
    int32_t status_code; /* OTLP enum number; unknown -> STATUS_CODE_UNSET */
    otlp_bytes status_message;
    const otlp_span_event *events;
    size_t num_events;
    const otlp_span_link *links;
    size_t num_links;
} otlp_span;

int otlp_emit_span(tbl_batch *b, const otlp_resource *r, const otlp_scope *s,
                   const otlp_span *span);

typedef struct otlp_metric {
    tbl_id table; /* TBL_GAUGE .. TBL_SUMMARY */
    otlp_bytes name;
    otlp_bytes description;
    otlp_bytes unit;
    int32_t temporality; /* sum, histogram, exponential histogram */
    int is_monotonic;    /* sum */
} otlp_metric;

typedef struct otlp_exemplar {
    tbl_attrs *filtered_attrs; /* finished */
    uint64_t time_ns;
    double value; /* as_int converted; 0 when absent */
    otlp_span_id span_id;
    otlp_trace_id trace_id;
} otlp_exemplar;

typedef struct otlp_point {
    tbl_attrs *attrs; /* finished */
    uint64_t start_ns;
    uint64_t time_ns;
    uint32_t flags;
    const otlp_exemplar *exemplars;
    size_t num_exemplars;
    /* gauge and sum: a point with has_value == 0 must not be emitted (count it as rejected) */
    int has_value;
    double value; /* as_int converted to double */
    /* histogram, exponential histogram, summary */
    uint64_t count;
    int has_sum;
    double sum;
    int has_min;
    double min;
    int has_max;
    double max;
    const uint64_t *bucket_counts; /* histogram */
    size_t num_bucket_counts;
    const double *explicit_bounds;
    size_t num_explicit_bounds;
    int32_t scale; /* exponential histogram */
    uint64_t zero_count;
    int32_t positive_offset;
    const uint64_t *positive_counts;
    size_t num_positive_counts;
    int32_t negative_offset;
    const uint64_t *negative_counts;
    size_t num_negative_counts;
    const double *quantiles; /* summary: parallel arrays */
    const double *quantile_values;
    size_t num_quantiles;
} otlp_point;

int otlp_emit_point(tbl_batch *b, const otlp_resource *r, const otlp_scope *s, const otlp_metric *m,
                    const otlp_point *p);

/* Counts one skipped item (e.g. a number point without a value) in
 * stats->rejected; the first reason is kept for partial_success. */
void otlp_stats_reject(otlp_stats *stats, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
