/*
 * test_fault.c: each fault under each backend has its documented consequence
 * (fault.h, sup.h, pvt.h), in task mode here and serving in fault_serve.c.
 *
 * What each case checks:
 *  - proc, crash / abort / exit:3 among ordinary jobs: exactly that job comes
 *    back FAILED, every other one OK with its reference value; its slot has
 *    a new pid, restarts 1, the old worker's signal or exit code; the other
 *    slot is untouched; deaths 1; the pool keeps working.
 *  - slow and leak, both backends: OK with the value work.h documents, no
 *    death.
 *  - thread, crash / abort / exit:3, in a forked child: the whole process
 *    ends by SIGSEGV, SIGABRT, or exit code 3.
 *  - hang, proc, worker_timeout_ms 300: the worker is killed (SIGTERM) and
 *    replaced, hangs 1, restarts 1, the hang job FAILED, the jobs queued
 *    behind it and later ones OK; so proc has PVT_CAP_KILL_HUNG.
 *  - hang, thread, in a forked child: hangs 1, that worker hung, live one
 *    less, jobs go to the other worker and complete; a stop is forced and
 *    reports the hung job FAILED, and the child exits with its stuck thread;
 *    so thread has no PVT_CAP_KILL_HUNG.
 *  - recycling, proc: max_jobs 10 recycles exactly every 10 jobs (measured
 *    per worker, one job at a time), with no death and every job OK, also
 *    with a batch queued behind each recycle; max_jobs_jitter gives workers
 *    different limits within [max_jobs, max_jobs + jitter]; max_rss_kb with
 *    leak jobs recycles without a failed job. The thread backend refuses
 *    max_jobs and max_rss_kb with -EOPNOTSUPP.
 *  - crash loop, proc, one worker, 20 crash jobs: the first death is replaced
 *    at once, the next ones only after a backoff (seen as a stats call that
 *    returns with the slot empty but not parked), the slot is parked at
 *    PVT_SUP_LOOP_DEATHS deaths, restarts PVT_SUP_LOOP_DEATHS - 1 (no fork
 *    storm), the rest DROPPED.
 *  - 1,000 respawns (loop_window_ms 1): same open descriptors, one child and
 *    no zombie before and after; nothing left after destroy.
 *  - proc, max_jobs 10, twelve jobs that exit with PVT_WEXIT_RECYCLE before
 *    the limit: deaths, not recycles; the slot is parked by the guard.
 *  - proc, SIGCHLD ignored when the pool is made: a crash is still seen as
 *    SIGSEGV (the pool set SIGCHLD back to its default).
 *
 * Forked children follow STYLE.md: no cmocka, crash signals reset, no core,
 * an alarm, an exit code per check. Nothing is timed: waits are bounded only
 * to turn a hang into a failure.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fault_harness.h"
#include "fault_cases.h"
#include "proc_cluster/proc_pool.h"
#include "shared/core/pvt.h"
#include "shared/work/work.h"

#define CHILD_ALARM_S 15

static struct fh_seen seen; /* large: not on a stack */

static const struct pvt_pool_ops *backend(const char *name)
{
    const struct pvt_pool_ops *ops = pvt_backend_find(name);

    if (!ops)
        fail_msg("no backend called %s", name);
    return ops;
}

/* Every id in [0, n) but `at` came back once, OK, with its reference value. */
static void expect_ok_but(const struct pvt_job *j, int n, int at, const char *what)
{
    int i;

    if (seen.got != n || seen.stray || seen.rc)
        fail_msg("%s: %d results of %d (stray %d, collect rc %d)", what, seen.got, n, seen.stray,
                 seen.rc);
    for (i = 0; i < n; i++) {
        if (i == at)
            continue;
        if (seen.count[i] != 1 || seen.status[i] != PVT_JOB_OK ||
            seen.value[i] != pvt_work_expected(j[i].workload, j[i].arg))
            fail_msg("%s: job %d: count %d, status %d, value %llu", what, i, seen.count[i],
                     seen.status[i], (unsigned long long)seen.value[i]);
    }
}

/* ---- proc: a fault takes one worker, and only its job ---- */

struct task_fault {
    const char *name;
    uint32_t wl;
    uint64_t arg;
    int sig;  /* what ends a process */
    int code; /* ... or its exit code (-1: a signal) */
};

static const struct task_fault task_faults[] = {
    {"crash", PVT_WL_CRASH, 0, SIGSEGV, -1},
    {"abort", PVT_WL_ABORT, 0, SIGABRT, -1},
    {"exit:3", PVT_WL_EXIT, 3, 0, 3},
};

#define NJOBS 21
#define AT    10

