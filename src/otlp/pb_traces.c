/*
 * pb_traces: ExportTraceServiceRequest → otel_traces rows.  A Span is read
 * completely before it is emitted; its events and links (each with its own
 * attribute scratch from a pool) are collected in the state's arrays.
 */
#include "core/mem.h"
#include "otlp/pb_decode.h"

static const char *const resource_spans_names[] = {
    [1] = "resource", [2] = "scopeSpans", [3] = "schemaUrl"};
static const char *const scope_spans_names[] = {[1] = "scope", [2] = "spans", [3] = "schemaUrl"};
static const char *const span_names[] = {[1] = "traceId",
                                         [2] = "spanId",
                                         [3] = "traceState",
                                         [4] = "parentSpanId",
                                         [5] = "name",
                                         [6] = "kind",
                                         [7] = "startTimeUnixNano",
                                         [8] = "endTimeUnixNano",
                                         [9] = "attributes",
                                         [10] = "droppedAttributesCount",
                                         [11] = "events",
                                         [12] = "droppedEventsCount",
                                         [13] = "links",
                                         [14] = "droppedLinksCount",
                                         [15] = "status",
                                         [16] = "flags"};
static const char *const event_names[] = {
    [1] = "timeUnixNano", [2] = "name", [3] = "attributes", [4] = "droppedAttributesCount"};
static const char *const link_names[] = {[1] = "traceId",
                                         [2] = "spanId",
                                         [3] = "traceState",
                                         [4] = "attributes",
                                         [5] = "droppedAttributesCount",
                                         [6] = "flags"};
static const char *const status_names[] = {[2] = "message", [3] = "code"};

static const uint8_t empty[1];

