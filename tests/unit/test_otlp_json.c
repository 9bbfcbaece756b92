/* Unit tests for the OTLP/JSON decoders: field spellings and member order,
 * ids, enums, AnyValue strings, metric kinds, JSONL, error paths, the
 * upstream sample files and zero allocations in the steady state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "col_peek.h"
#include "pb_build.h"
#include "core/mem.h"
#include "otlp/otlp_json.h"
#include "table/tbl_schema.h"
#include "unit.h"

typedef struct fixture {
    tbl_schemas schemas;
    tbl_batch batch;
    otlp_json_state *st;
    otlp_stats stats;
    o2p_error err;
} fixture;

static void fx_init(fixture *f)
{
    memset(f, 0, sizeof *f);
    CHECK_OK(tbl_schemas_init(&f->schemas, TBL_TS_NANOS, &f->err));
    tbl_batch_init(&f->batch, &f->schemas);
    otlp_options o;
    otlp_options_default(&o);
    CHECK_OK(otlp_json_state_create(&f->st, &o));
}

static void fx_free(fixture *f)
{
    otlp_json_state_destroy(f->st);
    tbl_batch_free(&f->batch);
    tbl_schemas_free(&f->schemas);
}

static int decode(fixture *f, otlp_signal sig, const char *doc, int jsonl)
{
    memset(&f->err, 0, sizeof f->err);
    return otlp_json_decode(f->st, sig, (const uint8_t *)doc, strlen(doc), jsonl, 777, &f->batch,
                            &f->stats, &f->err);
}

/* Decodes and expects success. */
static void ok(fixture *f, otlp_signal sig, const char *doc)
{
    int rc = decode(f, sig, doc, 0);
    CHECK_MSG(rc == 0, "decode failed (%d): %s", rc, f->err.msg);
}

/* Decodes and expects failure with a message containing `want`. */
static void fails(fixture *f, otlp_signal sig, const char *doc, const char *want)
{
    int rc = decode(f, sig, doc, 0);
    CHECK_MSG(rc < 0, "accepted: %s", doc);
    CHECK_MSG(strstr(f->err.msg, want) != NULL, "message '%s' lacks '%s'", f->err.msg, want);
}

static tbl_group *group(fixture *f, tbl_id table, size_t nth)
{
    for (size_t i = 0; i < f->batch.cap; i++) {
        tbl_group *g = &f->batch.groups[i];
        if (g->in_use && g->table == table && nth-- == 0) return g;
    }
    unit_fail(__FILE__, __LINE__, "no group %zu of table %d", nth, (int)table);
}

static const char *str_at(const tbl_group *g, size_t col, size_t k)
{
    static char out[512];
    return peek_str(&g->rows.cols[col], k, out, sizeof out);
}

/* The value of attribute `key` in a top-level map column of row 0. */
static const char *attr(const tbl_group *g, size_t key_col, const char *key)
{
    static char out[512];
    char k[256];
    const pq_column *kc = &g->rows.cols[key_col];
    for (size_t i = 0; i < kc->num_values; i++)
        if (strcmp(peek_str(kc, i, k, sizeof k), key) == 0)
            return peek_str(&g->rows.cols[key_col + 1], i, out, sizeof out);
    return "(absent)";
}

#define TID_HEX "5b8efff798038103d269b633813fc60c"
#define SID_HEX "eee19b7ec3c1b174"
#define TID_B64 "W47/95gDgQPSabYzgT/GDA=="
#define SID_B64 "7uGbfsPBsXQ="

