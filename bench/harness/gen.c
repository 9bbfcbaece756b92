/*
 * gen: synthetic OTLP requests (see gen.h).
 *
 * Draw first, serialize second: records are drawn into small fixed-size
 * structs, then written by pb_* (protobuf wire format: varints, fixed64,
 * length-delimited nested messages) or js_* (OTLP/JSON: lowerCamelCase,
 * 64-bit integers as decimal strings, ids as hex) writers.  Field numbers
 * are those of opentelemetry-proto v1 (common, resource, logs, trace,
 * metrics).
 */
#include <stdio.h>
#include <string.h>

#include "gen.h"

/* ------------------------------------------------------------ random -- */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned pick(rng *r, unsigned n)
{
    return (unsigned)(rnd(r) % n);
}

/* ------------------------------------------------------------- model -- */

typedef enum { V_STR, V_INT, V_DBL, V_BOOL } vtype;

typedef struct kv {
    const char *key;
    vtype type;
    char s[200];
    int64_t i;
    double d;
} kv;

#define MAX_ATTRS 12

typedef struct attrs {
    kv a[MAX_ATTRS];
    int n;
} attrs;

static kv *add(attrs *at, const char *key, vtype t)
{
    kv *k = &at->a[at->n++];
    k->key = key;
    k->type = t;
    k->s[0] = '\0';
    k->i = 0;
    k->d = 0;
    return k;
}

static void add_str(attrs *at, const char *key, const char *fmt_value)
{
    snprintf(add(at, key, V_STR)->s, sizeof at->a[0].s, "%s", fmt_value);
}

static const char *SERVICES[] = {"checkout",       "payments", "frontend", "inventory",
                                 "recommendation", "shipping", "auth",     "search"};
#define NSERVICES (sizeof SERVICES / sizeof SERVICES[0])

static void resource_attrs(attrs *at, unsigned service, rng *r)
{
    at->n = 0;
    const char *svc = SERVICES[service % NSERVICES];
    add_str(at, "service.name", svc);
    add_str(at, "service.version", "2.14.3");
    add_str(at, "service.namespace", "shop");
    add_str(at, "deployment.environment", "production");
    char tmp[96];
    snprintf(tmp, sizeof tmp, "ip-10-0-%u-%u.ec2.internal", pick(r, 16), pick(r, 250));
    add_str(at, "host.name", tmp);
    snprintf(tmp, sizeof tmp, "%s-7d9f8c%04x-%05x", svc, pick(r, 65536), pick(r, 1 << 20));
    add_str(at, "k8s.pod.name", tmp);
    add_str(at, "k8s.namespace.name", "shop-prod");
    add_str(at, "cloud.region", "eu-west-1");
    add_str(at, "telemetry.sdk.name", "opentelemetry");
    add_str(at, "telemetry.sdk.language", "go");
    add_str(at, "telemetry.sdk.version", "1.28.0");
    add(at, "process.pid", V_INT)->i = 1000 + pick(r, 30000);
}

static void hex(char *out, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 15];
    }
    out[2 * n] = '\0';
}

static void rand_bytes(rng *r, uint8_t *b, size_t n)
{
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = rnd(r);
        for (size_t j = 0; j < 8 && i + j < n; j++) b[i + j] = (uint8_t)(v >> (8 * j));
    }
}

/* ------------------------------------------------ protobuf wire writer -- */

static void pb_varint(o2p_buf *b, uint64_t v)
{
    while (v >= 0x80) {
        buf_push_byte(b, (uint8_t)(v | 0x80));
        v >>= 7;
    }
    buf_push_byte(b, (uint8_t)v);
}

static void pb_tag(o2p_buf *b, unsigned field, unsigned wire)
{
    pb_varint(b, field << 3 | wire);
}

static void pb_uint(o2p_buf *b, unsigned field, uint64_t v)
{
    pb_tag(b, field, 0);
    pb_varint(b, v);
}

