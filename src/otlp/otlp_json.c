/*
 * otlp_json: entry points of the OTLP/JSON decoder (see otlp_json.h) — the
 * state, the request and JSON Lines loops, and the resource/scope levels
 * shared by the three signals.
 *
 * Members of an object may come in any order, but a row needs its resource
 * and scope before it can be written.  So a level object (ResourceLogs,
 * ScopeSpans, ...) is read twice: first its head (resource or scope) and
 * schemaUrl, jumping over everything else with the fast skip; then, from
 * the same start, its items, validating the members the first pass jumped
 * over.  Every byte is thus validated strictly exactly once.
 */
#include "otlp/otlp_json.h"

#include <stdio.h>
#include <string.h>

#include "core/mem.h"
#include "otlp/json_decode.h"

int otlp_json_state_create(otlp_json_state **out, const otlp_options *opts)
{
    *out = NULL;
    otlp_json_state *s = mem_calloc(1, sizeof *s);
    if (s == NULL) return O2P_ENOMEM;
    if (opts)
        s->opts = *opts;
    else
        otlp_options_default(&s->opts);
    json_reader_init(&s->r, s->opts.max_depth, s->opts.max_string_bytes);
    arena_init(&s->arena_outer, 16 * 1024, 0);
    arena_init(&s->arena_metric, 4 * 1024, 0);
    arena_init(&s->arena_rec, 64 * 1024, 0);
    buf_init(&s->tmp, 0);
    buf_init(&s->body, 0);
    tbl_attrs_init(&s->res_attrs, 0);
    tbl_attrs_init(&s->scope_attrs, 0);
    tbl_attrs_init(&s->item_attrs, 0);
    *out = s;
    return O2P_OK;
}

void otlp_json_state_destroy(otlp_json_state *s)
{
    if (s == NULL) return;
    json_reader_free(&s->r);
    arena_free(&s->arena_outer);
    arena_free(&s->arena_metric);
    arena_free(&s->arena_rec);
    buf_free(&s->tmp);
    buf_free(&s->body);
    tbl_attrs_free(&s->res_attrs);
    tbl_attrs_free(&s->scope_attrs);
    tbl_attrs_free(&s->item_attrs);
    for (size_t i = 0; i < s->pool_cap; i++) {
        if (s->pool[i] == NULL) continue;
        tbl_attrs_free(s->pool[i]);
        mem_free(s->pool[i]);
    }
    mem_free(s->pool);
    mem_free(s->skip_from);
    mem_free(s->skip_to);
    mem_free(s->events);
    mem_free(s->links);
    mem_free(s->exemplars);
    for (int i = 0; i < 3; i++) {
        mem_free(s->counts[i]);
        mem_free(s->doubles[i]);
    }
    mem_free(s);
}

int jd_each(otlp_json_state *s, const char *name, int (*fn)(otlp_json_state *s))
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t != JSON_ARRAY) return jd_fail(s, O2P_EINVAL, name, "expected an array");
    O2P_TRY(json_array_begin(&s->r));
    jd_push(s, name, 0);
    long i = 0;
    int rc;
    while ((rc = json_array_next(&s->r)) > 0) {
        jd_set_index(s, i++);
        O2P_TRY(fn(s));
    }
    if (rc < 0) return rc;
    jd_pop(s);
    return O2P_OK;
}

/* The object of a resource or scope: 1 when it is an object, 0 for null. */
static int head_begin(otlp_json_state *s, const char *name)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) {
        O2P_TRY(json_read_null(&s->r));
        return 0;
    }
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, name, "expected an object");
    O2P_TRY(json_object_begin(&s->r));
    jd_push(s, name, -1);
    return 1;
}

static int read_resource(otlp_json_state *s)
{
    tbl_attrs_reset(&s->res_attrs);
    int rc = head_begin(s, "resource");
    if (rc <= 0) return rc;
    json_str name;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY1(name, "attributes")) {
            tbl_attrs_reset(&s->res_attrs);
            O2P_TRY(jd_attributes(s, "attributes", &s->res_attrs));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    jd_pop(s);
    return O2P_OK;
}