TEST(otlp_json_logs_fields)
{
    fixture f;
    fx_init(&f);
    ok(&f, OTLP_LOGS,
       "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
       "{\"stringValue\":\"checkout\"}},{\"key\":\"n\",\"value\":{\"intValue\":\"42\"}}]},"
       "\"schemaUrl\":\"https://"
       "rs\",\"scopeLogs\":[{\"scope\":{\"name\":\"lib\",\"version\":\"1.2\","
       "\"attributes\":[{\"key\":\"sa\",\"value\":{\"boolValue\":true}}]},\"schemaUrl\":\"https://"
       "ss\","
       "\"logRecords\":[{\"timeUnixNano\":\"1700000000000000001\",\"observedTimeUnixNano\":"
       "1700000000000000002,\"severityNumber\":\"SEVERITY_NUMBER_WARN\",\"severityText\":"
       "\"W\\u0041RN\","
       "\"body\":{\"stringValue\":\"line\\n\\\"quoted\\\"\"},\"traceId\":\"" TID_HEX
       "\",\"spanId\":\"" SID_HEX
       "\",\"flags\":1,\"eventName\":\"ev\",\"unknownField\":{\"x\":[1,2]},"
       "\"attributes\":[{\"key\":\"d\",\"value\":{\"doubleValue\":0.1}}]}]}]}]}");
    CHECK_UINT(f.stats.rows[TBL_LOGS], 1);
    tbl_group *g = group(&f, TBL_LOGS, 0);
    CHECK_STR(g->service, "checkout");
    CHECK_INT(peek_i64(&g->rows.cols[LOG_TIMESTAMP], 0), 1700000000000000001LL);
    CHECK_INT(peek_i64(&g->rows.cols[LOG_OBSERVED_TIMESTAMP], 0), 1700000000000000002LL);
    CHECK_INT(peek_i32(&g->rows.cols[LOG_SEVERITY_NUMBER], 0), 13);
    CHECK_STR(str_at(g, LOG_SEVERITY_TEXT, 0), "WARN");
    CHECK_STR(str_at(g, LOG_BODY, 0), "line\n\"quoted\"");
    CHECK_STR(str_at(g, LOG_TRACE_ID, 0), TID_HEX);
    CHECK_STR(str_at(g, LOG_SPAN_ID, 0), SID_HEX);
    CHECK_INT(peek_i32(&g->rows.cols[LOG_TRACE_FLAGS], 0), 1);
    CHECK_STR(str_at(g, LOG_EVENT_NAME, 0), "ev");
    CHECK_STR(str_at(g, LOG_RESOURCE_SCHEMA_URL, 0), "https://rs");
    CHECK_STR(str_at(g, LOG_SCOPE_SCHEMA_URL, 0), "https://ss");
    CHECK_STR(str_at(g, LOG_SCOPE_NAME, 0), "lib");
    CHECK_STR(str_at(g, LOG_SCOPE_VERSION, 0), "1.2");
    CHECK_STR(attr(g, LOG_RESOURCE_ATTRS, "n"), "42");
    CHECK_STR(attr(g, LOG_RESOURCE_ATTRS, "service.name"), "checkout");
    CHECK_STR(attr(g, LOG_SCOPE_ATTRS, "sa"), "true");
    CHECK_STR(attr(g, LOG_ATTRS, "d"), "0.1");
    fx_free(&f);
}

TEST(otlp_json_any_member_order_and_snake_case)
{
    fixture f;
    fx_init(&f);
    /* items before their resource/scope, schemaUrl last, snake_case names */
    ok(&f, OTLP_LOGS,
       "{\"resource_logs\":[{\"scope_logs\":[{\"log_records\":[{\"time_unix_nano\":5,"
       "\"severity_number\":17,\"body\":{\"string_value\":\"a\"}},{\"body\":{\"int_value\":-3}}],"
       "\"scope\":{\"name\":\"s\"},\"schema_url\":\"u2\"}],\"resource\":{\"attributes\":[{"
       "\"value\":"
       "{\"stringValue\":\"svc\"},\"key\":\"service.name\"}]},\"schema_url\":\"u1\"}]}");
    CHECK_UINT(f.stats.rows[TBL_LOGS], 2);
    tbl_group *g = group(&f, TBL_LOGS, 0);
    CHECK_STR(g->service, "svc");
    CHECK_UINT(g->rows.num_rows, 2);
    CHECK_STR(str_at(g, LOG_BODY, 0), "a");
    CHECK_STR(str_at(g, LOG_BODY, 1), "-3");
    CHECK_INT(peek_i32(&g->rows.cols[LOG_SEVERITY_NUMBER], 0), 17);
    CHECK_STR(str_at(g, LOG_SCOPE_NAME, 1), "s");
    CHECK_STR(str_at(g, LOG_RESOURCE_SCHEMA_URL, 1), "u1");
    CHECK_STR(str_at(g, LOG_SCOPE_SCHEMA_URL, 1), "u2");
    /* the second record has no time: the receive time (777 ns) */
    CHECK_INT(peek_i64(&g->rows.cols[LOG_TIMESTAMP], 1), 777);
    fx_free(&f);
}

/* Body of one log record whose body is `value` (an AnyValue JSON). */
static const char *body_of(fixture *f, const char *value)
{
    char doc[2048];
    snprintf(doc, sizeof doc,
             "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":1,\"body\":%s}]"
             "}]}]}",
             value);
    tbl_batch_reset(&f->batch);
    ok(f, OTLP_LOGS, doc);
    return str_at(group(f, TBL_LOGS, 0), LOG_BODY, 0);
}

