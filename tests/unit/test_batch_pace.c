/* Unit tests for src/batch/batch_pace: the admission-pacing controller,
 * driven by a fake clock and a fake flush rate. */
#include "batch/batch_pace.h"

#include "unit.h"

#define MIB (1024ULL * 1024ULL)
#define MS  1000000ULL
#define T0  (1000ULL * 1000000000ULL) /* an arbitrary monotonic time */

TEST(batch_pace_below_the_soft_level_admits_at_once)
{
    batch_pace p;
    batch_pace_init(&p, 50, 1000);
    uint64_t wait = 123;
    for (int i = 0; i < 1000; i++) {
        /* many requests at the same instant: no reservation below the soft level */
        CHECK_INT(batch_pace_decide(&p, T0, 100 * MIB, 512 * MIB, 1 * MIB, 10 * MIB, &wait),
                  BATCH_PACE_NOW);
        CHECK_UINT(wait, 0);
    }
    CHECK_UINT(p.next_ns, 0);
    /* exactly at the soft level still admits */
    CHECK_INT(batch_pace_decide(&p, T0, 255 * MIB, 512 * MIB, 1 * MIB, 10 * MIB, &wait),
              BATCH_PACE_NOW);
}

TEST(batch_pace_above_the_soft_level_spreads_requests_at_the_rate)
{
    batch_pace p;
    batch_pace_init(&p, 50, 1000);
    /* level 75 %: e = 0.5, rate = flush rate = 100 MiB/s; 1 MiB each = 10 ms */
    uint64_t wait;
    CHECK_INT(batch_pace_decide(&p, T0, 384 * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait),
              BATCH_PACE_NOW); /* the first one's turn is now */
    CHECK_UINT(wait, 0);
    for (int i = 1; i <= 5; i++) {
        CHECK_INT(batch_pace_decide(&p, T0, 384 * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait),
                  BATCH_PACE_WAIT);
        CHECK_UINT(wait, (uint64_t)i * 10 * MS);
    }
    /* once the clock has passed the reservations, admitted at once again */
    CHECK_INT(
        batch_pace_decide(&p, T0 + 1000 * MS, 384 * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait),
        BATCH_PACE_NOW);
    /* the clock in between: a request waits only for the rest of the queue */
    CHECK_INT(
        batch_pace_decide(&p, T0 + 1005 * MS, 384 * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait),
        BATCH_PACE_WAIT);
    CHECK_UINT(wait, 5 * MS);
}

TEST(batch_pace_waits_grow_with_the_level)
{
    uint64_t last = 0;
    for (uint64_t level = 260; level < 512; level += 25) {
        batch_pace p;
        batch_pace_init(&p, 50, 100000);
        uint64_t wait;
        CHECK(batch_pace_decide(&p, T0, level * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait) !=
              BATCH_PACE_REFUSE);
        CHECK_INT(batch_pace_decide(&p, T0, level * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait),
                  BATCH_PACE_WAIT);
        CHECK_MSG(wait > last, "level %llu MiB: wait %llu ns, not more than %llu",
                  (unsigned long long)level, (unsigned long long)wait, (unsigned long long)last);
        last = wait;
    }
    /* and the rate falls with the level: twice the flush rate at the soft
     * level, the flush rate half way, nothing at the budget */
    batch_pace p;
    batch_pace_init(&p, 50, 1000);
    CHECK_UINT(batch_pace_rate(&p, 256 * MIB, 512 * MIB, 100 * MIB), 200 * MIB);
    CHECK_UINT(batch_pace_rate(&p, 384 * MIB, 512 * MIB, 100 * MIB), 100 * MIB);
    CHECK_UINT(batch_pace_rate(&p, 512 * MIB, 512 * MIB, 100 * MIB), 0);
}

TEST(batch_pace_a_faster_flush_rate_means_shorter_waits)
{
    uint64_t w_slow, w_fast;
    batch_pace p;
    batch_pace_init(&p, 50, 1000);
    batch_pace_decide(&p, T0, 400 * MIB, 512 * MIB, 1 * MIB, 50 * MIB, &w_slow);
    batch_pace_decide(&p, T0, 400 * MIB, 512 * MIB, 1 * MIB, 50 * MIB, &w_slow);
    batch_pace_init(&p, 50, 1000);
    batch_pace_decide(&p, T0, 400 * MIB, 512 * MIB, 1 * MIB, 200 * MIB, &w_fast);
    batch_pace_decide(&p, T0, 400 * MIB, 512 * MIB, 1 * MIB, 200 * MIB, &w_fast);
    CHECK(w_slow > 0);
    CHECK(w_slow + 8 >= w_fast * 4 && w_slow <= w_fast * 4 + 8); /* 4x, up to rounding */
    /* before any flush was measured, an eighth of the budget per second */
    CHECK_UINT(batch_pace_rate(&p, 384 * MIB, 512 * MIB, 0), 64 * MIB);
}

TEST(batch_pace_refuses_over_the_budget_and_over_the_max_wait)
{
    batch_pace p;
    batch_pace_init(&p, 50, 100); /* at most 100 ms */
    uint64_t wait = 7;
    /* would not fit: refused, nothing reserved */
    CHECK_INT(batch_pace_decide(&p, T0, 511 * MIB, 512 * MIB, 2 * MIB, 100 * MIB, &wait),
              BATCH_PACE_REFUSE);
    CHECK_UINT(wait, 0);
    CHECK_UINT(p.next_ns, 0);
    /* 10 ms each at 75 %: waits 0, 10, ..., 100 ms are taken, the next one refused */
    int admitted = 0;
    batch_pace_verdict v;
    while ((v = batch_pace_decide(&p, T0, 384 * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait)) !=
           BATCH_PACE_REFUSE) {
        CHECK(wait <= 100 * MS);
        admitted++;
        CHECK(admitted < 100);
    }
    CHECK_INT(admitted, 11);
    uint64_t next = p.next_ns;
    CHECK_INT(batch_pace_decide(&p, T0, 384 * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait),
              BATCH_PACE_REFUSE);
    CHECK_UINT(p.next_ns, next); /* a refusal reserves nothing */
    /* time passes: taken again */
    CHECK(batch_pace_decide(&p, T0 + 50 * MS, 384 * MIB, 512 * MIB, 1 * MIB, 100 * MIB, &wait) ==
          BATCH_PACE_WAIT);
}

TEST(batch_pace_at_100_percent_never_paces)
{
    batch_pace p;
    batch_pace_init(&p, 100, 1000);
    uint64_t wait;
    for (int i = 0; i < 100; i++)
        CHECK_INT(batch_pace_decide(&p, T0, 500 * MIB, 512 * MIB, 1 * MIB, 1 * MIB, &wait),
                  BATCH_PACE_NOW);
    CHECK_INT(batch_pace_decide(&p, T0, 512 * MIB, 512 * MIB, 1 * MIB, 1 * MIB, &wait),
              BATCH_PACE_REFUSE);
}
