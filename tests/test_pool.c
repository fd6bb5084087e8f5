/*
 * test_pool.c: the contract suite. Every case runs against every backend in
 * pvt_backends[] (proc and thread), and every failure names the backend:
 * creating and destroying pools, the configurations create refuses, every
 * workload, the stats, placement by a plan, and jobs spread over workers
 * here; queues, collecting, stopping and two pools at once in pool_queue.c;
 * the capability bits, for the reference pools too, in pool_caps.c.
 *
 * Only the thread that drives a pool calls cmocka: workers are other threads
 * or other processes, and the contract is checked through what submit,
 * collect, stats and stop return. No case asserts how long anything took;
 * the waits that guard against a hang are generous and only turn a hang into
 * a failure.
 *
 * Pools go through pool_open / pool_close, which remember them, so a case
 * that fails half-way still has its pools destroyed by the teardown (a proc
 * pool left behind would leave worker processes for the next case).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "shared/core/place.h"
#include "pool_cases.h"
#include "pool_harness.h"
#include "shared/core/pvt.h"
#include "shared/work/work.h"

/* ---- cases ---- */

static void test_create_destroy(void **state)
{
    static const int counts[] = {1, 3};
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[3];
    struct pvt_pool_stats st;
    struct batch *b = malloc(sizeof(*b));
    size_t c;

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;

        for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
            struct pvt_pool *p = pool_new(ops, counts[c], 0);

            get_stats(ops, p, &st, w);
            EXPECT_INT(ops, st.workers, counts[c]);
            EXPECT_INT(ops, st.live, counts[c]);
            EXPECT_INT(ops, st.submitted, 0);
            EXPECT_INT(ops, st.completed, 0);
            /* It works with the default depth. */
            batch_init(b, 1);
            batch_add(b, PVT_WL_NOOP, 0, 2 * counts[c]);
            run_batch(ops, p, b, counts[c]);
            pool_close(p);
        }
        expect_no_children(ops);
    }
    free(b);
}

static void test_create_einval(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_plan small = {.workers = 1};

    (void)state;
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        const struct pvt_pool_cfg bad[] = {
            {.workers = 0},
            {.workers = -1},
            {.workers = PVT_MAX_WORKERS + 1},
            {.workers = 1, .queue_depth = 3},
            {.workers = 2, .queue_depth = 100},
            {.workers = 1, .queue_depth = 4097},
            {.workers = 2, .plan = &small}, /* a plan for fewer workers */
        };
        size_t i;

        for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
            struct pvt_pool *p = NULL;
            int rc = ops->create(&bad[i], &p);

            if (rc != -EINVAL)
                fail_msg("[%s] create(workers=%d, depth=%u, plan=%s) returned %d, expected "
                         "-EINVAL",
                         ops->name, bad[i].workers, bad[i].queue_depth,
                         bad[i].plan ? "short" : "none", rc);
            if (rc == 0 && p)
                ops->destroy(p);
        }
        expect_no_children(ops);
    }
}

static void test_every_workload(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct batch *b = malloc(sizeof(*b));
    int round;

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2, 0);

        batch_init(b, 7000);
        /* Interleaved, so each worker runs every workload, in mixed order. */
        for (round = 0; round < 12; round++) {
            batch_add(b, PVT_WL_NOOP, 0, 1);
            batch_add(b, PVT_WL_CPU, 1000, 1);
            batch_add(b, PVT_WL_HASH, 4096, 1);
            batch_add(b, PVT_WL_MEM, 65536, 1);
            batch_add(b, PVT_WL_SLEEP, 1, 1);
            batch_add(b, PVT_WL_ALLOC, 100, 1);
        }
        run_batch(ops, p, b, 2);
        pool_close(p);
    }
    free(b);
}

