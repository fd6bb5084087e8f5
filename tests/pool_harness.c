/*
 * pool_harness.c: the pools, batches and stats of pool_harness.h.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "pool_harness.h"
#include "shared/work/work.h"

uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- pools that the teardown destroys if a case fails ---- */

#define MAX_POOLS 4

static struct {
    const struct pvt_pool_ops *ops;
    struct pvt_pool *p;
} pools[MAX_POOLS];

struct pvt_pool *pool_open(const struct pvt_pool_ops *ops, const struct pvt_pool_cfg *cfg)
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

struct pvt_pool *pool_new(const struct pvt_pool_ops *ops, int workers, unsigned depth)
{
    struct pvt_pool_cfg cfg = {.workers = workers, .queue_depth = depth};

    return pool_open(ops, &cfg);
}

void pool_close(struct pvt_pool *p)
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

int teardown_pools(void **state)
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

void batch_init(struct batch *b, uint64_t base)
{
    memset(b, 0, sizeof(*b));
    b->base = base;
}

void batch_add(struct batch *b, uint32_t workload, uint64_t arg, int n)
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

int collect_some(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b, int max,
                 int timeout_ms)
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

void collect_until(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b, int want,
                   int guard_ms)
{
    uint64_t end = now_ms() + (uint64_t)guard_ms;

    while (b->got < want && now_ms() < end)
        if (collect_some(ops, p, b, want - b->got, 100) < 0)
            break;
}

void submit_range(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b, int from,
                  int to)
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

void expect_all_ok(const struct pvt_pool_ops *ops, const struct batch *b, int workers)
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

void run_batch(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct batch *b, int workers)
{
    submit_range(ops, p, b, 0, b->n);
    collect_until(ops, p, b, b->n, GUARD_MS);
    expect_all_ok(ops, b, workers);
}

void get_stats(const struct pvt_pool_ops *ops, struct pvt_pool *p, struct pvt_pool_stats *st,
               struct pvt_worker_stats *w)
{
    memset(st, 0, sizeof(*st));
    st->w = w;
    EXPECT_INT(ops, ops->stats(p, st), 0);
    EXPECT_TRUE(ops, st->backend && strcmp(st->backend, ops->name) == 0);
}

void expect_no_children(const struct pvt_pool_ops *ops)
{
    pid_t r = waitpid(-1, NULL, WNOHANG);
    int e = errno;

    if (r != -1 || e != ECHILD)
        fail_msg("[%s] a child process is left behind (waitpid: %d, errno %d)", ops->name, (int)r,
                 e);
}
