/* grpc_metrics: lock-free gRPC counters and their Prometheus text (see
 * grpc_metrics.h). */
#include "server/grpc_metrics.h"

#include <stdio.h>
#include <string.h>

#include "server/http_metrics.h" /* the http_prom_* writers */

static const char *const GRPC_CODE_NAMES[GRPC_CODE_COUNT] = {
    "OK",
    "CANCELLED",
    "UNKNOWN",
    "INVALID_ARGUMENT",
    "DEADLINE_EXCEEDED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "PERMISSION_DENIED",
    "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION",
    "ABORTED",
    "OUT_OF_RANGE",
    "UNIMPLEMENTED",
    "INTERNAL",
    "UNAVAILABLE",
    "DATA_LOSS",
    "UNAUTHENTICATED",
};

static const char *const GRPC_SERVICE_NAMES[GRPC_METHOD_COUNT] = {
    "opentelemetry.proto.collector.logs.v1.LogsService",
    "opentelemetry.proto.collector.trace.v1.TraceService",
    "opentelemetry.proto.collector.metrics.v1.MetricsService",
    "other",
};

void grpc_metrics_init(grpc_metrics *m)
{
    memset(m, 0, sizeof *m);
}

grpc_method grpc_method_of(int route_ok, otlp_signal signal)
{
    if (!route_ok) return GRPC_METHOD_OTHER;
    switch (signal) {
    case OTLP_LOGS:
        return GRPC_METHOD_LOGS;
    case OTLP_TRACES:
        return GRPC_METHOD_TRACES;
    case OTLP_METRICS:
        return GRPC_METHOD_METRICS;
    default:
        return GRPC_METHOD_OTHER;
    }
}

static unsigned grpc_code_slot(int code)
{
    return code >= 0 && code < GRPC_CODE_COUNT ? (unsigned)code : 2u /* UNKNOWN */;
}

void grpc_metrics_call(grpc_metrics *m, grpc_method method, int code, uint64_t duration_ns)
{
    if (m == NULL) return;
    atomic_fetch_add_explicit(&m->calls[method][grpc_code_slot(code)], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->duration_sum_ns[method], duration_ns, memory_order_relaxed);
}

void grpc_metrics_add_bytes(grpc_metrics *m, grpc_method method, uint64_t wire_bytes,
                            uint64_t decompressed_bytes)
{
    if (m == NULL) return;
    atomic_fetch_add_explicit(&m->message_bytes[method], wire_bytes, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->decompressed_bytes[method], decompressed_bytes,
                              memory_order_relaxed);
}

void grpc_metrics_streams(grpc_metrics *m, int delta)
{
    if (m) atomic_fetch_add_explicit(&m->streams, delta, memory_order_relaxed);
}

void grpc_metrics_connections(grpc_metrics *m, unsigned worker, int delta)
{
    if (m == NULL) return;
    atomic_fetch_add_explicit(&m->connections, delta, memory_order_relaxed);
    if (delta > 0) atomic_fetch_add_explicit(&m->connections_total, 1, memory_order_relaxed);
    if (worker < GRPC_METRICS_WORKERS)
        atomic_fetch_add_explicit(&m->worker_connections[worker], delta, memory_order_relaxed);
}

void grpc_metrics_workers(grpc_metrics *m, unsigned workers)
{
    if (m == NULL) return;
    if (workers > GRPC_METRICS_WORKERS) workers = GRPC_METRICS_WORKERS;
    atomic_store_explicit(&m->workers, workers, memory_order_relaxed);
}

/* Loads from a const registry (see http_metrics.c for why the cast). */
static uint64_t grpc_load(const _Atomic uint64_t *p)
{
    return atomic_load_explicit((_Atomic uint64_t *)p, memory_order_relaxed);
}

static uint64_t grpc_gauge(const _Atomic int64_t *p)
{
    int64_t v = atomic_load_explicit((_Atomic int64_t *)p, memory_order_relaxed);
    return v > 0 ? (uint64_t)v : 0;
}

uint64_t grpc_metrics_calls(const grpc_metrics *m, grpc_method method, int code)
{
    return grpc_load(&m->calls[method][grpc_code_slot(code)]);
}