static int read_scope(otlp_json_state *s)
{
    tbl_attrs_reset(&s->scope_attrs);
    otlp_bytes empty = {(const uint8_t *)"", 0};
    s->scope.name = empty;
    s->scope.version = empty;
    s->scope.dropped_attributes_count = 0;
    int rc = head_begin(s, "scope");
    if (rc <= 0) return rc;
    json_str name;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (JD_KEY1(name, "name")) {
            O2P_TRY(jd_string(s, "name", &s->scope.name, &s->arena_outer));
        } else if (JD_KEY1(name, "version")) {
            O2P_TRY(jd_string(s, "version", &s->scope.version, &s->arena_outer));
        } else if (JD_KEY1(name, "attributes")) {
            tbl_attrs_reset(&s->scope_attrs);
            O2P_TRY(jd_attributes(s, "attributes", &s->scope_attrs));
        } else if (JD_KEY(name, "droppedAttributesCount", "dropped_attributes_count")) {
            O2P_TRY(jd_u32(s, "droppedAttributesCount", &s->scope.dropped_attributes_count));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    if (rc < 0) return rc;
    jd_pop(s);
    return O2P_OK;
}

/* Remembers that the value starting at `from` ends at `to`. */
static void skip_push(otlp_json_state *s, const uint8_t *from, const uint8_t *to)
{
    /* the two arrays grow together; on failure nothing is recorded (this is
     * only an optimisation: the scope's first pass then scans again) */
    size_t cap = s->skip_cap, cap_to = s->skip_cap;
    if (mem_reserve_array((void **)&s->skip_from, &cap, s->skip_len + 1, sizeof *s->skip_from) <
            0 ||
        mem_reserve_array((void **)&s->skip_to, &cap_to, s->skip_len + 1, sizeof *s->skip_to) < 0)
        return;
    s->skip_cap = cap;
    s->skip_from[s->skip_len] = from;
    s->skip_to[s->skip_len++] = to;
}

/*
 * First pass of a resource level over its scopes array: instead of jumping
 * the whole array, walk its scope objects and jump each scope's items array,
 * recording where it ends — the scope's own first pass then jumps it without
 * scanning the records a second time.  Not a validation: the second passes
 * validate every byte as before.
 */
static int skip_scopes_recording(otlp_json_state *s, const jd_level *lv)
{
    s->skip_len = 0;
    s->skip_next = 0;
    if (json_peek(&s->r) != JSON_ARRAY) return json_skip_fast(&s->r);
    O2P_TRY(json_array_begin(&s->r));
    int rc;
    while ((rc = json_array_next(&s->r)) > 0) {
        if (json_peek(&s->r) != JSON_OBJECT) {
            O2P_TRY(json_skip_fast(&s->r));
            continue;
        }
        O2P_TRY(json_object_begin(&s->r));
        json_str name;
        int member;
        while ((member = json_object_next(&s->r, &name)) > 0) {
            const uint8_t *from = s->r.p;
            O2P_TRY(json_skip_fast(&s->r));
            if (jd_key_var(name, lv->child_items_camel, lv->child_items_snake))
                skip_push(s, from, s->r.p);
        }
        if (member < 0) return member;
    }
    return rc;
}

/* Jumps the value at the reader: by the recorded extent when the resource
 * level's first pass saw it, else by scanning. */
static int skip_items(otlp_json_state *s)
{
    if (s->skip_next < s->skip_len && s->skip_from[s->skip_next] == s->r.p) {
        s->r.p = s->skip_to[s->skip_next++];
        return O2P_OK;
    }
    return json_skip_fast(&s->r);
}

int jd_level_object(otlp_json_state *s, const jd_level *lv)
{
    otlp_bytes empty = {(const uint8_t *)"", 0};
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t == JSON_NULL) return json_read_null(&s->r);
    if (t != JSON_OBJECT) return jd_fail(s, O2P_EINVAL, NULL, "expected an object");
    if (lv->is_scope) {
        s->scope.schema_url = empty;
        s->scope.attrs = &s->scope_attrs;
        tbl_attrs_reset(&s->scope_attrs);
        s->scope.name = empty;
        s->scope.version = empty;
        s->scope.dropped_attributes_count = 0;
    } else {
        arena_reset(&s->arena_outer);
        s->res.schema_url = empty;
        s->res.attrs = &s->res_attrs;
        tbl_attrs_reset(&s->res_attrs);
    }
    otlp_bytes *schema_url = lv->is_scope ? &s->scope.schema_url : &s->res.schema_url;
    O2P_TRY(json_object_begin(&s->r));
    json_mark mark = json_get_mark(&s->r);
    json_str name;
    int rc;
    /* pass 1: head and schemaUrl */
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (jd_key_var(name, lv->head_camel, lv->head_snake)) {
            O2P_TRY(lv->head(s));
        } else if (JD_KEY(name, "schemaUrl", "schema_url")) {
            O2P_TRY(jd_string(s, "schemaUrl", schema_url, &s->arena_outer));
        } else if (jd_key_var(name, lv->items_camel, lv->items_snake)) {
            O2P_TRY(lv->is_scope ? skip_items(s) : skip_scopes_recording(s, lv));
        } else {
            O2P_TRY(json_skip_fast(&s->r));
        }
    }
    if (rc < 0) return rc;
    if (lv->is_scope) {
        O2P_TRY(jd_attrs_done(s, &s->scope_attrs, "scope.attributes"));
        otlp_scope_finish(&s->scope);
    } else {
        O2P_TRY(jd_attrs_done(s, &s->res_attrs, "resource.attributes"));
        otlp_resource_finish(&s->res);
    }
    /* pass 2: the items, and strict validation of what pass 1 jumped over */
    json_rewind(&s->r, mark);
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (jd_key_var(name, lv->items_camel, lv->items_snake)) {
            O2P_TRY(lv->items(s));
        } else if (jd_key_var(name, lv->head_camel, lv->head_snake) ||
                   JD_KEY(name, "schemaUrl", "schema_url")) {
            O2P_TRY(json_skip_fast(&s->r));
        } else {
            O2P_TRY(json_skip(&s->r));
        }
    }
    return rc;
}