TEST(otlp_json_anyvalue_strings)
{
    fixture f;
    fx_init(&f);
    CHECK_STR(body_of(&f, "{\"stringValue\":\"x\\u00e9\"}"), "x\xc3\xa9");
    CHECK_STR(body_of(&f, "{\"boolValue\":false}"), "false");
    CHECK_STR(body_of(&f, "{\"intValue\":9223372036854775807}"), "9223372036854775807");
    CHECK_STR(body_of(&f, "{\"intValue\":\"-12\"}"), "-12");
    CHECK_STR(body_of(&f, "{\"doubleValue\":1e21}"), "1e+21");
    CHECK_STR(body_of(&f, "{\"doubleValue\":-0.0}"), "0");
    CHECK_STR(body_of(&f, "{\"doubleValue\":3}"), "3");
    CHECK_STR(body_of(&f, "{\"doubleValue\":\"NaN\"}"), "NaN");
    CHECK_STR(body_of(&f, "{\"doubleValue\":\"-Infinity\"}"), "-Inf");
    CHECK_STR(body_of(&f, "{\"bytesValue\":\"AQID\"}"), "AQID");
    CHECK_STR(body_of(&f, "{\"bytesValue\":\"_-8\"}"), "/+8="); /* normalized */
    CHECK_STR(body_of(&f, "{}"), "");
    CHECK_STR(body_of(&f, "null"), "");
    CHECK_STR(body_of(&f, "{\"stringValue\":\"a\",\"intValue\":5}"), "5"); /* last wins */
    CHECK_STR(body_of(&f, "{\"intValue\":5,\"stringValue\":null}"), "5");
    CHECK_STR(
        body_of(&f,
                "{\"arrayValue\":{\"values\":[{\"stringValue\":\"q\\\"\"},{\"intValue\":1},"
                "{\"doubleValue\":\"Infinity\"},{},{\"boolValue\":true},{\"bytesValue\":\"AA==\"},"
                "{\"doubleValue\":2.5},{\"arrayValue\":{}}]}}"),
        "[\"q\\\"\",1,\"+Inf\",null,true,\"AA==\",2.5,[]]");
    CHECK_STR(
        body_of(
            &f,
            "{\"kvlistValue\":{\"values\":[{\"key\":\"b\",\"value\":{\"intValue\":\"2\"}},"
            "{\"key\":\"a\"},{\"value\":{\"kvlistValue\":{\"values\":[]}},\"key\":\"n\\n\"}]}}"),
        "{\"b\":2,\"a\":null,\"n\\n\":{}}");
    fails(&f, OTLP_LOGS,
          "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"bytesValue\":\"A\"}}]}]"
          "}]}",
          "resourceLogs[0].scopeLogs[0].logRecords[0].body.bytesValue: invalid base64");
    fails(&f, OTLP_LOGS,
          "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"attributes\":[{\"key\":\"k\","
          "\"value\":{\"arrayValue\":{\"values\":[{\"intValue\":\"x\"}]}}}]}]}]}]}",
          "logRecords[0].attributes[0].value.arrayValue.values[0].intValue: expected a signed "
          "64-bit");
    fx_free(&f);
}

TEST(otlp_json_ids)
{
    fixture f;
    fx_init(&f);
    ok(&f, OTLP_TRACES,
       "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":\"" TID_B64
       "\",\"spanId\":\"" SID_B64 "\",\"parentSpanId\":\"\",\"startTimeUnixNano\":1}]}]}]}");
    tbl_group *g = group(&f, TBL_TRACES, 0);
    CHECK_STR(str_at(g, TR_TRACE_ID, 0), TID_HEX);
    CHECK_STR(str_at(g, TR_SPAN_ID, 0), SID_HEX);
    CHECK_STR(str_at(g, TR_PARENT_SPAN_ID, 0), "");
    fails(&f, OTLP_TRACES,
          "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{},{},{},{\"traceId\":\"abc\"}]}]}]}",
          "resourceSpans[0].scopeSpans[0].spans[3].traceId: expected 32 hex digits or base64 of 16 "
          "bytes");
    fails(&f, OTLP_TRACES,
          "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"spanId\":\"" TID_HEX "\"}]}]}]}",
          "spans[0].spanId: expected 16 hex digits or base64 of 8 bytes");
    fails(&f, OTLP_TRACES, "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"traceId\":7}]}]}]}",
          "traceId");
    fx_free(&f);
}

TEST(otlp_json_enums)
{
    fixture f;
    fx_init(&f);
    fails(&f, OTLP_LOGS,
          "{\"resourceLogs\":[{\"scopeLogs\":[{},{\"logRecords\":[{},{},{},{\"severityNumber\":"
          "\"SEVERITY_NUMBER_LOUD\"}]}]}]}",
          "resourceLogs[0].scopeLogs[1].logRecords[3].severityNumber: unknown enum name "
          "'SEVERITY_NUMBER_LOUD'");
    fails(&f, OTLP_LOGS,
          "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityNumber\":1.5}]}]}]}",
          "severityNumber: expected a signed 32-bit integer");
    ok(&f, OTLP_TRACES,
       "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"kind\":\"SPAN_KIND_CONSUMER\","
       "\"status\":"
       "{\"code\":\"STATUS_CODE_ERROR\",\"message\":\"boom\"},\"startTimeUnixNano\":\"3000\","
       "\"endTimeUnixNano\":\"1000\"},{\"kind\":3,\"status\":{\"code\":1}}]}]}]}");
    tbl_group *g = group(&f, TBL_TRACES, 0);
    CHECK_STR(str_at(g, TR_SPAN_KIND, 0), "SPAN_KIND_CONSUMER");
    CHECK_STR(str_at(g, TR_STATUS_CODE, 0), "STATUS_CODE_ERROR");
    CHECK_STR(str_at(g, TR_STATUS_MESSAGE, 0), "boom");
    CHECK_INT(peek_i64(&g->rows.cols[TR_DURATION], 0), 0);
    CHECK_STR(str_at(g, TR_SPAN_KIND, 1), "SPAN_KIND_CLIENT");
    CHECK_STR(str_at(g, TR_STATUS_CODE, 1), "STATUS_CODE_OK");
    fails(&f, OTLP_TRACES,
          "{\"resourceSpans\":[{\"scopeSpans\":[{\"spans\":[{\"status\":{\"code\":\"OK\"}}]}]}]}",
          "spans[0].status.code: unknown enum name 'OK'");
    fx_free(&f);
}