static uint64_t grpc_method_total(const grpc_metrics *m, int method)
{
    uint64_t total = 0;
    for (int c = 0; c < GRPC_CODE_COUNT; c++) total += grpc_load(&m->calls[method][c]);
    return total;
}

static void grpc_labels(char *dst, size_t cap, int method)
{
    snprintf(dst, cap, "service=\"%s\",method=\"%s\"", GRPC_SERVICE_NAMES[method],
             method == GRPC_METHOD_OTHER ? "other" : "Export");
}

int grpc_metrics_render(const grpc_metrics *m, o2p_buf *out)
{
    char labels[160];
    char base[128];

    O2P_TRY(http_prom_family(out, "otlp2parquet_grpc_calls_total", "counter",
                             "gRPC calls answered, by service, method and status code."));
    for (int r = 0; r < GRPC_METHOD_COUNT; r++) {
        grpc_labels(base, sizeof base, r);
        for (int c = 0; c < GRPC_CODE_COUNT; c++) {
            uint64_t v = grpc_load(&m->calls[r][c]);
            if (v == 0) continue;
            snprintf(labels, sizeof labels, "%s,code=\"%s\"", base, GRPC_CODE_NAMES[c]);
            O2P_TRY(http_prom_u64(out, "otlp2parquet_grpc_calls_total", labels, v));
        }
    }

    O2P_TRY(http_prom_family(out, "otlp2parquet_grpc_call_duration_seconds", "summary",
                             "Time from a call's headers received to its answer queued."));
    for (int r = 0; r < GRPC_METHOD_COUNT; r++) {
        uint64_t count = grpc_method_total(m, r);
        if (r == GRPC_METHOD_OTHER && count == 0) continue;
        grpc_labels(base, sizeof base, r);
        O2P_TRY(http_prom_double(out, "otlp2parquet_grpc_call_duration_seconds_sum", base,
                                 (double)grpc_load(&m->duration_sum_ns[r]) / 1e9));
        O2P_TRY(http_prom_u64(out, "otlp2parquet_grpc_call_duration_seconds_count", base, count));
    }

    O2P_TRY(http_prom_family(out, "otlp2parquet_grpc_message_bytes_total", "counter",
                             "Request message bytes received, before grpc-encoding decoding."));
    for (int r = 0; r < GRPC_METHOD_OTHER; r++) {
        grpc_labels(base, sizeof base, r);
        O2P_TRY(http_prom_u64(out, "otlp2parquet_grpc_message_bytes_total", base,
                              grpc_load(&m->message_bytes[r])));
    }
    O2P_TRY(http_prom_family(out, "otlp2parquet_grpc_decompressed_bytes_total", "counter",
                             "Request message bytes after grpc-encoding decoding."));
    for (int r = 0; r < GRPC_METHOD_OTHER; r++) {
        grpc_labels(base, sizeof base, r);
        O2P_TRY(http_prom_u64(out, "otlp2parquet_grpc_decompressed_bytes_total", base,
                              grpc_load(&m->decompressed_bytes[r])));
    }

    O2P_TRY(http_prom_metric(out, "otlp2parquet_grpc_streams_in_flight", "gauge",
                             "HTTP/2 streams (calls) open on the gRPC listener.",
                             grpc_gauge(&m->streams)));
    O2P_TRY(http_prom_metric(out, "otlp2parquet_grpc_connections", "gauge",
                             "Connections open on the gRPC listener.",
                             grpc_gauge(&m->connections)));
    O2P_TRY(http_prom_metric(out, "otlp2parquet_grpc_connections_accepted_total", "counter",
                             "Connections accepted on the gRPC listener.",
                             grpc_load(&m->connections_total)));
    unsigned workers = atomic_load_explicit((_Atomic unsigned *)&m->workers, memory_order_relaxed);
    if (workers == 0) return O2P_OK;
    O2P_TRY(http_prom_family(out, "otlp2parquet_grpc_worker_connections", "gauge",
                             "Connections open on each gRPC connection thread."));
    for (unsigned i = 0; i < workers; i++) {
        snprintf(labels, sizeof labels, "worker=\"%u\"", i);
        O2P_TRY(http_prom_u64(out, "otlp2parquet_grpc_worker_connections", labels,
                              grpc_gauge(&m->worker_connections[i])));
    }
    return O2P_OK;
}