/* ---- the three signals' levels ---------------------------------------- */

static const jd_level LOGS_SCOPE = {
    "scope", "scope", "logRecords", "log_records", read_scope, jd_log_records, 1, NULL, NULL};
static const jd_level SPANS_SCOPE = {"scope",  "scope", "spans", "spans", read_scope,
                                     jd_spans, 1,       NULL,    NULL};
static const jd_level METRICS_SCOPE = {"scope",    "scope", "metrics", "metrics", read_scope,
                                       jd_metrics, 1,       NULL,      NULL};

static int logs_scope(otlp_json_state *s)
{
    return jd_level_object(s, &LOGS_SCOPE);
}
static int spans_scope(otlp_json_state *s)
{
    return jd_level_object(s, &SPANS_SCOPE);
}
static int metrics_scope(otlp_json_state *s)
{
    return jd_level_object(s, &METRICS_SCOPE);
}

static int logs_scopes(otlp_json_state *s)
{
    return jd_each(s, "scopeLogs", logs_scope);
}
static int spans_scopes(otlp_json_state *s)
{
    return jd_each(s, "scopeSpans", spans_scope);
}
static int metrics_scopes(otlp_json_state *s)
{
    return jd_each(s, "scopeMetrics", metrics_scope);
}

static const jd_level RESOURCE_LEVEL[3] = {
    [OTLP_LOGS] = {"resource", "resource", "scopeLogs", "scope_logs", read_resource, logs_scopes, 0,
                   "logRecords", "log_records"},
    [OTLP_TRACES] = {"resource", "resource", "scopeSpans", "scope_spans", read_resource,
                     spans_scopes, 0, "spans", "spans"},
    [OTLP_METRICS] = {"resource", "resource", "scopeMetrics", "scope_metrics", read_resource,
                      metrics_scopes, 0, "metrics", "metrics"},
};

