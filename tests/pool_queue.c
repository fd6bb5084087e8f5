/*
 * pool_queue.c: the contract of submit, collect and stop, against every
 * backend: a full queue refuses with -EAGAIN until results are collected;
 * collect says -ENOENT rather than wait when nothing is outstanding, and
 * returns at once with timeout 0; a stop drains the queues, a forced stop
 * accounts for every job once (OK, FAILED or DROPPED), and a stopped pool
 * refuses work, and a graceful stop right behind a backlog runs all of it;
 * two pools used in turn each get their own results. Run from test_pool.c's
 * main.
 *
 * No case asserts how long anything took; the waits that guard against a
 * hang are generous and only turn a hang into a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>

#include "pool_cases.h"
#include "pool_harness.h"
#include "shared/core/pvt.h"
#include "shared/work/work.h"

void test_submit_eagain(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct batch *b = malloc(sizeof(*b));
    uint64_t end;
    int rc;

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2, 4);

        batch_init(b, 100);
        batch_add(b, PVT_WL_SLEEP, 5, 30);
        /* 2 queues of 4: ten jobs offered, eight taken. */
        rc = ops->submit(p, b->jobs, 10);
        EXPECT_INT(ops, rc, 8);
        /* Results are not collected yet, so the queues stay full however
         * far the workers got. */
        EXPECT_INT(ops, ops->submit(p, b->jobs + 8, 1), -EAGAIN);
        EXPECT_INT(ops, ops->submit(p, b->jobs + 8, 5), -EAGAIN);
        get_stats(ops, p, &st, w);
        EXPECT_INT(ops, st.submitted, 8);

        /* Collecting frees room; the rest goes through. */
        end = now_ms() + GUARD_MS;
        while (b->got == 0 && now_ms() < end)
            collect_some(ops, p, b, 1, 100);
        EXPECT_INT(ops, b->got, 1);
        EXPECT_INT(ops, ops->submit(p, b->jobs + 8, 1), 1);
        submit_range(ops, p, b, 9, b->n);
        collect_until(ops, p, b, b->n, GUARD_MS);
        expect_all_ok(ops, b, 2);
        get_stats(ops, p, &st, w);
        EXPECT_INT(ops, st.submitted, 30);
        EXPECT_INT(ops, st.completed, 30);
        pool_close(p);
    }
    free(b);
}

void test_collect_enoent(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_result res[4];
    struct batch *b = malloc(sizeof(*b));

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2, 0);

        EXPECT_INT(ops, ops->collect(p, res, 4, 0), -ENOENT);
        /* With nothing outstanding, waiting could never end: no wait. A
         * collect that waited would come back 0 after 2 s instead. */
        EXPECT_INT(ops, ops->collect(p, res, 4, 2000), -ENOENT);
        EXPECT_INT(ops, ops->collect(p, res, 4, -1), -ENOENT);

        batch_init(b, 1);
        batch_add(b, PVT_WL_CPU, 1000, 3);
        run_batch(ops, p, b, 2);
        EXPECT_INT(ops, ops->collect(p, res, 4, -1), -ENOENT);
        pool_close(p);
    }
    free(b);
}

void test_collect_timeout_zero(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_result res[4];
    struct batch *b = malloc(sizeof(*b));

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 1, 0);

        batch_init(b, 40);
        batch_add(b, PVT_WL_SLEEP, 300, 1);
        EXPECT_INT(ops, ops->submit(p, b->jobs, 1), 1);
        /* The job sleeps 300 ms: it cannot be done yet. */
        EXPECT_INT(ops, ops->collect(p, res, 4, 0), 0);
        collect_until(ops, p, b, 1, GUARD_MS);
        expect_all_ok(ops, b, 1);
        pool_close(p);
    }
    free(b);
}

/* The stats add up, before and after work. */

void test_stop_drains(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct pvt_result res[4];
    struct batch *b = malloc(sizeof(*b));
    int i;

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2, 0);

        batch_init(b, 300);
        batch_add(b, PVT_WL_SLEEP, 5, 20);
        submit_range(ops, p, b, 0, b->n);
        /* 20 x 5 ms over 2 workers is about 50 ms; 10 s is plenty. */
        EXPECT_INT(ops, ops->stop(p, 10000), 0);
        collect_until(ops, p, b, b->n, GUARD_MS);
        expect_all_ok(ops, b, 2);
        EXPECT_INT(ops, ops->collect(p, res, 4, 0), -ENOENT);

        get_stats(ops, p, &st, w);
        EXPECT_INT(ops, st.live, 0);
        EXPECT_INT(ops, st.submitted, 20);
        EXPECT_INT(ops, st.completed, 20);
        EXPECT_INT(ops, st.failed, 0);
        EXPECT_INT(ops, st.dropped, 0);
        EXPECT_INT(ops, st.deaths, 0);
        for (i = 0; i < 2; i++)
            EXPECT_INT(ops, w[i].state, PVT_W_EXITED);
        pool_close(p);
    }
    free(b);
}

/*
 * Stop by force: every submitted id is still accounted for, once each, as
 * OK, FAILED or DROPPED. The thread that drives the pool waits for the
 * results in bounded collect calls; a job that never comes back is a failure,
 * not a hang.
 */
