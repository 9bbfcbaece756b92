/*
 * grpc_metrics: the gRPC server's own counters and their Prometheus text
 * (exposition format 0.0.4), in the style of http_metrics.
 *
 * The registry belongs to the caller (serve keeps it beside the HTTP
 * server's), not to grpc_server: /metrics is answered by the HTTP threads,
 * which may still run while the gRPC server is being stopped and freed.
 * Every field is a relaxed atomic; rendering reads a monotonic snapshot.
 */
#ifndef O2P_SERVER_GRPC_METRICS_H
#define O2P_SERVER_GRPC_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "core/buf.h"
#include "otlp/otlp.h"

/* The three Export services in otlp_signal order, then unknown methods. */
typedef enum grpc_method {
    GRPC_METHOD_LOGS = 0,
    GRPC_METHOD_TRACES,
    GRPC_METHOD_METRICS,
    GRPC_METHOD_OTHER,
    GRPC_METHOD_COUNT
} grpc_method;

/* gRPC status codes 0..16 (OK .. UNAUTHENTICATED). */
#define GRPC_CODE_COUNT 17

/* Connection threads counted one by one (serve starts at most 64). */
#define GRPC_METRICS_WORKERS 64

typedef struct grpc_metrics {
    _Atomic uint64_t calls[GRPC_METHOD_COUNT][GRPC_CODE_COUNT];
    _Atomic uint64_t duration_sum_ns[GRPC_METHOD_COUNT];
    _Atomic uint64_t message_bytes[GRPC_METHOD_COUNT];        /* as received, prefix excluded */
    _Atomic uint64_t decompressed_bytes[GRPC_METHOD_COUNT];   /* after grpc-encoding */
    _Atomic int64_t streams;                                  /* open HTTP/2 streams */
    _Atomic int64_t connections;                              /* open connections */
    _Atomic uint64_t connections_total;                       /* accepted connections */
    _Atomic unsigned workers;                                 /* connection threads */
    _Atomic int64_t worker_connections[GRPC_METRICS_WORKERS]; /* open, by thread */
} grpc_metrics;

void grpc_metrics_init(grpc_metrics *m);

/* The method a call counts under: its signal, or GRPC_METHOD_OTHER when
 * the :path named no Export service. */
grpc_method grpc_method_of(int route_ok, otlp_signal signal);

/* Counts one answered call; codes above 16 count as UNKNOWN (2).  Every
 * function here accepts m == NULL and then does nothing. */
void grpc_metrics_call(grpc_metrics *m, grpc_method method, int code, uint64_t duration_ns);
void grpc_metrics_add_bytes(grpc_metrics *m, grpc_method method, uint64_t wire_bytes,
                            uint64_t decompressed_bytes);
/* delta +1 / -1 as a stream or connection opens / closes; a connection
 * counts for the connection thread (0 .. workers-1) that serves it. */
void grpc_metrics_streams(grpc_metrics *m, int delta);
void grpc_metrics_connections(grpc_metrics *m, unsigned worker, int delta);
/* The number of connection threads (at most GRPC_METRICS_WORKERS count). */
void grpc_metrics_workers(grpc_metrics *m, unsigned workers);

/* Calls counted for (method, code); for tests. */
uint64_t grpc_metrics_calls(const grpc_metrics *m, grpc_method method, int code);

/* Appends the otlp2parquet_grpc_* families:
 *   otlp2parquet_grpc_calls_total{service,method,code}        counter
 *   otlp2parquet_grpc_call_duration_seconds{service,method}   summary (sum, count)
 *   otlp2parquet_grpc_message_bytes_total{service,method}     counter
 *   otlp2parquet_grpc_decompressed_bytes_total{service,method} counter
 *   otlp2parquet_grpc_streams_in_flight                       gauge
 *   otlp2parquet_grpc_connections                             gauge
 *   otlp2parquet_grpc_connections_accepted_total              counter
 *   otlp2parquet_grpc_worker_connections{worker}              gauge
 * code is the status name ("OK", "INVALID_ARGUMENT", ...).  Call series
 * with a zero count are left out; the Export services always have their
 * duration and byte series so dashboards start at zero. */
int grpc_metrics_render(const grpc_metrics *m, o2p_buf *out);

#endif
