/* retry: exponential backoff with jitter (see retry.h). */
#include "storage/retry.h"

#include <errno.h>
#include <time.h>

#include "core/uuid.h"

uint32_t store_retry_backoff_ms(const store_retry_policy *policy, uint32_t retry,
                                uint32_t random_bits)
{
    if (retry == 0) return 0;
    uint64_t delay = policy->base_ms;
    /* Doubling stops as soon as the cap is reached, so no overflow. */
    for (uint32_t i = 1; i < retry && delay < policy->max_ms; i++) delay *= 2;
    if (delay > policy->max_ms) delay = policy->max_ms;
    uint64_t half = delay / 2;
    return (uint32_t)(delay - half + (half ? random_bits % (half + 1) : 0));
}

static _Thread_local uint64_t retry_rng_state;

/* xorshift64*: plenty for jitter, and per-thread so no locking. */
static uint32_t retry_next_random(void)
{
    if (retry_rng_state == 0) {
        uint8_t seed[8];
        uint64_t value = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)&retry_rng_state;
        if (uuid_random_bytes(seed, sizeof seed) == 0)
            for (int i = 0; i < 8; i++) value = (value << 8) ^ seed[i];
        retry_rng_state = value ? value : 0x9e3779b97f4a7c15ULL;
    }
    uint64_t x = retry_rng_state;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    retry_rng_state = x;
    return (uint32_t)((x * 0x2545f4914f6cdd1dULL) >> 32);
}

uint32_t store_retry_delay_ms(const store_retry_policy *policy, uint32_t retry)
{
    return store_retry_backoff_ms(policy, retry, retry_next_random());
}

void store_retry_sleep_ms(uint32_t ms)
{
    struct timespec left = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) < 0 && errno == EINTR) {
    }
}
