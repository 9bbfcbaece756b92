/*
 * grpc_pool: a mutex + condition variable FIFO of grpc_h2 jobs and the
 * threads that run them (see grpc_pool.h).
 */
#include "server/grpc_pool.h"

#include <pthread.h>
#include <string.h>

#include "core/mem.h"

typedef struct grpc_pool_worker {
    grpc_pool *pool;
    pthread_t thread;
    int started;
    unsigned thread_index;
    http_decompressor dec;
} grpc_pool_worker;

struct grpc_pool {
    grpc_pool_config cfg;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    grpc_h2_job *head, *tail;
    int stopping;
    grpc_pool_worker *workers;
};

static void *grpc_pool_main(void *arg)
{
    grpc_pool_worker *w = arg;
    grpc_pool *p = w->pool;
    for (;;) {
        pthread_mutex_lock(&p->mu);
        while (p->head == NULL && !p->stopping) pthread_cond_wait(&p->cv, &p->mu);
        if (p->stopping) {
            pthread_mutex_unlock(&p->mu);
            return NULL;
        }
        grpc_h2_job *job = p->head;
        p->head = job->next;
        if (p->head == NULL) p->tail = NULL;
        pthread_mutex_unlock(&p->mu);
        job->next = NULL;
        grpc_h2_job_run(job, p->cfg.handlers, w->thread_index, &w->dec, p->cfg.max_payload,
                        p->cfg.metrics);
        p->cfg.done(p->cfg.done_ctx, job);
    }
}

void grpc_pool_submit(grpc_pool *p, grpc_h2_job *job)
{
    job->next = NULL;
    pthread_mutex_lock(&p->mu);
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

int grpc_pool_start(grpc_pool **out, const grpc_pool_config *config, o2p_error *err)
{
    *out = NULL;
    grpc_pool *p = mem_calloc(1, sizeof *p);
    if (p == NULL) return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    p->cfg = *config;
    if (p->cfg.threads == 0) p->cfg.threads = 1;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->workers = mem_calloc(p->cfg.threads, sizeof *p->workers);
    if (p->workers == NULL) {
        grpc_pool_stop(p);
        return o2p_errorf(err, O2P_ENOMEM, "out of memory");
    }
    for (unsigned i = 0; i < p->cfg.threads; i++) {
        grpc_pool_worker *w = &p->workers[i];
        w->pool = p;
        w->thread_index = p->cfg.thread_base + i;
        http_decompressor_init(&w->dec, p->cfg.max_payload);
        if (pthread_create(&w->thread, NULL, grpc_pool_main, w) != 0) {
            grpc_pool_stop(p);
            return o2p_errorf(err, O2P_EIO, "grpc: cannot start decode threads");
        }
        w->started = 1;
    }
    *out = p;
    return O2P_OK;
}

void grpc_pool_stop(grpc_pool *p)
{
    if (p == NULL) return;
    pthread_mutex_lock(&p->mu);
    p->stopping = 1;
    grpc_h2_job *left = p->head;
    p->head = p->tail = NULL;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (unsigned i = 0; p->workers && i < p->cfg.threads; i++)
        if (p->workers[i].started) pthread_join(p->workers[i].thread, NULL);
    while (left) {
        grpc_h2_job *next = left->next;
        left->next = NULL;
        left->rc = o2p_errorf(&left->err, O2P_ESTATE, "server stopped before the call ran");
        p->cfg.done(p->cfg.done_ctx, left);
        left = next;
    }
    for (unsigned i = 0; p->workers && i < p->cfg.threads; i++)
        if (p->workers[i].pool) http_decompressor_free(&p->workers[i].dec);
    mem_free(p->workers);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    mem_free(p);
}
