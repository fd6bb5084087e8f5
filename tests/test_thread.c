/*
 * test_thread.c: what only the thread backend does: its workers are threads
 * of the calling process (one address space, distinct thread ids), two pools
 * live side by side with no shared state, and a stop joins every thread. A
 * forced stop accounts for every job, also when a thread is left stuck in a
 * job past the grace stop gives it, and when that thread later finishes the
 * job and exits on its own before the results are collected. A stop's
 * deadline holds with the wall clock stepped an hour (this program's
 * clock_gettime shows CLOCK_REALTIME behind the kernel's).
 *
 * Only the test thread calls cmocka; the workers are observed through stats
 * and /proc/self. Waits are bounded and no case asserts how long anything
 * took.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "shared/core/pvt.h"
#include "thread_pool/thr_pool.h"
#include "shared/work/work.h"

#define GUARD_MS  20000
#define MAX_IDS   256
#define MAX_POOLS 2
/* A job longer than the second that stop grants a thread after its
 * deadline (pvt.h), with room to spare: its thread is left stuck. */
#define STUCK_MS 1500

static const struct pvt_pool_ops *const ops = &pvt_thread_ops;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- pools the teardown destroys if a case fails ---- */

static struct pvt_pool *pools[MAX_POOLS];

static struct pvt_pool *pool_new(int workers, unsigned depth)
{
    struct pvt_pool_cfg cfg = {.workers = workers, .queue_depth = depth};
    struct pvt_pool *p = NULL;
    int i;

    for (i = 0; i < MAX_POOLS && pools[i]; i++)
        ;
    assert_true(i < MAX_POOLS);
    assert_int_equal(ops->create(&cfg, &p), 0);
    assert_non_null(p);
    pools[i] = p;
    return p;
}

static void pool_free(struct pvt_pool *p)
{
    int i;

    for (i = 0; i < MAX_POOLS; i++) {
        if (pools[i] == p) {
            ops->destroy(p);
            pools[i] = NULL;
            return;
        }
    }
    fail_msg("test bug: freeing a pool that is not open");
}

static int teardown_pools(void **state)
{
    int i;

    (void)state;
    for (i = 0; i < MAX_POOLS; i++) {
        if (pools[i])
            ops->destroy(pools[i]);
        pools[i] = NULL;
    }
    return 0;
}

/* ---- jobs and results ---- */

struct batch {
    int n;
    uint64_t base;
    struct pvt_job jobs[MAX_IDS];
    int count[MAX_IDS];
    int status[MAX_IDS];
    uint64_t value[MAX_IDS];
    int got, stray, rc;
};

static void batch_init(struct batch *b, uint64_t base)
{
    memset(b, 0, sizeof(*b));
    b->base = base;
}

static void batch_add(struct batch *b, uint32_t workload, uint64_t arg)
{
    assert_true(b->n < MAX_IDS);
    b->jobs[b->n] =
        (struct pvt_job){.id = b->base + (uint64_t)b->n, .workload = workload, .arg = arg};
    b->n++;
}

static int collect_some(struct pvt_pool *p, struct batch *b, int timeout_ms)
{
    struct pvt_result res[32];
    int i, rc;

    rc = ops->collect(p, res, 32, timeout_ms);
    if (rc < 0) {
        b->rc = rc;
        return rc;
    }
    for (i = 0; i < rc; i++) {
        uint64_t k = res[i].id - b->base;

        b->got++;
        if (res[i].id < b->base || k >= (uint64_t)b->n) {
            b->stray++;
            continue;
        }
        b->count[k]++;
        b->status[k] = res[i].status;
        b->value[k] = res[i].value;
    }
    return rc;
}

static void collect_until(struct pvt_pool *p, struct batch *b, int want)
{
    uint64_t end = now_ms() + GUARD_MS;

    while (b->got < want && now_ms() < end)
        if (collect_some(p, b, 100) < 0)
            break;
}

/* Submit jobs [from, to), collecting whenever the queues are full. */
static void submit_range(struct pvt_pool *p, struct batch *b, int from, int to)
{
    uint64_t end = now_ms() + GUARD_MS;
    int k = from, rc;

    while (k < to) {
        rc = ops->submit(p, b->jobs + k, to - k);
        if (rc == -EAGAIN && now_ms() < end) {
            collect_some(p, b, 100);
            continue;
        }
        if (rc < 1 || rc > to - k)
            fail_msg("submit(n=%d) returned %d", to - k, rc);
        k += rc;
    }
}

