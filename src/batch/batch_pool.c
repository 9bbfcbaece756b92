/*
 * batch_pool: several threads encoding groups, files handed back in order
 * (see batch_pool.h), on top of opool: one workspace per thread, one file
 * buffer and key per slot of a window of 2 x threads.
 */
#include "batch/batch_pool.h"

#include <string.h>

#include "core/mem.h"
#include "core/opool.h"

typedef struct pool_slot {
    o2p_buf file;
    char key[BATCH_POOL_KEY_MAX];
} pool_slot;

struct batch_pool {
    int threads;
    size_t window;
    pq_writer_options opts;
    pq_workspace **ws; /* one per thread; [0] is the caller's */
    pool_slot *slots;  /* window of them */
    /* the current batch_pool_encode call */
    const tbl_group *const *groups;
    batch_pool_done_fn done;
    void *done_ctx;
};

int batch_pool_threads(const batch_pool *p)
{
    return p->threads;
}

int batch_pool_create(batch_pool **out, int threads, const pq_writer_options *opts, o2p_error *err)
{
    *out = NULL;
    if (threads < 0) return o2p_errorf(err, O2P_EINVAL, "batch pool: threads must be >= 0");
    if (threads == 0) threads = opool_online_cpus();
    if (threads > OPOOL_MAX_THREADS) threads = OPOOL_MAX_THREADS;
    batch_pool *p = mem_calloc(1, sizeof *p);
    if (p == NULL) return o2p_errorf(err, O2P_ENOMEM, "batch pool: out of memory");
    p->threads = threads;
    p->window = 2 * (size_t)threads;
    p->opts = *opts;
    p->opts.workspace = NULL;
    p->ws = mem_calloc((size_t)threads, sizeof *p->ws);
    p->slots = mem_calloc(p->window, sizeof *p->slots);
    if (p->ws == NULL || p->slots == NULL) {
        mem_free(p->ws);
        mem_free(p->slots);
        mem_free(p);
        return o2p_errorf(err, O2P_ENOMEM, "batch pool: out of memory");
    }
    for (size_t i = 0; i < p->window; i++) buf_init(&p->slots[i].file, 0);
    for (int t = 0; t < threads; t++) {
        int rc = pq_workspace_create(&p->ws[t], err);
        if (rc < 0) {
            batch_pool_destroy(p);
            return rc;
        }
    }
    *out = p;
    return O2P_OK;
}

void batch_pool_destroy(batch_pool *p)
{
    if (p == NULL) return;
    for (int t = 0; t < p->threads; t++) pq_workspace_destroy(p->ws[t]);
    for (size_t i = 0; i < p->window; i++) buf_free(&p->slots[i].file);
    mem_free(p->ws);
    mem_free(p->slots);
    mem_free(p);
}

static int encode_work(void *ctx, int thread, size_t job, size_t slot, o2p_error *err)
{
    batch_pool *p = ctx;
    pool_slot *s = &p->slots[slot];
    pq_writer_options o = p->opts;
    o.workspace = p->ws[thread];
    s->key[0] = '\0';
    return batch_encode_group(p->groups[job], &o, &s->file, s->key, sizeof s->key, err);
}

static int encode_done(void *ctx, size_t job, size_t slot, o2p_error *err)
{
    batch_pool *p = ctx;
    return p->done(p->done_ctx, job, &p->slots[slot].file, p->slots[slot].key, err);
}

int batch_pool_encode(batch_pool *p, const tbl_group *const *groups, size_t n,
                      batch_pool_done_fn done, void *ctx, o2p_error *err)
{
    p->groups = groups;
    p->done = done;
    p->done_ctx = ctx;
    int rc = opool_run(p->threads, p->window, n, encode_work, encode_done, p, err);
    p->groups = NULL;
    return rc;
}
