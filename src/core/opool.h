/*
 * opool: runs n jobs on several threads and finishes them in order.
 *
 * work(ctx, thread, job, slot) runs on one of `threads` threads (the
 * calling thread is one of them); done(ctx, job, slot) runs on the calling
 * thread for job 0, 1, 2, ... in that order, whatever order the work
 * finished in.  A job's results live in the caller's slot `slot` (job %
 * window): at most `window` jobs are between work and done at once, so the
 * caller keeps `window` slots of results and `threads` sets of per-thread
 * scratch, both indexed by the numbers passed in.
 *
 * The first job (in order) whose work or done fails stops the run: done has
 * run for every earlier job and runs for no later one, work may have run for
 * a few later ones (their results are dropped), and the failure is returned
 * with its message.  Used by `convert` to decode inputs and encode groups in
 * parallel with output identical to one thread's.
 */
#ifndef O2P_CORE_OPOOL_H
#define O2P_CORE_OPOOL_H

#include <stddef.h>

#include "core/error.h"

#define OPOOL_MAX_THREADS 64

typedef int (*opool_work_fn)(void *ctx, int thread, size_t job, size_t slot, o2p_error *err);
typedef int (*opool_done_fn)(void *ctx, size_t job, size_t slot, o2p_error *err);

/* threads in 1..OPOOL_MAX_THREADS, window >= threads. */
int opool_run(int threads, size_t window, size_t n, opool_work_fn work, opool_done_fn done,
              void *ctx, o2p_error *err);

/* The number of online CPUs (at least 1, at most OPOOL_MAX_THREADS). */
int opool_online_cpus(void);

#endif