static void proc_fault_one(const struct task_fault *f)
{
    const struct pvt_pool_ops *ops = backend("proc");
    struct pvt_pool_cfg cfg = {.workers = 2};
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct pvt_job j[NJOBS];
    struct pvt_pool *p;
    pid_t old[2];
    int slot, other, i;

    p = fh_pool_open_or_fail(ops, &cfg, f->name);
    fh_stats_or_fail(ops, p, &st, w);
    old[0] = w[0].pid;
    old[1] = w[1].pid;
    memset(&seen, 0, sizeof(seen));
    fh_make_jobs(j, NJOBS, AT, f->wl, f->arg);
    assert_int_equal(fh_submit_all(ops, p, j, NJOBS, &seen), 0);
    fh_collect(ops, p, &seen, NJOBS, FH_GUARD_MS);
    expect_ok_but(j, NJOBS, AT, f->name);
    if (seen.count[AT] != 1 || seen.status[AT] != PVT_JOB_FAILED)
        fail_msg("%s: the fault job: count %d, status %d, want FAILED", f->name, seen.count[AT],
                 seen.status[AT]);
    slot = seen.worker[AT];
    assert_true(slot == 0 || slot == 1);
    other = 1 - slot;

    fh_wait_slot_or_fail(ops, p, slot, old[slot], &st, w);
    if (!fh_gone(old[slot]))
        fail_msg("%s: the dead worker %d still exists", f->name, (int)old[slot]);
    assert_int_equal(w[slot].restarts, 1);
    assert_int_equal(w[slot].last_exit_signal, f->sig);
    assert_int_equal(w[slot].last_exit_code, f->code);
    assert_int_equal(w[slot].last_exit_intended, 0);
    assert_int_equal(w[other].pid, old[other]);
    assert_int_equal(w[other].restarts, 0);
    assert_int_equal(st.deaths, 1);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.dropped, 0);
    assert_int_equal(st.recycles, 0);
    assert_int_equal(st.parked, 0);
    assert_int_equal(st.live, 2);

    /* It keeps working, on both slots. */
    memset(&seen, 0, sizeof(seen));
    fh_make_jobs(j, NJOBS, -1, 0, 0);
    assert_int_equal(fh_submit_all(ops, p, j, NJOBS, &seen), 0);
    fh_collect(ops, p, &seen, NJOBS, FH_GUARD_MS);
    expect_ok_but(j, NJOBS, -1, f->name);
    fh_stats_or_fail(ops, p, &st, w);
    assert_int_equal(st.deaths, 1);
    for (i = 0; i < 2; i++)
        assert_int_equal(w[i].state, PVT_W_READY);
    fh_pool_close(p);
    fh_no_children_or_fail(f->name);
}

static void test_proc_task_faults(void **state)
{
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(task_faults) / sizeof(task_faults[0]); i++)
        proc_fault_one(&task_faults[i]);
}

/* slow and leak return what work.h says, under both backends. */
static void test_slow_leak_values(void **state)
{
    static const struct pvt_job j[] = {
        {.id = 0, .workload = PVT_WL_SLOW, .arg = 20},
        {.id = 1, .workload = PVT_WL_LEAK, .arg = 1},
        {.id = 2, .workload = PVT_WL_SLOW, .arg = 1},
        {.id = 3, .workload = PVT_WL_LEAK, .arg = 2},
        {.id = 4, .workload = PVT_WL_CPU, .arg = 1000},
    };
    const struct pvt_pool_ops *const *bp;
    struct pvt_pool_cfg cfg = {.workers = 2};
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct pvt_pool *p;
    int n = (int)(sizeof(j) / sizeof(j[0])), i;

    (void)state;
    assert_int_equal(pvt_work_expected(PVT_WL_SLOW, 20), 20);
    assert_int_equal(pvt_work_expected(PVT_WL_LEAK, 2), 2u << 20);
    for (bp = pvt_backends; *bp; bp++) {
        p = fh_pool_open_or_fail(*bp, &cfg, "slow and leak");
        memset(&seen, 0, sizeof(seen));
        assert_int_equal(fh_submit_all(*bp, p, j, n, &seen), 0);
        fh_collect(*bp, p, &seen, n, FH_GUARD_MS);
        expect_ok_but(j, n, -1, (*bp)->name);
        fh_stats_or_fail(*bp, p, &st, w);
        assert_int_equal(st.deaths, 0);
        assert_int_equal(st.failed, 0);
        for (i = 0; i < 2; i++)
            assert_int_equal(w[i].restarts, 0);
        fh_pool_close(p);
    }
    fh_no_children_or_fail("slow and leak");
}

/* ---- thread: a fault ends the whole process ---- */

/* In a child: a thread pool runs the fault among ordinary jobs. Returns
 * only if the process survived it: 10 + what went wrong. */