static int logs_resource(otlp_json_state *s)
{
    return jd_level_object(s, &RESOURCE_LEVEL[OTLP_LOGS]);
}
static int spans_resource(otlp_json_state *s)
{
    return jd_level_object(s, &RESOURCE_LEVEL[OTLP_TRACES]);
}
static int metrics_resource(otlp_json_state *s)
{
    return jd_level_object(s, &RESOURCE_LEVEL[OTLP_METRICS]);
}

static const struct {
    const char *camel, *snake;
    int (*fn)(otlp_json_state *s);
} REQUEST[3] = {
    [OTLP_LOGS] = {"resourceLogs", "resource_logs", logs_resource},
    [OTLP_TRACES] = {"resourceSpans", "resource_spans", spans_resource},
    [OTLP_METRICS] = {"resourceMetrics", "resource_metrics", metrics_resource},
};

/* One Export*ServiceRequest document. */
static int decode_request(otlp_json_state *s, otlp_signal signal)
{
    int t = json_peek(&s->r);
    if (t < 0) return t;
    if (t != JSON_OBJECT)
        return jd_fail(s, O2P_EINVAL, NULL, "expected a JSON object (an export request)");
    O2P_TRY(json_object_begin(&s->r));
    json_str name;
    int rc;
    while ((rc = json_object_next(&s->r, &name)) > 0) {
        if (jd_key_var(name, REQUEST[signal].camel, REQUEST[signal].snake))
            O2P_TRY(jd_each(s, REQUEST[signal].camel, REQUEST[signal].fn));
        else
            O2P_TRY(json_skip(&s->r));
    }
    if (rc < 0) return rc;
    return json_finish(&s->r);
}

/* Decodes one document and turns a failure into the caller's message. */
static int decode_document(otlp_json_state *s, otlp_signal signal, const uint8_t *doc, size_t len,
                           o2p_error *err)
{
    json_reader_start(&s->r, doc, len);
    s->path_len = 0;
    s->has_msg = 0;
    int rc = decode_request(s, signal);
    if (rc >= 0) return O2P_OK;
    if (s->has_msg) {
        o2p_errorf(err, rc, "%s", s->e.msg);
    } else {
        char path[300];
        jd_path_format(s, NULL, path, sizeof path);
        o2p_errorf(err, rc, "%s%sinvalid JSON at %s", path, path[0] ? ": " : "",
                   s->r.msg[0] ? s->r.msg : "unknown position");
    }
    return rc;
}

int otlp_json_decode(otlp_json_state *s, otlp_signal signal, const uint8_t *body, size_t len,
                     int jsonl, uint64_t receive_ns, tbl_batch *out, otlp_stats *stats,
                     o2p_error *err)
{
    if ((unsigned)signal > OTLP_METRICS)
        return o2p_errorf(err, O2P_EINVAL, "unknown signal %d", (int)signal);
    s->out = out;
    s->stats = stats ? stats : &s->own_stats;
    s->receive_ns = receive_ns;
    if (!jsonl) return decode_document(s, signal, body, len, err);

    const uint8_t *p = body, *end = body + len;
    size_t line = 0;
    while (p < end) {
        const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
        const uint8_t *line_end = nl ? nl : end;
        line++;
        const uint8_t *q = p;
        while (q < line_end && (*q == ' ' || *q == '\t' || *q == '\r')) q++;
        if (q < line_end) {
            int rc = decode_document(s, signal, p, (size_t)(line_end - p), err);
            if (rc < 0) {
                o2p_error_prefix(err, "line %zu", line);
                return rc;
            }
        }
        p = nl ? nl + 1 : end;
    }
    return O2P_OK;
}
