/* http_metrics: lock-free HTTP counters and their Prometheus text (see
 * http_metrics.h). */
#include "server/http_metrics.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static const unsigned HTTP_STATUS_CODES[HTTP_STATUS_SLOTS - 1] = {200, 400, 401, 403, 404, 405,
                                                                  413, 415, 429, 500, 503};

/* Bucket bounds chosen around the 10 ms p99 target, with room on both
 * sides to see how far off a slow request is. */
static const double HTTP_BUCKET_SECS[HTTP_DURATION_BUCKETS] = {
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
static const char *const HTTP_BUCKET_LABEL[HTTP_DURATION_BUCKETS] = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",  "0.5",    "1",     "2.5",  "5",     "10"};

const char *http_route_label(http_route route)
{
    switch (route) {
    case HTTP_ROUTE_LOGS:
        return "/v1/logs";
    case HTTP_ROUTE_TRACES:
        return "/v1/traces";
    case HTTP_ROUTE_METRICS_INGEST:
        return "/v1/metrics";
    case HTTP_ROUTE_HEALTH:
        return "/health";
    case HTTP_ROUTE_READY:
        return "/ready";
    case HTTP_ROUTE_METRICS:
        return "/metrics";
    default:
        return "other";
    }
}

void http_metrics_init(http_metrics *m)
{
    memset(m, 0, sizeof *m);
}

static unsigned http_status_slot(unsigned status)
{
    for (unsigned i = 0; i < HTTP_STATUS_SLOTS - 1; i++)
        if (HTTP_STATUS_CODES[i] == status) return i;
    return HTTP_STATUS_SLOTS - 1;
}

void http_metrics_observe(http_metrics *m, http_route route, unsigned status, uint64_t duration_ns)
{
    atomic_fetch_add_explicit(&m->requests[route][http_status_slot(status)], 1,
                              memory_order_relaxed);
    unsigned b = 0;
    double secs = (double)duration_ns / 1e9;
    while (b < HTTP_DURATION_BUCKETS && secs > HTTP_BUCKET_SECS[b]) b++;
    atomic_fetch_add_explicit(&m->duration_bucket[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->duration_sum_ns[route], duration_ns, memory_order_relaxed);
}

void http_metrics_add_bytes(http_metrics *m, http_route route, uint64_t wire_bytes,
                            uint64_t decompressed_bytes)
{
    atomic_fetch_add_explicit(&m->body_bytes[route], wire_bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->decompressed_bytes[route], decompressed_bytes,
                              memory_order_relaxed);
}

/* Loads from a const registry: C11 atomic_load takes a non-const pointer
 * in older library headers, so the cast lives here once. */
static uint64_t http_load(const _Atomic uint64_t *p)
{
    return atomic_load_explicit((_Atomic uint64_t *)p, memory_order_relaxed);
}

uint64_t http_metrics_requests(const http_metrics *m, http_route route, unsigned status)
{
    return http_load(&m->requests[route][http_status_slot(status)]);
}

int http_prom_family(o2p_buf *out, const char *name, const char *type, const char *help)
{
    return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

int http_prom_u64(o2p_buf *out, const char *name, const char *labels, uint64_t value)
{
    if (labels == NULL) return buf_printf(out, "%s %" PRIu64 "\n", name, value);
    return buf_printf(out, "%s{%s} %" PRIu64 "\n", name, labels, value);
}

int http_prom_metric(o2p_buf *out, const char *name, const char *type, const char *help,
                     uint64_t value)
{
    int rc = http_prom_family(out, name, type, help);
    return rc < 0 ? rc : http_prom_u64(out, name, NULL, value);
}

int http_prom_double(o2p_buf *out, const char *name, const char *labels, double value)
{
    if (labels == NULL) return buf_printf(out, "%s %.9g\n", name, value);
    return buf_printf(out, "%s{%s} %.9g\n", name, labels, value);
}

static uint64_t http_route_count(const http_metrics *m, http_route route)
{
    uint64_t total = 0;
    for (unsigned b = 0; b <= HTTP_DURATION_BUCKETS; b++)
        total += http_load(&m->duration_bucket[route][b]);
    return total;
}

static int http_route_shown(const http_metrics *m, http_route route)
{
    return route <= HTTP_ROUTE_METRICS_INGEST || http_route_count(m, route) > 0;
}

int http_metrics_render(const http_metrics *m, o2p_buf *out)
{
    char labels[96];

    O2P_TRY(http_prom_family(out, "otlp2parquet_http_requests_total", "counter",
                             "HTTP requests answered, by route and status code."));
    for (int r = 0; r < HTTP_ROUTE_COUNT; r++) {
        for (unsigned s = 0; s < HTTP_STATUS_SLOTS; s++) {
            uint64_t v = http_load(&m->requests[r][s]);
            if (v == 0) continue;
            char status[16];
            if (s < HTTP_STATUS_SLOTS - 1)
                snprintf(status, sizeof status, "%u", HTTP_STATUS_CODES[s]);
            else
                snprintf(status, sizeof status, "other");
            snprintf(labels, sizeof labels, "route=\"%s\",status=\"%s\"",
                     http_route_label((http_route)r), status);
            O2P_TRY(http_prom_u64(out, "otlp2parquet_http_requests_total", labels, v));
        }
    }

    O2P_TRY(http_prom_family(out, "otlp2parquet_http_request_duration_seconds", "histogram",
                             "Time from request headers received to response sent."));
    for (int r = 0; r < HTTP_ROUTE_COUNT; r++) {
        if (!http_route_shown(m, (http_route)r)) continue;
        const char *route = http_route_label((http_route)r);
        uint64_t cumulative = 0;
        for (unsigned b = 0; b < HTTP_DURATION_BUCKETS; b++) {
            cumulative += http_load(&m->duration_bucket[r][b]);
            snprintf(labels, sizeof labels, "route=\"%s\",le=\"%s\"", route, HTTP_BUCKET_LABEL[b]);
            O2P_TRY(http_prom_u64(out, "otlp2parquet_http_request_duration_seconds_bucket", labels,
                                  cumulative));
        }
        cumulative += http_load(&m->duration_bucket[r][HTTP_DURATION_BUCKETS]);
        snprintf(labels, sizeof labels, "route=\"%s\",le=\"+Inf\"", route);
        O2P_TRY(http_prom_u64(out, "otlp2parquet_http_request_duration_seconds_bucket", labels,
                              cumulative));
        snprintf(labels, sizeof labels, "route=\"%s\"", route);
        O2P_TRY(http_prom_double(out, "otlp2parquet_http_request_duration_seconds_sum", labels,
                                 (double)http_load(&m->duration_sum_ns[r]) / 1e9));
        O2P_TRY(http_prom_u64(out, "otlp2parquet_http_request_duration_seconds_count", labels,
                              cumulative));
    }

    O2P_TRY(http_prom_family(out, "otlp2parquet_http_request_body_bytes_total", "counter",
                             "Request body bytes received, before decompression."));
    for (int r = 0; r <= HTTP_ROUTE_METRICS_INGEST; r++) {
        snprintf(labels, sizeof labels, "route=\"%s\"", http_route_label((http_route)r));
        O2P_TRY(http_prom_u64(out, "otlp2parquet_http_request_body_bytes_total", labels,
                              http_load(&m->body_bytes[r])));
    }
    O2P_TRY(http_prom_family(out, "otlp2parquet_http_request_decompressed_bytes_total", "counter",
                             "Request body bytes after Content-Encoding decoding."));
    for (int r = 0; r <= HTTP_ROUTE_METRICS_INGEST; r++) {
        snprintf(labels, sizeof labels, "route=\"%s\"", http_route_label((http_route)r));
        O2P_TRY(http_prom_u64(out, "otlp2parquet_http_request_decompressed_bytes_total", labels,
                              http_load(&m->decompressed_bytes[r])));
    }

    O2P_TRY(http_prom_family(out, "otlp2parquet_http_requests_in_flight", "gauge",
                             "Requests whose headers arrived and whose response is not yet sent."));
    int64_t in_flight =
        atomic_load_explicit((_Atomic int64_t *)&m->in_flight, memory_order_relaxed);
    O2P_TRY(http_prom_u64(out, "otlp2parquet_http_requests_in_flight", NULL,
                          in_flight > 0 ? (uint64_t)in_flight : 0));

    int64_t body_bytes =
        atomic_load_explicit((_Atomic int64_t *)&m->body_buffer_bytes, memory_order_relaxed);
    return http_prom_metric(out, "otlp2parquet_http_body_buffer_bytes", "gauge",
                            "Bytes of request body buffers held by the HTTP threads: bodies being "
                            "received or ingested, and a few kept for reuse.",
                            body_bytes > 0 ? (uint64_t)body_bytes : 0);
}
