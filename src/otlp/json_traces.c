/*
 * json_traces: the spans of one ScopeSpans, each read in one pass (events
 * and links into the state's reusable arrays, their attributes from the
 * attribute pool) and emitted as an otel_traces row.
 */
#include "otlp/json_decode.h"

static const otlp_bytes EMPTY = {(const uint8_t *)"", 0};

static int span_event(otlp_json_state *s)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected a Span.Event object");
    O2P_TRY(
        jd_reserve(s, (void **)&s->events, &s->events_cap, s->num_events + 1, sizeof *s->events));
    tbl_attrs *attrs = jd_pool_attrs(s);
    if (attrs == NULL) return jd_fail(s, O2P_ENOMEM, NULL, "out of memory");
    otlp_span_event *ev = &s->events[s->num_events];
    ev->time_ns = 0;
    ev->name = EMPTY;
    ev->attrs = attrs;
    O2P_TRY(json_object_begin(&s->r));
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY(name, "timeUnixNano", "time_unix_nano")) {
            O2P_TRY(jd_u64(s, "timeUnixNano", &ev->time_ns));
        } else if (JD_KEY1(name, "name")) {
            O2P_TRY(jd_string(s, "name", &ev->name, &s->arena_rec));
        } else if (JD_KEY1(name, "attributes")) {
            tbl_attrs_reset(attrs);
            O2P_TRY(jd_attributes(s, "attributes", attrs));
        } else if (JD_KEY(name, "droppedAttributesCount", "dropped_attributes_count")) {
            uint32_t dropped = 0;
            O2P_TRY(jd_u32(s, "droppedAttributesCount", &dropped));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(jd_attrs_done(s, attrs, "attributes"));
    s->num_events++;
    return O2P_OK;
}

static int span_link(otlp_json_state *s)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected a Span.Link object");
    O2P_TRY(jd_reserve(s, (void **)&s->links, &s->links_cap, s->num_links + 1, sizeof *s->links));
    tbl_attrs *attrs = jd_pool_attrs(s);
    if (attrs == NULL) return jd_fail(s, O2P_ENOMEM, NULL, "out of memory");
    otlp_span_link *ln = &s->links[s->num_links];
    ln->trace_id.len = 0;
    ln->span_id.len = 0;
    ln->trace_state = EMPTY;
    ln->attrs = attrs;
    O2P_TRY(json_object_begin(&s->r));
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY(name, "traceId", "trace_id")) {
            O2P_TRY(jd_trace_id(s, "traceId", &ln->trace_id));
        } else if (JD_KEY(name, "spanId", "span_id")) {
            O2P_TRY(jd_span_id(s, "spanId", &ln->span_id));
        } else if (JD_KEY(name, "traceState", "trace_state")) {
            O2P_TRY(jd_string(s, "traceState", &ln->trace_state, &s->arena_rec));
        } else if (JD_KEY1(name, "attributes")) {
            tbl_attrs_reset(attrs);
            O2P_TRY(jd_attributes(s, "attributes", attrs));
        } else if (JD_KEY(name, "droppedAttributesCount", "dropped_attributes_count")) {
            uint32_t dropped = 0;
            O2P_TRY(jd_u32(s, "droppedAttributesCount", &dropped));
        } else if (JD_KEY1(name, "flags")) {
            uint32_t flags = 0;
            O2P_TRY(jd_u32(s, "flags", &flags));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(jd_attrs_done(s, attrs, "attributes"));
    s->num_links++;
    return O2P_OK;
}

static int status(otlp_json_state *s, otlp_span *sp)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, "status", "expected an object");
    O2P_TRY(json_object_begin(&s->r));
    jd_push(s, "status", -1);
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY1(name, "message")) {
            O2P_TRY(jd_string(s, "message", &sp->status_message, &s->arena_rec));
        } else if (JD_KEY1(name, "code")) {
            O2P_TRY(jd_enum(s, "code", JD_ENUM_STATUS_CODE, &sp->status_code));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    jd_pop(s);
    return O2P_OK;
}

