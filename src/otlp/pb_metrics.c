/*
 * pb_metrics: ExportMetricsServiceRequest → the five otel_metrics_* tables.
 *
 * A Metric is read in two passes (name, description and unit may follow the
 * data), and its data message (Gauge, Sum, ...) too (temporality and
 * monotonicity may follow the points).  Each data point is read completely
 * into the state's scratch arrays and emitted as one row.  Repeated numeric
 * fields are accepted packed and unpacked, as protobuf parsers must.
 */
#include <string.h>

#include "core/mem.h"
#include "otlp/pb_decode.h"

static const char *const resource_metrics_names[] = {
    [1] = "resource", [2] = "scopeMetrics", [3] = "schemaUrl"};
static const char *const scope_metrics_names[] = {
    [1] = "scope", [2] = "metrics", [3] = "schemaUrl"};
static const char *const metric_names[] = {[1] = "name",
                                           [2] = "description",
                                           [3] = "unit",
                                           [5] = "gauge",
                                           [7] = "sum",
                                           [9] = "histogram",
                                           [10] = "exponentialHistogram",
                                           [11] = "summary",
                                           [12] = "metadata"};
static const char *const data_names[] = {
    [1] = "dataPoints", [2] = "aggregationTemporality", [3] = "isMonotonic"};
static const char *const number_point_names[] = {[2] = "startTimeUnixNano",
                                                 [3] = "timeUnixNano",
                                                 [4] = "asDouble",
                                                 [5] = "exemplars",
                                                 [6] = "asInt",
                                                 [7] = "attributes",
                                                 [8] = "flags"};
static const char *const histogram_point_names[] = {[2] = "startTimeUnixNano",
                                                    [3] = "timeUnixNano",
                                                    [4] = "count",
                                                    [5] = "sum",
                                                    [6] = "bucketCounts",
                                                    [7] = "explicitBounds",
                                                    [8] = "exemplars",
                                                    [9] = "attributes",
                                                    [10] = "flags",
                                                    [11] = "min",
                                                    [12] = "max"};
static const char *const exp_point_names[] = {[1] = "attributes",   [2] = "startTimeUnixNano",
                                              [3] = "timeUnixNano", [4] = "count",
                                              [5] = "sum",          [6] = "scale",
                                              [7] = "zeroCount",    [8] = "positive",
                                              [9] = "negative",     [10] = "flags",
                                              [11] = "exemplars",   [12] = "min",
                                              [13] = "max",         [14] = "zeroThreshold"};
static const char *const summary_point_names[] = {
    [2] = "startTimeUnixNano", [3] = "timeUnixNano", [4] = "count", [5] = "sum",
    [6] = "quantileValues",    [7] = "attributes",   [8] = "flags"};
static const char *const buckets_names[] = {[1] = "offset", [2] = "bucketCounts"};
static const char *const quantile_names[] = {[1] = "quantile", [2] = "value"};
static const char *const exemplar_names[] = {
    [2] = "timeUnixNano", [3] = "asDouble", [4] = "spanId",
    [5] = "traceId",      [6] = "asInt",    [7] = "filteredAttributes"};

/* Where each point type keeps its common fields. */
typedef struct point_layout {
    uint32_t attributes, exemplars, flags;
    pb_names names;
} point_layout;

static const point_layout layouts[] = {
    [TBL_GAUGE] = {7, 5, 8, PB_NAMES_INIT(number_point_names)},
    [TBL_SUM] = {7, 5, 8, PB_NAMES_INIT(number_point_names)},
    [TBL_HISTOGRAM] = {9, 8, 10, PB_NAMES_INIT(histogram_point_names)},
    [TBL_EXP_HISTOGRAM] = {1, 11, 10, PB_NAMES_INIT(exp_point_names)},
    [TBL_SUMMARY] = {7, 0, 8, PB_NAMES_INIT(summary_point_names)},
};

static const uint8_t empty[1];

static int oom(otlp_pb_state *st, const pb_field *f)
{
    return pb_emit_failed(st, O2P_ENOMEM, f->at);
}