static void expect_all_ok(const char *pool, const struct batch *b)
{
    int k;

    if (b->stray)
        fail_msg("pool %s: %d results with ids it was never given", pool, b->stray);
    for (k = 0; k < b->n; k++) {
        const struct pvt_job *j = &b->jobs[k];

        if (b->count[k] != 1 || b->status[k] != PVT_JOB_OK ||
            b->value[k] != pvt_work_expected(j->workload, j->arg))
            fail_msg("pool %s: job %llu came back %d times, status %d, value %llu (want %llu)",
                     pool, (unsigned long long)j->id, b->count[k], b->status[k],
                     (unsigned long long)b->value[k],
                     (unsigned long long)pvt_work_expected(j->workload, j->arg));
    }
    assert_int_equal(b->got, b->n);
}

static void get_stats(struct pvt_pool *p, struct pvt_pool_stats *st, struct pvt_worker_stats *w)
{
    memset(st, 0, sizeof(*st));
    st->w = w;
    assert_int_equal(ops->stats(p, st), 0);
}

/* An integer field ("Threads:", "Tgid:") of a /proc status file, or -1. */
static int status_field(const char *path, const char *field)
{
    size_t len = strlen(field);
    char line[256];
    int v = -1;
    FILE *f = fopen(path, "r");

    if (!f)
        return -1;
    while (fgets(line, sizeof(line), f)) {
        if (strncmp(line, field, len) == 0) {
            v = atoi(line + len);
            break;
        }
    }
    fclose(f);
    return v;
}

static int thread_count(void)
{
    return status_field("/proc/self/status", "Threads:");
}

/*
 * The process has n threads. A joined thread can still be counted for a
 * moment: pthread_join returns when the kernel clears its tid, a little
 * before the thread is released. So wait (bounded) for the count to settle.
 */
static void expect_threads(int n)
{
    uint64_t end = now_ms() + 5000;
    struct timespec ms = {.tv_nsec = 1000000};
    int got;

    while ((got = thread_count()) != n && now_ms() < end)
        nanosleep(&ms, NULL);
    if (got != n)
        fail_msg("the process has %d threads, expected %d", got, n);
}

/* ---- cases ---- */

/* Two thread pools in one process, driven in turn, each with its own work. */
static void test_two_pools_interleaved(void **state)
{
    struct batch *a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
    struct pvt_pool *pa, *pb;
    int with_pools, k;

    (void)state;
    assert_non_null(a);
    assert_non_null(b);
    pa = pool_new(2, 16);
    pb = pool_new(3, 8);
    /* Counted with the pools up: a runtime may start a helper thread of its
     * own with the first pthread_create (ThreadSanitizer does). */
    with_pools = thread_count();

    batch_init(a, 1000);
    batch_init(b, 5000);
    for (k = 0; k < 120; k++) {
        batch_add(a, k % 2 ? PVT_WL_CPU : PVT_WL_ALLOC, 100 + (uint64_t)k);
        batch_add(b, k % 2 ? PVT_WL_HASH : PVT_WL_MEM, 4096 + 8 * (uint64_t)k);
    }
    /* Small batches, in turn, with partial collects between them. */
    for (k = 0; k < 120; k += 12) {
        submit_range(pa, a, k, k + 12);
        collect_some(pb, b, 0);
        submit_range(pb, b, k, k + 12);
        collect_some(pa, a, 0);
    }
    collect_until(pa, a, a->n);
    collect_until(pb, b, b->n);
    expect_all_ok("a", a);
    expect_all_ok("b", b);

    /* Stopping one leaves the other working. */
    assert_int_equal(ops->stop(pa, 5000), 0);
    pool_free(pa);
    expect_threads(with_pools - 2);
    batch_init(b, 9000);
    for (k = 0; k < 30; k++)
        batch_add(b, PVT_WL_CPU, 1000);
    submit_range(pb, b, 0, b->n);
    collect_until(pb, b, b->n);
    expect_all_ok("b after a was freed", b);
    pool_free(pb);
    expect_threads(with_pools - 5);
    free(a);
    free(b);
}

