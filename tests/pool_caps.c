/*
 * pool_caps.c: each backend's capability bits (pvt.h, PVT_CAP_*) agree with
 * what it does, for the backends and the reference pools alike, so a wrong
 * bit fails here rather than sending the CLI or a bench mode down the wrong
 * branch:
 *  - PROCESSES: every worker's pid is a process of its own (its thread group
 *    is itself, not this process); without the bit, each is 0 or a thread of
 *    this process.
 *  - PLACEMENT: with a plan, each worker reads back its planned CPU set;
 *    without the bit, none is bound.
 *  - SERVE: a serving pool starts and binds a port, and supervise, restart
 *    and scale are there; without the bit create refuses it and they are
 *    NULL.
 *  - RECYCLE: with max_jobs 2, four jobs one at a time recycle the worker;
 *    without the bit create refuses max_jobs, or nothing is recycled.
 * KILL_HUNG is checked where a hung worker is made (test_fault.c).
 *
 * Only this thread calls cmocka; workers are checked through stats and /proc.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench/backends/backends.h"
#include "pool_cases.h"
#include "pool_harness.h"
#include "shared/core/place.h"
#include "shared/core/pvt.h"
#include "shared/serve/serve.h"
#include "shared/work/work.h"

/* Every backend, then every reference pool. */
#define FOR_EACH_POOL_KIND(bp, t)                                                                  \
    for (t = 0; t < 2; t++)                                                                        \
        for (bp = t ? pvt_references : pvt_backends; *bp; bp++)

/* The Tgid line of /proc/PID/status: the process a task belongs to; -1 if
 * there is no such task. */
static long tgid_of(pid_t pid)
{
    char path[64], line[256];
    long tgid = -1;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "re");
    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f))
        if (sscanf(line, "Tgid: %ld", &tgid) == 1)
            break;
    fclose(f);
    return tgid;
}

static void expect_processes(const struct pvt_pool_ops *ops)
{
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct pvt_pool *p = pool_new(ops, 2, 0);
    int i, procs = (ops->caps & PVT_CAP_PROCESSES) != 0;

    get_stats(ops, p, &st, w);
    for (i = 0; i < 2; i++) {
        pid_t pid = w[i].pid;
        long tgid = pid > 0 ? tgid_of(pid) : -1;

        if (procs && (pid <= 0 || pid == getpid() || tgid != (long)pid))
            fail_msg("[%s] PVT_CAP_PROCESSES, but worker %d's pid %d is not a process of its "
                     "own (its thread group: %ld)",
                     ops->name, i, (int)pid, tgid);
        if (!procs && pid != 0 && tgid != (long)getpid())
            fail_msg("[%s] no PVT_CAP_PROCESSES, but worker %d's id %d is not a thread of this "
                     "process (its thread group: %ld, this process: %d)",
                     ops->name, i, (int)pid, tgid, (int)getpid());
    }
    pool_close(p);
}

static void expect_placement(const struct pvt_pool_ops *ops, struct pvt_topo *topo)
{
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct pvt_plan *plan = NULL;
    struct pvt_pool_cfg cfg = {.workers = 2};
    struct pvt_pool *p;
    int i, bound = (ops->caps & PVT_CAP_PLACEMENT) != 0, ok = 1;

    assert_int_equal(pvt_place_plan(topo, PVT_PLACE_COMPACT, PVT_UNIT_CORE, 2, &plan), 0);
    assert_true(plan->bind);
    cfg.plan = plan;
    p = pool_open(ops, &cfg);
    get_stats(ops, p, &st, w);
    for (i = 0; i < 2; i++)
        ok &= bound ? CPU_EQUAL(&w[i].bound, &plan->sets[i]) : CPU_COUNT(&w[i].bound) == 0;
    pool_close(p);
    pvt_plan_free(plan);
    if (!ok)
        fail_msg("[%s] %s PVT_CAP_PLACEMENT, but its workers are %s their plan", ops->name,
                 bound ? "has" : "has no", bound ? "not bound to" : "bound by");
}