void test_stop_forced(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_result res[4];
    struct batch *b = malloc(sizeof(*b));
    uint64_t end;

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 1, 0);
        int k, ok = 0, failed = 0, dropped = 0, missing = 0, twice = 0, rc;

        batch_init(b, 900);
        batch_add(b, PVT_WL_SLEEP, 200, 20);
        submit_range(ops, p, b, 0, b->n);
        /* 4 s of work cannot be done in 1 ms. */
        rc = ops->stop(p, 1);
        EXPECT_INT(ops, rc, -ETIMEDOUT);
        EXPECT_INT(ops, ops->submit(p, b->jobs, 1), -ESHUTDOWN);

        /* Every job either ran, failed or was dropped: a few seconds cover
         * the one job a worker may still finish. */
        end = now_ms() + 3000;
        while (b->got < b->n && now_ms() < end)
            if (collect_some(ops, p, b, 64, 100) < 0)
                break;
        for (k = 0; k < b->n; k++) {
            missing += b->count[k] == 0;
            twice += b->count[k] > 1;
            if (b->count[k] != 1)
                continue;
            switch (b->status[k]) {
            case PVT_JOB_OK:
                ok++;
                if (b->value[k] != 200)
                    fail_msg("[%s] job %d OK with value %llu", ops->name, k,
                             (unsigned long long)b->value[k]);
                break;
            case PVT_JOB_FAILED:
                failed++;
                break;
            case PVT_JOB_DROPPED:
                dropped++;
                break;
            default:
                fail_msg("[%s] job %d: status %d", ops->name, k, b->status[k]);
            }
        }
        if (missing || twice || b->stray)
            fail_msg("[%s] after a forced stop: %d of %d jobs never came back, %d twice, %d "
                     "strays (ok %d, failed %d, dropped %d; last collect rc %d)",
                     ops->name, missing, b->n, twice, b->stray, ok, failed, dropped, b->rc);
        /* Most of the 20 never started. */
        EXPECT_TRUE(ops, dropped > 0);
        EXPECT_INT(ops, ops->collect(p, res, 4, 0), -ENOENT);
        get_stats(ops, p, &st, w);
        EXPECT_INT(ops, st.submitted, 20);
        EXPECT_INT(ops, st.completed, 20);
        EXPECT_INT(ops, st.failed, failed);
        EXPECT_INT(ops, st.dropped, dropped);
        EXPECT_INT(ops, st.live, 0);
        pool_close(p);
    }
    free(b);
}

/*
 * A graceful stop right behind a backlog, many times over: the workers are
 * awake and idle when a batch bigger than their windows arrives and the
 * pool is stopped at once, so stop's flush of the backlog and its stop
 * request land while the workers spin on their rings. Every job must run:
 * one reported dropped means a worker left with jobs queued.
 */
void test_stop_backlog(void **state)
{
    enum { ROUNDS = 100 };
    const struct pvt_pool_ops *const *bp;
    struct batch *b = malloc(sizeof(*b));

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        int round, k, bad_rounds = 0, dropped = 0, other = 0;

        for (round = 0; round < ROUNDS; round++) {
            struct pvt_pool *p = pool_new(ops, 2, 512);
            int n = 200 + (round * 97) % 800, bad = 0;

            batch_init(b, (uint64_t)round * 10000);
            batch_add(b, PVT_WL_NOOP, 0, 8);
            run_batch(ops, p, b, 2); /* the workers are up, idle and awake */
            batch_add(b, round % 2 ? PVT_WL_NOOP : PVT_WL_CPU, round % 2 ? 0 : 100, n);
            submit_range(ops, p, b, 8, b->n);
            EXPECT_INT(ops, ops->stop(p, GUARD_MS), 0);
            collect_until(ops, p, b, b->n, GUARD_MS);
            for (k = 0; k < b->n; k++) {
                if (b->count[k] == 1 && b->status[k] == PVT_JOB_DROPPED) {
                    dropped++;
                    bad = 1;
                } else if (b->count[k] != 1 || b->status[k] != PVT_JOB_OK) {
                    other++;
                    bad = 1;
                }
            }
            bad_rounds += bad;
            pool_close(p);
        }
        if (bad_rounds)
            fail_msg("[%s] in %d of %d graceful stops jobs did not run: %d reported dropped, "
                     "%d missing, repeated or failed",
                     ops->name, bad_rounds, ROUNDS, dropped, other);
    }
    free(b);
}

void test_submit_after_stop(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_job job = {.id = 1, .workload = PVT_WL_NOOP};
    struct pvt_result res[1];

    (void)state;
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2, 0);

        EXPECT_INT(ops, ops->stop(p, 5000), 0);
        EXPECT_INT(ops, ops->submit(p, &job, 1), -ESHUTDOWN);
        EXPECT_INT(ops, ops->collect(p, res, 1, 0), -ENOENT);
        pool_close(p);
    }
}

/* Two pools of one backend at once, used in turn: each gets its own results. */
void test_two_pools(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct batch *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    int k;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *pa = pool_new(ops, 2, 8);
        struct pvt_pool *pb = pool_new(ops, 1, 8);

        /* Distinct ids and distinct arguments, so a result that went to the
         * wrong pool shows up as a stray id or a wrong value. */
        batch_init(a, 10000);
        batch_init(b, 20000);
        for (k = 0; k < 60; k++) {
            batch_add(a, PVT_WL_CPU, 1000 + (uint64_t)k, 1);
            batch_add(b, PVT_WL_HASH, 100 + (uint64_t)k, 1);
        }
        for (k = 0; k < 60; k += 10) {
            submit_range(ops, pa, a, k, k + 10);
            submit_range(ops, pb, b, k, k + 10);
            collect_some(ops, pa, a, 5, 0);
            collect_some(ops, pb, b, 5, 0);
        }
        collect_until(ops, pb, b, b->n, GUARD_MS);
        collect_until(ops, pa, a, a->n, GUARD_MS);
        expect_all_ok(ops, a, 2);
        expect_all_ok(ops, b, 1);
        pool_close(pa);
        pool_close(pb);
    }
    free(a);
    free(b);
}