static int decode_event(otlp_pb_state *st, const pb_field *f, size_t index)
{
    pb_ctx *ctx = &st->ctx;
    tbl_attrs *attrs;
    O2P_TRY(pb_nested_begin(st, f, (void **)&st->events, &st->events_cap, sizeof *st->events, index,
                            &st->event_attrs, "events", &attrs));
    otlp_span_event *ev = &st->events[index];
    *ev = (otlp_span_event){.name = {empty, 0}};
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(event_names));
    pb_field ef;
    long attr_index = 0;
    int rc;
    while ((rc = pb_next(ctx, &r, &ef)) > 0) {
        switch (ef.num) {
        case 1:
            O2P_TRY(pb_scalar(ctx, &r, &ef, PB_FIXED64, &ev->time_ns));
            break;
        case 2:
            O2P_TRY(pb_string(ctx, &r, &ef, &ev->name.ptr, &ev->name.len));
            break;
        case 3:
            O2P_TRY(pb_keyvalue(st, &ef, "attributes", attr_index++, attrs));
            break;
        default:
            break;
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(pb_attrs_finish(st, attrs, "attributes", f->at));
    pb_pop(ctx);
    return O2P_OK;
}

static int decode_link(otlp_pb_state *st, const pb_field *f, size_t index)
{
    pb_ctx *ctx = &st->ctx;
    tbl_attrs *attrs;
    O2P_TRY(pb_nested_begin(st, f, (void **)&st->links, &st->links_cap, sizeof *st->links, index,
                            &st->link_attrs, "links", &attrs));
    otlp_span_link *ln = &st->links[index];
    *ln = (otlp_span_link){.trace_state = {empty, 0}};
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(link_names));
    pb_field lf;
    long attr_index = 0;
    int rc;
    while ((rc = pb_next(ctx, &r, &lf)) > 0) {
        switch (lf.num) {
        case 1:
            O2P_TRY(pb_id(ctx, &r, &lf, ln->trace_id.bytes, 16, &ln->trace_id.len));
            break;
        case 2:
            O2P_TRY(pb_id(ctx, &r, &lf, ln->span_id.bytes, 8, &ln->span_id.len));
            break;
        case 3:
            O2P_TRY(pb_string(ctx, &r, &lf, &ln->trace_state.ptr, &ln->trace_state.len));
            break;
        case 4:
            O2P_TRY(pb_keyvalue(st, &lf, "attributes", attr_index++, attrs));
            break;
        default:
            break;
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(pb_attrs_finish(st, attrs, "attributes", f->at));
    pb_pop(ctx);
    return O2P_OK;
}

static int decode_status(otlp_pb_state *st, const pb_field *f, otlp_span *span)
{
    pb_ctx *ctx = &st->ctx;
    O2P_TRY(pb_push(ctx, "status", -1, f->at));
    pb_reader r;
    pb_reader_init(&r, f->data, f->len, PB_NAMES(status_names));
    pb_field sf;
    uint64_t v;
    int rc;
    while ((rc = pb_next(ctx, &r, &sf)) > 0) {
        if (sf.num == 2) {
            O2P_TRY(pb_string(ctx, &r, &sf, &span->status_message.ptr, &span->status_message.len));
        } else if (sf.num == 3) {
            O2P_TRY(pb_scalar(ctx, &r, &sf, PB_VARINT, &v));
            span->status_code = (int32_t)v;
        }
    }
    if (rc < 0) return rc;
    pb_pop(ctx);
    return O2P_OK;
}

static int decode_span(otlp_pb_state *st, const otlp_resource *res, const otlp_scope *scope,
                       const pb_field *item)
{
    pb_ctx *ctx = &st->ctx;
    otlp_span span = {.trace_state = {empty, 0}, .name = {empty, 0}, .status_message = {empty, 0}};
    tbl_attrs_reset(&st->record_attrs);
    span.attrs = &st->record_attrs;
    long attr_index = 0;
    size_t num_events = 0, num_links = 0;
    pb_reader r;
    pb_reader_init(&r, item->data, item->len, PB_NAMES(span_names));
    pb_field f;
    uint64_t v;
    int rc;
    while ((rc = pb_next(ctx, &r, &f)) > 0) {
        switch (f.num) {
        case 1:
            O2P_TRY(pb_id(ctx, &r, &f, span.trace_id.bytes, 16, &span.trace_id.len));
            break;
        case 2:
            O2P_TRY(pb_id(ctx, &r, &f, span.span_id.bytes, 8, &span.span_id.len));
            break;
        case 3:
            O2P_TRY(pb_string(ctx, &r, &f, &span.trace_state.ptr, &span.trace_state.len));
            break;
        case 4:
            O2P_TRY(pb_id(ctx, &r, &f, span.parent_span_id.bytes, 8, &span.parent_span_id.len));
            break;
        case 5:
            O2P_TRY(pb_string(ctx, &r, &f, &span.name.ptr, &span.name.len));
            break;
        case 6:
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_VARINT, &v));
            span.kind = (int32_t)v;
            break;
        case 7:
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_FIXED64, &span.start_ns));
            break;
        case 8:
            O2P_TRY(pb_scalar(ctx, &r, &f, PB_FIXED64, &span.end_ns));
            break;
        case 9:
            O2P_TRY(pb_keyvalue(st, &f, "attributes", attr_index++, &st->record_attrs));
            break;
        case 11:
            O2P_TRY(pb_want(ctx, &r, &f, PB_LEN));
            O2P_TRY(decode_event(st, &f, num_events++));
            break;
        case 13:
            O2P_TRY(pb_want(ctx, &r, &f, PB_LEN));
            O2P_TRY(decode_link(st, &f, num_links++));
            break;
        case 15:
            O2P_TRY(pb_want(ctx, &r, &f, PB_LEN));
            O2P_TRY(decode_status(st, &f, &span));
            break;
        default:
            break;
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(pb_attrs_finish(st, &st->record_attrs, "attributes", item->at));
    /* The pools may have moved while growing: attach the scratches last. */
    for (size_t i = 0; i < num_events; i++) st->events[i].attrs = &st->event_attrs.items[i];
    for (size_t i = 0; i < num_links; i++) st->links[i].attrs = &st->link_attrs.items[i];
    span.events = st->events;
    span.num_events = num_events;
    span.links = st->links;
    span.num_links = num_links;
    rc = otlp_emit_span(st->out, res, scope, &span);
    if (rc < 0) return pb_emit_failed(st, rc, item->at);
    st->stats->rows[TBL_TRACES]++;
    return O2P_OK;
}

int pb_decode_traces(otlp_pb_state *st, const uint8_t *body, size_t len)
{
    static const pb_signal_desc desc = {
        .resource_list = "resourceSpans",
        .scope_list = "scopeSpans",
        .item_list = "spans",
        .resource_names = PB_NAMES_INIT(resource_spans_names),
        .scope_names = PB_NAMES_INIT(scope_spans_names),
        .item = decode_span,
    };
    return pb_decode_request(st, &desc, body, len);
}