TEST(otlp_json_span_events_links)
{
    fixture f;
    fx_init(&f);
    ok(&f, OTLP_TRACES,
       "{\"resourceSpans\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
       "{\"stringValue\":\"api\"}}]},\"scopeSpans\":[{\"scope\":{\"name\":\"t\"},\"spans\":[{"
       "\"name\":\"GET /\",\"startTimeUnixNano\":1000,\"endTimeUnixNano\":1500,"
       "\"events\":[{\"timeUnixNano\":1100,\"name\":\"e1\",\"attributes\":[{\"key\":\"x\","
       "\"value\":"
       "{\"intValue\":1}}]},{\"name\":\"e2\"}],\"links\":[{\"traceId\":\"" TID_HEX
       "\",\"spanId\":\"" SID_HEX
       "\",\"traceState\":\"a=b\",\"attributes\":[{\"key\":\"l\",\"value\":{\"stringValue\":"
       "\"v\"}}]}],\"attributes\":[{\"key\":\"http.method\",\"value\":{\"stringValue\":\"GET\"}}]}]"
       "}]}]}");
    CHECK_UINT(f.stats.rows[TBL_TRACES], 1);
    tbl_group *g = group(&f, TBL_TRACES, 0);
    CHECK_STR(g->service, "api");
    CHECK_STR(str_at(g, TR_SPAN_NAME, 0), "GET /");
    CHECK_INT(peek_i64(&g->rows.cols[TR_DURATION], 0), 500);
    CHECK_STR(attr(g, TR_SPAN_ATTRS, "http.method"), "GET");
    CHECK_UINT(g->rows.cols[TR_EVENTS_NAME].num_values, 2);
    CHECK_STR(str_at(g, TR_EVENTS_NAME, 0), "e1");
    CHECK_STR(str_at(g, TR_EVENTS_NAME, 1), "e2");
    CHECK_INT(peek_i64(&g->rows.cols[TR_EVENTS_TIMESTAMP], 0), 1100);
    CHECK_STR(str_at(g, TR_EVENTS_ATTRS + 1, 0), "1");
    CHECK_STR(str_at(g, TR_LINKS_TRACE_ID, 0), TID_HEX);
    CHECK_STR(str_at(g, TR_LINKS_TRACE_STATE, 0), "a=b");
    CHECK_STR(str_at(g, TR_LINKS_ATTRS + 1, 0), "v");
    fx_free(&f);
}

