/*
 * batch_pace: the admission-pacing controller (see batch_pace.h).
 */
#include "batch/batch_pace.h"

#define NS_PER_SEC 1000000000ULL

void batch_pace_init(batch_pace *p, uint32_t soft_percent, uint32_t max_wait_ms)
{
    p->soft_percent = soft_percent;
    p->max_wait_ns = (uint64_t)max_wait_ms * 1000000ULL;
    p->next_ns = 0;
}

uint64_t batch_pace_soft_bytes(const batch_pace *p, uint64_t budget)
{
    if (p->soft_percent >= 100) return budget;
    return budget / 100 * p->soft_percent + budget % 100 * p->soft_percent / 100;
}

uint64_t batch_pace_rate(const batch_pace *p, uint64_t buffered, uint64_t budget,
                         uint64_t flush_rate)
{
    uint64_t soft = batch_pace_soft_bytes(p, budget);
    if (buffered >= budget) return 0;
    uint64_t base = flush_rate ? flush_rate : budget / BATCH_PACE_INITIAL_RATE_DIV;
    if (buffered <= soft) return base * 2;
    /* 2 (1 - e) = 2 (budget - buffered) / (budget - soft), in doubles: the
     * product of two byte counts can overflow 64 bits */
    double left = (double)(budget - buffered) / (double)(budget - soft);
    return (uint64_t)((double)base * 2.0 * left);
}

batch_pace_verdict batch_pace_decide(batch_pace *p, uint64_t now_ns, uint64_t buffered,
                                     uint64_t budget, uint64_t need, uint64_t flush_rate,
                                     uint64_t *wait_ns)
{
    *wait_ns = 0;
    if (buffered + need > budget) return BATCH_PACE_REFUSE;
    if (buffered + need <= batch_pace_soft_bytes(p, budget)) return BATCH_PACE_NOW;
    uint64_t rate = batch_pace_rate(p, buffered, budget, flush_rate);
    if (rate == 0) return BATCH_PACE_REFUSE;
    uint64_t start = p->next_ns > now_ns ? p->next_ns : now_ns;
    uint64_t wait = start - now_ns;
    if (wait > p->max_wait_ns) return BATCH_PACE_REFUSE;
    double slot = (double)need * (double)NS_PER_SEC / (double)rate;
    if (slot > (double)p->max_wait_ns) slot = (double)p->max_wait_ns;
    p->next_ns = start + (uint64_t)slot;
    *wait_ns = wait;
    return wait > 0 ? BATCH_PACE_WAIT : BATCH_PACE_NOW;
}
