/*
 * json_metrics: the metrics of one ScopeMetrics.  A metric's name and its
 * data's aggregationTemporality/isMonotonic are needed by every point row
 * but may follow the dataPoints (they do in common exporters' output), so a
 * metric is read in two passes like a resource level: first everything but
 * the points, then the points, each emitted as a row of its kind's table.
 */
#include <stdio.h>
#include <string.h>

#include "otlp/json_decode.h"

static const otlp_bytes EMPTY = {(const uint8_t *)"", 0};

enum { COUNTS_EXPLICIT = 0, COUNTS_POSITIVE = 1, COUNTS_NEGATIVE = 2 };
enum { DOUBLES_BOUNDS = 0, DOUBLES_QUANTILES = 1, DOUBLES_QUANTILE_VALUES = 2 };

static const struct {
    const char *camel, *snake;
    tbl_id table;
} KINDS[] = {
    {"gauge", "gauge", TBL_GAUGE},
    {"sum", "sum", TBL_SUM},
    {"histogram", "histogram", TBL_HISTOGRAM},
    {"exponentialHistogram", "exponential_histogram", TBL_EXP_HISTOGRAM},
    {"summary", "summary", TBL_SUMMARY},
};
#define NUM_KINDS (sizeof KINDS / sizeof KINDS[0])

static int kind_of(json_str name)
{
    for (size_t i = 0; i < NUM_KINDS; i++)
        if (json_str_eq(name, KINDS[i].camel, strlen(KINDS[i].camel)) ||
            json_str_eq(name, KINDS[i].snake, strlen(KINDS[i].snake)))
            return (int)i;
    return -1;
}

static int exemplar(otlp_json_state *s)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected an Exemplar object");
    O2P_TRY(jd_reserve(s, (void **)&s->exemplars, &s->exemplars_cap, s->num_exemplars + 1,
                       sizeof *s->exemplars));
    tbl_attrs *attrs = jd_pool_attrs(s);
    if (attrs == NULL) return jd_fail(s, O2P_ENOMEM, NULL, "out of memory");
    otlp_exemplar *ex = &s->exemplars[s->num_exemplars];
    memset(ex, 0, sizeof *ex);
    ex->filtered_attrs = attrs;
    O2P_TRY(json_object_begin(&s->r));
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY(name, "filteredAttributes", "filtered_attributes")) {
            tbl_attrs_reset(attrs);
            O2P_TRY(jd_attributes(s, "filteredAttributes", attrs));
        } else if (JD_KEY(name, "timeUnixNano", "time_unix_nano")) {
            O2P_TRY(jd_u64(s, "timeUnixNano", &ex->time_ns));
        } else if (JD_KEY(name, "asDouble", "as_double")) {
            int present = 0;
            O2P_TRY(jd_double(s, "asDouble", &ex->value, &present));
        } else if (JD_KEY(name, "asInt", "as_int")) {
            int64_t v = 0;
            O2P_TRY(jd_i64(s, "asInt", &v));
            ex->value = (double)v;
        } else if (JD_KEY(name, "spanId", "span_id")) {
            O2P_TRY(jd_span_id(s, "spanId", &ex->span_id));
        } else if (JD_KEY(name, "traceId", "trace_id")) {
            O2P_TRY(jd_trace_id(s, "traceId", &ex->trace_id));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(jd_attrs_done(s, attrs, "filteredAttributes"));
    s->num_exemplars++;
    return O2P_OK;
}

static int quantile(otlp_json_state *s)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected a ValueAtQuantile object");
    size_t n = s->num_quantiles;
    O2P_TRY(jd_reserve(s, (void **)&s->doubles[DOUBLES_QUANTILES],
                       &s->doubles_cap[DOUBLES_QUANTILES], n + 1, sizeof(double)));
    O2P_TRY(jd_reserve(s, (void **)&s->doubles[DOUBLES_QUANTILE_VALUES],
                       &s->doubles_cap[DOUBLES_QUANTILE_VALUES], n + 1, sizeof(double)));
    double *q = &s->doubles[DOUBLES_QUANTILES][n], *v = &s->doubles[DOUBLES_QUANTILE_VALUES][n];
    *q = *v = 0;
    O2P_TRY(json_object_begin(&s->r));
    json_str name;
    int rc, present = 0;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY1(name, "quantile"))
            O2P_TRY(jd_double(s, "quantile", q, &present));
        else if (JD_KEY1(name, "value"))
            O2P_TRY(jd_double(s, "value", v, &present));
        else
            O2P_TRY(json_skip(&s->r));
    }
    if (rc < 0) return rc;
    s->num_quantiles++;
    return O2P_OK;
}

/* An exponential histogram's positive or negative Buckets object. */
static int buckets(otlp_json_state *s, const char *field, int which, int32_t *offset, size_t *count)
{
    *count = 0;
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, field, "expected an object");
    O2P_TRY(json_object_begin(&s->r));
    jd_push(s, field, -1);
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY1(name, "offset"))
            O2P_TRY(jd_i32(s, "offset", offset));
        else if (JD_KEY(name, "bucketCounts", "bucket_counts"))
            O2P_TRY(jd_u64_array(s, "bucketCounts", which, count));
        else
            O2P_TRY(json_skip(&s->r));
    }
    if (rc < 0) return rc;
    jd_pop(s);
    return O2P_OK;
}