TEST(otlp_json_metrics_kinds)
{
    fixture f;
    fx_init(&f);
    ok(&f, OTLP_METRICS,
       "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":["
       "{\"gauge\":{\"dataPoints\":[{\"timeUnixNano\":1,\"asInt\":\"7\"},{\"timeUnixNano\":1,"
       "\"asDouble\":\"NaN\"},{\"timeUnixNano\":1}]},\"name\":\"g\",\"unit\":\"ms\"},"
       "{\"name\":\"s\",\"sum\":{\"dataPoints\":[{\"timeUnixNano\":2,\"asDouble\":2.5,"
       "\"exemplars\":"
       "[{\"asInt\":3,\"spanId\":\"" SID_HEX "\",\"filteredAttributes\":[{\"key\":\"f\",\"value\":"
       "{\"stringValue\":\"1\"}}]}]}],\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_"
       "CUMULATIVE\","
       "\"isMonotonic\":true}},"
       "{\"name\":\"h\",\"histogram\":{\"dataPoints\":[{\"timeUnixNano\":3,\"count\":\"6\",\"sum\":"
       "12,"
       "\"bucketCounts\":[\"1\",2,3],\"explicitBounds\":[1,5.5],\"min\":0.5,\"max\":9}],"
       "\"aggregationTemporality\":1}},"
       "{\"name\":\"e\",\"exponential_histogram\":{\"data_points\":[{\"time_unix_nano\":4,"
       "\"count\":3,"
       "\"scale\":-2,\"zero_count\":1,\"positive\":{\"offset\":-1,\"bucket_counts\":[1,1]},"
       "\"negative\":{}}]}},"
       "{\"name\":\"q\",\"summary\":{\"dataPoints\":[{\"timeUnixNano\":5,\"count\":2,\"sum\":3,"
       "\"quantileValues\":[{\"quantile\":0.5,\"value\":1},{\"quantile\":1,\"value\":2}]}]}},"
       "{\"name\":\"nodata\"}]}]}]}");
    CHECK_UINT(f.stats.rows[TBL_GAUGE], 2);
    CHECK_UINT(f.stats.rows[TBL_SUM], 1);
    CHECK_UINT(f.stats.rows[TBL_HISTOGRAM], 1);
    CHECK_UINT(f.stats.rows[TBL_EXP_HISTOGRAM], 1);
    CHECK_UINT(f.stats.rows[TBL_SUMMARY], 1);
    CHECK_UINT(f.stats.rejected, 1);
    CHECK_MSG(strstr(f.stats.rejected_reason, "metrics[0].gauge.dataPoints[2]") != NULL, "%s",
              f.stats.rejected_reason);
    tbl_group *g = group(&f, TBL_GAUGE, 0);
    CHECK(peek_f64(&g->rows.cols[GAUGE_VALUE], 0) == 7.0);
    CHECK(isnan(peek_f64(&g->rows.cols[GAUGE_VALUE], 1)));
    CHECK_STR(str_at(g, MET_METRIC_NAME, 0), "g");
    CHECK_STR(str_at(g, MET_METRIC_UNIT, 0), "ms");
    g = group(&f, TBL_SUM, 0);
    CHECK_INT(peek_i32(&g->rows.cols[SUM_AGG_TEMPORALITY], 0), 2);
    CHECK_INT(g->rows.cols[SUM_IS_MONOTONIC].values.data[0], 1);
    CHECK(peek_f64(&g->rows.cols[SUM_EXEMPLARS + EXEMPLAR_VALUE], 0) == 3.0);
    CHECK_STR(str_at(g, SUM_EXEMPLARS + EXEMPLAR_SPAN_ID, 0), SID_HEX);
    CHECK_STR(str_at(g, SUM_EXEMPLARS + EXEMPLAR_ATTRS + 1, 0), "1");
    g = group(&f, TBL_HISTOGRAM, 0);
    CHECK_INT(peek_i64(&g->rows.cols[HIST_COUNT], 0), 6);
    CHECK_UINT(g->rows.cols[HIST_BUCKET_COUNTS].num_values, 3);
    CHECK_INT(peek_i64(&g->rows.cols[HIST_BUCKET_COUNTS], 2), 3);
    CHECK(peek_f64(&g->rows.cols[HIST_EXPLICIT_BOUNDS], 1) == 5.5);
    CHECK(peek_f64(&g->rows.cols[HIST_MAX], 0) == 9.0);
    CHECK_INT(peek_i32(&g->rows.cols[HIST_AGG_TEMPORALITY], 0), 1);
    g = group(&f, TBL_EXP_HISTOGRAM, 0);
    CHECK_INT(peek_i32(&g->rows.cols[EXP_SCALE], 0), -2);
    CHECK_INT(peek_i32(&g->rows.cols[EXP_POSITIVE_OFFSET], 0), -1);
    CHECK_UINT(g->rows.cols[EXP_POSITIVE_BUCKET_COUNTS].num_values, 2);
    CHECK_UINT(g->rows.cols[EXP_NEGATIVE_BUCKET_COUNTS].num_values, 0);
    g = group(&f, TBL_SUMMARY, 0);
    CHECK(peek_f64(&g->rows.cols[SUMMARY_QUANTILE_VALUE], 1) == 2.0);
    fails(&f, OTLP_METRICS,
          "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"sum\":{\"dataPoints\":[],"
          "\"aggregationTemporality\":\"AGGREGATION_TEMPORALITY_SOMETIMES\"}}]}]}]}",
          "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality: unknown enum "
          "name");
    fails(&f, OTLP_METRICS,
          "{\"resourceMetrics\":[{\"scopeMetrics\":[{\"metrics\":[{\"sum\":{},\"gauge\":{}}]}]}]}",
          "metrics[0].gauge: a metric has only one of");
    fx_free(&f);
}

TEST(otlp_json_syntax_errors)
{
    fixture f;
    fx_init(&f);
    fails(&f, OTLP_LOGS, "", "invalid JSON at byte 0");
    fails(&f, OTLP_LOGS, "[]", "expected a JSON object");
    fails(&f, OTLP_LOGS, "{\"resourceLogs\":[]} x", "invalid JSON at byte 20");
    fails(&f, OTLP_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{},}]}]}]}",
          "resourceLogs[0].scopeLogs[0].logRecords[0]: invalid JSON at byte 57: trailing comma");
    fails(&f, OTLP_LOGS, "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"x\":01}]}]}]}",
          "leading zeros");
    fails(&f, OTLP_LOGS, "{\"resourceLogs\":[{\"zzz\":[1,,2],\"scopeLogs\":[]}]}", "invalid JSON");
    fails(&f, OTLP_LOGS,
          "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"severityText\":\"\xff\"}]}]}]}",
          "invalid UTF-8");
    fails(&f, OTLP_LOGS, "{\"resourceLogs\":{}}", "resourceLogs: expected an array");
    fx_free(&f);
}

