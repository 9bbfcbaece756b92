/*
 * retry: the backoff policy for storage failures (spec §5: "retry with
 * exponential backoff and jitter").  Used inside store_put for transient S3
 * failures, and by the batch flusher between whole-file attempts.
 *
 * The delay before retry n (n = 1 for the first retry) is drawn uniformly
 * from [d/2, d] where d = min(max_ms, base_ms * 2^(n-1)): growing, capped,
 * and spread out so many writers that failed together do not retry together.
 */
#ifndef O2P_STORAGE_RETRY_H
#define O2P_STORAGE_RETRY_H

#include <stdint.h>

typedef struct store_retry_policy {
    uint32_t max_attempts; /* total tries including the first; >= 1 */
    uint32_t base_ms;      /* delay scale of the first retry */
    uint32_t max_ms;       /* cap on any single delay */
} store_retry_policy;

/* The delay before retry `retry` (>= 1), with the jitter taken from
 * `random_bits` (any uniformly random 32-bit value).  Pure: tests use it. */
uint32_t store_retry_backoff_ms(const store_retry_policy *policy, uint32_t retry,
                                uint32_t random_bits);

/* store_retry_backoff_ms with jitter from a per-thread generator seeded by
 * the kernel.  Safe to call from any thread. */
uint32_t store_retry_delay_ms(const store_retry_policy *policy, uint32_t retry);

/* Sleeps for ms milliseconds (restarting after signals). */
void store_retry_sleep_ms(uint32_t ms);

#endif