/* Fields of the histogram-like points (histogram, exponential histogram,
 * summary); 1 when `name` was one of them, 0 when not. */
static int distribution_field(otlp_json_state *s, json_str name, otlp_point *pt)
{
    tbl_id table = s->metric.table;
    if (JD_KEY1(name, "count")) {
        O2P_TRY(jd_u64(s, "count", &pt->count));
    } else if (JD_KEY1(name, "sum")) {
        O2P_TRY(jd_double(s, "sum", &pt->sum, &pt->has_sum));
    } else if (table != TBL_SUMMARY && JD_KEY1(name, "min")) {
        O2P_TRY(jd_double(s, "min", &pt->min, &pt->has_min));
    } else if (table != TBL_SUMMARY && JD_KEY1(name, "max")) {
        O2P_TRY(jd_double(s, "max", &pt->max, &pt->has_max));
    } else if (table == TBL_HISTOGRAM && JD_KEY(name, "bucketCounts", "bucket_counts")) {
        O2P_TRY(jd_u64_array(s, "bucketCounts", COUNTS_EXPLICIT, &pt->num_bucket_counts));
    } else if (table == TBL_HISTOGRAM && JD_KEY(name, "explicitBounds", "explicit_bounds")) {
        O2P_TRY(jd_double_array(s, "explicitBounds", DOUBLES_BOUNDS, &pt->num_explicit_bounds));
    } else if (table == TBL_EXP_HISTOGRAM && JD_KEY1(name, "scale")) {
        O2P_TRY(jd_i32(s, "scale", &pt->scale));
    } else if (table == TBL_EXP_HISTOGRAM && JD_KEY(name, "zeroCount", "zero_count")) {
        O2P_TRY(jd_u64(s, "zeroCount", &pt->zero_count));
    } else if (table == TBL_EXP_HISTOGRAM && JD_KEY1(name, "positive")) {
        O2P_TRY(buckets(s, "positive", COUNTS_POSITIVE, &pt->positive_offset,
                        &pt->num_positive_counts));
    } else if (table == TBL_EXP_HISTOGRAM && JD_KEY1(name, "negative")) {
        O2P_TRY(buckets(s, "negative", COUNTS_NEGATIVE, &pt->negative_offset,
                        &pt->num_negative_counts));
    } else if (table == TBL_EXP_HISTOGRAM && JD_KEY(name, "zeroThreshold", "zero_threshold")) {
        double ignored = 0; /* validated, not stored: the table has no column */
        int present = 0;
        O2P_TRY(jd_double(s, "zeroThreshold", &ignored, &present));
    } else if (table == TBL_SUMMARY && JD_KEY(name, "quantileValues", "quantile_values")) {
        s->num_quantiles = 0;
        O2P_TRY(jd_each(s, "quantileValues", quantile));
    } else {
        return 0;
    }
    return 1;
}

static int data_point(otlp_json_state *s)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected a data point object");
    O2P_TRY(json_object_begin(&s->r));
    arena_reset(&s->arena_rec);
    tbl_attrs_reset(&s->item_attrs);
    s->pool_used = 0;
    s->num_exemplars = 0;
    s->num_quantiles = 0;
    int number = s->metric.table == TBL_GAUGE || s->metric.table == TBL_SUM;
    otlp_point pt = {0};
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY1(name, "attributes")) {
            tbl_attrs_reset(&s->item_attrs);
            O2P_TRY(jd_attributes(s, "attributes", &s->item_attrs));
        } else if (JD_KEY(name, "startTimeUnixNano", "start_time_unix_nano")) {
            O2P_TRY(jd_u64(s, "startTimeUnixNano", &pt.start_ns));
        } else if (JD_KEY(name, "timeUnixNano", "time_unix_nano")) {
            O2P_TRY(jd_u64(s, "timeUnixNano", &pt.time_ns));
        } else if (JD_KEY1(name, "flags")) {
            O2P_TRY(jd_u32(s, "flags", &pt.flags));
        } else if (JD_KEY1(name, "exemplars")) {
            s->pool_used = 0;
            s->num_exemplars = 0;
            O2P_TRY(jd_each(s, "exemplars", exemplar));
        } else if (number && JD_KEY(name, "asDouble", "as_double")) {
            O2P_TRY(jd_double(s, "asDouble", &pt.value, &pt.has_value));
        } else if (number && JD_KEY(name, "asInt", "as_int")) {
            int64_t v = 0;
            int was_null = json_peek(&s->r) == JSON_NULL;
            O2P_TRY(jd_i64(s, "asInt", &v));
            if (!was_null) {
                pt.value = (double)v;
                pt.has_value = 1;
            }
        } else if (number) {
            O2P_TRY(json_skip(&s->r));
        } else {
            rc = distribution_field(s, name, &pt);
            if (rc < 0) return rc;
            if (rc == 0) O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(jd_attrs_done(s, &s->item_attrs, "attributes"));
    if (number && !pt.has_value) {
        /* the spec's rule: skip it and report it in partial_success */
        if (s->stats->rejected == 0 || s->stats->rejected_reason[0] == '\0') {
            char path[120];
            jd_path_format(s, NULL, path, sizeof path);
            snprintf(s->stats->rejected_reason, sizeof s->stats->rejected_reason,
                     "data point has no value: %s", path);
        }
        s->stats->rejected++;
        return O2P_OK;
    }
    pt.attrs = &s->item_attrs;
    pt.exemplars = s->exemplars;
    pt.num_exemplars = s->num_exemplars;
    pt.bucket_counts = s->counts[COUNTS_EXPLICIT];
    pt.explicit_bounds = s->doubles[DOUBLES_BOUNDS];
    pt.positive_counts = s->counts[COUNTS_POSITIVE];
    pt.negative_counts = s->counts[COUNTS_NEGATIVE];
    pt.quantiles = s->doubles[DOUBLES_QUANTILES];
    pt.quantile_values = s->doubles[DOUBLES_QUANTILE_VALUES];
    pt.num_quantiles = s->num_quantiles;
    rc = otlp_emit_point(s->out, &s->res, &s->scope, &s->metric, &pt);
    if (rc < 0) return jd_fail(s, rc, NULL, "cannot append the row: %s", o2p_strerror(rc));
    s->stats->rows[s->metric.table]++;
    return O2P_OK;
}

