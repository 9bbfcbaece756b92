/* Unit tests for src/core/opool: jobs finished in order whatever order the
 * threads finish in, a bounded window, failures stop the run in order. */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "core/opool.h"
#include "unit.h"

#define OP_JOBS   50
#define OP_WINDOW 4

typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t slot_job[OP_WINDOW]; /* what work wrote into each slot */
    size_t in_flight, max_in_flight;
    size_t done_calls;
    int job1_worked;
    int waited_for_job1; /* job 0 finished after job 1 */
    size_t fail_work_at, fail_done_at;
    int thread_seen[OPOOL_MAX_THREADS];
} op_ctx;

static void op_init(op_ctx *c)
{
    memset(c, 0, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->fail_work_at = c->fail_done_at = SIZE_MAX;
}

static void op_free(op_ctx *c)
{
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
}

static int op_work(void *ctx, int thread, size_t job, size_t slot, o2p_error *err)
{
    op_ctx *c = ctx;
    pthread_mutex_lock(&c->mu);
    CHECK(thread >= 0 && thread < OPOOL_MAX_THREADS);
    c->thread_seen[thread] = 1;
    c->in_flight++;
    if (c->in_flight > c->max_in_flight) c->max_in_flight = c->in_flight;
    if (job == 0) {
        /* job 0 finishes only after job 1 (another thread's), so done must
         * wait for it although job 1 is ready first; bounded in case no
         * helper thread could start */
        struct timespec until;
        clock_gettime(CLOCK_REALTIME, &until);
        until.tv_sec += 10;
        while (!c->job1_worked)
            if (pthread_cond_timedwait(&c->cv, &c->mu, &until) != 0) break;
        c->waited_for_job1 = c->job1_worked;
    }
    if (job == 1) {
        c->job1_worked = 1;
        pthread_cond_broadcast(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    CHECK(slot == job % OP_WINDOW);
    c->slot_job[slot] = job;
    if (job == c->fail_work_at) return o2p_errorf(err, O2P_EINVAL, "job %zu is bad", job);
    return O2P_OK;
}

static int op_done(void *ctx, size_t job, size_t slot, o2p_error *err)
{
    op_ctx *c = ctx;
    CHECK_UINT(job, c->done_calls); /* in order, each once */
    CHECK_UINT(c->slot_job[slot], job);
    c->done_calls++;
    pthread_mutex_lock(&c->mu);
    c->in_flight--;
    pthread_mutex_unlock(&c->mu);
    if (job == c->fail_done_at) return o2p_errorf(err, O2P_EIO, "cannot store %zu", job);
    return O2P_OK;
}

TEST(opool_done_in_order_with_a_bounded_window)
{
    op_ctx c;
    op_init(&c);
    o2p_error err;
    CHECK_OK(opool_run(3, OP_WINDOW, OP_JOBS, op_work, op_done, &c, &err));
    CHECK_UINT(c.done_calls, OP_JOBS);
    CHECK(c.max_in_flight <= OP_WINDOW);
    CHECK(c.waited_for_job1); /* job 1 was worked on while job 0 was still running */
    CHECK(c.thread_seen[0]);  /* the calling thread works too */
    op_free(&c);
}

TEST(opool_one_thread_runs_everything_on_the_caller)
{
    op_ctx c;
    op_init(&c);
    c.job1_worked = 1; /* one thread: job 0 must not wait for job 1 */
    o2p_error err;
    CHECK_OK(opool_run(1, OP_WINDOW, OP_JOBS, op_work, op_done, &c, &err));
    CHECK_UINT(c.done_calls, OP_JOBS);
    for (int t = 1; t < OPOOL_MAX_THREADS; t++) CHECK(!c.thread_seen[t]);
    CHECK_OK(opool_run(1, OP_WINDOW, 0, op_work, op_done, &c, &err)); /* no jobs */
    CHECK_UINT(c.done_calls, OP_JOBS);
    op_free(&c);
}

TEST(opool_work_failure_stops_in_order)
{
    op_ctx c;
    op_init(&c);
    c.fail_work_at = 7;
    o2p_error err;
    CHECK_INT(opool_run(2, OP_WINDOW, OP_JOBS, op_work, op_done, &c, &err), O2P_EINVAL);
    CHECK_UINT(c.done_calls, 7); /* 0..6, then the failure */
    CHECK_STR(err.msg, "job 7 is bad");
    op_free(&c);
}

TEST(opool_done_failure_stops_the_run)
{
    op_ctx c;
    op_init(&c);
    c.fail_done_at = 3;
    o2p_error err;
    CHECK_INT(opool_run(4, OP_WINDOW, OP_JOBS, op_work, op_done, &c, &err), O2P_EIO);
    CHECK_UINT(c.done_calls, 4);
    CHECK_STR(err.msg, "cannot store 3");
    op_free(&c);
}

TEST(opool_rejects_bad_parameters)
{
    o2p_error err;
    CHECK_INT(opool_run(0, 4, 1, op_work, op_done, NULL, &err), O2P_EINVAL);
    CHECK_INT(opool_run(5, 4, 1, op_work, op_done, NULL, &err), O2P_EINVAL);
    CHECK(strstr(err.msg, "5 threads and a window of 4") != NULL);
    CHECK_INT(opool_run(OPOOL_MAX_THREADS + 1, 100, 1, op_work, op_done, NULL, &err), O2P_EINVAL);
    int n = opool_online_cpus();
    CHECK(n >= 1 && n <= OPOOL_MAX_THREADS);
}
