/*
 * json_logs: the logRecords of one ScopeLogs, each read in one pass into an
 * otlp_log and emitted as an otel_logs row.
 */
#include "otlp/json_decode.h"

static int log_record(otlp_json_state *s)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected a LogRecord object");
    O2P_TRY(json_object_begin(&s->r));
    arena_reset(&s->arena_rec);
    tbl_attrs_reset(&s->item_attrs);
    buf_reset(&s->body);
    otlp_log lg = {0};
    lg.severity_text.ptr = lg.event_name.ptr = (const uint8_t *)"";
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY(name, "timeUnixNano", "time_unix_nano")) {
            O2P_TRY(jd_u64(s, "timeUnixNano", &lg.time_ns));
        } else if (JD_KEY(name, "observedTimeUnixNano", "observed_time_unix_nano")) {
            O2P_TRY(jd_u64(s, "observedTimeUnixNano", &lg.observed_ns));
        } else if (JD_KEY(name, "severityNumber", "severity_number")) {
            O2P_TRY(jd_enum(s, "severityNumber", JD_ENUM_SEVERITY, &lg.severity_number));
        } else if (JD_KEY(name, "severityText", "severity_text")) {
            O2P_TRY(jd_string(s, "severityText", &lg.severity_text, &s->arena_rec));
        } else if (JD_KEY1(name, "body")) {
            buf_reset(&s->body);
            jd_push(s, "body", -1);
            O2P_TRY(jd_anyvalue(s, &s->body, 0));
            jd_pop(s);
        } else if (JD_KEY1(name, "attributes")) {
            tbl_attrs_reset(&s->item_attrs);
            O2P_TRY(jd_attributes(s, "attributes", &s->item_attrs));
        } else if (JD_KEY1(name, "flags")) {
            O2P_TRY(jd_u32(s, "flags", &lg.flags));
        } else if (JD_KEY(name, "traceId", "trace_id")) {
            O2P_TRY(jd_trace_id(s, "traceId", &lg.trace_id));
        } else if (JD_KEY(name, "spanId", "span_id")) {
            O2P_TRY(jd_span_id(s, "spanId", &lg.span_id));
        } else if (JD_KEY(name, "eventName", "event_name")) {
            O2P_TRY(jd_string(s, "eventName", &lg.event_name, &s->arena_rec));
        } else if (JD_KEY(name, "droppedAttributesCount", "dropped_attributes_count")) {
            uint32_t dropped = 0;
            O2P_TRY(jd_u32(s, "droppedAttributesCount", &dropped));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(jd_attrs_done(s, &s->item_attrs, "attributes"));
    lg.body.ptr = s->body.len ? s->body.data : (const uint8_t *)"";
    lg.body.len = s->body.len;
    lg.attrs = &s->item_attrs;
    rc = otlp_emit_log(s->out, &s->res, &s->scope, &lg, s->receive_ns);
    if (rc < 0) return jd_fail(s, rc, NULL, "cannot append the row: %s", o2p_strerror(rc));
    s->stats->rows[TBL_LOGS]++;
    return O2P_OK;
}

int jd_log_records(otlp_json_state *s)
{
    return jd_each(s, "logRecords", log_record);
}
