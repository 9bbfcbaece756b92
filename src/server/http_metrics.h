/*
 * http_metrics: the HTTP layer's own counters and their Prometheus text
 * rendering (exposition format 0.0.4).
 *
 * Every field is a relaxed atomic updated by the server threads without a
 * lock; rendering reads a slightly torn but monotonic snapshot, which is all
 * Prometheus needs.  The small http_prom_* helpers are exported so the
 * caller's /metrics callback can write its families in the same style.
 */
#ifndef O2P_SERVER_HTTP_METRICS_H
#define O2P_SERVER_HTTP_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"

typedef enum http_route {
    HTTP_ROUTE_LOGS = 0, /* the three ingest routes come first, in otlp_signal order */
    HTTP_ROUTE_TRACES,
    HTTP_ROUTE_METRICS_INGEST,
    HTTP_ROUTE_HEALTH,
    HTTP_ROUTE_READY,
    HTTP_ROUTE_METRICS,
    HTTP_ROUTE_OTHER, /* unknown paths, reported as route="other" */
    HTTP_ROUTE_COUNT
} http_route;

/* "/v1/logs", ..., "/metrics", "other". */
const char *http_route_label(http_route route);

/* Statuses the server can answer with get their own slot; anything else is
 * counted under the last slot and rendered as status="other". */
#define HTTP_STATUS_SLOTS 12
/* Upper bounds (seconds) of the request duration histogram buckets. */
#define HTTP_DURATION_BUCKETS 14

typedef struct http_metrics {
    _Atomic uint64_t requests[HTTP_ROUTE_COUNT][HTTP_STATUS_SLOTS];
    _Atomic uint64_t duration_bucket[HTTP_ROUTE_COUNT][HTTP_DURATION_BUCKETS + 1];
    _Atomic uint64_t duration_sum_ns[HTTP_ROUTE_COUNT];
    _Atomic uint64_t body_bytes[HTTP_ROUTE_COUNT];         /* as received on the wire */
    _Atomic uint64_t decompressed_bytes[HTTP_ROUTE_COUNT]; /* after Content-Encoding */
    _Atomic int64_t in_flight;
    _Atomic int64_t body_buffer_bytes; /* request body buffers held (in use + spares) */
} http_metrics;

void http_metrics_init(http_metrics *m);

/* Counts one finished request. */
void http_metrics_observe(http_metrics *m, http_route route, unsigned status, uint64_t duration_ns);
/* Adds the body sizes of one ingest request. */
void http_metrics_add_bytes(http_metrics *m, http_route route, uint64_t wire_bytes,
                            uint64_t decompressed_bytes);

/* Total requests counted for (route, status); for tests and the caller. */
uint64_t http_metrics_requests(const http_metrics *m, http_route route, unsigned status);

/* Appends the otlp2parquet_http_* families:
 *   otlp2parquet_http_requests_total{route,status}            counter
 *   otlp2parquet_http_request_duration_seconds{route}         histogram
 *   otlp2parquet_http_request_body_bytes_total{route}         counter
 *   otlp2parquet_http_request_decompressed_bytes_total{route} counter
 *   otlp2parquet_http_requests_in_flight                      gauge
 *   otlp2parquet_http_body_buffer_bytes                       gauge
 * Series that never saw a request are left out, except for the ingest
 * routes, which are always present so dashboards start at zero. */
int http_metrics_render(const http_metrics *m, o2p_buf *out);

/* "# HELP name help\n# TYPE name type\n" */
int http_prom_family(o2p_buf *out, const char *name, const char *type, const char *help);
/* "name{labels} value\n"; labels is the text between the braces, or NULL. */
int http_prom_u64(o2p_buf *out, const char *name, const char *labels, uint64_t value);
int http_prom_double(o2p_buf *out, const char *name, const char *labels, double value);
/* A family with one unlabelled sample: http_prom_family + http_prom_u64. */
int http_prom_metric(o2p_buf *out, const char *name, const char *type, const char *help,
                     uint64_t value);

#endif