static void expect_serve(const struct pvt_pool_ops *ops)
{
    struct pvt_serve_cfg serve = {.distribution = PVT_DIST_RR, .port = 0};
    struct pvt_pool_cfg cfg = {.workers = 1, .serve = &serve};
    struct pvt_pool_stats st;
    struct pvt_pool *p = NULL;
    int serves = (ops->caps & PVT_CAP_SERVE) != 0, rc;

    if (!!ops->supervise != serves || !!ops->restart != serves || !!ops->scale != serves)
        fail_msg("[%s] PVT_CAP_SERVE is %d, but supervise, restart, scale are %s, %s, %s",
                 ops->name, serves, ops->supervise ? "set" : "NULL",
                 ops->restart ? "set" : "NULL", ops->scale ? "set" : "NULL");
    if (!serves) {
        rc = ops->create(&cfg, &p);
        if (rc == 0 && p)
            ops->destroy(p);
        if (rc == 0)
            fail_msg("[%s] no PVT_CAP_SERVE, but it made a serving pool", ops->name);
        return;
    }
    p = pool_open(ops, &cfg);
    get_stats(ops, p, &st, NULL);
    EXPECT_TRUE(ops, st.port > 0);
    EXPECT_INT(ops, ops->stop(p, 5000), 0);
    pool_close(p);
}

/* Four jobs, one at a time, then stats until a recycle shows (the worker
 * leaves after its job, and the pool reaps it a little later). */
static uint64_t recycles_after_jobs(const struct pvt_pool_ops *ops, struct pvt_pool *p,
                                    int want_some)
{
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct batch *b = malloc(sizeof(*b));
    uint64_t end;
    int k;

    assert_non_null(b);
    batch_init(b, 1);
    batch_add(b, PVT_WL_NOOP, 0, 4);
    for (k = 0; k < 4; k++) {
        submit_range(ops, p, b, k, k + 1);
        collect_until(ops, p, b, k + 1, GUARD_MS);
    }
    expect_all_ok(ops, b, 1);
    free(b);
    for (end = now_ms() + (want_some ? GUARD_MS : 200);; usleep(1000)) {
        get_stats(ops, p, &st, w);
        if (st.recycles || now_ms() > end)
            return st.recycles;
    }
}

static void expect_recycle(const struct pvt_pool_ops *ops)
{
    struct pvt_pool_cfg cfg = {.workers = 1, .sup = {.max_jobs = 2}};
    struct pvt_pool *p = NULL;
    int recycles = (ops->caps & PVT_CAP_RECYCLE) != 0, rc;
    uint64_t n;

    if (recycles) {
        p = pool_open(ops, &cfg);
        n = recycles_after_jobs(ops, p, 1);
        pool_close(p);
        if (n == 0)
            fail_msg("[%s] PVT_CAP_RECYCLE, but 4 jobs with max_jobs 2 recycled nothing",
                     ops->name);
        return;
    }
    rc = ops->create(&cfg, &p);
    if (rc == -EOPNOTSUPP)
        return;
    if (rc != 0)
        fail_msg("[%s] create with max_jobs returned %d (want 0 or -EOPNOTSUPP)", ops->name, rc);
    ops->destroy(p);
    p = pool_open(ops, &cfg);
    n = recycles_after_jobs(ops, p, 0);
    pool_close(p);
    if (n != 0)
        fail_msg("[%s] no PVT_CAP_RECYCLE, but it recycled %llu workers", ops->name,
                 (unsigned long long)n);
}

void test_caps_agree(void **state)
{
    const struct pvt_pool_ops *const *bp;
    struct pvt_topo *topo = NULL;
    int t;

    (void)state;
    assert_int_equal(pvt_topo_load(&topo), 0);
    FOR_EACH_POOL_KIND(bp, t)
    {
        expect_processes(*bp);
        expect_placement(*bp, topo);
        expect_serve(*bp);
        expect_recycle(*bp);
        expect_no_children(*bp);
    }
    pvt_topo_free(topo);
}

/* The lookups by name that results use agree with the tables. */
void test_caps_by_name(void **state)
{
    const struct pvt_pool_ops *const *bp;
    int t, rank = 0;

    (void)state;
    FOR_EACH_POOL_KIND(bp, t)
    {
        EXPECT_INT(*bp, pvt_backend_caps((*bp)->name), (*bp)->caps);
        EXPECT_INT(*bp, pvt_backend_is_reference((*bp)->name), t);
        EXPECT_INT(*bp, pvt_backend_rank((*bp)->name), rank);
        rank++;
    }
    assert_int_equal(pvt_backend_caps("no-such-backend"), 0);
    assert_int_equal(pvt_backend_is_reference("no-such-backend"), 0);
    assert_int_equal(pvt_backend_rank("no-such-backend"), rank);
}
