/*
 * batch_pool: encodes many buffered groups into Parquet files on several
 * threads, for the offline `convert` command (the server's flushers have
 * their own loop in batch.c).
 *
 * batch_pool_encode hands every group to batch_encode_group on one of the
 * pool's threads — the calling thread works too — and gives the finished
 * files back to `done` on the calling thread, one at a time and in the
 * order of `groups`, whatever order the threads finish in.  So storing, the
 * totals and the groups themselves are only ever touched by the caller, and
 * the output does not depend on the number of threads.  At most two files
 * per thread are held between encoding and `done`.  Each thread keeps its
 * writer workspace and file buffers from one call to the next.
 */
#ifndef O2P_BATCH_POOL_H
#define O2P_BATCH_POOL_H

#include <stddef.h>

#include "batch/batch.h"

#define BATCH_POOL_KEY_MAX 1024

typedef struct batch_pool batch_pool;

/* threads: how many groups are encoded at once (>= 1; 0 means one per
 * online CPU).  opts are copied; their workspace is replaced by the
 * pool's own, one per thread. */
int batch_pool_create(batch_pool **out, int threads, const pq_writer_options *opts, o2p_error *err);
void batch_pool_destroy(batch_pool *p);
int batch_pool_threads(const batch_pool *p);

/* Called on the thread that called batch_pool_encode, for groups[i] in
 * order of i; file and key are valid until it returns.  A negative return
 * stops the run and becomes its result. */
typedef int (*batch_pool_done_fn)(void *ctx, size_t i, const o2p_buf *file, const char *key,
                                  o2p_error *err);

/* Encodes groups[0..n) and hands each file to done.  Stops at the first
 * group (in order) that fails to encode, or the first failing done: the
 * files of earlier groups have been handed to done, no later one is. */
int batch_pool_encode(batch_pool *p, const tbl_group *const *groups, size_t n,
                      batch_pool_done_fn done, void *ctx, o2p_error *err);

#endif