TEST(otlp_json_jsonl)
{
    fixture f;
    fx_init(&f);
    const char *lines =
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":1}]}]}]}\n"
        "\r\n   \n"
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":2},{}]}]}]}\r\n";
    CHECK_OK(decode(&f, OTLP_LOGS, lines, 1));
    CHECK_UINT(f.stats.rows[TBL_LOGS], 3);
    const char *bad = "{\"resourceLogs\":[]}\n\n{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":"
                      "[{\"flags\":-1}]}]}]}";
    CHECK(decode(&f, OTLP_LOGS, bad, 1) < 0);
    const char *want = "line 3: resourceLogs[0].scopeLogs[0].logRecords[0].flags: expected";
    CHECK_MSG(strncmp(f.err.msg, want, strlen(want)) == 0, "%s", f.err.msg);
    fx_free(&f);
}

TEST(otlp_json_limits)
{
    fixture f;
    memset(&f, 0, sizeof f);
    CHECK_OK(tbl_schemas_init(&f.schemas, TBL_TS_NANOS, &f.err));
    tbl_batch_init(&f.batch, &f.schemas);
    otlp_options o;
    otlp_options_default(&o);
    o.max_depth = 12;
    o.max_string_bytes = 16;
    CHECK_OK(otlp_json_state_create(&f.st, &o));
    fails(&f, OTLP_LOGS,
          "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"stringValue\":"
          "\"12345678901234567\"}}]}]}]}",
          "logRecords[0].body: invalid JSON at byte 69: string longer than 16 bytes");
    CHECK_INT(f.err.code, O2P_ELIMIT);
    fails(
        &f, OTLP_LOGS,
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"body\":{\"arrayValue\":{\"values\":"
        "[{\"arrayValue\":{\"values\":[{\"arrayValue\":{\"values\":[]}}]}}]}}}]}]}]}",
        "nesting deeper than 12");
    fx_free(&f);
}

TEST(otlp_json_steady_state_allocates_nothing)
{
    fixture f;
    fx_init(&f);
    const char *doc =
        "{\"resourceLogs\":[{\"resource\":{\"attributes\":[{\"key\":\"service.name\",\"value\":"
        "{\"stringValue\":\"a\"}}]},\"scopeLogs\":[{\"scope\":{\"name\":\"s\\u0041\"},"
        "\"logRecords\":["
        "{\"timeUnixNano\":1,\"body\":{\"stringValue\":\"x\\ny\"},\"attributes\":[{\"key\":\"k\","
        "\"value\":{\"kvlistValue\":{\"values\":[{\"key\":\"z\",\"value\":{\"bytesValue\":\"AQ==\"}"
        "}]}}}]},"
        "{\"timeUnixNano\":2,\"severityText\":\"\\u0049NFO\"}]}]}]}";
    for (int i = 0; i < 3; i++) {
        tbl_batch_reset(&f.batch);
        ok(&f, OTLP_LOGS, doc);
    }
    mem_stats before, after;
    mem_get_stats(&before);
    for (int i = 0; i < 10; i++) {
        tbl_batch_reset(&f.batch);
        ok(&f, OTLP_LOGS, doc);
    }
    mem_get_stats(&after);
    CHECK_UINT(after.allocations - before.allocations, 0);
    fx_free(&f);
}

/* ---- the upstream sample files ---------------------------------------- */

#define TESTDATA "../shared/upstream-testdata/"

static char *read_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *data = mem_alloc((size_t)n + 1);
    CHECK(data != NULL);
    CHECK_UINT(fread(data, 1, (size_t)n, fp), (size_t)n);
    fclose(fp);
    data[n] = '\0';
    *len = (size_t)n;
    return data;
}

static int have_testdata(void)
{
    FILE *fp = fopen(TESTDATA "log.json", "rb");
    if (fp == NULL) {
        printf("SKIP: %s not found\n", TESTDATA);
        return 0;
    }
    fclose(fp);
    return 1;
}