/* Pass 1 over a gauge/sum/... object: its scalar fields. */
static int data_head(otlp_json_state *s, const char *field)
{
    O2P_TRY(json_object_begin(&s->r));
    jd_push(s, field, -1);
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY(name, "aggregationTemporality", "aggregation_temporality"))
            O2P_TRY(
                jd_enum(s, "aggregationTemporality", JD_ENUM_TEMPORALITY, &s->metric.temporality));
        else if (JD_KEY(name, "isMonotonic", "is_monotonic"))
            O2P_TRY(jd_bool(s, "isMonotonic", &s->metric.is_monotonic));
        else
            O2P_TRY(json_skip_fast(&s->r));
    }
    if (rc < 0) return rc;
    jd_pop(s);
    return O2P_OK;
}

/* Pass 2: the data points (and validation of the skipped members). */
static int data_points(otlp_json_state *s, const char *field)
{
    O2P_TRY(json_object_begin(&s->r));
    jd_push(s, field, -1);
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY(name, "dataPoints", "data_points"))
            O2P_TRY(jd_each(s, "dataPoints", data_point));
        else if (JD_KEY(name, "aggregationTemporality", "aggregation_temporality") ||
                 JD_KEY(name, "isMonotonic", "is_monotonic"))
            O2P_TRY(json_skip_fast(&s->r)); /* read in pass 1 */
        else
            O2P_TRY(json_skip(&s->r));
    }
    if (rc < 0) return rc;
    jd_pop(s);
    return O2P_OK;
}

static int metric(otlp_json_state *s)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected a Metric object");
    O2P_TRY(json_object_begin(&s->r));
    json_mark mark = json_get_mark(&s->r);
    arena_reset(&s->arena_metric);
    memset(&s->metric, 0, sizeof s->metric);
    s->metric.name = s->metric.description = s->metric.unit = EMPTY;
    int kind = -1;
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        int k = kind_of(name);
        if (k >= 0) {
            t = json_peek(&s->r);
            if (t < 0) return t;
            if (t == JSON_NULL) {
                O2P_TRY(json_read_null(&s->r));
                continue;
            }
            if (t != JSON_OBJECT)
                return jd_fail(s, O2P_EINVAL, KINDS[k].camel, "expected an object");
            if (kind >= 0)
                return jd_fail(s, O2P_EINVAL, KINDS[k].camel,
                               "a metric has only one of gauge, sum, histogram, "
                               "exponentialHistogram, summary");
            kind = k;
            s->metric.table = KINDS[k].table;
            O2P_TRY(data_head(s, KINDS[k].camel));
        } else if (JD_KEY1(name, "name")) {
            O2P_TRY(jd_string(s, "name", &s->metric.name, &s->arena_metric));
        } else if (JD_KEY1(name, "description")) {
            O2P_TRY(jd_string(s, "description", &s->metric.description, &s->arena_metric));
        } else if (JD_KEY1(name, "unit")) {
            O2P_TRY(jd_string(s, "unit", &s->metric.unit, &s->arena_metric));
        } else {
            O2P_TRY(json_skip_fast(&s->r));
        }
    }
    if (rc < 0) return rc;
    json_rewind(&s->r, mark);
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        int k = kind_of(name);
        if (k >= 0 && k == kind)
            O2P_TRY(data_points(s, KINDS[k].camel));
        else if (k >= 0 || JD_KEY1(name, "name") || JD_KEY1(name, "description") ||
                 JD_KEY1(name, "unit"))
            O2P_TRY(json_skip_fast(&s->r)); /* read in pass 1 */
        else
            O2P_TRY(json_skip(&s->r));
    }
    return rc;
}

int jd_metrics(otlp_json_state *s)
{
    return jd_each(s, "metrics", metric);
}