static int push_u64(otlp_pb_state *st, const pb_field *f, pb_u64s *a, size_t more)
{
    void *arr = a->v;
    if (mem_reserve_array(&arr, &a->cap, a->n + more, sizeof *a->v) < 0) return oom(st, f);
    a->v = arr;
    return O2P_OK;
}

static int push_f64(otlp_pb_state *st, const pb_field *f, pb_f64s *a, size_t more)
{
    void *arr = a->v;
    if (mem_reserve_array(&arr, &a->cap, a->n + more, sizeof *a->v) < 0) return oom(st, f);
    a->v = arr;
    return O2P_OK;
}

static int packed_fixed64_len(otlp_pb_state *st, const pb_reader *r, const pb_field *f)
{
    if (f->len % 8 == 0) return O2P_OK;
    char buf[24];
    return pb_fail(&st->ctx, pb_field_name(r, f, buf), f->at, O2P_EINVAL,
                   "packed fixed64 payload of %zu bytes is not a multiple of 8", f->len);
}

/* repeated fixed64, packed or not */
static int read_fixed64s(otlp_pb_state *st, const pb_reader *r, const pb_field *f, pb_u64s *out)
{
    if (f->wire == PB_LEN) {
        O2P_TRY(packed_fixed64_len(st, r, f));
        O2P_TRY(push_u64(st, f, out, f->len / 8));
        for (size_t i = 0; i < f->len; i += 8) out->v[out->n++] = pb_le64(f->data + i);
        return O2P_OK;
    }
    O2P_TRY(pb_want(&st->ctx, r, f, PB_FIXED64));
    O2P_TRY(push_u64(st, f, out, 1));
    out->v[out->n++] = f->value;
    return O2P_OK;
}

/* repeated double, packed or not */
static int read_doubles(otlp_pb_state *st, const pb_reader *r, const pb_field *f, pb_f64s *out)
{
    if (f->wire == PB_LEN) {
        O2P_TRY(packed_fixed64_len(st, r, f));
        O2P_TRY(push_f64(st, f, out, f->len / 8));
        for (size_t i = 0; i < f->len; i += 8) {
            uint64_t bits = pb_le64(f->data + i);
            memcpy(&out->v[out->n++], &bits, sizeof bits);
        }
        return O2P_OK;
    }
    O2P_TRY(pb_want(&st->ctx, r, f, PB_FIXED64));
    O2P_TRY(push_f64(st, f, out, 1));
    memcpy(&out->v[out->n++], &f->value, sizeof f->value);
    return O2P_OK;
}

/* repeated uint64 (varint), packed or not */
static int read_varints(otlp_pb_state *st, const pb_reader *r, const pb_field *f, pb_u64s *out)
{
    if (f->wire == PB_LEN) {
        const uint8_t *p = f->data, *end = f->data + f->len;
        /* at most one value per byte */
        O2P_TRY(push_u64(st, f, out, f->len));
        while (p < end) {
            if (pb_varint(&p, end, &out->v[out->n]) < 0) {
                char buf[24];
                return pb_fail(&st->ctx, pb_field_name(r, f, buf), p, O2P_EINVAL,
                               "malformed varint in packed field");
            }
            out->n++;
        }
        return O2P_OK;
    }
    O2P_TRY(pb_want(&st->ctx, r, f, PB_VARINT));
    O2P_TRY(push_u64(st, f, out, 1));
    out->v[out->n++] = f->value;
    return O2P_OK;
}