static int thread_fault_child(void *arg)
{
    const struct task_fault *f = arg;
    const struct pvt_pool_ops *ops = pvt_backend_find("thread");
    struct pvt_pool_cfg cfg = {.workers = 2};
    struct pvt_job j[NJOBS];
    struct pvt_pool *p = NULL;

    if (!ops || ops->create(&cfg, &p) != 0)
        return 10;
    fh_make_jobs(j, NJOBS, AT, f->wl, f->arg);
    memset(&seen, 0, sizeof(seen));
    if (fh_submit_all(ops, p, j, NJOBS, &seen) != 0)
        return 11;
    fh_collect(ops, p, &seen, NJOBS, 5000);
    return 12; /* the process lived on */
}

static void test_thread_task_faults(void **state)
{
    size_t i;
    int rc, want;

    (void)state;
    for (i = 0; i < sizeof(task_faults) / sizeof(task_faults[0]); i++) {
        const struct task_fault *f = &task_faults[i];
        rc = fh_run_in_child(thread_fault_child, (void *)f, CHILD_ALARM_S);
        want = f->sig ? 1000 + f->sig : f->code;
        if (rc != want)
            fail_msg("thread, %s: the process ended with %d (1000 + signal, or exit code), "
                     "want %d",
                     f->name, rc, want);
    }
}

/* ---- hang ---- */

static void test_proc_hang(void **state)
{
    const struct pvt_pool_ops *ops = backend("proc");
    struct pvt_pool_cfg cfg = {.workers = 2, .sup = {.worker_timeout_ms = 300}};
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st;
    struct pvt_job j[NJOBS];
    struct pvt_pool *p;
    pid_t old[2];
    int slot;

    (void)state;
    p = fh_pool_open_or_fail(ops, &cfg, "hang");
    fh_stats_or_fail(ops, p, &st, w);
    old[0] = w[0].pid;
    old[1] = w[1].pid;
    memset(&seen, 0, sizeof(seen));
    /* The hang first: the jobs submitted with it queue behind it too. */
    fh_make_jobs(j, NJOBS, 0, PVT_WL_HANG, 0);
    assert_int_equal(fh_submit_all(ops, p, j, NJOBS, &seen), 0);
    fh_collect(ops, p, &seen, NJOBS, FH_GUARD_MS);
    expect_ok_but(j, NJOBS, 0, "proc hang");
    assert_int_equal(seen.status[0], PVT_JOB_FAILED);
    slot = seen.worker[0];
    assert_true(slot == 0 || slot == 1);

    fh_wait_slot_or_fail(ops, p, slot, old[slot], &st, w);
    assert_int_equal(st.hangs, 1);
    assert_int_equal(w[slot].restarts, 1);
    assert_int_equal(w[slot].last_exit_signal, SIGTERM);
    assert_int_equal(w[slot].hung, 0); /* the replacement is not */
    assert_int_equal(w[1 - slot].restarts, 0);
    assert_int_equal(w[1 - slot].pid, old[1 - slot]);
    assert_int_equal(st.failed, 1);
    assert_int_equal(st.live, 2);
    if (!fh_gone(old[slot]))
        fail_msg("the hung worker %d still exists", (int)old[slot]);

    memset(&seen, 0, sizeof(seen));
    fh_make_jobs(j, NJOBS, -1, 0, 0);
    assert_int_equal(fh_submit_all(ops, p, j, NJOBS, &seen), 0);
    fh_collect(ops, p, &seen, NJOBS, FH_GUARD_MS);
    expect_ok_but(j, NJOBS, -1, "proc hang, after");
    fh_stats_or_fail(ops, p, &st, w);
    assert_int_equal(st.hangs, 1);
    assert_int_equal(ops->stop(p, 5000), 0);
    fh_pool_close(p);
    fh_no_children_or_fail("proc hang");
    if (!(ops->caps & PVT_CAP_KILL_HUNG))
        fail_msg("proc killed and replaced a hung worker, but has no PVT_CAP_KILL_HUNG");
}

/*
 * In a child: a thread pool of 2 with a watchdog; one hang job. Returns 0,
 * or the number of the check that failed.
 */
