/*
 * test_pool.c: the contract suite. Every case runs against every backend in
 * pvt_backends[] (proc and thread), and every failure names the backend.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "place.h"
#include "pvt.h"
#include "work.h"

/* A hang guard, not a timing check: no case comes close to it. */
#define GUARD_MS  20000
#define MAX_JOBS  1024
#define MAX_POOLS 4

/* Failures name the backend. */
#define EXPECT_INT(ops, got, want)                                                                 \
    do {                                                                                           \
        long long g_ = (long long)(got), w_ = (long long)(want);                                   \
        if (g_ != w_)                                                                              \
            fail_msg("[%s] %s is %lld, expected %lld", (ops)->name, #got, g_, w_);                 \
    } while (0)
#define EXPECT_TRUE(ops, cond)                                                                     \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fail_msg("[%s] expected %s", (ops)->name, #cond);                                      \
    } while (0)

#define FOR_EACH_BACKEND(bp) for (bp = pvt_backends; *bp; bp++)

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- pools that the teardown destroys if a case fails ---- */

static struct {
    const struct pvt_pool_ops *ops;
    struct pvt_pool *p;
} pools[MAX_POOLS];

static struct pvt_pool *pool_open(const struct pvt_pool_ops *ops, const struct pvt_pool_cfg *cfg)
{
    struct pvt_pool *p = NULL;
    int i, rc;

    rc = ops->create(cfg, &p);
    if (rc != 0 || !p)
        fail_msg("[%s] create(workers=%d, depth=%u) returned %d", ops->name, cfg->workers,
                 cfg->queue_depth, rc);
    for (i = 0; i < MAX_POOLS && pools[i].p; i++)
        ;
    if (i == MAX_POOLS) {
        ops->destroy(p);
        fail_msg("[%s] test bug: more than %d pools open", ops->name, MAX_POOLS);
    }
    pools[i].ops = ops;
    pools[i].p = p;
    return p;
}

static struct pvt_pool *pool_new(const struct pvt_pool_ops *ops, int workers, unsigned depth)
{
    struct pvt_pool_cfg cfg = {.workers = workers, .queue_depth = depth};

    return pool_open(ops, &cfg);
}

static void pool_close(struct pvt_pool *p)
{
    int i;

    for (i = 0; i < MAX_POOLS; i++) {
        if (pools[i].p == p) {
            pools[i].ops->destroy(p);
            pools[i].p = NULL;
            return;
        }
    }
    fail_msg("test bug: closing a pool that is not open");
}

static int teardown_pools(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < MAX_POOLS; i++) {
        if (pools[i].p)
            pools[i].ops->destroy(pools[i].p);
        pools[i].p = NULL;
    }
    return 0;
}

/* ---- jobs and what came back ---- */

struct batch {
    int n;
    uint64_t base; /* job k has id base + k */
    struct pvt_job jobs[MAX_JOBS];
    int count[MAX_JOBS]; /* how many times each id came back */
    int status[MAX_JOBS];
    uint64_t value[MAX_JOBS];
    int worker[MAX_JOBS];
    int stray; /* results whose id is not in this batch */
    int got;   /* results recorded */
    int rc;    /* the last negative collect return, 0 if none */
};

static void batch_init(struct batch *b, uint64_t base)
{
    memset(b, 0, sizeof(*b));
    b->base = base;
}

static void batch_add(struct batch *b, uint32_t workload, uint64_t arg, int n)
{
    while (n-- > 0) {
        assert_true(b->n < MAX_JOBS);
        b->jobs[b->n] =
            (struct pvt_job){.id = b->base + (uint64_t)b->n, .workload = workload, .arg = arg};
        b->n++;
    }
}

static void batch_record(struct batch *b, const struct pvt_result *r, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        uint64_t k = r[i].id - b->base;

        b->got++;
        if (r[i].id < b->base || k >= (uint64_t)b->n) {
            b->stray++;
            continue;
        }
        b->count[k]++;
        b->status[k] = r[i].status;
        b->value[k] = r[i].value;
        b->worker[k] = r[i].worker;
    }
}

