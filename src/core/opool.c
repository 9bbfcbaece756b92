/*
 * opool: several threads, jobs finished in order (see opool.h).
 *
 * Job j may be taken only while j < next_done + window, so the slot it
 * reuses (j % window) has been through done.  The calling thread runs done
 * for next_done as soon as that job's work is finished and otherwise works
 * itself; the helpers only work.
 */
#include "core/opool.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#include "core/mem.h"

typedef struct opool_slot {
    size_t job; /* the job in this slot; SIZE_MAX: none */
    int worked; /* its work has returned */
    int rc;     /* and with this status */
    o2p_error err;
} opool_slot;

typedef struct opool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    opool_slot *slots;
    size_t window, n;
    size_t next_take; /* next job to work on */
    size_t next_done; /* next job to finish */
    int stop;
    opool_work_fn work;
    void *ctx;
} opool;

typedef struct opool_helper {
    opool *p;
    int thread;
    pthread_t tid;
} opool_helper;

int opool_online_cpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > OPOOL_MAX_THREADS ? OPOOL_MAX_THREADS : (int)n;
}

/* With mu held: job next_take may start now. */
static int can_take(const opool *p)
{
    return !p->stop && p->next_take < p->n && p->next_take < p->next_done + p->window;
}

/* Called with mu held; returns with mu held.  Takes the next job and works on it. */
static void take_and_work(opool *p, int thread)
{
    size_t j = p->next_take++;
    opool_slot *s = &p->slots[j % p->window];
    s->job = j;
    s->worked = 0;
    pthread_mutex_unlock(&p->mu);
    o2p_error err;
    o2p_error_clear(&err);
    int rc = p->work(p->ctx, thread, j, j % p->window, &err);
    pthread_mutex_lock(&p->mu);
    s->rc = rc;
    s->err = err;
    s->worked = 1;
    pthread_cond_broadcast(&p->cv);
}

static void *helper_main(void *arg)
{
    opool_helper *h = arg;
    opool *p = h->p;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (!can_take(p) && !p->stop && p->next_take < p->n) pthread_cond_wait(&p->cv, &p->mu);
        if (!can_take(p)) break;
        take_and_work(p, h->thread);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

int opool_run(int threads, size_t window, size_t n, opool_work_fn work, opool_done_fn done,
              void *ctx, o2p_error *err)
{
    if (threads < 1 || threads > OPOOL_MAX_THREADS || window < (size_t)threads)
        return o2p_errorf(err, O2P_EINVAL, "opool: %d threads and a window of %zu", threads,
                          window);
    if (n == 0) return O2P_OK;
    opool p = {.window = window, .n = n, .work = work, .ctx = ctx};
    p.slots = mem_calloc(window, sizeof *p.slots);
    if (p.slots == NULL) return o2p_errorf(err, O2P_ENOMEM, "opool: out of memory");
    for (size_t i = 0; i < window; i++) p.slots[i].job = SIZE_MAX;
    pthread_mutex_init(&p.mu, NULL);
    pthread_cond_init(&p.cv, NULL);

    opool_helper helpers[OPOOL_MAX_THREADS];
    int started = 0;
    size_t want = (size_t)threads - 1 < n - 1 ? (size_t)threads - 1 : n - 1;
    for (size_t t = 0; t < want; t++) {
        helpers[started].p = &p;
        helpers[started].thread = started + 1;
        /* a thread that cannot start leaves its share to the others */
        if (pthread_create(&helpers[started].tid, NULL, helper_main, &helpers[started]) == 0)
            started++;
    }

    int rc = O2P_OK;
    pthread_mutex_lock(&p.mu);
    while (p.next_done < n) {
        opool_slot *s = &p.slots[p.next_done % window];
        if (s->job == p.next_done && s->worked) {
            size_t j = p.next_done;
            pthread_mutex_unlock(&p.mu);
            if (s->rc < 0) {
                rc = s->rc;
                if (err) *err = s->err;
            } else {
                rc = done(ctx, j, j % window, err);
            }
            pthread_mutex_lock(&p.mu);
            if (rc < 0) break;
            p.next_done++;
            pthread_cond_broadcast(&p.cv);
        } else if (can_take(&p)) {
            take_and_work(&p, 0);
        } else {
            pthread_cond_wait(&p.cv, &p.mu);
        }
    }
    p.stop = 1;
    pthread_cond_broadcast(&p.cv);
    pthread_mutex_unlock(&p.mu);
    for (int t = 0; t < started; t++) pthread_join(helpers[t].tid, NULL);
    pthread_cond_destroy(&p.cv);
    pthread_mutex_destroy(&p.mu);
    mem_free(p.slots);
    return rc;
}