static void decode_file(fixture *f, const char *name, otlp_signal sig, tbl_id table, uint64_t rows)
{
    size_t len;
    char *data = read_file(name, &len);
    CHECK_MSG(data != NULL, "cannot read %s", name);
    int jsonl = strstr(name, ".jsonl") != NULL;
    memset(&f->stats, 0, sizeof f->stats);
    tbl_batch_reset(&f->batch);
    int rc = otlp_json_decode(f->st, sig, (const uint8_t *)data, len, jsonl, 1, &f->batch,
                              &f->stats, &f->err);
    CHECK_MSG(rc == 0, "%s: %s", name, f->err.msg);
    CHECK_MSG(f->stats.rows[table] == rows, "%s: %llu rows, expected %llu", name,
              (unsigned long long)f->stats.rows[table], (unsigned long long)rows);
    CHECK_UINT(tbl_batch_rows(&f->batch, table), rows);
    mem_free(data);
}

TEST(otlp_json_upstream_valid_files)
{
    if (!have_testdata()) return;
    static const struct {
        const char *file;
        otlp_signal signal;
        tbl_id table;
        uint64_t rows;
    } files[] = {
        {TESTDATA "log.json", OTLP_LOGS, TBL_LOGS, 1},
        {TESTDATA "logs.jsonl", OTLP_LOGS, TBL_LOGS, 81},
        {TESTDATA "trace.json", OTLP_TRACES, TBL_TRACES, 2},
        {TESTDATA "traces.jsonl", OTLP_TRACES, TBL_TRACES, 19},
        {TESTDATA "metrics_gauge.json", OTLP_METRICS, TBL_GAUGE, 3},
        {TESTDATA "metrics_gauge.jsonl", OTLP_METRICS, TBL_GAUGE, 3},
        {TESTDATA "metrics_sum.json", OTLP_METRICS, TBL_SUM, 4},
        {TESTDATA "metrics_sum.jsonl", OTLP_METRICS, TBL_SUM, 4},
        {TESTDATA "metrics_histogram.json", OTLP_METRICS, TBL_HISTOGRAM, 3},
        {TESTDATA "metrics_histogram.jsonl", OTLP_METRICS, TBL_HISTOGRAM, 3},
        {TESTDATA "metrics_exponential_histogram.json", OTLP_METRICS, TBL_EXP_HISTOGRAM, 2},
        {TESTDATA "metrics_exponential_histogram.jsonl", OTLP_METRICS, TBL_EXP_HISTOGRAM, 2},
        {TESTDATA "metrics_summary.json", OTLP_METRICS, TBL_SUMMARY, 2},
        {TESTDATA "metrics_summary.jsonl", OTLP_METRICS, TBL_SUMMARY, 2},
        {TESTDATA "metrics_mixed.json", OTLP_METRICS, TBL_GAUGE, 1},
        {TESTDATA "metrics_mixed.jsonl", OTLP_METRICS, TBL_HISTOGRAM, 1},
    };
    fixture f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        decode_file(&f, files[i].file, files[i].signal, files[i].table, files[i].rows);
        CHECK_UINT(f.stats.rejected, 0);
    }
    /* spot values: the first log record of log.json */
    decode_file(&f, TESTDATA "log.json", OTLP_LOGS, TBL_LOGS, 1);
    tbl_group *g = group(&f, TBL_LOGS, 0);
    CHECK_STR(g->service, "frontend-proxy");
    CHECK_INT(peek_i64(&g->rows.cols[LOG_TIMESTAMP], 0), 1760741572254301000LL);
    CHECK_STR(str_at(g, LOG_SEVERITY_TEXT, 0), "INFO");
    CHECK_INT(peek_i32(&g->rows.cols[LOG_SEVERITY_NUMBER], 0), 9);
    CHECK_STR(attr(g, LOG_ATTRS, "event.name"), "proxy.access");
    fx_free(&f);
}

TEST(otlp_json_upstream_invalid_files)
{
    if (!have_testdata()) return;
    static const struct {
        const char *file;
        otlp_signal signal;
        const char *want;
    } files[] = {
        {TESTDATA "invalid/log_invalid_severity.json", OTLP_LOGS,
         "resourceLogs[0].scopeLogs[0].logRecords[0].severityNumber: unknown enum name "
         "'INVALID_SEVERITY_VALUE'"},
        {TESTDATA "invalid/malformed.json", OTLP_LOGS, "invalid JSON at byte"},
        {TESTDATA "invalid/metrics_invalid_temporality.json", OTLP_METRICS,
         "resourceMetrics[0].scopeMetrics[0].metrics[0].sum.aggregationTemporality: unknown enum "
         "name 'INVALID_TEMPORALITY_VALUE'"},
        {TESTDATA "invalid/trace_invalid_base64.json", OTLP_TRACES,
         "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits or base64 of 16 "
         "bytes"},
        {TESTDATA "invalid/trace_invalid_kind.json", OTLP_TRACES,
         "resourceSpans[0].scopeSpans[0].spans[0].kind: unknown enum name "
         "'SPAN_KIND_INVALID_TYPE'"},
        {TESTDATA "invalid/trace_mixed_encoding.json", OTLP_TRACES,
         "resourceSpans[0].scopeSpans[0].spans[0].traceId: expected 32 hex digits or base64 of 16 "
         "bytes, got 'zzz'"},
    };
    fixture f;
    fx_init(&f);
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        size_t len;
        char *data = read_file(files[i].file, &len);
        CHECK_MSG(data != NULL, "cannot read %s", files[i].file);
        int rc = otlp_json_decode(f.st, files[i].signal, (const uint8_t *)data, len, 0, 1, &f.batch,
                                  &f.stats, &f.err);
        CHECK_MSG(rc == O2P_EINVAL, "%s: accepted (rc %d)", files[i].file, rc);
        CHECK_MSG(strstr(f.err.msg, files[i].want) != NULL, "%s: message '%s' lacks '%s'",
                  files[i].file, f.err.msg, files[i].want);
        mem_free(data);
    }
    fx_free(&f);
}