static int thread_hang_child(void *arg)
{
    const struct pvt_pool_ops *ops = pvt_backend_find("thread");
    struct pvt_pool_cfg cfg = {.workers = 2, .sup = {.worker_timeout_ms = 300}};
    struct pvt_worker_stats w[2];
    struct pvt_pool_stats st = {.w = w};
    struct pvt_job hang = {.id = 0, .workload = PVT_WL_HANG}, j[NJOBS];
    struct pvt_pool *p = NULL;
    uint64_t end;
    int slot = -1, i;

    (void)arg;
    if (!ops || ops->create(&cfg, &p) != 0)
        return 20;
    memset(&seen, 0, sizeof(seen));
    if (ops->submit(p, &hang, 1) != 1)
        return 21;
    /* stats runs the watchdog: poll it until the hang is reported. */
    for (end = fh_now_ms() + 10000; fh_now_ms() < end; fh_sleep_ms(5)) {
        ops->stats(p, &st);
        if (st.hangs)
            break;
    }
    if (st.hangs != 1)
        return 22;
    for (i = 0; i < 2; i++)
        if (w[i].hung)
            slot = slot < 0 ? i : 99;
    if (slot < 0 || slot > 1)
        return 23;
    if (st.live != 1 || st.workers != 2)
        return 24;
    /* The others' jobs go to the live worker and complete. */
    fh_make_jobs(j, NJOBS, -1, 0, 0);
    for (i = 0; i < NJOBS; i++)
        j[i].id = (uint64_t)i + 1;
    if (fh_submit_all(ops, p, j, NJOBS, &seen) != 0)
        return 25;
    fh_collect(ops, p, &seen, NJOBS, 10000);
    if (seen.got != NJOBS)
        return 26;
    for (i = 1; i <= NJOBS; i++)
        if (seen.status[i] != PVT_JOB_OK || seen.worker[i] != 1 - slot ||
            seen.value[i] != pvt_work_expected(j[i - 1].workload, j[i - 1].arg))
            return 27;
    ops->stats(p, &st);
    if (st.hangs != 1 || st.live != 1 || !w[slot].hung || w[1 - slot].hung)
        return 28;
    /* A thread cannot be killed: the stop is forced and abandons it. */
    if (ops->stop(p, 100) != -ETIMEDOUT)
        return 29;
    fh_collect(ops, p, &seen, NJOBS + 1, 5000);
    if (seen.got != NJOBS + 1 || seen.count[0] != 1 || seen.status[0] != PVT_JOB_FAILED)
        return 30;
    ops->destroy(p);
    if (ops->caps & PVT_CAP_KILL_HUNG)
        return 31; /* the hung thread was only reported: the bit is wrong */
    return 0; /* _exit takes the spinning thread with it */
}

static void test_thread_hang(void **state)
{
    int rc;

    (void)state;
    rc = fh_run_in_child(thread_hang_child, NULL, CHILD_ALARM_S);
    if (rc == 1000 + SIGALRM)
        fail_msg("thread hang: the child hung (its alarm went off)");
    if (rc != 0)
        fail_msg("thread hang: check %d failed (see thread_hang_child)", rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_proc_task_faults, fh_teardown),
        cmocka_unit_test_teardown(test_slow_leak_values, fh_teardown),
        cmocka_unit_test_teardown(test_thread_task_faults, fh_teardown),
        cmocka_unit_test_teardown(test_proc_hang, fh_teardown),
        cmocka_unit_test_teardown(test_thread_hang, fh_teardown),
        cmocka_unit_test_teardown(fault_test_recycle_max_jobs, fh_teardown),
        cmocka_unit_test_teardown(fault_test_recycle_jitter, fh_teardown),
        cmocka_unit_test_teardown(fault_test_recycle_batch, fh_teardown),
        cmocka_unit_test_teardown(fault_test_recycle_rss, fh_teardown),
        cmocka_unit_test_teardown(fault_test_thread_refuses_recycling, fh_teardown),
        cmocka_unit_test_teardown(fault_test_crash_loop, fh_teardown),
        cmocka_unit_test_teardown(fault_test_many_respawns, fh_teardown),
        cmocka_unit_test_teardown(fault_test_recycle_code_unasked, fh_teardown),
        cmocka_unit_test_teardown(fault_test_sigchld_ignored, fh_teardown),
        cmocka_unit_test_teardown(fault_test_serve_proc_crash, fh_teardown),
        cmocka_unit_test_teardown(fault_test_serve_proc_hang, fh_teardown),
        cmocka_unit_test_teardown(fault_test_serve_recycle_first, fh_teardown),
        cmocka_unit_test_teardown(fault_test_serve_no_faults_404, fh_teardown),
        cmocka_unit_test_teardown(fault_test_serve_thread_faults, fh_teardown),
        cmocka_unit_test_teardown(fault_test_scribble_task, fh_teardown),
        cmocka_unit_test_teardown(fault_test_scribble_serve, fh_teardown),
        cmocka_unit_test_teardown(fault_test_scribble_isolated, fh_teardown),
    };
    struct rlimit core = {0, 0};

    /* Worker processes inherit this: a crash they are made to have leaves
     * no core file behind. */
    setrlimit(RLIMIT_CORE, &core);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