/* The workers are threads of this process, each with its own thread id. */
static void test_workers_are_threads(void **state)
{
    struct pvt_worker_stats w[3];
    struct pvt_pool_stats st;
    struct pvt_pool *p;
    char path[64];
    pid_t me = gettid();
    int i, k;

    (void)state;
    p = pool_new(3, 0);
    get_stats(p, &st, w);
    for (i = 0; i < 3; i++) {
        assert_true(w[i].pid > 0);
        assert_int_not_equal(w[i].pid, me);
        assert_int_not_equal(w[i].pid, getpid());
        for (k = 0; k < i; k++)
            assert_int_not_equal(w[i].pid, w[k].pid);
        /* A thread of this process: listed under /proc/self/task, and its
         * thread group is this process. */
        snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)w[i].pid);
        assert_int_equal(status_field(path, "Tgid:"), getpid());
        assert_int_equal(w[i].last_exit_code, -1);
        assert_int_equal(w[i].restarts, 0);
    }
    assert_int_equal(st.deaths, 0);
    pool_free(p);
}

/* A stop whose deadline is past the queued work runs all of it and joins. */
static void test_stop_drains(void **state)
{
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct pvt_result res[4];
    struct batch *b = malloc(sizeof(*b));
    struct pvt_pool *p;
    int with_pool, i;

    (void)state;
    assert_non_null(b);
    p = pool_new(2, 0);
    with_pool = thread_count();
    batch_init(b, 1);
    for (i = 0; i < 20; i++)
        batch_add(b, PVT_WL_SLEEP, 10);
    submit_range(p, b, 0, b->n);
    /* About 100 ms of work against a 10 s deadline: it all runs. */
    assert_int_equal(ops->stop(p, 10000), 0);
    /* Every thread has been joined already. */
    expect_threads(with_pool - 2);
    get_stats(p, &st, w);
    assert_int_equal(st.live, 0);
    for (i = 0; i < 2; i++)
        assert_int_equal(w[i].state, PVT_W_EXITED);
    collect_until(p, b, b->n);
    expect_all_ok("p", b);
    assert_int_equal(ops->collect(p, res, 4, 0), -ENOENT);
    assert_int_equal(ops->submit(p, b->jobs, 1), -ESHUTDOWN);
    pool_free(p);
    expect_threads(with_pool - 2);
    free(b);
}

/*
 * CLOCK_REALTIME as this process reads it, behind the kernel's by
 * realtime_behind_s: what a process sees when the clock is stepped forward
 * right after it read it. Every clock_gettime of this program (pvt's
 * libraries are linked into it) comes here; the others are passed through.
 */
static atomic_int realtime_behind_s;

int clock_gettime(clockid_t clk, struct timespec *ts)
{
    if (syscall(SYS_clock_gettime, clk, ts) != 0)
        return -1;
    if (clk == CLOCK_REALTIME)
        ts->tv_sec -= atomic_load(&realtime_behind_s);
    return 0;
}

/* A stop's deadline is measured on a clock that is never stepped: with the
 * wall clock an hour off, a 10 s deadline still lets the work finish. */
static void test_stop_clock_step(void **state)
{
    struct batch *b = malloc(sizeof(*b));
    struct pvt_pool *p;
    int i, rc;

    (void)state;
    assert_non_null(b);
    p = pool_new(2, 0);
    batch_init(b, 1);
    for (i = 0; i < 20; i++)
        batch_add(b, PVT_WL_SLEEP, 10);
    submit_range(p, b, 0, b->n);
    atomic_store(&realtime_behind_s, 3600);
    rc = ops->stop(p, 10000);
    atomic_store(&realtime_behind_s, 0);
    assert_int_equal(rc, 0);
    collect_until(p, b, b->n);
    expect_all_ok("p", b);
    pool_free(p);
    free(b);
}

/*
 * A forced stop of short jobs: a thread never dies mid-job, so nothing is
 * FAILED; what ran is OK, what never started is DROPPED, none is missing.
 */
