/*
 * clock: the two clocks the product reads, in nanoseconds.
 *
 * Monotonic time measures durations and deadlines (flush ages, backoff,
 * latency); real time stamps data (a log record's receive time).
 * clock_mono_deadline turns "ns from now" into the absolute CLOCK_MONOTONIC
 * timespec that pthread_cond_timedwait wants (with condattr clock
 * CLOCK_MONOTONIC).
 */
#ifndef O2P_CORE_CLOCK_H
#define O2P_CORE_CLOCK_H

#include <stdint.h>
#include <time.h>

#define CLOCK_NS_PER_SEC 1000000000ULL

static inline uint64_t clock_ns_of(const struct timespec *ts)
{
    return (uint64_t)ts->tv_sec * CLOCK_NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

static inline uint64_t clock_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return clock_ns_of(&ts);
}

static inline uint64_t clock_real_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return clock_ns_of(&ts);
}

static inline struct timespec clock_mono_deadline(uint64_t ns_from_now)
{
    uint64_t at = clock_mono_ns() + ns_from_now;
    struct timespec ts = {(time_t)(at / CLOCK_NS_PER_SEC), (long)(at % CLOCK_NS_PER_SEC)};
    return ts;
}

#endif
