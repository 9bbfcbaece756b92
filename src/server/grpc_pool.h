/*
 * grpc_pool: the decode workers of the gRPC server.  Connection threads
 * only frame: a call whose stream has ended is queued here as a
 * grpc_h2_job, any of `threads` workers runs it (unframe, decompress,
 * admit, ingest with its own thread_index and decompressor), and the done
 * callback gives it back to the connection's thread.  So the streams of
 * one connection are decoded in parallel and a connection with many calls
 * does not hold up the calls of others behind it (one FIFO queue).
 *
 * The queue holds what the connections handed over; each connection
 * bounds that itself (calls in flight and bytes, see grpc_server.c).
 */
#ifndef O2P_SERVER_GRPC_POOL_H
#define O2P_SERVER_GRPC_POOL_H

#include "core/error.h"
#include "server/grpc_h2.h"

typedef struct grpc_pool grpc_pool;

/* Called on a worker thread when a job has run, or, with job->rc ==
 * O2P_ESTATE, when the pool stopped before running it. */
typedef void (*grpc_pool_done_fn)(void *ctx, grpc_h2_job *job);

typedef struct grpc_pool_config {
    unsigned threads;     /* 0: 1 */
    unsigned thread_base; /* worker i ingests with thread_index thread_base + i */
    size_t max_payload;
    const http_handlers *handlers;
    grpc_metrics *metrics; /* may be NULL */
    grpc_pool_done_fn done;
    void *done_ctx;
} grpc_pool_config;

int grpc_pool_start(grpc_pool **out, const grpc_pool_config *config, o2p_error *err);

void grpc_pool_submit(grpc_pool *p, grpc_h2_job *job);

/* Jobs still queued are not run (their connections are gone: the clients
 * were never answered, so they retry); they go to done with O2P_ESTATE.
 * Jobs running finish; then the threads stop and the pool is freed.  NULL
 * is a no-op. */
void grpc_pool_stop(grpc_pool *p);

#endif