static int decode_exemplar(otlp_pb_state *st, const pb_field *f, size_t index)
{
    pb_ctx *ctx = &st->ctx;
    tbl_attrs *attrs;
    O2P_TRY(pb_nested_begin(st, f, (void **)&st->exemplars, &st->exemplars_cap,
                            sizeof *st->exemplars, index, &st->exemplar_attrs, "exemplars",
                            &attrs));
    otlp_exemplar *ex = &st->exemplars[index];
    memset(ex, 0, sizeof *ex);
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(exemplar_names));
    pb_field ef;
    long attr_index = 0;
    uint64_t v;
    int rc;
    while ((rc = pb_next(ctx, &r, &ef)) > 0) {
        switch (ef.num) {
        case 2:
            O2P_TRY(pb_scalar(ctx, &r, &ef, PB_FIXED64, &ex->time_ns));
            break;
        case 3:
            O2P_TRY(pb_double(ctx, &r, &ef, &ex->value));
            break;
        case 4:
            O2P_TRY(pb_id(ctx, &r, &ef, ex->span_id.bytes, 8, &ex->span_id.len));
            break;
        case 5:
            O2P_TRY(pb_id(ctx, &r, &ef, ex->trace_id.bytes, 16, &ex->trace_id.len));
            break;
        case 6:
            O2P_TRY(pb_scalar(ctx, &r, &ef, PB_FIXED64, &v));
            ex->value = (double)(int64_t)v;
            break;
        case 7:
            O2P_TRY(pb_keyvalue(st, &ef, "filteredAttributes", attr_index++, attrs));
            break;
        default:
            break;
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(pb_attrs_finish(st, attrs, "filteredAttributes", f->at));
    pb_pop(ctx);
    return O2P_OK;
}

/* ExponentialHistogramDataPoint.Buckets */
static int decode_buckets(otlp_pb_state *st, const pb_field *f, const char *name, int32_t *offset,
                          pb_u64s *counts)
{
    pb_ctx *ctx = &st->ctx;
    O2P_TRY(pb_push(ctx, name, -1, f->at));
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(buckets_names));
    pb_field bf;
    uint64_t v;
    int rc;
    while ((rc = pb_next(ctx, &r, &bf)) > 0) {
        if (bf.num == 1) {
            O2P_TRY(pb_scalar(ctx, &r, &bf, PB_VARINT, &v));
            *offset = pb_zigzag32(v);
        } else if (bf.num == 2) {
            O2P_TRY(read_varints(st, &r, &bf, counts));
        }
    }
    if (rc < 0) return rc;
    pb_pop(ctx);
    return O2P_OK;
}

static int decode_quantile(otlp_pb_state *st, const pb_field *f, long index)
{
    pb_ctx *ctx = &st->ctx;
    O2P_TRY(pb_push(ctx, "quantileValues", index, f->at));
    O2P_TRY(push_f64(st, f, &st->quantiles, 1));
    O2P_TRY(push_f64(st, f, &st->quantile_values, 1));
    double q = 0, value = 0;
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(quantile_names));
    pb_field qf;
    int rc;
    while ((rc = pb_next(ctx, &r, &qf)) > 0) {
        if (qf.num == 1)
            O2P_TRY(pb_double(ctx, &r, &qf, &q));
        else if (qf.num == 2)
            O2P_TRY(pb_double(ctx, &r, &qf, &value));
    }
    if (rc < 0) return rc;
    st->quantiles.v[st->quantiles.n++] = q;
    st->quantile_values.v[st->quantile_values.n++] = value;
    pb_pop(ctx);
    return O2P_OK;
}

