/*
 * pb_logs: ExportLogsServiceRequest → otel_logs rows.  A LogRecord is read
 * completely (its fields may come in any order) before it is emitted; a
 * string body is referenced in the request, any other body is stringified
 * into the state's reusable body buffer.
 */
#include "otlp/pb_decode.h"

static const char *const resource_logs_names[] = {
    [1] = "resource", [2] = "scopeLogs", [3] = "schemaUrl"};
static const char *const scope_logs_names[] = {
    [1] = "scope", [2] = "logRecords", [3] = "schemaUrl"};
static const char *const log_record_names[] = {
    [1] = "timeUnixNano", [2] = "severityNumber",         [3] = "severityText", [5] = "body",
    [6] = "attributes",   [7] = "droppedAttributesCount", [8] = "flags",        [9] = "traceId",
    [10] = "spanId",      [11] = "observedTimeUnixNano",  [12] = "eventName"};

static int decode_log_record(otlp_pb_state *st, const otlp_resource *res, const otlp_scope *scope,
                             const pb_field *item)
{
    pb_ctx *ctx = &st->ctx;
    static const uint8_t empty[1];
    otlp_log log = {.severity_text = {empty, 0}, .body = {empty, 0}, .event_name = {empty, 0}};
    int body_in_buf = 0; /* the body was stringified into st->body, not referenced */
    tbl_attrs_reset(&st->record_attrs);
    log.attrs = &st->record_attrs;
    long attr_index = 0;
    pb_reader r;
    pb_reader_init(&r, item->data, item->len, PB_NAMES(log_record_names));
    pb_field f;
    uint64_t v;
    int rc;
    while ((rc = pb_next(ctx, &r, &f)) > 0) {
        switch (f.num) {
        case 1:
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_FIXED64, &log.time_ns));
            break;
        case 2:
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_VARINT, &v));
            log.severity_number = (int32_t)v;
            break;
        case 3:
            O2P_TRY(pb_string(ctx, &r, &f, &log.severity_text.ptr, &log.severity_text.len));
            break;
        case 5: /* a repeated body: the last one wins */
            O2P_TRY(pb_want(ctx, &r, &f, PB_LEN));
            body_in_buf = !pb_anyvalue_plain(st, f.data, f.len, &log.body.ptr, &log.body.len);
            if (!body_in_buf) break;
            buf_reset(&st->body);
            O2P_TRY(pb_anyvalue_string(st, f.data, f.len, f.at, "body", &st->body));
            break;
        case 6:
            O2P_TRY(pb_keyvalue(st, &f, "attributes", attr_index++, &st->record_attrs));
            break;
        case 8:
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_FIXED32, &v));
            log.flags = (uint32_t)v;
            break;
        case 9:
            O2P_TRY(pb_id(ctx, &r, &f, log.trace_id.bytes, 16, &log.trace_id.len));
            break;
        case 10:
            O2P_TRY(pb_id(ctx, &r, &f, log.span_id.bytes, 8, &log.span_id.len));
            break;
        case 11:
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_FIXED64, &log.observed_ns));
            break;
        case 12:
            O2P_TRY(pb_string(ctx, &r, &f, &log.event_name.ptr, &log.event_name.len));
            break;
        default:
            break;
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(pb_attrs_finish(st, &st->record_attrs, "attributes", item->at));
    if (body_in_buf) {
        log.body.ptr = st->body.data;
        log.body.len = st->body.len;
    }
    rc = otlp_emit_log(st->out, res, scope, &log, st->receive_ns);
    if (rc < 0) return pb_emit_failed(st, rc, item->at);
    st->stats->rows[TBL_LOGS]++;
    return O2P_OK;
}

int pb_decode_logs(otlp_pb_state *st, const uint8_t *body, size_t len)
{
    static const pb_signal_desc desc = {
        .resource_list = "resourceLogs",
        .scope_list = "scopeLogs",
        .item_list = "logRecords",
        .resource_names = PB_NAMES_INIT(resource_logs_names),
        .scope_names = PB_NAMES_INIT(scope_logs_names),
        .item = decode_log_record,
    };
    return pb_decode_request(st, &desc, body, len);
}