static void test_stats_counts(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[3];
    struct pvt_pool_stats st;
    struct batch *b = malloc(sizeof(*b));
    uint64_t sum;
    int i;

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 3, 0);

        get_stats(ops, p, &st, w);
        EXPECT_INT(ops, st.workers, 3);
        EXPECT_INT(ops, st.live, 3);
        EXPECT_INT(ops, st.submitted, 0);
        EXPECT_INT(ops, st.completed, 0);
        EXPECT_INT(ops, st.failed, 0);
        EXPECT_INT(ops, st.dropped, 0);
        EXPECT_INT(ops, st.deaths, 0);
        for (i = 0; i < 3; i++) {
            EXPECT_INT(ops, w[i].slot, i);
            EXPECT_INT(ops, w[i].state, PVT_W_READY);
            EXPECT_TRUE(ops, w[i].pid > 0);
            EXPECT_INT(ops, w[i].jobs_done, 0);
            EXPECT_INT(ops, w[i].restarts, 0);
            /* Unbound: the worker may run somewhere, so its set is not empty. */
            EXPECT_TRUE(ops, CPU_COUNT(&w[i].bound) > 0);
        }
        /* Stats without the per-worker array. */
        get_stats(ops, p, &st, NULL);
        EXPECT_INT(ops, st.live, 3);

        batch_init(b, 500);
        batch_add(b, PVT_WL_CPU, 1000, 60);
        submit_range(ops, p, b, 0, b->n);
        collect_until(ops, p, b, 20, GUARD_MS);
        EXPECT_INT(ops, b->got, 20);
        get_stats(ops, p, &st, w);
        EXPECT_INT(ops, st.submitted, 60);
        EXPECT_INT(ops, st.completed, 20);
        for (sum = 0, i = 0; i < 3; i++)
            sum += w[i].jobs_done;
        EXPECT_INT(ops, sum, 20);

        collect_until(ops, p, b, b->n, GUARD_MS);
        expect_all_ok(ops, b, 3);
        get_stats(ops, p, &st, w);
        EXPECT_INT(ops, st.submitted, 60);
        EXPECT_INT(ops, st.completed, 60);
        EXPECT_INT(ops, st.failed, 0);
        EXPECT_INT(ops, st.deaths, 0);
        for (sum = 0, i = 0; i < 3; i++) {
            sum += w[i].jobs_done;
            EXPECT_INT(ops, w[i].state, PVT_W_READY);
        }
        EXPECT_INT(ops, sum, 60);
        /* Each result names the slot that ran it, and that slot counted it. */
        for (i = 0; i < 3; i++) {
            uint64_t mine = 0;
            int k;

            for (k = 0; k < b->n; k++)
                mine += b->worker[k] == i;
            EXPECT_INT(ops, w[i].jobs_done, mine);
        }
        pool_close(p);
    }
    free(b);
}

/* With a plan, each worker reads back exactly its planned CPU set. */
static void test_stats_bound_to_plan(void **state)
{
    static const int counts[] = {1, 2, 3};
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[3];
    struct pvt_pool_stats st;
    struct pvt_topo *topo = NULL;
    size_t c;
    int i;

    (void)state;
    assert_int_equal(pvt_topo_load(&topo), 0);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;

        for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
            struct pvt_plan *plan = NULL;
            struct pvt_pool_cfg cfg = {.workers = counts[c]};
            struct pvt_pool *p;

            assert_int_equal(
                pvt_place_plan(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, counts[c], &plan), 0);
            assert_true(plan->bind);
            cfg.plan = plan;
            p = pool_open(ops, &cfg);
            get_stats(ops, p, &st, w);
            EXPECT_INT(ops, st.live, counts[c]);
            for (i = 0; i < counts[c]; i++) {
                EXPECT_INT(ops, w[i].state, PVT_W_READY);
                EXPECT_TRUE(ops, w[i].pid > 0);
                if (!CPU_EQUAL(&w[i].bound, &plan->sets[i])) {
                    char got[256], want[256];

                    pvt_cpuset_format(&w[i].bound, got, sizeof(got));
                    pvt_cpuset_format(&plan->sets[i], want, sizeof(want));
                    pool_close(p);
                    pvt_plan_free(plan);
                    pvt_topo_free(topo);
                    fail_msg("[%s] %d workers: worker %d bound to '%s', planned '%s'", ops->name,
                             counts[c], i, got, want);
                }
            }
            pool_close(p);
            pvt_plan_free(plan);
        }
    }
    pvt_topo_free(topo);
}