/* Fields that only some point types have. */
static int point_field(otlp_pb_state *st, tbl_id kind, const pb_reader *r, const pb_field *f,
                       otlp_point *p)
{
    pb_ctx *ctx = &st->ctx;
    uint64_t v;
    if (kind == TBL_GAUGE || kind == TBL_SUM) {
        if (f->num == 4) {
            O2P_TRY(pb_double(ctx, r, f, &p->value));
            p->has_value = 1;
        } else if (f->num == 6) {
            O2P_TRY(pb_scalar(ctx, r, f, PB_FIXED64, &v));
            p->value = (double)(int64_t)v;
            p->has_value = 1;
        }
        return O2P_OK;
    }
    /* count (4) and sum (5) are shared by the three distribution types */
    if (f->num == 4) return pb_scalar(ctx, r, f, PB_FIXED64, &p->count);
    if (f->num == 5) {
        p->has_sum = 1;
        return pb_double(ctx, r, f, &p->sum);
    }
    if (kind == TBL_HISTOGRAM) {
        switch (f->num) {
        case 6:
            return read_fixed64s(st, r, f, &st->bucket_counts);
        case 7:
            return read_doubles(st, r, f, &st->bounds);
        case 11:
            p->has_min = 1;
            return pb_double(ctx, r, f, &p->min);
        case 12:
            p->has_max = 1;
            return pb_double(ctx, r, f, &p->max);
        default:
            return O2P_OK;
        }
    }
    if (kind == TBL_EXP_HISTOGRAM) {
        switch (f->num) {
        case 6:
            O2P_TRY(pb_scalar(ctx, r, f, PB_VARINT, &v));
            p->scale = pb_zigzag32(v);
            return O2P_OK;
        case 7:
            return pb_scalar(ctx, r, f, PB_FIXED64, &p->zero_count);
        case 8:
            O2P_TRY(pb_want(ctx, r, f, PB_LEN));
            return decode_buckets(st, f, "positive", &p->positive_offset, &st->positive);
        case 9:
            O2P_TRY(pb_want(ctx, r, f, PB_LEN));
            return decode_buckets(st, f, "negative", &p->negative_offset, &st->negative);
        case 12:
            p->has_min = 1;
            return pb_double(ctx, r, f, &p->min);
        case 13:
            p->has_max = 1;
            return pb_double(ctx, r, f, &p->max);
        default:
            return O2P_OK;
        }
    }
    if (f->num == 6) { /* summary quantile_values */
        O2P_TRY(pb_want(ctx, r, f, PB_LEN));
        return decode_quantile(st, f, (long)st->quantiles.n);
    }
    return O2P_OK;
}

static int decode_point(otlp_pb_state *st, const otlp_resource *res, const otlp_scope *scope,
                        const otlp_metric *m, const pb_field *item)
{
    pb_ctx *ctx = &st->ctx;
    const point_layout *layout = &layouts[m->table];
    otlp_point p;
    memset(&p, 0, sizeof p);
    tbl_attrs_reset(&st->record_attrs);
    p.attrs = &st->record_attrs;
    st->bucket_counts.n = st->positive.n = st->negative.n = 0;
    st->bounds.n = st->quantiles.n = st->quantile_values.n = 0;
    size_t num_exemplars = 0;
    long attr_index = 0;
    pb_reader r;
    pb_reader_init(&r, item->data, item->len, layout->names);
    pb_field f;
    uint64_t v;
    int rc;
    while ((rc = pb_next(ctx, &r, &f)) > 0) {
        if (f.num == 2) {
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_FIXED64, &p.start_ns));
        } else if (f.num == 3) {
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_FIXED64, &p.time_ns));
        } else if (f.num == layout->attributes) {
            O2P_TRY(pb_keyvalue(st, &f, "attributes", attr_index++, &st->record_attrs));
        } else if (f.num == layout->flags) {
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_VARINT, &v));
            p.flags = (uint32_t)v;
        } else if (f.num == layout->exemplars) {
            O2P_TRY(pb_want(ctx, &r, &f, PB_LEN));
            O2P_TRY(decode_exemplar(st, &f, num_exemplars++));
        } else {
            O2P_TRY(point_field(st, m->table, &r, &f, &p));
        }
    }
    if (rc < 0) return rc;
    if ((m->table == TBL_GAUGE || m->table == TBL_SUM) && !p.has_value) {
        char path[160];
        pb_path(ctx, path, sizeof path);
        otlp_stats_reject(st->stats, "%s: number data point without a value (asDouble or asInt)",
                          path);
        return O2P_OK;
    }
    O2P_TRY(pb_attrs_finish(st, &st->record_attrs, "attributes", item->at));
    for (size_t i = 0; i < num_exemplars; i++)
        st->exemplars[i].filtered_attrs = &st->exemplar_attrs.items[i];
    p.exemplars = st->exemplars;
    p.num_exemplars = num_exemplars;
    p.bucket_counts = st->bucket_counts.v;
    p.num_bucket_counts = st->bucket_counts.n;
    p.explicit_bounds = st->bounds.v;
    p.num_explicit_bounds = st->bounds.n;
    p.positive_counts = st->positive.v;
    p.num_positive_counts = st->positive.n;
    p.negative_counts = st->negative.v;
    p.num_negative_counts = st->negative.n;
    p.quantiles = st->quantiles.v;
    p.quantile_values = st->quantile_values.v;
    p.num_quantiles = st->quantiles.n;
    rc = otlp_emit_point(st->out, res, scope, m, &p);
    if (rc < 0) return pb_emit_failed(st, rc, item->at);
    st->stats->rows[m->table]++;
    return O2P_OK;
}