static int span(otlp_json_state *s)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected a Span object");
    O2P_TRY(json_object_begin(&s->r));
    arena_reset(&s->arena_rec);
    tbl_attrs_reset(&s->item_attrs);
    s->pool_used = 0;
    s->num_events = 0;
    s->num_links = 0;
    otlp_span sp = {0};
    sp.trace_state = sp.name = sp.status_message = EMPTY;
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY(name, "traceId", "trace_id")) {
            O2P_TRY(jd_trace_id(s, "traceId", &sp.trace_id));
        } else if (JD_KEY(name, "spanId", "span_id")) {
            O2P_TRY(jd_span_id(s, "spanId", &sp.span_id));
        } else if (JD_KEY(name, "parentSpanId", "parent_span_id")) {
            O2P_TRY(jd_span_id(s, "parentSpanId", &sp.parent_span_id));
        } else if (JD_KEY(name, "traceState", "trace_state")) {
            O2P_TRY(jd_string(s, "traceState", &sp.trace_state, &s->arena_rec));
        } else if (JD_KEY1(name, "name")) {
            O2P_TRY(jd_string(s, "name", &sp.name, &s->arena_rec));
        } else if (JD_KEY1(name, "kind")) {
            O2P_TRY(jd_enum(s, "kind", JD_ENUM_SPAN_KIND, &sp.kind));
        } else if (JD_KEY(name, "startTimeUnixNano", "start_time_unix_nano")) {
            O2P_TRY(jd_u64(s, "startTimeUnixNano", &sp.start_ns));
        } else if (JD_KEY(name, "endTimeUnixNano", "end_time_unix_nano")) {
            O2P_TRY(jd_u64(s, "endTimeUnixNano", &sp.end_ns));
        } else if (JD_KEY1(name, "attributes")) {
            tbl_attrs_reset(&s->item_attrs);
            O2P_TRY(jd_attributes(s, "attributes", &s->item_attrs));
        } else if (JD_KEY1(name, "events")) {
            s->num_events = 0;
            O2P_TRY(jd_each(s, "events", span_event));
        } else if (JD_KEY1(name, "links")) {
            s->num_links = 0;
            O2P_TRY(jd_each(s, "links", span_link));
        } else if (JD_KEY1(name, "status")) {
            O2P_TRY(status(s, &sp));
        } else if (JD_KEY1(name, "flags")) {
            uint32_t ignored = 0; /* validated, not stored: the table has no column */
            O2P_TRY(jd_u32(s, "flags", &ignored));
        } else if (JD_KEY(name, "droppedAttributesCount", "dropped_attributes_count")) {
            uint32_t ignored = 0;
            O2P_TRY(jd_u32(s, "droppedAttributesCount", &ignored));
        } else if (JD_KEY(name, "droppedEventsCount", "dropped_events_count")) {
            uint32_t ignored = 0;
            O2P_TRY(jd_u32(s, "droppedEventsCount", &ignored));
        } else if (JD_KEY(name, "droppedLinksCount", "dropped_links_count")) {
            uint32_t ignored = 0;
            O2P_TRY(jd_u32(s, "droppedLinksCount", &ignored));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    O2P_TRY(jd_attrs_done(s, &s->item_attrs, "attributes"));
    sp.attrs = &s->item_attrs;
    sp.events = s->events;
    sp.num_events = s->num_events;
    sp.links = s->links;
    sp.num_links = s->num_links;
    rc = otlp_emit_span(s->out, &s->res, &s->scope, &sp);
    if (rc < 0) return jd_fail(s, rc, NULL, "cannot append the row: %s", o2p_strerror(rc));
    s->stats->rows[TBL_TRACES]++;
    return O2P_OK;
}

int jd_spans(otlp_json_state *s)
{
    return jd_each(s, "spans", span);
}