/* The JSON and protobuf decoders must stringify the same AnyValue to the
 * same bytes (spec §2). */

TEST(otlp_json_anyvalue_matches_protobuf)
{
    o2p_buf pb;
    buf_init(&pb, 0);
    size_t rl = pbw_begin(&pb, 1), sl = pbw_begin(&pb, 2), rec = pbw_begin(&pb, 2);
    pbw_fixed64(&pb, 1, 1);
    size_t body = pbw_begin(&pb, 5), kvl = pbw_begin(&pb, 6);
    size_t kv = pbw_begin(&pb, 1);
    pbw_str(&pb, 1, "a\n");
    size_t val = pbw_begin(&pb, 2), arr = pbw_begin(&pb, 5);
    size_t v = pbw_begin(&pb, 1);
    pbw_uint(&pb, 3, (uint64_t)-7);
    pbw_end(&pb, v);
    v = pbw_begin(&pb, 1);
    pbw_double(&pb, 4, NAN);
    pbw_end(&pb, v);
    v = pbw_begin(&pb, 1);
    pbw_double(&pb, 4, 1e-7);
    pbw_end(&pb, v);
    v = pbw_begin(&pb, 1);
    pbw_bytes(&pb, 7, "\x01\xff", 2);
    pbw_end(&pb, v);
    v = pbw_begin(&pb, 1);
    pbw_end(&pb, v);
    v = pbw_begin(&pb, 1);
    pbw_str(&pb, 1, "q\"\x01");
    pbw_end(&pb, v);
    v = pbw_begin(&pb, 1);
    pbw_uint(&pb, 2, 1);
    pbw_end(&pb, v);
    pbw_end(&pb, arr);
    pbw_end(&pb, val);
    pbw_end(&pb, kv);
    kv = pbw_begin(&pb, 1);
    pbw_str(&pb, 1, "b");
    pbw_end(&pb, kv);
    pbw_end(&pb, kvl);
    pbw_end(&pb, body);
    pbw_end(&pb, rec);
    pbw_end(&pb, sl);
    pbw_end(&pb, rl);
    const char *json =
        "{\"resourceLogs\":[{\"scopeLogs\":[{\"logRecords\":[{\"timeUnixNano\":1,\"body\":"
        "{\"kvlistValue\":{\"values\":[{\"key\":\"a\\n\",\"value\":{\"arrayValue\":{\"values\":["
        "{\"intValue\":-7},{\"doubleValue\":\"NaN\"},{\"doubleValue\":1e-7},{\"bytesValue\":\"Af8="
        "\"},"
        "{},{\"stringValue\":\"q\\\"\\u0001\"},{\"boolValue\":true}]}}},{\"key\":\"b\"}]}}}]}]}]}";

    fixture f;
    fx_init(&f);
    otlp_options o;
    otlp_options_default(&o);
    otlp_decoder *d;
    CHECK_OK(otlp_decoder_create(&d, &o, &f.err));
    int rc = otlp_decode(d, OTLP_LOGS, OTLP_FMT_PROTOBUF, pb.data, pb.len, 1, &f.batch, &f.stats,
                         &f.err);
    CHECK_MSG(rc == 0, "protobuf: %s", f.err.msg);
    char from_pb[512];
    snprintf(from_pb, sizeof from_pb, "%s", str_at(group(&f, TBL_LOGS, 0), LOG_BODY, 0));
    tbl_batch_reset(&f.batch);
    ok(&f, OTLP_LOGS, json);
    CHECK_STR(str_at(group(&f, TBL_LOGS, 0), LOG_BODY, 0), from_pb);
    CHECK_STR(from_pb,
              "{\"a\\n\":[-7,\"NaN\",1e-7,\"Af8=\",null,\"q\\\"\\u0001\",true],\"b\":null}");
    otlp_decoder_destroy(d);
    buf_free(&pb);
    fx_free(&f);
}