static void pb_fixed64(o2p_buf *b, unsigned field, uint64_t v)
{
    pb_tag(b, field, 1);
    uint8_t le[8];
    for (int i = 0; i < 8; i++) le[i] = (uint8_t)(v >> (8 * i));
    buf_append(b, le, 8);
}

static void pb_fixed32(o2p_buf *b, unsigned field, uint32_t v)
{
    pb_tag(b, field, 5);
    uint8_t le[4];
    for (int i = 0; i < 4; i++) le[i] = (uint8_t)(v >> (8 * i));
    buf_append(b, le, 4);
}

static void pb_double(o2p_buf *b, unsigned field, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    pb_fixed64(b, field, v);
}

static void pb_bytes(o2p_buf *b, unsigned field, const void *p, size_t n)
{
    pb_tag(b, field, 2);
    pb_varint(b, n);
    buf_append(b, p, n);
}

static void pb_str(o2p_buf *b, unsigned field, const char *s)
{
    pb_bytes(b, field, s, strlen(s));
}

/* Nested messages: the content is written in place, then shifted right to
 * make room for its length once that is known (generation is not timed). */
static size_t pb_open(o2p_buf *b, unsigned field)
{
    pb_tag(b, field, 2);
    return b->len;
}

static void pb_close(o2p_buf *b, size_t mark)
{
    size_t n = b->len - mark;
    uint8_t len[10];
    size_t k = 0;
    uint64_t v = n;
    while (v >= 0x80) {
        len[k++] = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    len[k++] = (uint8_t)v;
    if (buf_extend(b, k) == NULL) return;
    memmove(b->data + mark + k, b->data + mark, n);
    memcpy(b->data + mark, len, k);
}

static void pb_anyvalue(o2p_buf *b, unsigned field, const kv *k)
{
    size_t m = pb_open(b, field);
    switch (k->type) {
    case V_STR:
        pb_str(b, 1, k->s);
        break;
    case V_BOOL:
        pb_uint(b, 2, (uint64_t)k->i);
        break;
    case V_INT:
        pb_uint(b, 3, (uint64_t)k->i);
        break;
    case V_DBL:
        pb_double(b, 4, k->d);
        break;
    }
    pb_close(b, m);
}

static void pb_attrs(o2p_buf *b, unsigned field, const attrs *at)
{
    for (int i = 0; i < at->n; i++) {
        size_t m = pb_open(b, field);
        pb_str(b, 1, at->a[i].key);
        pb_anyvalue(b, 2, &at->a[i]);
        pb_close(b, m);
    }
}

static void pb_resource(o2p_buf *b, const attrs *res)
{
    size_t m = pb_open(b, 1);
    pb_attrs(b, 1, res);
    pb_close(b, m);
}

static void pb_scope(o2p_buf *b, const char *name, const char *version)
{
    size_t m = pb_open(b, 1);
    pb_str(b, 1, name);
    pb_str(b, 2, version);
    pb_close(b, m);
}

/* ---------------------------------------------------- OTLP/JSON writer -- */

static void js_raw(o2p_buf *b, const char *s)
{
    buf_append_str(b, s);
}

static void js_string(o2p_buf *b, const char *s)
{
    buf_push_byte(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') buf_push_byte(b, '\\');
        if (*p < 0x20)
            buf_printf(b, "\\u%04x", *p);
        else
            buf_push_byte(b, *p);
    }
    buf_push_byte(b, '"');
}

static void js_u64str(o2p_buf *b, uint64_t v)
{
    buf_printf(b, "\"%llu\"", (unsigned long long)v);
}

static void js_anyvalue(o2p_buf *b, const kv *k)
{
    switch (k->type) {
    case V_STR:
        js_raw(b, "{\"stringValue\":");
        js_string(b, k->s);
        break;
    case V_BOOL:
        js_raw(b, k->i ? "{\"boolValue\":true" : "{\"boolValue\":false");
        break;
    case V_INT:
        buf_printf(b, "{\"intValue\":\"%lld\"", (long long)k->i);
        break;
    case V_DBL:
        buf_printf(b, "{\"doubleValue\":%.17g", k->d);
        break;
    }
    buf_push_byte(b, '}');
}

static void js_attrs(o2p_buf *b, const attrs *at)
{
    js_raw(b, "\"attributes\":[");
    for (int i = 0; i < at->n; i++) {
        if (i) buf_push_byte(b, ',');
        js_raw(b, "{\"key\":");
        js_string(b, at->a[i].key);
        js_raw(b, ",\"value\":");
        js_anyvalue(b, &at->a[i]);
        buf_push_byte(b, '}');
    }
    buf_push_byte(b, ']');
}

static void js_resource(o2p_buf *b, const attrs *res)
{
    js_raw(b, "{\"resource\":{");
    js_attrs(b, res);
    js_raw(b, "},\"schemaUrl\":\"https://opentelemetry.io/schemas/1.24.0\",");
}

/* ------------------------------------------------------------- logs -- */

typedef struct log_rec {
    uint64_t time_ns, observed_ns;
    int severity;
    const char *severity_text;
    char body[200];
    uint8_t trace_id[16], span_id[8];
    int has_trace;
    attrs at;
} log_rec;

static const char *ROUTES[] = {"/api/v1/users/{id}",
                               "/api/v1/orders",
                               "/api/v1/cart/items",
                               "/api/v2/search",
                               "/healthz",
                               "/api/v1/payments/{id}",
                               "/login",
                               "/static/app.js",
                               "/api/v1/inventory",
                               "/api/v1/recommendations"};
static const char *METHODS[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};

static void draw_log(rng *r, uint64_t base_ns, size_t i, size_t n, log_rec *l)
{
    /* Spread over ten minutes, in order with jitter, as a batching SDK sends. */
    uint64_t span = 600ull * 1000000000ull;
    l->time_ns = base_ns + span / (n ? n : 1) * i + rnd(r) % 1000000;
    l->observed_ns = l->time_ns + 200000 + rnd(r) % 5000000;
    unsigned sv = pick(r, 100);
    if (sv < 70)
        l->severity = 9, l->severity_text = "INFO";
    else if (sv < 85)
        l->severity = 5, l->severity_text = "DEBUG";
    else if (sv < 95)
        l->severity = 13, l->severity_text = "WARN";
    else
        l->severity = 17, l->severity_text = "ERROR";
    const char *route = ROUTES[pick(r, 10)];
    const char *method = METHODS[pick(r, 6)];
    int status = sv < 90 ? 200 : (sv < 95 ? 404 : 500);
    double ms = (double)(rnd(r) % 250000) / 1000.0;
    l->at.n = 0;
    switch (pick(r, 4)) {
    case 0:
        snprintf(l->body, sizeof l->body, "%s %s completed with status %d in %.3f ms", method,
                 route, status, ms);
        break;
    case 1:
        snprintf(l->body, sizeof l->body,
                 "cache miss for key user:%u:profile, fetching from origin", pick(r, 100000));
        break;
    case 2:
        snprintf(l->body, sizeof l->body,
                 "slow query detected: SELECT * FROM orders WHERE "
                 "customer_id = %u took %.1f ms",
                 pick(r, 50000), ms * 10);
        break;
    default:
        snprintf(l->body, sizeof l->body, "user %u session refreshed (ttl=%us)", pick(r, 100000),
                 300 + pick(r, 3300));
        break;
    }
    add_str(&l->at, "http.request.method", method);
    add_str(&l->at, "http.route", route);
    add(&l->at, "http.response.status_code", V_INT)->i = status;
    add(&l->at, "duration_ms", V_DBL)->d = ms;
    snprintf(add(&l->at, "user.id", V_STR)->s, sizeof l->at.a[0].s, "u-%08x", pick(r, 1u << 28));
    if (status == 500) {
        add_str(&l->at, "exception.type", "java.net.SocketTimeoutException");
        add(&l->at, "retryable", V_BOOL)->i = 1;
    }
    l->has_trace = pick(r, 10) < 8;
    rand_bytes(r, l->trace_id, 16);
    rand_bytes(r, l->span_id, 8);
}

static void logs_pb(o2p_buf *b, rng *r, size_t n, uint64_t base_ns, const attrs *res)
{
    size_t rl = pb_open(b, 1);
    pb_resource(b, res);
    size_t sl = pb_open(b, 2);
    pb_scope(b, "io.opentelemetry.contrib.slog", "0.9.0");
    log_rec l;
    for (size_t i = 0; i < n; i++) {
        draw_log(r, base_ns, i, n, &l);
        size_t lr = pb_open(b, 2);
        pb_fixed64(b, 1, l.time_ns);
        pb_uint(b, 2, (uint64_t)l.severity);
        pb_str(b, 3, l.severity_text);
        kv body = {.type = V_STR};
        snprintf(body.s, sizeof body.s, "%s", l.body);
        pb_anyvalue(b, 5, &body);
        pb_attrs(b, 6, &l.at);
        if (l.has_trace) {
            pb_fixed32(b, 8, 1);
            pb_bytes(b, 9, l.trace_id, 16);
            pb_bytes(b, 10, l.span_id, 8);
        }
        pb_fixed64(b, 11, l.observed_ns);
        pb_close(b, lr);
    }
    pb_str(b, 3, "https://opentelemetry.io/schemas/1.24.0");
    pb_close(b, sl);
    pb_str(b, 3, "https://opentelemetry.io/schemas/1.24.0");
    pb_close(b, rl);
}

static void logs_json(o2p_buf *b, rng *r, size_t n, uint64_t base_ns, const attrs *res)
{
    js_raw(b, "{\"resourceLogs\":[");
    js_resource(b, res);
    js_raw(b, "\"scopeLogs\":[{\"scope\":{\"name\":\"io.opentelemetry.contrib.slog\","
              "\"version\":\"0.9.0\"},\"schemaUrl\":\"https://opentelemetry.io/schemas/1.24.0\","
              "\"logRecords\":[");
    log_rec l;
    char th[33], sh[17];
    for (size_t i = 0; i < n; i++) {
        draw_log(r, base_ns, i, n, &l);
        if (i) buf_push_byte(b, ',');
        js_raw(b, "{\"timeUnixNano\":");
        js_u64str(b, l.time_ns);
        js_raw(b, ",\"observedTimeUnixNano\":");
        js_u64str(b, l.observed_ns);
        buf_printf(b, ",\"severityNumber\":%d,\"severityText\":", l.severity);
        js_string(b, l.severity_text);
        js_raw(b, ",\"body\":{\"stringValue\":");
        js_string(b, l.body);
        js_raw(b, "},");
        js_attrs(b, &l.at);
        if (l.has_trace) {
            hex(th, l.trace_id, 16);
            hex(sh, l.span_id, 8);
            buf_printf(b, ",\"flags\":1,\"traceId\":\"%s\",\"spanId\":\"%s\"", th, sh);
        }
        buf_push_byte(b, '}');
    }
    js_raw(b, "]}]}]}");
}

/* ----------------------------------------------------------- traces -- */

static const char *SPAN_NAMES[] = {"GET /api/v1/users/{id}", "POST /api/v1/orders",
                                   "SELECT orders",          "redis GET",
                                   "grpc.payments.Charge",   "kafka publish order-events",
                                   "render template",        "HTTP GET inventory"};

typedef struct span_rec {
    uint8_t trace_id[16], span_id[8], parent_id[8];
    int has_parent;
    const char *name;
    int kind;
    uint64_t start_ns, end_ns;
    attrs at;
    int nevents;
    uint64_t event_ns[2];
    const char *event_name[2];
    attrs event_at[2];
    int nlinks;
    uint8_t link_trace[16], link_span[8];
    int status_code;
    char status_msg[64];
} span_rec;

typedef struct trace_state {
    uint8_t trace_id[16];
    uint8_t root_span[8];
    int left; /* spans left in the current trace */
} trace_state;

static void draw_span(rng *r, trace_state *ts, uint64_t base_ns, size_t i, size_t n, span_rec *s)
{
    if (ts->left <= 0) {
        rand_bytes(r, ts->trace_id, 16);
        ts->left = 1 + (int)pick(r, 8);
        s->has_parent = 0;
    } else {
        s->has_parent = 1;
        memcpy(s->parent_id, ts->root_span, 8);
    }
    memcpy(s->trace_id, ts->trace_id, 16);
    rand_bytes(r, s->span_id, 8);
    if (!s->has_parent) memcpy(ts->root_span, s->span_id, 8);
    ts->left--;
    unsigned k = pick(r, 8);
    s->name = SPAN_NAMES[k];
    s->kind = s->has_parent ? (k % 2 ? 3 : 1) : 2;
    uint64_t span = 600ull * 1000000000ull;
    s->start_ns = base_ns + span / (n ? n : 1) * i + rnd(r) % 1000000;
    s->end_ns = s->start_ns + 50000 + rnd(r) % 200000000;
    s->at.n = 0;
    add_str(&s->at, "http.request.method", METHODS[pick(r, 6)]);
    add_str(&s->at, "http.route", ROUTES[pick(r, 10)]);
    add(&s->at, "http.response.status_code", V_INT)->i = pick(r, 20) ? 200 : 503;
    add_str(&s->at, "net.peer.name", "inventory.shop-prod.svc.cluster.local");
    add(&s->at, "net.peer.port", V_INT)->i = 8080;
    snprintf(add(&s->at, "db.statement", V_STR)->s, sizeof s->at.a[0].s,
             "SELECT * FROM orders WHERE id = %u", pick(r, 1000000));
    s->nevents = (int)pick(r, 3);
    for (int e = 0; e < s->nevents; e++) {
        s->event_ns[e] = s->start_ns + rnd(r) % 1000000;
        s->event_name[e] = e ? "exception" : "cache.miss";
        s->event_at[e].n = 0;
        add_str(&s->event_at[e], "exception.type", "TimeoutError");
        snprintf(add(&s->event_at[e], "exception.message", V_STR)->s, sizeof s->at.a[0].s,
                 "deadline exceeded after %u ms", pick(r, 5000));
    }
    s->nlinks = pick(r, 10) == 0;
    rand_bytes(r, s->link_trace, 16);
    rand_bytes(r, s->link_span, 8);
    s->status_code = pick(r, 20) ? 0 : 2;
    snprintf(s->status_msg, sizeof s->status_msg, "%s",
             s->status_code == 2 ? "upstream returned 503" : "");
}

static void traces_pb(o2p_buf *b, rng *r, size_t n, uint64_t base_ns, const attrs *res)
{
    size_t rs = pb_open(b, 1);
    pb_resource(b, res);
    size_t ss = pb_open(b, 2);
    pb_scope(b, "go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp", "0.53.0");
    trace_state ts = {.left = 0};
    span_rec s;
    for (size_t i = 0; i < n; i++) {
        draw_span(r, &ts, base_ns, i, n, &s);
        size_t sp = pb_open(b, 2);
        pb_bytes(b, 1, s.trace_id, 16);
        pb_bytes(b, 2, s.span_id, 8);
        if (s.has_parent) pb_bytes(b, 4, s.parent_id, 8);
        pb_str(b, 5, s.name);
        pb_uint(b, 6, (uint64_t)s.kind);
        pb_fixed64(b, 7, s.start_ns);
        pb_fixed64(b, 8, s.end_ns);
        pb_attrs(b, 9, &s.at);
        for (int e = 0; e < s.nevents; e++) {
            size_t ev = pb_open(b, 11);
            pb_fixed64(b, 1, s.event_ns[e]);
            pb_str(b, 2, s.event_name[e]);
            pb_attrs(b, 3, &s.event_at[e]);
            pb_close(b, ev);
        }
        if (s.nlinks) {
            size_t lk = pb_open(b, 13);
            pb_bytes(b, 1, s.link_trace, 16);
            pb_bytes(b, 2, s.link_span, 8);
            pb_close(b, lk);
        }
        size_t st = pb_open(b, 15);
        if (s.status_msg[0]) pb_str(b, 2, s.status_msg);
        if (s.status_code) pb_uint(b, 3, (uint64_t)s.status_code);
        pb_close(b, st);
        pb_close(b, sp);
    }
    pb_close(b, ss);
    pb_close(b, rs);
}

static void traces_json(o2p_buf *b, rng *r, size_t n, uint64_t base_ns, const attrs *res)
{
    js_raw(b, "{\"resourceSpans\":[");
    js_resource(b, res);
    js_raw(b, "\"scopeSpans\":[{\"scope\":{\"name\":"
              "\"go.opentelemetry.io/contrib/instrumentation/net/http/otelhttp\","
              "\"version\":\"0.53.0\"},\"spans\":[");
    trace_state ts = {.left = 0};
    span_rec s;
    char th[33], sh[17];
    for (size_t i = 0; i < n; i++) {
        draw_span(r, &ts, base_ns, i, n, &s);
        if (i) buf_push_byte(b, ',');
        hex(th, s.trace_id, 16);
        hex(sh, s.span_id, 8);
        buf_printf(b, "{\"traceId\":\"%s\",\"spanId\":\"%s\"", th, sh);
        if (s.has_parent) {
            hex(sh, s.parent_id, 8);
            buf_printf(b, ",\"parentSpanId\":\"%s\"", sh);
        }
        js_raw(b, ",\"name\":");
        js_string(b, s.name);
        buf_printf(b, ",\"kind\":%d,\"startTimeUnixNano\":", s.kind);
        js_u64str(b, s.start_ns);
        js_raw(b, ",\"endTimeUnixNano\":");
        js_u64str(b, s.end_ns);
        buf_push_byte(b, ',');
        js_attrs(b, &s.at);
        js_raw(b, ",\"events\":[");
        for (int e = 0; e < s.nevents; e++) {
            if (e) buf_push_byte(b, ',');
            js_raw(b, "{\"timeUnixNano\":");
            js_u64str(b, s.event_ns[e]);
            js_raw(b, ",\"name\":");
            js_string(b, s.event_name[e]);
            buf_push_byte(b, ',');
            js_attrs(b, &s.event_at[e]);
            buf_push_byte(b, '}');
        }
        js_raw(b, "],\"links\":[");
        if (s.nlinks) {
            hex(th, s.link_trace, 16);
            hex(sh, s.link_span, 8);
            buf_printf(b, "{\"traceId\":\"%s\",\"spanId\":\"%s\"}", th, sh);
        }
        js_raw(b, "],\"status\":{");
        if (s.status_code) {
            buf_printf(b, "\"code\":%d,\"message\":", s.status_code);
            js_string(b, s.status_msg);
        }
        js_raw(b, "}}");
    }
    js_raw(b, "]}]}]}");
}

/* ---------------------------------------------------------- metrics -- */

/* Every metric carries POINTS_PER_METRIC points (one per attribute set) so a
 * request of n points has n / POINTS_PER_METRIC metrics; kinds rotate gauge,
 * sum, histogram so each table gets rows. */
#define POINTS_PER_METRIC 10
#define NBOUNDS           10

static const double BOUNDS[NBOUNDS] = {5, 10, 25, 50, 75, 100, 250, 500, 1000, 2500};
static const char *METRIC_NAMES[3][4] = {
    {"system.cpu.utilization", "process.memory.usage", "jvm.threads.count", "queue.depth"},
    {"http.server.request.count", "db.client.operations", "messaging.publish.messages",
     "rpc.server.requests"},
    {"http.server.request.duration", "db.client.operation.duration", "rpc.server.duration",
     "messaging.process.duration"}};

typedef struct point_rec {
    attrs at;
    uint64_t start_ns, time_ns;
    double value;
    int64_t ivalue;
    int is_int;
    uint64_t counts[NBOUNDS + 1];
    uint64_t count;
    double sum, min, max;
} point_rec;

static void draw_point(rng *r, int kind, int p, uint64_t t, point_rec *pt)
{
    pt->at.n = 0;
    char tmp[32];
    snprintf(tmp, sizeof tmp, "cpu%d", p);
    add_str(&pt->at, kind == 0 ? "cpu" : "http.route", kind == 0 ? tmp : ROUTES[p % 10]);
    add_str(&pt->at, "state", p % 2 ? "user" : "system");
    pt->start_ns = GEN_BASE_NS - 3600ull * 1000000000ull;
    pt->time_ns = t;
    pt->is_int = kind == 1;
    pt->value = (double)(rnd(r) % 100000) / 1000.0;
    pt->ivalue = (int64_t)(rnd(r) % 1000000);
    pt->count = 0;
    pt->sum = 0;
    pt->min = 1e300;
    pt->max = 0;
    for (int k = 0; k <= NBOUNDS; k++) {
        pt->counts[k] = rnd(r) % 200;
        pt->count += pt->counts[k];
        double mid = k < NBOUNDS ? BOUNDS[k] * 0.8 : BOUNDS[NBOUNDS - 1] * 1.5;
        pt->sum += mid * (double)pt->counts[k];
        if (pt->counts[k] && mid < pt->min) pt->min = mid;
        if (pt->counts[k] && mid > pt->max) pt->max = mid;
    }
    if (pt->count == 0) pt->min = 0;
}

static void metrics_pb(o2p_buf *b, rng *r, size_t n, uint64_t base_ns, const attrs *res)
{
    size_t rm = pb_open(b, 1);
    pb_resource(b, res);
    size_t sm = pb_open(b, 2);
    pb_scope(b, "go.opentelemetry.io/otel/sdk/metric", "1.28.0");
    point_rec pt;
    size_t done = 0;
    for (int mi = 0; done < n; mi++) {
        int kind = mi % 3;
        size_t m = pb_open(b, 2);
        pb_str(b, 1, METRIC_NAMES[kind][(mi / 3) % 4]);
        pb_str(b, 2, "synthetic benchmark metric");
        pb_str(b, 3, kind == 2 ? "ms" : "1");
        size_t data = pb_open(b, kind == 0 ? 5 : kind == 1 ? 7 : 9);
        uint64_t t = base_ns + (uint64_t)mi * 1000000000ull % (600ull * 1000000000ull);
        for (int p = 0; p < POINTS_PER_METRIC && done < n; p++, done++) {
            draw_point(r, kind, p, t, &pt);
            size_t dp = pb_open(b, 1);
            if (kind < 2) {
                pb_fixed64(b, 2, pt.start_ns);
                pb_fixed64(b, 3, pt.time_ns);
                if (pt.is_int)
                    pb_fixed64(b, 6, (uint64_t)pt.ivalue); /* sfixed64 as_int */
                else
                    pb_double(b, 4, pt.value);
                pb_attrs(b, 7, &pt.at);
            } else {
                pb_fixed64(b, 2, pt.start_ns);
                pb_fixed64(b, 3, pt.time_ns);
                pb_fixed64(b, 4, pt.count);
                pb_double(b, 5, pt.sum);
                pb_tag(b, 6, 2); /* packed fixed64 bucket_counts */
                pb_varint(b, (NBOUNDS + 1) * 8);
                for (int k = 0; k <= NBOUNDS; k++) {
                    uint8_t le[8];
                    for (int j = 0; j < 8; j++) le[j] = (uint8_t)(pt.counts[k] >> (8 * j));
                    buf_append(b, le, 8);
                }
                pb_tag(b, 7, 2); /* packed double explicit_bounds */
                pb_varint(b, NBOUNDS * 8);
                buf_append(b, BOUNDS, sizeof BOUNDS);
                pb_attrs(b, 9, &pt.at);
                pb_double(b, 11, pt.min);
                pb_double(b, 12, pt.max);
            }
            pb_close(b, dp);
        }
        if (kind > 0) pb_uint(b, 2, 2);  /* aggregation_temporality CUMULATIVE */
        if (kind == 1) pb_uint(b, 3, 1); /* is_monotonic */
        pb_close(b, data);
        pb_close(b, m);
    }
    pb_close(b, sm);
    pb_close(b, rm);
}

static void metrics_json(o2p_buf *b, rng *r, size_t n, uint64_t base_ns, const attrs *res)
{
    js_raw(b, "{\"resourceMetrics\":[");
    js_resource(b, res);
    js_raw(b, "\"scopeMetrics\":[{\"scope\":{\"name\":\"go.opentelemetry.io/otel/sdk/metric\","
              "\"version\":\"1.28.0\"},\"metrics\":[");
    point_rec pt;
    size_t done = 0;
    for (int mi = 0; done < n; mi++) {
        int kind = mi % 3;
        if (mi) buf_push_byte(b, ',');
        js_raw(b, "{\"name\":");
        js_string(b, METRIC_NAMES[kind][(mi / 3) % 4]);
        js_raw(b, ",\"description\":\"synthetic benchmark metric\",\"unit\":");
        js_string(b, kind == 2 ? "ms" : "1");
        js_raw(b, kind == 0 ? ",\"gauge\":{" : kind == 1 ? ",\"sum\":{" : ",\"histogram\":{");
        if (kind > 0) js_raw(b, "\"aggregationTemporality\":2,");
        if (kind == 1) js_raw(b, "\"isMonotonic\":true,");
        js_raw(b, "\"dataPoints\":[");
        uint64_t t = base_ns + (uint64_t)mi * 1000000000ull % (600ull * 1000000000ull);
        for (int p = 0; p < POINTS_PER_METRIC && done < n; p++, done++) {
            draw_point(r, kind, p, t, &pt);
            if (p) buf_push_byte(b, ',');
            buf_push_byte(b, '{');
            js_attrs(b, &pt.at);
            js_raw(b, ",\"startTimeUnixNano\":");
            js_u64str(b, pt.start_ns);
            js_raw(b, ",\"timeUnixNano\":");
            js_u64str(b, pt.time_ns);
            if (kind < 2) {
                if (pt.is_int)
                    buf_printf(b, ",\"asInt\":\"%lld\"", (long long)pt.ivalue);
                else
                    buf_printf(b, ",\"asDouble\":%.17g", pt.value);
            } else {
                buf_printf(b, ",\"count\":\"%llu\",\"sum\":%.17g,\"bucketCounts\":[",
                           (unsigned long long)pt.count, pt.sum);
                for (int k = 0; k <= NBOUNDS; k++)
                    buf_printf(b, "%s\"%llu\"", k ? "," : "", (unsigned long long)pt.counts[k]);
                js_raw(b, "],\"explicitBounds\":[");
                for (int k = 0; k < NBOUNDS; k++) buf_printf(b, "%s%g", k ? "," : "", BOUNDS[k]);
                buf_printf(b, "],\"min\":%.17g,\"max\":%.17g", pt.min, pt.max);
            }
            buf_push_byte(b, '}');
        }
        js_raw(b, "]}}");
    }
    js_raw(b, "]}]}]}");
}

/* ------------------------------------------------------------- entry -- */

long gen_request(o2p_buf *out, otlp_signal signal, otlp_format format, size_t records,
                 uint64_t seed, uint64_t base_ns, unsigned service)
{
    rng r = {seed * 0x2545F4914F6CDD1Dull + 1};
    attrs res;
    resource_attrs(&res, service, &r);
    size_t before = out->len;
    int json = format != OTLP_FMT_PROTOBUF;
    switch (signal) {
    case OTLP_LOGS:
        (json ? logs_json : logs_pb)(out, &r, records, base_ns, &res);
        break;
    case OTLP_TRACES:
        (json ? traces_json : traces_pb)(out, &r, records, base_ns, &res);
        break;
    case OTLP_METRICS:
        (json ? metrics_json : metrics_pb)(out, &r, records, base_ns, &res);
        break;
    default:
        return O2P_EINVAL;
    }
    if (format == OTLP_FMT_JSONL) buf_push_byte(out, '\n');
    /* buf appends ignore failures above; a short buffer means one failed. */
    if (out->len == before) return O2P_ENOMEM;
    return (long)records;
}