/* One collect call into b. Returns what collect returned. */
static int collect_some(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b,
                        int max, int timeout_ms)
{
    struct pvt_result res[64];
    int rc;

    if (max > 64)
        max = 64;
    rc = ops->collect(p, res, max, timeout_ms);
    if (rc > max)
        fail_msg("[%s] collect(max=%d) returned %d", ops->name, max, rc);
    if (rc > 0)
        batch_record(b, res, rc);
    else if (rc < 0)
        b->rc = rc;
    return rc;
}

/* Collect until b holds `want` results, collect fails, or the guard ends. */
static void collect_until(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b,
                          int want, int guard_ms)
{
    uint64_t end = now_ms() + (uint64_t)guard_ms;

    while (b->got < want && now_ms() < end)
        if (collect_some(ops, p, b, want - b->got, 100) < 0)
            break;
}

/* Submit jobs [from, to) of b, collecting whenever every queue is full. */
static void submit_range(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b,
                         int from, int to)
{
    uint64_t end = now_ms() + GUARD_MS;
    int k = from, rc;

    while (k < to) {
        rc = ops->submit(p, b->jobs + k, to - k);
        if (rc == -EAGAIN) {
            if (now_ms() > end)
                fail_msg("[%s] submit kept returning -EAGAIN", ops->name);
            collect_some(ops, p, b, 64, 100);
            continue;
        }
        if (rc < 1 || rc > to - k)
            fail_msg("[%s] submit(n=%d) returned %d", ops->name, to - k, rc);
        k += rc;
    }
}

/* Every job came back exactly once, PVT_JOB_OK, with its expected value. */
static void expect_all_ok(const struct pvt_pool_ops *ops, const struct batch *b, int workers)
{
    int k;

    if (b->stray)
        fail_msg("[%s] %d results with ids not submitted to this pool", ops->name, b->stray);
    for (k = 0; k < b->n; k++) {
        const struct pvt_job *j = &b->jobs[k];
        uint64_t want = pvt_work_expected(j->workload, j->arg);

        if (b->count[k] != 1)
            fail_msg("[%s] job %llu (%s:%llu) came back %d times (collect rc %d)", ops->name,
                     (unsigned long long)j->id, pvt_workloads[j->workload].name,
                     (unsigned long long)j->arg, b->count[k], b->rc);
        if (b->status[k] != PVT_JOB_OK)
            fail_msg("[%s] job %llu: status %d, expected OK", ops->name, (unsigned long long)j->id,
                     b->status[k]);
        if (b->value[k] != want)
            fail_msg("[%s] job %llu (%s:%llu): value %llu, expected %llu", ops->name,
                     (unsigned long long)j->id, pvt_workloads[j->workload].name,
                     (unsigned long long)j->arg, (unsigned long long)b->value[k],
                     (unsigned long long)want);
        if (b->worker[k] < 0 || b->worker[k] >= workers)
            fail_msg("[%s] job %llu: worker %d of %d", ops->name, (unsigned long long)j->id,
                     b->worker[k], workers);
    }
    EXPECT_INT(ops, b->got, b->n);
}

static void run_batch(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b,
                      int workers)
{
    submit_range(ops, p, b, 0, b->n);
    collect_until(ops, p, b, b->n, GUARD_MS);
    expect_all_ok(ops, b, workers);
}

static void get_stats(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct pvt_pool_stats *st,
                      struct pvt_worker_stats *w)
{
    memset(st, 0, sizeof(*st));
    st->w = w;
    EXPECT_INT(ops, ops->stats(p, st), 0);
    EXPECT_TRUE(ops, st->backend && strcmp(st->backend, ops->name) == 0);
}

/* Nothing of a destroyed or never-made pool is left: no child process. */
static void expect_no_children(const struct pvt_pool_ops *ops)
{
    pid_t r = waitpid(-1, NULL, WNOHANG);
    int e = errno;

    if (r != -1 || e != ECHILD)
        fail_msg("[%s] a child process is left behind (waitpid: %d, errno %d)", ops->name, (int)r,
                 e);
}

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

static void test_submit_eagain(void **state)
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

static void test_collect_enoent(void **state)
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

static void test_collect_timeout_zero(void **state)
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

static void test_stop_drains(void **state)
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
static void test_stop_forced(void **state)
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

static void test_submit_after_stop(void **state)
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
static void test_two_pools(void **state)
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
        cmocka_unit_test_teardown(test_submit_after_stop, teardown_pools),
        cmocka_unit_test_teardown(test_two_pools, teardown_pools),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
