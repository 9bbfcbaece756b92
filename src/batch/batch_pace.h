/*
 * batch_pace: admission pacing for the batcher's memory budget.
 *
 * Refusing a request (429) is the wrong tool against a client that does not
 * back off: it sends the same request again at once, and the CPU spent
 * reading and refusing it is taken from the flushers.  Instead, above a soft
 * level of the budget (pace_above, a fraction) each request is given an
 * admission time, so that ingest converges on what the flushers free:
 *
 *   rate    = flush rate (buffer bytes freed per second)
 *             x 2 (1 - e),  e = (buffered - soft) / (budget - soft)
 *   admit   = max(now, next);   next = admit + need / rate
 *
 * At the soft level requests are admitted at twice the flush rate, half way
 * to the budget at the flush rate, and ever slower towards the budget, so
 * the buffer settles around the middle of the band.  The reservation in
 * virtual time (a token bucket without burst) spreads the waits evenly: a
 * request waits for the requests admitted before it, not for a flush.
 * A request that would not fit in the budget, or would wait longer than
 * max_wait, is refused (the caller answers 429 + Retry-After).
 *
 * Pure arithmetic on the caller's clock and measurements (the batcher holds
 * its lock), so the unit tests drive it with a fake clock.
 */
#ifndef O2P_BATCH_PACE_H
#define O2P_BATCH_PACE_H

#include <stdint.h>

typedef struct batch_pace {
    uint32_t soft_percent; /* pace above this share of the budget; >= 100: never pace */
    uint64_t max_wait_ns;  /* a longer wait is refused instead */
    uint64_t next_ns;      /* virtual time when the last reservation ends */
} batch_pace;

typedef enum {
    BATCH_PACE_NOW = 0, /* admitted without waiting */
    BATCH_PACE_WAIT,    /* admitted at now + *wait_ns */
    BATCH_PACE_REFUSE   /* over the budget, or the wait would exceed max_wait */
} batch_pace_verdict;

/* Before any flush was measured, the flushers are assumed to free this share
 * of the budget per second (1/8: 64 MiB/s of a 512 MiB budget). */
#define BATCH_PACE_INITIAL_RATE_DIV 8u

void batch_pace_init(batch_pace *p, uint32_t soft_percent, uint32_t max_wait_ms);

/* The buffer level above which requests are paced, in bytes of `budget`. */
uint64_t batch_pace_soft_bytes(const batch_pace *p, uint64_t budget);

/* Bytes per second admitted at this buffer level (flush_rate 0: not
 * measured yet); 0 at or over the budget. */
uint64_t batch_pace_rate(const batch_pace *p, uint64_t buffered, uint64_t budget,
                         uint64_t flush_rate);

/* Decides a request that needs about `need` bytes of buffer; on
 * BATCH_PACE_WAIT *wait_ns > 0 is how long it waits, else 0.  A NOW or
 * WAIT takes its reservation; a REFUSE changes nothing. */
batch_pace_verdict batch_pace_decide(batch_pace *p, uint64_t now_ns, uint64_t buffered,
                                     uint64_t budget, uint64_t need, uint64_t flush_rate,
                                     uint64_t *wait_ns);

#endif
