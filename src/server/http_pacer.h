/*
 * http_pacer: one timer thread that wakes paced requests at their time.
 *
 * The HTTP server suspends a connection whose admission was given a wait
 * (http_handlers.admit_paced) and hands the pacer a callback that resumes
 * it; no server thread is held meanwhile.  Timers sit in a binary heap
 * ordered by deadline; the thread sleeps until the earliest one and runs
 * callbacks without holding its lock.  Draining (a graceful stop) runs every
 * waiting callback at once and refuses later timers, so a stop never waits
 * for a pacing deadline and nothing stays suspended.
 */
#ifndef O2P_SERVER_HTTP_PACER_H
#define O2P_SERVER_HTTP_PACER_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

typedef struct http_pacer http_pacer;
typedef void (*http_pacer_fn)(void *arg);

int http_pacer_start(http_pacer **out, o2p_error *err);

/* Runs fn(arg) on the pacer thread once CLOCK_MONOTONIC reaches deadline_ns
 * (at once if it has).  O2P_ESTATE after drain began: fn is not called and
 * the caller goes on without waiting; O2P_ENOMEM when the heap cannot grow. */
int http_pacer_add(http_pacer *p, uint64_t deadline_ns, http_pacer_fn fn, void *arg);

/* Timers added and not yet run. */
size_t http_pacer_waiting(http_pacer *p);

/* Runs every waiting callback now (returning once they have run) and
 * refuses later timers. */
void http_pacer_drain(http_pacer *p);

/* Drains, stops the thread, frees.  NULL is a no-op. */
void http_pacer_stop(http_pacer *p);

#endif