/* A plan no worker can follow: create fails and leaves nothing running. */
static void test_create_impossible_plan(void **state)
{
    const struct pvt_pool_ops *const *bp;
    cpu_set_t sets[2];
    struct pvt_plan plan = {.workers = 2, .bind = 1, .policy = PVT_PLACE_COMPACT, .sets = sets};

    (void)state;
    CPU_ZERO(&sets[0]);
    CPU_ZERO(&sets[1]);
    CPU_SET(1000, &sets[0]);
    CPU_SET(1000, &sets[1]);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool_cfg cfg = {.workers = 2, .plan = &plan};
        struct pvt_pool *p = NULL;
        int rc = ops->create(&cfg, &p);

        if (rc >= 0) {
            if (p)
                ops->destroy(p);
            fail_msg("[%s] create with CPU 1000 returned %d", ops->name, rc);
        }
        expect_no_children(ops);
    }
}

static void test_jobs_spread(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct batch *b = malloc(sizeof(*b));

    (void)state;
    assert_non_null(b);
    FOR_EACH_BACKEND(bp)
    {
        const struct pvt_pool_ops *ops = *bp;
        struct pvt_pool *p = pool_new(ops, 2, 0);
        int k, ran[2] = {0, 0};

        batch_init(b, 1);
        batch_add(b, PVT_WL_SLEEP, 1, 200);
        run_batch(ops, p, b, 2);
        get_stats(ops, p, &st, w);
        if (w[0].jobs_done == 0 || w[1].jobs_done == 0)
            fail_msg("[%s] 200 jobs ran %llu + %llu: not spread", ops->name,
                     (unsigned long long)w[0].jobs_done, (unsigned long long)w[1].jobs_done);
        EXPECT_INT(ops, w[0].jobs_done + w[1].jobs_done, 200);
        for (k = 0; k < b->n; k++)
            ran[b->worker[k]]++;
        EXPECT_INT(ops, ran[0], w[0].jobs_done);
        EXPECT_INT(ops, ran[1], w[1].jobs_done);
        pool_close(p);
    }
    free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_create_destroy, teardown_pools),
        cmocka_unit_test_teardown(test_create_einval, teardown_pools),
        cmocka_unit_test_teardown(test_every_workload, teardown_pools),
        cmocka_unit_test_teardown(test_submit_eagain, teardown_pools),
        cmocka_unit_test_teardown(test_collect_enoent, teardown_pools),
        cmocka_unit_test_teardown(test_collect_timeout_zero, teardown_pools),
        cmocka_unit_test_teardown(test_stats_counts, teardown_pools),
        cmocka_unit_test_teardown(test_stats_bound_to_plan, teardown_pools),
        cmocka_unit_test_teardown(test_create_impossible_plan, teardown_pools),
        cmocka_unit_test_teardown(test_jobs_spread, teardown_pools),
        cmocka_unit_test_teardown(test_stop_drains, teardown_pools),
        cmocka_unit_test_teardown(test_stop_forced, teardown_pools),
        cmocka_unit_test_teardown(test_stop_backlog, teardown_pools),
        cmocka_unit_test_teardown(test_submit_after_stop, teardown_pools),
        cmocka_unit_test_teardown(test_two_pools, teardown_pools),
        cmocka_unit_test_teardown(test_caps_agree, teardown_pools),
        cmocka_unit_test_teardown(test_caps_by_name, teardown_pools),
        cmocka_unit_test_teardown(test_poll_contract, teardown_pools),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