static void test_forced_stop_short_jobs(void **state)
{
    struct batch *b = malloc(sizeof(*b));
    struct pvt_pool_stats st;
    struct pvt_pool *p;
    uint64_t end;
    int i, ok = 0, dropped = 0;

    (void)state;
    assert_non_null(b);
    p = pool_new(1, 0);
    batch_init(b, 1);
    for (i = 0; i < 50; i++)
        batch_add(b, PVT_WL_SLEEP, 20);
    submit_range(p, b, 0, b->n);
    /* A second of work cannot be done in 1 ms (nor before stop is called,
     * however slow the machine). */
    assert_int_equal(ops->stop(p, 1), -ETIMEDOUT);
    end = now_ms() + 3000;
    while (b->got < b->n && now_ms() < end)
        if (collect_some(p, b, 100) < 0)
            break;
    for (i = 0; i < b->n; i++) {
        if (b->count[i] != 1)
            fail_msg("job %d came back %d times (%d of %d results, collect rc %d)", i, b->count[i],
                     b->got, b->n, b->rc);
        if (b->status[i] == PVT_JOB_OK)
            ok++;
        else if (b->status[i] == PVT_JOB_DROPPED)
            dropped++;
        else
            fail_msg("job %d: status %d", i, b->status[i]);
    }
    assert_int_equal(ok + dropped, b->n);
    assert_true(dropped > 0);
    get_stats(p, &st, NULL);
    assert_int_equal(st.completed, 50);
    assert_int_equal(st.failed, 0);
    assert_int_equal(st.dropped, dropped);
    pool_free(p);
    free(b);
}

static int task_exists(pid_t tid)
{
    char path[64];

    snprintf(path, sizeof(path), "/proc/self/task/%d", (int)tid);
    return access(path, F_OK) == 0;
}

/* Wait (bounded) until thread tid of this process has exited. */
static void wait_thread_gone(pid_t tid)
{
    uint64_t end = now_ms() + GUARD_MS;
    struct timespec ms = {.tv_nsec = 5000000};

    while (task_exists(tid) && now_ms() < end)
        nanosleep(&ms, NULL);
    if (task_exists(tid))
        fail_msg("thread %d never exited", (int)tid);
}

/*
 * A forced stop leaves a thread stuck in a long job: that job is reported
 * FAILED and the queue behind it DROPPED (pvt.h), whether the results are
 * collected at once or only after the stuck thread has finished its job and
 * exited on its own.
 */
static void forced_stop_stuck(int collect_late)
{
    struct batch *b = malloc(sizeof(*b));
    struct pvt_worker_stats w[1];
    struct pvt_pool_stats st;
    struct pvt_result res[4];
    struct pvt_pool *p;
    uint64_t end;
    pid_t tid;
    int i;

    assert_non_null(b);
    p = pool_new(1, 0);
    get_stats(p, &st, w);
    tid = w[0].pid;
    batch_init(b, 1);
    batch_add(b, PVT_WL_SLEEP, STUCK_MS);
    for (i = 0; i < 5; i++)
        batch_add(b, PVT_WL_SLEEP, 1);
    submit_range(p, b, 0, b->n);
    assert_int_equal(ops->stop(p, 1), -ETIMEDOUT);
    assert_true(task_exists(tid)); /* still in its job: stuck */
    if (collect_late)
        wait_thread_gone(tid);

    end = now_ms() + 3000;
    while (b->got < b->n && now_ms() < end)
        if (collect_some(p, b, 100) < 0)
            break;
    for (i = 0; i < b->n; i++)
        if (b->count[i] != 1)
            fail_msg("%s: job %d came back %d times (%d of %d results, collect rc %d)",
                     collect_late ? "collected late" : "collected at once", i, b->count[i], b->got,
                     b->n, b->rc);
    assert_int_equal(b->status[0], PVT_JOB_FAILED);
    for (i = 1; i < b->n; i++)
        assert_int_equal(b->status[i], PVT_JOB_DROPPED);
    assert_int_equal(ops->collect(p, res, 4, 0), -ENOENT);
    get_stats(p, &st, NULL);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.dropped, 5);
    /* Leave nothing running behind this case. */
    wait_thread_gone(tid);
    pool_free(p);
    free(b);
}

static void test_forced_stop_stuck_collect_at_once(void **state)
{
    (void)state;
    forced_stop_stuck(0);
}

static void test_forced_stop_stuck_collect_late(void **state)
{
    (void)state;
    forced_stop_stuck(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_two_pools_interleaved, teardown_pools),
        cmocka_unit_test_teardown(test_workers_are_threads, teardown_pools),
        cmocka_unit_test_teardown(test_stop_drains, teardown_pools),
        cmocka_unit_test_teardown(test_stop_clock_step, teardown_pools),
        cmocka_unit_test_teardown(test_forced_stop_short_jobs, teardown_pools),
        cmocka_unit_test_teardown(test_forced_stop_stuck_collect_at_once, teardown_pools),
        cmocka_unit_test_teardown(test_forced_stop_stuck_collect_late, teardown_pools),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
