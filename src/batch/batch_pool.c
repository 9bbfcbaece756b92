/*
 * batch_pool: several threads encoding groups, files handed back in order
 * (see batch_pool.h).
 *
 * Job j (groups[j]) is encoded into slot j % window, window = 2 × threads.
 * A thread may take job j only while j < next_done + window, so the slot's
 * previous job has been handed to `done` and its buffer is free again.  The
 * calling thread hands slot next_done to `done` as soon as it is finished
 * and otherwise encodes jobs itself; the helpers only encode.
 */
#include "batch/batch_pool.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "core/mem.h"

#define POOL_MAX_THREADS 64

typedef struct pool_slot {
    o2p_buf file;
    char key[BATCH_POOL_KEY_MAX];
    o2p_error err;
    int rc;
    size_t job;  /* the job this slot holds; SIZE_MAX: none */
    int encoded; /* the job's file (or error) is ready */
} pool_slot;

struct batch_pool {
    int threads;
    size_t window;
    pq_writer_options opts;
    pq_workspace **ws; /* one per thread; [0] is the caller's */
    pool_slot *slots;  /* window of them */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* the current batch_pool_encode call, under mu */
    const tbl_group *const *groups;
    size_t n;
    size_t next_take; /* next job to encode */
    size_t next_done; /* next job to hand to done */
    int stop;
};

typedef struct pool_helper {
    batch_pool *p;
    int index;
    pthread_t tid;
} pool_helper;

int batch_pool_threads(const batch_pool *p)
{
    return p->threads;
}

int batch_pool_create(batch_pool **out, int threads, const pq_writer_options *opts, o2p_error *err)
{
    *out = NULL;
    if (threads < 0) return o2p_errorf(err, O2P_EINVAL, "batch pool: threads must be >= 0");
    if (threads == 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        threads = n < 1 ? 1 : (int)n;
    }
    if (threads > POOL_MAX_THREADS) threads = POOL_MAX_THREADS;
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
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    for (size_t i = 0; i < p->window; i++) {
        buf_init(&p->slots[i].file, 0);
        p->slots[i].job = SIZE_MAX;
    }
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
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    mem_free(p->ws);
    mem_free(p->slots);
    mem_free(p);
}

/* With mu held: the next job may be taken now. */
static int can_take(const batch_pool *p)
{
    return !p->stop && p->next_take < p->n && p->next_take < p->next_done + p->window;
}

/* With mu held: claims the next job's slot. */
static size_t take_job(batch_pool *p)
{
    size_t j = p->next_take++;
    pool_slot *s = &p->slots[j % p->window];
    s->job = j;
    s->encoded = 0;
    return j;
}

/* Without mu: encodes job j on thread `index`, then publishes it. */
static void encode_job(batch_pool *p, int index, size_t j)
{
    pool_slot *s = &p->slots[j % p->window];
    pq_writer_options o = p->opts;
    o.workspace = p->ws[index];
    s->key[0] = '\0';
    o2p_error_clear(&s->err);
    int rc = batch_encode_group(p->groups[j], &o, &s->file, s->key, sizeof s->key, &s->err);
    pthread_mutex_lock(&p->mu);
    s->rc = rc;
    s->encoded = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

static void *helper_main(void *arg)
{
    pool_helper *h = arg;
    batch_pool *p = h->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!can_take(p) && !p->stop && p->next_take < p->n) pthread_cond_wait(&p->cv, &p->mu);
        if (!can_take(p)) break;
        size_t j = take_job(p);
        pthread_mutex_unlock(&p->mu);
        encode_job(p, h->index, j);
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int batch_pool_encode(batch_pool *p, const tbl_group *const *groups, size_t n,
                      batch_pool_done_fn done, void *ctx, o2p_error *err)
{
    if (n == 0) return O2P_OK;
    pthread_mutex_lock(&p->mu);
    p->groups = groups;
    p->n = n;
    p->next_take = 0;
    p->next_done = 0;
    p->stop = 0;
    for (size_t i = 0; i < p->window; i++) p->slots[i].job = SIZE_MAX;
    pthread_mutex_unlock(&p->mu);

    pool_helper helpers[POOL_MAX_THREADS];
    int started = 0;
    int want = p->threads - 1;
    if ((size_t)want > n - 1) want = (int)(n - 1);
    for (int t = 0; t < want; t++) {
        helpers[started].p = p;
        helpers[started].index = started + 1;
        /* a thread that cannot start leaves its share to the others */
        if (pthread_create(&helpers[started].tid, NULL, helper_main, &helpers[started]) == 0)
            started++;
    }

    int rc = O2P_OK;
    pthread_mutex_lock(&p->mu);
    while (p->next_done < n) {
        pool_slot *s = &p->slots[p->next_done % p->window];
        if (s->job == p->next_done && s->encoded) {
            size_t j = p->next_done;
            pthread_mutex_unlock(&p->mu);
            if (s->rc < 0) {
                rc = s->rc;
                if (err) *err = s->err;
            } else {
                rc = done(ctx, j, &s->file, s->key, err);
            }
            pthread_mutex_lock(&p->mu);
            if (rc < 0) break;
            p->next_done++;
            pthread_cond_broadcast(&p->cv);
        } else if (can_take(p)) {
            size_t j = take_job(p);
            pthread_mutex_unlock(&p->mu);
            encode_job(p, 0, j);
            pthread_mutex_lock(&p->mu);
        } else {
            pthread_cond_wait(&p->cv, &p->mu);
        }
    }
    p->stop = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    for (int t = 0; t < started; t++) pthread_join(helpers[t].tid, NULL);
    p->groups = NULL;
    p->n = 0;
    return rc;
}