static tbl_id data_table(uint32_t field_num)
{
    switch (field_num) {
    case 5:
        return TBL_GAUGE;
    case 7:
        return TBL_SUM;
    case 9:
        return TBL_HISTOGRAM;
    case 10:
        return TBL_EXP_HISTOGRAM;
    case 11:
        return TBL_SUMMARY;
    default:
        return TBL_COUNT;
    }
}

/* The Gauge/Sum/Histogram/ExponentialHistogram/Summary message in f. */
static int decode_data(otlp_pb_state *st, const otlp_resource *res, const otlp_scope *scope,
                       otlp_metric *m, const pb_field *data, const char *name)
{
    pb_ctx *ctx = &st->ctx;
    O2P_TRY(pb_push(ctx, name, -1, data->at));
    pb_reader r;
    pb_field f;
    uint64_t v;
    int rc;
    pb_reader_init(&r, data->data, data->len, PB_NAMES(data_names));
    while ((rc = pb_next(ctx, &r, &f)) > 0) {
        if (f.num == 2 && m->table != TBL_GAUGE && m->table != TBL_SUMMARY) {
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_VARINT, &v));
            m->temporality = (int32_t)v;
        } else if (f.num == 3 && m->table == TBL_SUM) {
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_VARINT, &v));
            m->is_monotonic = v != 0;
        }
    }
    if (rc < 0) return rc;
    long index = 0;
    pb_reader_init(&r, data->data, data->len, PB_NAMES(data_names));
    while ((rc = pb_next(ctx, &r, &f)) > 0) {
        if (f.num != 1) continue;
        O2P_TRY(pb_want(ctx, &r, &f, PB_LEN));
        O2P_TRY(pb_push(ctx, "dataPoints", index++, f.at));
        O2P_TRY(decode_point(st, res, scope, m, &f));
        pb_pop(ctx);
    }
    if (rc < 0) return rc;
    pb_pop(ctx);
    return O2P_OK;
}

static int decode_metric(otlp_pb_state *st, const otlp_resource *res, const otlp_scope *scope,
                         const pb_field *item)
{
    pb_ctx *ctx = &st->ctx;
    otlp_metric m = {
        .table = TBL_COUNT, .name = {empty, 0}, .description = {empty, 0}, .unit = {empty, 0}};
    pb_field f, data = {0};
    pb_reader r;
    int rc;
    pb_reader_init(&r, item->data, item->len, PB_NAMES(metric_names));
    while ((rc = pb_next(ctx, &r, &f)) > 0) {
        switch (f.num) {
        case 1:
            O2P_TRY(pb_string(ctx, &r, &f, &m.name.ptr, &m.name.len));
            break;
        case 2:
            O2P_TRY(pb_string(ctx, &r, &f, &m.description.ptr, &m.description.len));
            break;
        case 3:
            O2P_TRY(pb_string(ctx, &r, &f, &m.unit.ptr, &m.unit.len));
            break;
        default:
            /* data is a oneof: the last member present wins */
            if (data_table(f.num) != TBL_COUNT) {
                O2P_TRY(pb_want(ctx, &r, &f, PB_LEN));
                data = f;
                m.table = data_table(f.num);
            }
            break;
        }
    }
    if (rc < 0) return rc;
    if (m.table == TBL_COUNT) return O2P_OK; /* no data, no rows */
    return decode_data(st, res, scope, &m, &data, metric_names[data.num]);
}

int pb_decode_metrics(otlp_pb_state *st, const uint8_t *body, size_t len)
{
    static const pb_signal_desc desc = {
        .resource_list = "resourceMetrics",
        .scope_list = "scopeMetrics",
        .item_list = "metrics",
        .resource_names = PB_NAMES_INIT(resource_metrics_names),
        .scope_names = PB_NAMES_INIT(scope_metrics_names),
        .item = decode_metric,
    };
    return pb_decode_request(st, &desc, body, len);
}
