/*
 * http_pacer: a deadline heap and its thread (see http_pacer.h).
 */
#include "server/http_pacer.h"

#include <pthread.h>

#include "core/clock.h"
#include "core/mem.h"

typedef struct pacer_timer {
    uint64_t deadline_ns;
    uint64_t seq; /* equal deadlines run in the order they were added */
    http_pacer_fn fn;
    void *arg;
} pacer_timer;

struct http_pacer {
    pthread_mutex_t lock;
    pthread_cond_t wake; /* the thread sleeps here */
    pthread_cond_t idle; /* drain waits here */
    pacer_timer *heap;
    size_t len, cap;
    uint64_t seq;
    int running; /* callbacks running now (outside the lock) */
    int draining;
    int stop;
    pthread_t thread;
};

static int earlier(const pacer_timer *a, const pacer_timer *b)
{
    return a->deadline_ns < b->deadline_ns || (a->deadline_ns == b->deadline_ns && a->seq < b->seq);
}

static void heap_up(pacer_timer *h, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!earlier(&h[i], &h[parent])) break;
        pacer_timer t = h[i];
        h[i] = h[parent];
        h[parent] = t;
        i = parent;
    }
}

static pacer_timer heap_pop(http_pacer *p)
{
    pacer_timer *h = p->heap;
    pacer_timer top = h[0];
    h[0] = h[--p->len];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < p->len && earlier(&h[l], &h[m])) m = l;
        if (r < p->len && earlier(&h[r], &h[m])) m = r;
        if (m == i) break;
        pacer_timer t = h[i];
        h[i] = h[m];
        h[m] = t;
        i = m;
    }
    return top;
}

static void *pacer_main(void *arg)
{
    http_pacer *p = arg;
    pthread_mutex_lock(&p->lock);
    while (!p->stop || p->len > 0) {
        if (p->len == 0) {
            if (p->running == 0) pthread_cond_broadcast(&p->idle);
            pthread_cond_wait(&p->wake, &p->lock);
            continue;
        }
        uint64_t now = clock_mono_ns();
        if (!p->draining && p->heap[0].deadline_ns > now) {
            uint64_t at = p->heap[0].deadline_ns;
            struct timespec ts = {(time_t)(at / CLOCK_NS_PER_SEC), (long)(at % CLOCK_NS_PER_SEC)};
            pthread_cond_timedwait(&p->wake, &p->lock, &ts);
            continue;
        }
        pacer_timer t = heap_pop(p);
        p->running++;
        pthread_mutex_unlock(&p->lock);
        t.fn(t.arg);
        pthread_mutex_lock(&p->lock);
        p->running--;
    }
    pthread_cond_broadcast(&p->idle);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int http_pacer_start(http_pacer **out, o2p_error *err)
{
    *out = NULL;
    http_pacer *p = mem_calloc(1, sizeof *p);
    if (p == NULL) return o2p_errorf(err, O2P_ENOMEM, "http pacer: out of memory");
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, &ca);
    pthread_cond_init(&p->idle, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&p->thread, NULL, pacer_main, p) != 0) {
        pthread_mutex_destroy(&p->lock);
        pthread_cond_destroy(&p->wake);
        pthread_cond_destroy(&p->idle);
        mem_free(p);
        return o2p_errorf(err, O2P_ENOMEM, "http pacer: cannot start its thread");
    }
    *out = p;
    return O2P_OK;
}

int http_pacer_add(http_pacer *p, uint64_t deadline_ns, http_pacer_fn fn, void *arg)
{
    pthread_mutex_lock(&p->lock);
    if (p->draining) {
        pthread_mutex_unlock(&p->lock);
        return O2P_ESTATE;
    }
    if (p->len == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 64;
        pacer_timer *h = mem_realloc(p->heap, cap * sizeof *h);
        if (h == NULL) {
            pthread_mutex_unlock(&p->lock);
            return O2P_ENOMEM;
        }
        p->heap = h;
        p->cap = cap;
    }
    p->heap[p->len] = (pacer_timer){deadline_ns, p->seq++, fn, arg};
    heap_up(p->heap, p->len);
    p->len++;
    /* a new earliest deadline: the thread must re-arm its sleep */
    if (p->heap[0].seq == p->seq - 1) pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    return O2P_OK;
}

size_t http_pacer_waiting(http_pacer *p)
{
    pthread_mutex_lock(&p->lock);
    size_t n = p->len;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void http_pacer_drain(http_pacer *p)
{
    pthread_mutex_lock(&p->lock);
    p->draining = 1;
    pthread_cond_signal(&p->wake);
    while (p->len > 0 || p->running > 0) pthread_cond_wait(&p->idle, &p->lock);
    pthread_mutex_unlock(&p->lock);
}

void http_pacer_stop(http_pacer *p)
{
    if (p == NULL) return;
    http_pacer_drain(p);
    pthread_mutex_lock(&p->lock);
    p->stop = 1;
    pthread_cond_signal(&p->wake);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->idle);
    mem_free(p->heap);
    mem_free(p);
}
